import type { Block } from '@ethereumjs/block';
import { equalsBytes, hexToBytes } from '@ethereumjs/util';
import { nativeKeccak256 } from '../chain/crypto.ts';
import type { RawLog } from '../chain/receipts.ts';
import type { RpcBackend } from './backend.ts';
import { RpcCode, RpcError, headerNotFound, invalidParams } from './errors.ts';
import { formatBlockLogs } from './format.ts';
import type { FilterParam } from './schemas.ts';

/** Decoded log criteria: any of `addresses` (empty = any), per position any of the topics (null = any). */
export interface LogCriteria {
  addresses: Uint8Array[];
  topics: (Uint8Array[] | null)[];
}

export function criteriaOf(f: FilterParam): LogCriteria {
  const addr = f.address ?? [];
  const addresses = (Array.isArray(addr) ? addr : [addr]).map((a) => a.bytes);
  const topics = (f.topics ?? []).map((t) => {
    if (t === null) return null;
    const list = (Array.isArray(t) ? t : [t]).filter((x): x is `0x${string}` => x !== null);
    return list.length === 0 ? null : list.map((h) => hexToBytes(h));
  });
  return { addresses, topics };
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

/** Criteria as bloom bits, hashed once per query rather than once per block. */
function bloomMatcher(c: LogCriteria): (bloom: Uint8Array) => boolean {
  const addrs = c.addresses.map(bloomBits);
  const topics = c.topics.map((alts) => (alts === null ? null : alts.map(bloomBits)));
  return (bloom) =>
    (addrs.length === 0 || addrs.some((b) => hasBits(bloom, b))) &&
    topics.every((alts) => alts === null || alts.some((b) => hasBits(bloom, b)));
}

/** The matching logs of one block, formatted for JSON-RPC. */
export async function blockLogs(b: RpcBackend, block: Block, c: LogCriteria): Promise<Record<string, unknown>[]> {
  const receipts = (await b.chain.store.getReceipts(block.hash())) ?? [];
  return formatBlockLogs(block, receipts, (log) => logMatches(log, c));
}

/** eth_getLogs: blooms narrow the range to candidate blocks before any receipt is read. */
export async function queryLogs(b: RpcBackend, f: FilterParam): Promise<Record<string, unknown>[]> {
  const c = criteriaOf(f);
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
  for await (const { number, bloom } of b.chain.store.blooms(from, to)) {
    if (!mayMatch(bloom)) continue;
    const block = await b.chain.store.getBlockByNumber(number);
    if (block === undefined) throw headerNotFound();
    out.push(...(await blockLogs(b, block, c)));
    if (out.length > b.options.logsMaxResults) {
      throw new RpcError(RpcCode.LimitExceeded, `query returned more than ${b.options.logsMaxResults} results`);
    }
  }
  return out;
}
