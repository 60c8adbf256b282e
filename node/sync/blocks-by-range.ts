/**
 * `/ai-rollup/blocks-by-range/1`: canonical blocks by number, for replicas catching up. Framing
 * and deadlines are the request/response layer's (node/p2p/framing.ts, ReqResp.register).
 *
 *   request:  uint64be(start) || uint32be(count)          12 bytes, 1 <= count <= rangeMaxBlocks
 *   response: RLP([blockRlp(start), blockRlp(start + 1), ...])
 *
 * The server answers its canonical blocks from `start` on, consecutive, at most `count`: fewer
 * when it has fewer or when the next one would take the answer past rangeMaxBytes (always at
 * least one if it has `start`), none when it does not have `start`. The blocks carry no
 * signature; why a replica may still take them is in range-sync.ts. The client checks what it
 * can alone (the numbers asked for, each block's parent the one before it) and penalises a
 * server that breaks that; each body is checked against its header when its block is imported.
 */
import { createBlockHeaderFromBytesArray } from '@ethereumjs/block';
import type { BlockHeader } from '@ethereumjs/block';
import type { Common } from '@ethereumjs/common';
import { RLP } from '@ethereumjs/rlp';
import { equalsBytes } from '@ethereumjs/util';
import { FrameStatus } from '../p2p/framing.ts';
import type { ProtocolSpec, ReqResp, RequestOptions, ServerReply } from '../p2p/reqresp.ts';
import { SyncError, SyncErrorCode } from './errors.ts';
import type { SyncOptions } from './options.ts';

export const BLOCKS_BY_RANGE_PROTOCOL = '/ai-rollup/blocks-by-range/1';
const REQUEST_BYTES = 12;
/** RLP prefixes around the blocks: the list's and at most 9 bytes per item. */
const rlpOverhead = (blocks: number) => 9 + 9 * blocks;

export function blocksByRangeSpec(o: SyncOptions): ProtocolSpec {
  return { id: BLOCKS_BY_RANGE_PROTOCOL, maxRequestBytes: REQUEST_BYTES, maxResponseBytes: o.rangeMaxBytes + rlpOverhead(o.rangeMaxBlocks), timeoutMs: o.rangeTimeoutMs };
}

export function encodeRangeRequest(start: bigint, count: number): Uint8Array {
  const out = new Uint8Array(REQUEST_BYTES);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, start);
  view.setUint32(8, count);
  return out;
}

export function decodeRangeRequest(bytes: Uint8Array, maxBlocks: number): { start: bigint; count: number } | string {
  if (bytes.length !== REQUEST_BYTES) return `request must be ${REQUEST_BYTES} bytes (uint64 start, uint32 count)`;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = view.getUint32(8);
  if (count === 0 || count > maxBlocks) return `count must be 1..${maxBlocks}`;
  return { start: view.getBigUint64(0), count };
}

/** What a server reads: its canonical chain. */
export interface RangeSource {
  headNumber(): bigint;
  blockRlp(n: bigint): Promise<Uint8Array | undefined>;
}

/** Serves this node's canonical blocks. */
export function serveBlocksByRange(reqresp: ReqResp, source: RangeSource, o: SyncOptions): Promise<void> {
  return reqresp.register(blocksByRangeSpec(o), async (request, _peer, signal): Promise<ServerReply> => {
    const req = decodeRangeRequest(request, o.rangeMaxBlocks);
    if (typeof req === 'string') return { status: FrameStatus.InvalidRequest, reason: req };
    const items: Uint8Array[] = [];
    let bytes = 0;
    const last = req.start + BigInt(req.count) - 1n;
    const end = last < source.headNumber() ? last : source.headNumber();
    for (let n = req.start; n <= end && !signal.aborted; n++) {
      const rlp = await source.blockRlp(n);
      if (rlp === undefined || (items.length > 0 && bytes + rlp.length > o.rangeMaxBytes)) break;
      items.push(rlp);
      bytes += rlp.length;
    }
    return { status: FrameStatus.Ok, body: RLP.encode(items) };
  });
}

/**
 * A block of a range answer with only its header decoded: the body stays RLP values (no
 * transaction objects) until it is imported, and its transactions' canonical encodings (what
 * the transactions root is over) are at hand for checking it, and recovering senders, elsewhere.
 */
export interface RawRangeBlock {
  header: BlockHeader;
  hash: Uint8Array;
  number: bigint;
  /** `RLP.decode(blockRlp)`: blockFromValues builds the block. */
  values: unknown[];
  txs: Uint8Array[];
  size: number;
  /** The peer that sent it. */
  peer: string;
}

/**
 * Asks `peer` for blocks `start .. start + count - 1`; returns the (possibly shorter, possibly
 * empty) chained prefix it sent, headers decoded, bodies not checked (the caller checks each
 * against its header before it imports it: range-sync.ts). BAD_RANGE (and a penalty) for
 * anything else; P2PErrors as they come.
 */
export async function fetchRawRange(
  reqresp: ReqResp,
  peer: string,
  start: bigint,
  count: number,
  common: Common,
  o: SyncOptions,
  opts: RequestOptions = {},
): Promise<RawRangeBlock[]> {
  const body = await reqresp.request(peer, blocksByRangeSpec(o), encodeRangeRequest(start, count), opts);
  try {
    return checkRawRange(body, start, count, common, peer);
  } catch (err) {
    reqresp.penalize(peer, (err as Error).message);
    throw err instanceof SyncError ? err : new SyncError(SyncErrorCode.BadRange, (err as Error).message);
  }
}

function checkRawRange(body: Uint8Array, start: bigint, count: number, common: Common, peer: string): RawRangeBlock[] {
  const items = RLP.decode(body);
  if (!Array.isArray(items) || items.some((i) => !(i instanceof Uint8Array))) throw new SyncError(SyncErrorCode.BadRange, 'range answer is not an RLP list of blocks');
  if (items.length > count) throw new SyncError(SyncErrorCode.BadRange, `${items.length} blocks sent, ${count} asked for`);
  const out: RawRangeBlock[] = [];
  for (const [i, item] of (items as Uint8Array[]).entries()) {
    const values = RLP.decode(item) as unknown;
    if (!Array.isArray(values) || values.length < 3 || values.length > 4 || !Array.isArray(values[0]) || !Array.isArray(values[1]))
      throw new SyncError(SyncErrorCode.BadRange, `block ${start + BigInt(i)} is not an RLP block`);
    const header = createBlockHeaderFromBytesArray(values[0] as Uint8Array[], { common, setHardfork: false });
    const want = start + BigInt(i);
    if (header.number !== want) throw new SyncError(SyncErrorCode.BadRange, `block ${header.number} sent where ${want} belongs`);
    const prev = out[i - 1];
    if (prev !== undefined && !equalsBytes(header.parentHash, prev.hash)) throw new SyncError(SyncErrorCode.BadRange, `block ${want} does not build on the block before it`);
    // a typed transaction is its byte string; a legacy one its list, encoded again
    const txs = (values[1] as (Uint8Array | Uint8Array[])[]).map((t) => (t instanceof Uint8Array ? t : RLP.encode(t)));
    out.push({ header, hash: header.hash(), number: want, values, txs, size: item.length, peer });
  }
  return out;
}
