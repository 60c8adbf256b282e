/**
 * The sequencer's answer to an L1 reorg: L2 blocks whose L1 origin L1 no longer has (and so
 * whose deposits may be gone too) are rewound, and the chain is built again on the new L1 chain,
 * as a replica deriving from L1 would see it. Run when the L1 watcher sees its tips replaced,
 * and once at start-up (the node may have been down during the reorg).
 *
 * Which blocks: the first whose origin L1 no longer has, and all above it (see `Scan`: a binary
 * search at start-up, a scan of the unbatched blocks above the fork while running). A block's
 * deposits come from L1 blocks at or below its origin, so they are on L1 whenever its origin is.
 *
 * What is never rewound: the L2 blocks a batch on L1 covers (the Rollup's nextBlock, read with
 * the batcher held between two passes, so no batch of ours is in flight). Origins are taken
 * `l1Confirmations` deep and batched `--batch-origin-depth` deep, so only a deeper reorg reaches a
 * batch's origins; it also takes out the batch's own transaction (sent after its blocks' origins
 * existed) unless L1 includes it again on the new chain. In that last case the batch on L1 is one
 * derivation refuses: logged as an error, and the rewind stops at the batch.
 */
import type { Block } from '@ethereumjs/block';
import { bytesToHex } from '@ethereumjs/util';
import type { Logger } from 'pino';
import type { Hex } from 'viem';
import type { Chain } from '../node/chain/chain.ts';
import { isDepositTx } from '../node/chain/deposit-tx.ts';
import { readL1BlockInfo } from '../node/chain/l1-block-info.ts';
import { l1OriginOf } from '../node/rollup/l1-attributes.ts';
import { lastHolding } from '../node/rollup/bisect.ts';
import type { BlockProducer } from './block-producer.ts';
import type { Mempool } from './mempool.ts';

export interface ReorgDeps {
  chain: Chain;
  producer: Pick<BlockProducer, 'exclusive'>;
  pool: Pick<Mempool, 'addRaw' | 'onRewound'>;
  l1: {
    /** L1's hash at `n` now (undefined: no such block). */
    hashAt(n: bigint): Promise<Hex | undefined>;
    /** Scan again for deposits from this index on. */
    resume(consumed: bigint): void;
  };
  /** The newest L2 block a batch on L1 covers (0: none). */
  batchedUpTo(): Promise<bigint>;
  /** Runs `f` with the batcher between two passes (no batch in flight); absent without a batcher. */
  holdBatcher?<T>(f: () => Promise<T>): Promise<T>;
  logger: Logger;
}

/** Start-up: bisect the whole chain; after a reorg seen while running: scan the unbatched blocks above the fork. */
export type Scan = { kind: 'bisect' } | { kind: 'unbatched'; above: bigint | undefined };

export interface ReorgOutcome {
  from: bigint;
  to: bigint;
  /** User transactions of the dropped blocks that went back into the pool. */
  requeued: number;
}

/** Pause before checking again after a failed check (L1 did not answer). */
const RETRY_MS = 1_000;
/** Longest wait for the batcher's pass in progress before a check goes on without it. */
const HOLD_WAIT_MS = 3_000;

export class L1ReorgHandler {
  private running: Promise<ReorgOutcome | undefined> = Promise.resolve(undefined);
  private retry: NodeJS.Timeout | undefined;
  private stopped = false;
  private failing = false;
  /** L2 rewinds done (metrics). */
  rewinds = 0;
  /** L2 blocks dropped by them in all. */
  blocksDropped = 0n;

  private markChecked!: () => void;
  /** Settles once a check has completed (the batcher waits for it at start). */
  readonly checked = new Promise<void>((resolve) => (this.markChecked = resolve));

  constructor(private readonly deps: ReorgDeps) {}

  /**
   * Finds the L2 blocks on origins L1 no longer has (`scan`) and rewinds them; calls run one
   * after another, and a check L1 failed to answer is tried again until one completes.
   */
  check(scan: Scan = { kind: 'bisect' }): Promise<ReorgOutcome | undefined> {
    if (this.retry !== undefined) clearTimeout(this.retry);
    this.retry = undefined;
    const next = this.running.then(async () => {
      const outcome = await this.hold(() => this.deps.producer.exclusive(() => this.once(scan)));
      this.failing = false;
      this.markChecked();
      return outcome;
    });
    this.running = next.catch((err) => {
      // once per failing streak: L1 may be down for long, and the check retries every second
      if (!this.failing) this.deps.logger.warn({ err: (err as Error).message, retryInMs: RETRY_MS }, 'L1 reorg check failed; trying again until it completes');
      this.failing = true;
      if (!this.stopped) this.retry = setTimeout(() => void this.check(scan).catch(() => undefined), RETRY_MS);
      return undefined;
    });
    return next;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retry !== undefined) clearTimeout(this.retry);
    await this.running;
  }

  /**
   * Runs `f` with the batcher between two passes, waiting at most HOLD_WAIT_MS for the pass in
   * progress: a pass can wait long for its L1 transaction (fees, a slow L1), and the L2 blocks
   * built on a dead origin meanwhile are worse than the small chance that the batch in flight
   * lands over blocks about to be rewound (it is then one derivation refuses, as in the
   * module comment).
   */
  private async hold<T>(f: () => Promise<T>): Promise<T> {
    const holdBatcher = this.deps.holdBatcher;
    if (holdBatcher === undefined) return f();
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let held = false;
    const got = new Promise<void>((resolve) => {
      void holdBatcher(async () => {
        held = true;
        resolve();
        await released;
      }).catch(() => undefined);
    });
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([got, new Promise<void>((r) => (timer = setTimeout(r, HOLD_WAIT_MS)))]);
    clearTimeout(timer);
    if (!held) this.deps.logger.warn({ waitedMs: HOLD_WAIT_MS }, "the batcher's pass is still running (an L1 transaction in flight); checking without it");
    try {
      return await f();
    } finally {
      release();
    }
  }

  /**
   * How far back to look. At start-up every origin of the chain was taken before the reorg, so
   * the ones L1 still has are a prefix of the chain (bisect). While the node runs, blocks may
   * already sit on the new L1 chain above blocks on replaced origins (the producer went on before
   * this check), so the unbatched blocks are scanned down to the fork (`above`: origins at or
   * below it are known to be on L1).
   */
  private async once(scan: Scan): Promise<ReorgOutcome | undefined> {
    const head = this.deps.chain.head.header.number;
    const batched = await this.deps.batchedUpTo();
    const gone = scan.kind === 'bisect' ? await this.bisect(head) : await this.scanUnbatched(head, batched, scan.above);
    if (gone === undefined) return undefined;
    let to = gone - 1n;
    if (to < batched) {
      this.deps.logger.error(
        { firstGone: gone, batchedUpTo: batched },
        'a batch on L1 covers L2 blocks whose L1 origin is gone (a reorg deeper than --batch-origin-depth that kept the batch transaction): derivation will refuse that batch; not rewinding below it',
      );
      to = batched;
    }
    if (to >= head) return undefined;
    return this.rewind(head, to);
  }

  /** The first L2 block whose origin L1 no longer has, when those it has are a prefix of the chain. */
  private async bisect(head: bigint): Promise<bigint | undefined> {
    const onL1 = this.originCheck();
    if (await onL1(head)) return undefined;
    return (await lastHolding(0n, head, async (n) => (await onL1(n)) !== false)) + 1n;
  }

  /** The lowest unbatched L2 block (with an origin above `above`) whose origin L1 no longer has. */
  private async scanUnbatched(head: bigint, batched: bigint, above: bigint | undefined): Promise<bigint | undefined> {
    const onL1 = this.originCheck(above);
    let gone: bigint | undefined;
    for (let n = head; n > batched; n--) {
      const verdict = await onL1(n);
      if (verdict === 'below') break;
      if (!verdict) gone = n;
    }
    // the block a batch on L1 ends with: if its origin is gone, that batch is one derivation refuses
    if (gone === batched + 1n && batched > 0n && !(await onL1(batched))) return batched;
    return gone;
  }

  /** Whether L2 block n's origin is on L1 now ('below': at or below `above`, known to be). */
  private originCheck(above?: bigint): (n: bigint) => Promise<boolean | 'below'> {
    const { chain, l1 } = this.deps;
    const seen = new Map<bigint, boolean>();
    return async (n) => {
      if (n === 0n) return above === undefined ? true : 'below';
      const block = await chain.store.getBlockByNumber(n);
      if (block === undefined) throw new Error(`L2 block ${n} is missing from the canonical chain`);
      const origin = l1OriginOf(block);
      if (origin === undefined) return true;
      if (above !== undefined && origin.number <= above) return 'below';
      let ok = seen.get(origin.number);
      if (ok === undefined) {
        ok = (await l1.hashAt(origin.number))?.toLowerCase() === origin.hash.toLowerCase();
        seen.set(origin.number, ok);
      }
      return ok;
    };
  }

  private async rewind(head: bigint, to: bigint): Promise<ReorgOutcome> {
    const { chain, logger } = this.deps;
    const dropped: Block[] = [];
    for (let n = to + 1n; n <= head; n++) {
      const b = await chain.store.getBlockByNumber(n);
      if (b !== undefined) dropped.push(b);
    }
    await chain.rewind(to);
    const info = await readL1BlockInfo(chain.headState());
    this.deps.l1.resume(info.depositCount);
    const requeued = await this.requeue(dropped);
    this.rewinds++;
    this.blocksDropped += head - to;
    logger.warn({ from: head, to, origin: info.number, depositsConsumed: info.depositCount, requeued }, 'L1 reorg: rewound the L2 blocks built on what L1 no longer has');
    return { from: head, to, requeued };
  }

  /** The dropped blocks' user transactions go back to the pool (as geth's pool does on a reorg), oldest first. */
  private async requeue(dropped: Block[]): Promise<number> {
    const { chain, pool } = this.deps;
    const state = chain.headState();
    const nonces = new Map<string, bigint>();
    const txs = dropped.flatMap((b) => b.transactions.filter((tx) => !isDepositTx(tx)));
    for (const tx of txs) {
      const sender = tx.getSenderAddress();
      const hex = sender.toString();
      if (!nonces.has(hex)) nonces.set(hex, (await state.getAccount(sender))?.nonce ?? 0n);
    }
    pool.onRewound(nonces);
    let requeued = 0;
    for (const tx of txs) {
      try {
        // they came in over JSON-RPC (the only way in): local, so the pool journal keeps them
        await pool.addRaw(tx.serialize(), { local: true });
        requeued++;
      } catch (err) {
        this.deps.logger.debug({ hash: bytesToHex(tx.hash()), err: (err as Error).message }, 'a dropped block transaction did not go back to the pool');
      }
    }
    return requeued;
  }
}
