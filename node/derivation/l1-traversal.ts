/**
 * Stage 1, L1 traversal: hands out L1 blocks one at a time from the rollup config's l1Start to
 * L1's head, each checked to build on the last one processed (its parent hash). A block that
 * does not, or a last-processed block that L1 no longer has, is an L1 reorg: the traversal walks
 * its records back to the newest L1 block L1 still has with the same hash (the common ancestor),
 * unwinds its checkpoint there and says so, so the later stages can unwind too.
 *
 * More than `readAhead` blocks behind L1's head (catching up on L1's history), the next
 * `readAhead` blocks are requested while the current one is derived (a remote L1 costs a round
 * trip per request, and there is one L1 block per step); they are only handed out in order,
 * each still checked against its parent, so a reorg meanwhile is caught as before and the
 * read-ahead dropped. Near the head blocks are read one at a time, when their turn comes.
 */
import type { Logger } from 'pino';
import type { Hex, PublicClient } from 'viem';
import type { CheckpointStore, L1Record } from './checkpoint.ts';
import { DerivationError, DerivationErrorCode } from './errors.ts';

export interface L1BlockRef {
  number: bigint;
  hash: Hex;
  parentHash: Hex;
  timestamp: bigint;
  baseFee: bigint;
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
  /** L1's head as last read: re-read only once the traversal reaches it. */
  private head = -1n;
  private readonly ahead = new Map<bigint, Promise<L1BlockRef | undefined>>();
  private readonly fetched = new Map<bigint, L1BlockRef>();

  constructor(
    private readonly start: { number: bigint; hash: Hex },
    private readonly deps: L1TraversalDeps,
    private readonly readAhead = 16,
  ) {}

  /** Loads the checkpoint: the last L1 block processed before a restart (and forgets the read-ahead). */
  async load(): Promise<L1Record | undefined> {
    this.cursor = await this.deps.store.cursor();
    this.forgetAhead();
    return this.cursor;
  }

  /** Blocks after the current one that the read-ahead already holds, in order (for the later stages to warm up on). */
  upcoming(): L1BlockRef[] {
    const out: L1BlockRef[] = [];
    for (let n = (this.cursor?.l1Number ?? this.start.number - 1n) + 2n; this.fetched.has(n); n++) out.push(this.fetched.get(n)!);
    return out;
  }

  get last(): L1Record | undefined {
    return this.cursor;
  }

  /** The next L1 block to process, a reorg (already unwound), or nothing new yet. */
  async next(): Promise<L1Step> {
    const { client } = this.deps;
    const cur = this.cursor;
    const n = cur === undefined ? this.start.number : cur.l1Number + 1n;
    if (n > this.head) this.head = await client.getBlockNumber({ cacheTime: 0 });
    if (n > this.head) {
      if (cur !== undefined && (await this.hashAt(cur.l1Number)) !== cur.l1Hash) return this.unwind(cur);
      return { kind: 'idle' };
    }
    const block = await this.take(n);
    if (block === undefined) {
      this.head = -1n;
      return { kind: 'idle' };
    }
    if (cur === undefined) {
      if (block.hash !== this.start.hash)
        throw new DerivationError(DerivationErrorCode.WrongL1, `L1 block ${n} is ${block.hash}, the rollup config's l1Start is ${this.start.hash}`);
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
    this.forgetAhead();
    logger.warn({ from: cur.l1Number, ancestor: ancestor?.l1Number ?? null, safe: ancestor?.safe.number ?? null }, 'L1 reorg: unwound to the common ancestor');
    return { kind: 'reorg', ancestor, from: cur.l1Number };
  }

  /** Block `n`, from the read-ahead when it holds it; then asks for the ones after it, up to L1's head. */
  private async take(n: bigint): Promise<L1BlockRef | undefined> {
    const pending = this.ahead.get(n) ?? this.blockAt(n);
    this.ahead.delete(n);
    this.fetched.delete(n);
    // only well below L1's head, where reorgs do not reach: a block read ahead is handed out
    // seconds later, and near the head it could by then be gone (caught, but only after it was used)
    const upTo = this.head - BigInt(this.readAhead);
    for (let m = n + 1n; m <= n + BigInt(this.readAhead) && m <= upTo; m++) {
      if (this.ahead.has(m)) continue;
      const p = this.blockAt(m);
      // a failed read-ahead is only seen (and retried) when its block's turn comes
      p.then(
        (b) => b !== undefined && this.ahead.get(m) === p && this.fetched.set(m, b),
        () => undefined,
      );
      this.ahead.set(m, p);
    }
    try {
      return await pending;
    } catch (err) {
      this.forgetAhead();
      throw err;
    }
  }

  private forgetAhead(): void {
    this.ahead.clear();
    this.fetched.clear();
    this.head = -1n;
  }

  private async hashAt(n: bigint): Promise<Hex | undefined> {
    return (await this.blockAt(n))?.hash;
  }

  private async blockAt(n: bigint): Promise<L1BlockRef | undefined> {
    try {
      const b = await this.deps.client.getBlock({ blockNumber: n });
      return b.hash === null ? undefined : { number: n, hash: b.hash, parentHash: b.parentHash, timestamp: b.timestamp, baseFee: b.baseFeePerGas ?? 0n };
    } catch (err) {
      // viem throws BlockNotFoundError for a number past the head (a shorter chain after a reorg)
      if ((err as Error).name === 'BlockNotFoundError') return undefined;
      throw err;
    }
  }
}
