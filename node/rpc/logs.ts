import type { Block } from '@ethereumjs/block';
import { bytesToHex, equalsBytes, hexToBytes } from '@ethereumjs/util';
import { nativeKeccak256 } from '../chain/crypto.ts';
import type { RawLog, StoredReceipt } from '../chain/receipts.ts';
import type { ChainStore } from '../chain/store.ts';
import type { RpcOptions } from './options.ts';
import { RpcCode, RpcError, headerNotFound, invalidParams } from './errors.ts';
import { formatBlockLogs, q } from './format.ts';
import type { Shared } from './retention.ts';
import type { BlockTag, FilterParam } from './schemas.ts';

/** Decoded log criteria: any of `addresses` (empty = any), per position any of the topics (null = any). */
export interface LogCriteria {
  addresses: Uint8Array[];
  topics: (Uint8Array[] | null)[];
}

/**
 * Decodes a filter's criteria, refusing more than `limit` addresses or alternatives at one topic
 * position (geth's --rpc.logquerylimit): each is compared with every log of every block.
 */
export function criteriaOf(f: FilterParam, limit = Number.POSITIVE_INFINITY): LogCriteria {
  const addr = f.address ?? [];
  const addresses = (Array.isArray(addr) ? addr : [addr]).map((a) => a.bytes);
  const topics = (f.topics ?? []).map((t) => {
    if (t === null) return null;
    const list = (Array.isArray(t) ? t : [t]).filter((x): x is `0x${string}` => x !== null);
    return list.length === 0 ? null : list.map((h) => hexToBytes(h));
  });
  if (addresses.length > limit || topics.some((alts) => alts !== null && alts.length > limit)) {
    throw new RpcError(RpcCode.Server, `exceed max addresses or topics per search position (max ${limit})`);
  }
  return { addresses, topics };
}

/** Bytes decoded criteria keep (a typed array per address or topic), charged to the filter or socket holding them. */
export function criteriaBytes(c: LogCriteria): number {
  const entries = c.addresses.length + c.topics.reduce((n, alts) => n + (alts?.length ?? 0), 0);
  return 200 + 120 * entries;
}

export function logMatches(log: RawLog, c: LogCriteria): boolean {
  if (c.addresses.length > 0 && !c.addresses.some((a) => equalsBytes(a, log[0]))) return false;
  if (c.topics.length > log[1].length) return false;
  return c.topics.every((alts, i) => alts === null || alts.some((t) => equalsBytes(t, log[1][i]!)));
}

/** The three (byte index, mask) pairs an element sets in a logs bloom (yellow paper, M3:2048). */
type BloomBits = [number, number][];

function bloomBits(e: Uint8Array): BloomBits {
  const h = nativeKeccak256(e);
  const bits: BloomBits = [];
  for (let i = 0; i < 6; i += 2) {
    const bit = ((h[i]! << 8) | h[i + 1]!) & 2047;
    bits.push([255 - (bit >> 3), 1 << (bit & 7)]);
  }
  return bits;
}

const hasBits = (bloom: Uint8Array, bits: BloomBits): boolean => bits.every(([i, m]) => (bloom[i]! & m) !== 0);

/** Criteria as bloom bits, hashed once per query (or filter) rather than once per block. */
export function bloomMatcher(c: LogCriteria): (bloom: Uint8Array) => boolean {
  const addrs = c.addresses.map(bloomBits);
  const topics = c.topics.map((alts) => (alts === null ? null : alts.map(bloomBits)));
  return (bloom) => (addrs.length === 0 || addrs.some((b) => hasBits(bloom, b))) && topics.every((alts) => alts === null || alts.some((b) => hasBits(bloom, b)));
}

/** What a log query reads: the store, the head and tags, and the query caps (RpcBackend is one). */
export interface LogSource {
  readonly chain: { readonly store: Pick<ChainStore, 'getReceipts' | 'getBlockByHash' | 'getBlockByNumber' | 'getLogBlocks' | 'blooms'> };
  readonly head: Block;
  readonly options: Pick<RpcOptions, 'logQueryLimit' | 'logsMaxRange' | 'logsMaxResults'>;
  blockByTag(tag: BlockTag): Promise<Block | undefined>;
}

/** The matching logs of one block, formatted for JSON-RPC. */
export async function blockLogs(b: LogSource, block: Block, c: LogCriteria): Promise<Record<string, unknown>[]> {
  const receipts = (await b.chain.store.getReceipts(block.hash())) ?? [];
  return formatBlockLogs(block, receipts, (log) => logMatches(log, c));
}

/** Candidate blocks of eth_getLogs read from LevelDB in one call. */
const LOG_READ_CHUNK = 64;

/** eth_getLogs: blooms narrow the range to candidate blocks before any receipt is read. */
export async function queryLogs(b: LogSource, f: FilterParam): Promise<Record<string, unknown>[]> {
  const c = criteriaOf(f, b.options.logQueryLimit);
  if (f.blockHash !== undefined) {
    const block = await b.chain.store.getBlockByHash(hexToBytes(f.blockHash));
    if (block === undefined) throw new RpcError(RpcCode.Server, 'unknown block');
    return blockLogs(b, block, c);
  }
  const head = b.head.header.number;
  const from = (await b.blockByTag(f.fromBlock ?? 'latest'))?.header.number;
  const to = (await b.blockByTag(f.toBlock ?? 'latest'))?.header.number ?? head;
  if (from === undefined) return [];
  if (from > to) throw invalidParams('invalid block range params');
  if (to - from + 1n > BigInt(b.options.logsMaxRange)) {
    throw new RpcError(RpcCode.LimitExceeded, `block range too large: ${to - from + 1n} blocks, max ${b.options.logsMaxRange}`);
  }
  const out: Record<string, unknown>[] = [];
  const mayMatch = bloomMatcher(c);
  const keep = (log: StoredReceipt['logs'][number]) => logMatches(log, c);
  for await (const page of b.chain.store.blooms(from, to)) {
    const candidates = page.filter((p) => mayMatch(p.bloom)).map((p) => p.number);
    // a page's candidate blocks read together; checked against the result cap every CHUNK blocks
    for (let i = 0; i < candidates.length; i += LOG_READ_CHUNK) {
      for (const got of await b.chain.store.getLogBlocks(candidates.slice(i, i + LOG_READ_CHUNK))) {
        if (got === undefined) throw headerNotFound();
        out.push(...formatBlockLogs(got.block, got.receipts, keep));
      }
      if (out.length > b.options.logsMaxResults) {
        throw new RpcError(RpcCode.LimitExceeded, `query returned more than ${b.options.logsMaxResults} results`);
      }
    }
  }
  return out;
}

/** The fields every log of a block repeats, as JSON-RPC hex, computed once per block. */
interface BlockFields {
  number: string;
  hash: string;
  timestamp: string;
  removed: boolean;
}

/**
 * One log of a new (or, `removed`, a dropped) block, created once and referenced by every filter
 * and subscription it matches: they hold this, never a formatted copy of their own. It keeps no
 * reference to the block, so a filter holding one log of a large block does not keep the block.
 */
export interface LogRef extends Shared {
  readonly raw: RawLog;
  readonly block: BlockFields;
  readonly txHash: string;
  readonly txIndex: number;
  readonly logIndex: number;
}

/** JSON size of a log's fixed fields (keys, quotes, address, hashes, quantities), rounded up. */
const LOG_JSON_FIXED = 380;

let lastRefs: { block: Block; removed: boolean; refs: LogRef[] } | undefined;

/**
 * The block's logs as shared references. Filters and subscriptions each ask for the same block
 * in turn, so the last answer is kept (and only that: a cache keyed by block would keep logs of
 * blocks nobody holds any more).
 */
export function blockLogRefs(block: Block, receipts: StoredReceipt[], removed = false): LogRef[] {
  if (lastRefs?.block === block && lastRefs.removed === removed) return lastRefs.refs;
  const fields: BlockFields = { number: q(block.header.number), hash: bytesToHex(block.hash()), timestamp: q(block.header.timestamp), removed };
  const refs: LogRef[] = [];
  let logIndex = 0;
  receipts.forEach((r, txIndex) => {
    if (r.logs.length === 0) return;
    const txHash = bytesToHex(block.transactions[txIndex]!.hash());
    for (const raw of r.logs) {
      const size = LOG_JSON_FIXED + 69 * raw[1].length + 2 * raw[2].length;
      refs.push({ raw, block: fields, txHash, txIndex, logIndex: logIndex++, size, holders: 0 });
    }
  });
  lastRefs = { block, removed, refs };
  return refs;
}

/** The same JSON as `formatLog`, from a shared reference. */
export function logRefJson(r: LogRef): Record<string, unknown> {
  return {
    address: bytesToHex(r.raw[0]),
    topics: r.raw[1].map((t) => bytesToHex(t)),
    data: bytesToHex(r.raw[2]),
    blockNumber: r.block.number,
    blockHash: r.block.hash,
    blockTimestamp: r.block.timestamp,
    transactionHash: r.txHash,
    transactionIndex: q(r.txIndex),
    logIndex: q(r.logIndex),
    removed: r.block.removed,
  };
}
