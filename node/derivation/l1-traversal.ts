/**
 * Stage 1, L1 traversal: hands out L1 blocks one at a time from the rollup config's l1Start to
 * L1's head, each checked to build on the last one processed (its parent hash). A block that
 * does not, or a last-processed block that L1 no longer has, is an L1 reorg: the traversal walks
 * its records back to the newest L1 block L1 still has with the same hash (the common ancestor),
 * unwinds its checkpoint there and says so, so the later stages can unwind too.
 *
 * Where the next blocks are at or below L1's finalized block (catching up on a long history),
 * they cannot reorg: the traversal hands out a whole range of them at once (up to `maxRange`),
 * and batch retrieval reads their logs with a few eth_getLogs instead of two requests per block.
 * Only the range's last block is read (its hash for the checkpoint), and the cursor the range
 * builds on is checked to be on L1 still (a reorg may have taken it while the node was down).
 *
 * Near the head, more than `readAhead` blocks behind it, the next `readAhead` blocks are
 * requested while the current one is derived (a remote L1 costs a round trip per request, and
 * there is one L1 block per step); they are only handed out in order, each still checked against
 * its parent, so a reorg meanwhile is caught as before and the read-ahead dropped. Closer still
 * blocks are read one at a time, when their turn comes.
 */
import type { Logger } from 'pino';
import type { Hex, PublicClient } from 'viem';
import type { CheckpointStore, L1Record } from './checkpoint.ts';
import { rpcCode } from '../l1/rpc-errors.ts';
import { DerivationError, DerivationErrorCode } from './errors.ts';

/** An L1 block by number and hash: enough to read its logs and to check it later. */
export interface L1Ref {
  number: bigint;
  hash: Hex;
}

export interface L1BlockRef extends L1Ref {
  parentHash: Hex;
  timestamp: bigint;
  baseFee: bigint;
}

export type L1Step =
  | { kind: 'block'; block: L1BlockRef }
  /** L1 blocks `from`..`to.number`, all at or below L1's finalized block: read as one range. */
  | { kind: 'range'; from: bigint; to: L1Ref }
  /** L1 reorganised: the checkpoint is back at `ancestor` (undefined: before l1Start). */
  | { kind: 'reorg'; ancestor: L1Record | undefined; from: bigint }
  | { kind: 'idle' };

export interface L1TraversalDeps {
  client: PublicClient;
  store: CheckpointStore;
  logger: Logger;
}

export interface L1TraversalOptions {
  /** Blocks read ahead of their turn when far enough below L1's head. */
  readAhead: number;
  /** Most L1 blocks one range step covers. */
  maxRange: bigint;
  /** Fewest finalized blocks ahead worth a range step (below it, blocks are walked one at a time). */
  minRange: bigint;
}

export const defaultTraversalOptions: L1TraversalOptions = { readAhead: 16, maxRange: 10_000n, minRange: 32n };

export class L1Traversal {
  private cursor: L1Record | undefined;
  /** L1's head as last read: re-read only once the traversal reaches it. */
  private head = -1n;
  /** The newest head read (kept when `head` is forgotten, for the lag derivation reports). */
  private seenHead = -1n;
  /** L1's finalized block as last read (undefined: unknown, or an L1 without one), and the head it was read at. */
  private final: L1Ref | undefined;
  private finalReadAt = -1n;
  /** L1 answered that it has no finalized block. */
  private noFinality = false;
  /** Records at or below this L1 number were written from finalized blocks this process read: no reorg reaches them. */
  private trustedUpTo = -1n;
  private readonly ahead = new Map<bigint, Promise<L1BlockRef | undefined>>();
  private readonly fetched = new Map<bigint, L1BlockRef>();
  private readonly opts: L1TraversalOptions;

  constructor(
    private readonly start: { number: bigint; hash: Hex },
    private readonly deps: L1TraversalDeps,
    opts: Partial<L1TraversalOptions> = {},
  ) {
    this.opts = { ...defaultTraversalOptions, ...opts };
  }

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

  /** L1's head as the traversal last read it (-1 before the first read). */
  get l1Head(): bigint {
    return this.seenHead;
  }

  /** L1's finalized block number as last read; null when L1 has none, undefined when not known yet. */
  get finalizedL1(): bigint | null | undefined {
    return this.noFinality ? null : this.final?.number;
  }

  /** The next L1 block (or finalized range) to process, a reorg (already unwound), or nothing new yet. */
  async next(): Promise<L1Step> {
    const { client } = this.deps;
    const cur = this.cursor;
    const n = cur === undefined ? this.start.number : cur.l1Number + 1n;
    if (n > this.head) {
      this.head = await client.getBlockNumber({ cacheTime: 0 });
      this.seenHead = this.head;
    }
    if (n > this.head) {
      if (cur !== undefined && (await this.hashAt(cur.l1Number)) !== cur.l1Hash) return this.unwind(cur);
      return { kind: 'idle' };
    }
    const end = await this.rangeEnd(n);
    if (end !== undefined) return this.range(cur, n, end);
    const block = await this.take(n);
    if (block === undefined) {
      this.head = -1n;
      return { kind: 'idle' };
    }
    if (cur === undefined) this.checkStart(block.hash);
    else if (block.parentHash !== cur.l1Hash) return this.unwind(cur);
    return { kind: 'block', block };
  }

  /** Stores L1 block `rec` as processed (the later stages are done with it), pruning records below `pruneBelow`; answers how many were pruned. */
  async advance(rec: L1Record, pruneBelow?: bigint): Promise<number> {
    const pruned = await this.deps.store.advance(rec, pruneBelow);
    this.cursor = rec;
    return pruned;
  }

  /** Where a range step from `n` ends, or undefined when the blocks from `n` are to be walked one at a time. */
  private async rangeEnd(n: bigint): Promise<bigint | undefined> {
    const { minRange, maxRange } = this.opts;
    if (this.head - n + 1n < minRange) return undefined;
    // finality moves with the head: read again once per head, only while far enough behind it
    if ((this.final === undefined || this.final.number - n + 1n < minRange) && this.finalReadAt !== this.head) {
      this.finalReadAt = this.head;
      await this.readFinalized();
    }
    const fin = this.final;
    if (fin === undefined || fin.number - n + 1n < minRange) return undefined;
    const last = n + maxRange - 1n;
    return last < fin.number ? last : fin.number;
  }

  private async range(cur: L1Record | undefined, from: bigint, end: bigint): Promise<L1Step> {
    // finalized blocks build on the cursor only if it is still on L1: it may have been reorged
    // out while this node was down, before it could be finalized
    if (cur !== undefined && cur.l1Number > this.trustedUpTo && (await this.hashAt(cur.l1Number)) !== cur.l1Hash) return this.unwind(cur);
    if (cur === undefined) this.checkStart(await this.hashAt(from));
    const hash = end === this.final?.number ? this.final.hash : await this.hashAt(end);
    if (hash === undefined) {
      this.head = -1n;
      return { kind: 'idle' };
    }
    // the range covers whatever was read ahead; the head stays known
    this.ahead.clear();
    this.fetched.clear();
    this.trustedUpTo = end;
    return { kind: 'range', from, to: { number: end, hash } };
  }

  private checkStart(hash: Hex | undefined): void {
    if (hash !== this.start.hash)
      throw new DerivationError(DerivationErrorCode.WrongL1, `L1 block ${this.start.number} is ${hash ?? 'missing'}, the rollup config's l1Start is ${this.start.hash}`);
  }

  private async unwind(cur: L1Record): Promise<L1Step> {
    const { store, logger } = this.deps;
    let ancestor: L1Record | undefined;
    let oldest = cur.l1Number;
    for await (const rec of store.downFrom(cur.l1Number)) {
      oldest = rec.l1Number;
      if (rec.l1Number <= this.trustedUpTo || (await this.hashAt(rec.l1Number)) === rec.l1Hash) {
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
    const readAhead = BigInt(this.opts.readAhead);
    const upTo = this.head - readAhead;
    for (let m = n + 1n; m <= n + readAhead && m <= upTo; m++) {
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

  /** L1's finalized block, read now; undefined for an L1 that has none (pre-merge chains, some dev nodes). */
  async readFinalized(): Promise<L1Ref | undefined> {
    let fin: L1Ref | undefined;
    try {
      const b = await this.deps.client.getBlock({ blockTag: 'finalized' });
      if (b.number !== null && b.hash !== null) fin = { number: b.number, hash: b.hash };
    } catch (err) {
      // an answer (an unknown tag, no such block) means no finality; no answer is retried
      if ((err as Error).name !== 'BlockNotFoundError' && rpcCode(err) === undefined) throw err;
    }
    this.final = fin;
    this.noFinality = fin === undefined;
    return fin;
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
