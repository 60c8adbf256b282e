/**
 * Stage 1, L1 traversal: hands out L1 blocks one at a time from the rollup config's l1Start to
 * L1's head, each checked to build on the last one processed (its parent hash). A block that
 * does not, or a last-processed block that L1 no longer has, is an L1 reorg: the traversal walks
 * its records back to the newest L1 block L1 still has with the same hash (the common ancestor),
 * unwinds its checkpoint there and says so, so the later stages can unwind too.
 */
import type { Logger } from 'pino';
import type { Hex, PublicClient } from 'viem';
import type { CheckpointStore, L1Record } from './checkpoint.ts';
import { DerivationError, DerivationErrorCode } from './errors.ts';

export interface L1BlockRef {
  number: bigint;
  hash: Hex;
  parentHash: Hex;
}

export type L1Step =
  | { kind: 'block'; block: L1BlockRef }
  /** L1 reorganised: the checkpoint is back at `ancestor` (undefined: before l1Start). */
  | { kind: 'reorg'; ancestor: L1Record | undefined; from: bigint }
  | { kind: 'idle' };

export interface L1TraversalDeps {
  client: PublicClient;
  store: CheckpointStore;
  logger: Logger;
}

export class L1Traversal {
  private cursor: L1Record | undefined;

  constructor(
    private readonly start: { number: bigint; hash: Hex },
    private readonly deps: L1TraversalDeps,
  ) {}

  /** Loads the checkpoint: the last L1 block processed before a restart. */
  async load(): Promise<L1Record | undefined> {
    this.cursor = await this.deps.store.cursor();
    return this.cursor;
  }

  get last(): L1Record | undefined {
    return this.cursor;
  }

  /** The next L1 block to process, a reorg (already unwound), or nothing new yet. */
  async next(): Promise<L1Step> {
    const { client } = this.deps;
    const cur = this.cursor;
    const head = await client.getBlockNumber({ cacheTime: 0 });
    const n = cur === undefined ? this.start.number : cur.l1Number + 1n;
    if (n > head) {
      if (cur !== undefined && (await this.hashAt(cur.l1Number)) !== cur.l1Hash) return this.unwind(cur);
      return { kind: 'idle' };
    }
    const block = await this.blockAt(n);
    if (block === undefined) return { kind: 'idle' };
    if (cur === undefined) {
      if (block.hash !== this.start.hash) throw new DerivationError(DerivationErrorCode.WrongL1, `L1 block ${n} is ${block.hash}, the rollup config's l1Start is ${this.start.hash}`);
    } else if (block.parentHash !== cur.l1Hash) {
      return this.unwind(cur);
    }
    return { kind: 'block', block };
  }

  /** Stores L1 block `rec` as processed (the later stages are done with it). */
  async advance(rec: L1Record): Promise<void> {
    await this.deps.store.advance(rec);
    this.cursor = rec;
  }

  private async unwind(cur: L1Record): Promise<L1Step> {
    const { store, logger } = this.deps;
    const oldest = (await store.oldest()) ?? this.start.number;
    let ancestor: L1Record | undefined;
    for (let n = cur.l1Number; n >= oldest; n--) {
      const rec = await store.record(n);
      if (rec !== undefined && (await this.hashAt(n)) === rec.l1Hash) {
        ancestor = rec;
        break;
      }
    }
    if (ancestor === undefined && oldest > this.start.number) {
      throw new DerivationError(DerivationErrorCode.ReorgTooDeep, `L1 reorganised below block ${oldest}, the oldest one remembered`);
    }
    await store.unwind(ancestor?.l1Number, cur.l1Number);
    this.cursor = ancestor;
    logger.warn({ from: cur.l1Number, ancestor: ancestor?.l1Number ?? null, safe: ancestor?.safe.number ?? null }, 'L1 reorg: unwound to the common ancestor');
    return { kind: 'reorg', ancestor, from: cur.l1Number };
  }

  private async hashAt(n: bigint): Promise<Hex | undefined> {
    return (await this.blockAt(n))?.hash;
  }

  private async blockAt(n: bigint): Promise<L1BlockRef | undefined> {
    try {
      const b = await this.deps.client.getBlock({ blockNumber: n });
      return b.hash === null ? undefined : { number: n, hash: b.hash, parentHash: b.parentHash };
    } catch (err) {
      // viem throws BlockNotFoundError for a number past the head (a shorter chain after a reorg)
      if ((err as Error).name === 'BlockNotFoundError') return undefined;
      throw err;
    }
  }
}
