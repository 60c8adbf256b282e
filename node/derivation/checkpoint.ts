/**
 * Derivation's checkpoints in the node's LevelDB. After each L1 block (or run of L1 blocks read
 * as one range), one batch writes that block's record (its hash, for reorg detection, the safe
 * L2 head once its batches were derived, and the first block of a refused batch while one is in
 * force) and moves the cursor to it; an L1 reorg is unwound by one batch that deletes the
 * records above the common ancestor and moves the cursor back. A crash therefore leaves the
 * cursor on a complete record, and a restart resumes at the L1 block after it.
 *
 * Records exist for every L1 block walked one at a time near L1's head, and only for the blocks
 * carrying batches and each range's last block where L1 was read in ranges (at or below its
 * finalized block), so lookups take the newest record at or below a number. Records below L1's
 * finalized block (less a margin) are deleted in the advance's own batch, a bounded number at a
 * time: no reorg reaches them.
 */
import { bytesToHex, concatBytes } from '@ethereumjs/util';
import type { Hex } from 'viem';
import { hexToBytes } from 'viem';
import { Prefix, be64, key, readBe64 } from '../db/keys.ts';
import { kvGet } from '../db/kv.ts';
import type { KV, KVOp } from '../db/kv.ts';

export interface L2Ref {
  number: bigint;
  hash: Hex;
}

/** What derivation knew after L1 block `l1Number`. */
export interface L1Record {
  l1Number: bigint;
  l1Hash: Hex;
  /** Last L2 block derived from L1 blocks up to this one (the safe head then). */
  safe: L2Ref;
  /** First L2 block of a batch refused at or before this L1 block with no valid one in its place. */
  invalidFrom?: bigint;
}

const CURSOR = key(Prefix.derivationHead, new TextEncoder().encode('derivation'));
const recordKey = (n: bigint) => key(Prefix.derivedL1, be64(n));
const FIRST = recordKey(0n);
/** Records deleted by one advance at most, so a first prune after a long history stays a small write. */
const PRUNE_MAX = 256;

function decode(l1Number: bigint, raw: Uint8Array): L1Record {
  const rec: L1Record = { l1Number, l1Hash: bytesToHex(raw.subarray(0, 32)), safe: { number: readBe64(raw, 32), hash: bytesToHex(raw.subarray(40, 72)) } };
  // records written before refused batches were kept are 72 bytes long
  if (raw.length >= 80) rec.invalidFrom = readBe64(raw, 72);
  return rec;
}

export class CheckpointStore {
  /** Pruned completely below this L1 number (in memory: a restart scans once more). */
  private prunedBelow = -1n;

  constructor(private readonly kv: KV) {}

  /** The last L1 block processed, with what was derived up to it; undefined before the first. */
  async cursor(): Promise<L1Record | undefined> {
    const raw = await kvGet(this.kv, CURSOR);
    return raw === undefined ? undefined : this.record(readBe64(raw));
  }

  async record(l1Number: bigint): Promise<L1Record | undefined> {
    const raw = await kvGet(this.kv, recordKey(l1Number));
    return raw === undefined ? undefined : decode(l1Number, raw);
  }

  /** The newest record at or below L1 block `n` (what was derived from L1 up to it). */
  async atOrBelow(n: bigint): Promise<L1Record | undefined> {
    for await (const [k, v] of this.kv.iterator({ gte: FIRST, lte: recordKey(n), reverse: true, limit: 1 })) return decode(readBe64(k, 1), v);
    return undefined;
  }

  /** Records from L1 block `n` down, newest first (an unwind's walk to the common ancestor). */
  async *downFrom(n: bigint): AsyncGenerator<L1Record> {
    for await (const [k, v] of this.kv.iterator({ gte: FIRST, lte: recordKey(n), reverse: true })) yield decode(readBe64(k, 1), v);
  }

  /**
   * Records L1 block `rec` as processed and moves the cursor to it, atomically; with `pruneBelow`,
   * the same batch deletes up to PRUNE_MAX records older than the newest one at or below it (that
   * one stays: the finalized head is read from it). Answers how many were deleted.
   */
  async advance(rec: L1Record, pruneBelow?: bigint): Promise<number> {
    const parts = [hexToBytes(rec.l1Hash), be64(rec.safe.number), hexToBytes(rec.safe.hash)];
    if (rec.invalidFrom !== undefined) parts.push(be64(rec.invalidFrom));
    const ops: KVOp[] = [
      { type: 'put', key: recordKey(rec.l1Number), value: concatBytes(...parts) },
      { type: 'put', key: CURSOR, value: be64(rec.l1Number) },
    ];
    const stale = pruneBelow === undefined ? [] : await this.prunable(pruneBelow < rec.l1Number ? pruneBelow : rec.l1Number);
    for (const k of stale) ops.push({ type: 'del', key: k });
    await this.kv.batch(ops);
    return stale.length;
  }

  /** Forgets every L1 block above `ancestor` (reorged out) and moves the cursor back to it, atomically. */
  async unwind(ancestor: bigint | undefined, from: bigint): Promise<void> {
    const ops: KVOp[] = [];
    const first = ancestor === undefined ? 0n : ancestor + 1n;
    const it = this.kv.keys({ gte: recordKey(first), lte: recordKey(from) });
    for await (const k of it) ops.push({ type: 'del', key: k });
    ops.push(ancestor === undefined ? { type: 'del', key: CURSOR } : { type: 'put', key: CURSOR, value: be64(ancestor) });
    await this.kv.batch(ops);
  }

  /** The oldest L1 block remembered: a reorg below it cannot be unwound. */
  async oldest(): Promise<bigint | undefined> {
    for await (const k of this.kv.keys({ gte: FIRST, lte: recordKey(2n ** 64n - 1n), limit: 1 })) return readBe64(k, 1);
    return undefined;
  }

  private async prunable(below: bigint): Promise<Uint8Array[]> {
    if (below <= this.prunedBelow) return [];
    const keep = await this.atOrBelow(below);
    if (keep === undefined) return [];
    const out: Uint8Array[] = [];
    for await (const k of this.kv.keys({ gte: FIRST, lt: recordKey(keep.l1Number), limit: PRUNE_MAX })) out.push(k);
    if (out.length < PRUNE_MAX) this.prunedBelow = below;
    return out;
  }
}
