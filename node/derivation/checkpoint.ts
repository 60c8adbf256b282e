/**
 * Derivation's checkpoints in the node's LevelDB. After each L1 block, one batch writes that
 * block's record (its hash, for reorg detection, and the safe L2 head once its batches were
 * derived) and moves the cursor to it; an L1 reorg is unwound by one batch that deletes the
 * records above the common ancestor and moves the cursor back. A crash therefore leaves the
 * cursor on a complete record, and a restart resumes at the L1 block after it.
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
}

const CURSOR = key(Prefix.derivationHead, new TextEncoder().encode('derivation'));
const recordKey = (n: bigint) => key(Prefix.derivedL1, be64(n));

export class CheckpointStore {
  constructor(private readonly kv: KV) {}

  /** The last L1 block processed, with what was derived up to it; undefined before the first. */
  async cursor(): Promise<L1Record | undefined> {
    const raw = await kvGet(this.kv, CURSOR);
    return raw === undefined ? undefined : this.record(readBe64(raw));
  }

  async record(l1Number: bigint): Promise<L1Record | undefined> {
    const raw = await kvGet(this.kv, recordKey(l1Number));
    if (raw === undefined) return undefined;
    return {
      l1Number,
      l1Hash: bytesToHex(raw.subarray(0, 32)),
      safe: { number: readBe64(raw, 32), hash: bytesToHex(raw.subarray(40, 72)) },
    };
  }

  /** Records L1 block `rec` as processed and moves the cursor to it, atomically. */
  async advance(rec: L1Record): Promise<void> {
    const value = concatBytes(hexToBytes(rec.l1Hash), be64(rec.safe.number), hexToBytes(rec.safe.hash));
    await this.kv.batch([
      { type: 'put', key: recordKey(rec.l1Number), value },
      { type: 'put', key: CURSOR, value: be64(rec.l1Number) },
    ]);
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
    for await (const k of this.kv.keys({ gte: recordKey(0n), lte: recordKey(2n ** 64n - 1n), limit: 1 })) return readBe64(k, 1);
    return undefined;
  }
}
