import type { Block } from '@ethereumjs/block';
import { type Address, bytesToHex, createAddressFromString, equalsBytes } from '@ethereumjs/util';
import type { VM } from '@ethereumjs/vm';
import type { Logger } from 'pino';
import type { Chain } from '../node/chain/chain.ts';
import type { Mempool } from './mempool.ts';
import type { SequencerOptions } from './options.ts';
import type { PoolTx } from '../node/txpool/pool-tx.ts';
import { BlockAssembler, BlockStateError } from '../node/rollup/block-assembler.ts';
import { InternalExecutionError } from '../node/chain/state-layer.ts';
import { readL1BlockInfo } from '../node/chain/l1-block-info.ts';
import { L1_INFO_GAS, nextAttributes } from '../node/rollup/l1-attributes.ts';
import type { BlockAttributes, L1BlockRef, L1View } from '../node/rollup/l1-attributes.ts';

/** Rollup mode: every block starts with its L1 origin and the deposits it consumes. */
export interface ProducerL1 {
  view: L1View;
  /** The rollup's L1 start (the origin of the first L2 block if L1 has nothing newer). */
  start: L1BlockRef;
  /** Called after a block that consumed deposits up to `count`. */
  onConsumed?(count: bigint): void;
}

export interface ProducerDeps {
  chain: Chain;
  pool: Mempool;
  logger: Logger;
  l1?: ProducerL1;
  /** Called when a block could not be written: the node must stop rather than diverge. */
  onFatal(err: Error): void;
}

/**
 * `--dev` test control (sequencer/dev-control.ts): a clock that can be moved, a fixed timestamp
 * for the next block, and state edits applied at the start of the next block (so `latest` shows
 * them once it is sealed). Absent on every other node.
 */
export interface DevHooks {
  /** Seconds added to the wall clock (evm_increaseTime). */
  offset: bigint;
  /** The next block's timestamp (evm_setNextBlockTimestamp, evm_mine with a timestamp), used once. */
  nextTimestamp?: bigint;
  /** Applied to the block's state before its transactions, then cleared. */
  edits: ((vm: VM) => Promise<void>)[];
}

/**
 * When blocks are sealed: one per transaction as it arrives (`auto`), on a timer (`interval`), or
 * only on request (`none`, a dev chain's evm_setAutomine(false)).
 */
export type MiningMode = { kind: 'auto' } | { kind: 'interval'; seconds: number } | { kind: 'none' };

/** Milliseconds one block may spend executing transactions before it is sealed anyway, so a flood cannot stall the chain. */
const MAX_BUILD_MS = 2_000;
/**
 * Milliseconds of building between two turns of the event loop. With its state in memory the EVM
 * never waits on I/O, so a block of thousands of transactions held every socket for hundreds of
 * milliseconds: transactions sent meanwhile waited, and a client sending in turn stalled.
 */
const BUILD_SLICE_MS = 10;

/** Seals blocks from the pool on a timer (or per transaction in automine mode). */
export class BlockProducer {
  private vm: VM | undefined;
  private vmHead: Uint8Array | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  /** Every seal runs after the previous one: the timer, automine and mineOne must never overlap. */
  private tail: Promise<unknown> = Promise.resolve();
  private sealedListeners: ((t: { execMs: number; sealMs: number; commitMs: number }) => void)[] = [];
  private again = false;
  private stopped = false;
  private mode: MiningMode;
  /** Bumped on every mode change, so a timer armed under the old mode does not re-arm itself. */
  private generation = 0;
  /** Set while a block is being built: unpaid work (eth_call) waits for it (node/rpc/call-gate.ts). */
  private buildingNow: Promise<unknown> | undefined;
  private unsubscribe: (() => void) | undefined;
  private readonly coinbase: Address;
  /** Set by the dev controller on a --dev node. */
  dev: DevHooks | undefined;

  constructor(
    private readonly opts: SequencerOptions,
    private readonly deps: ProducerDeps,
  ) {
    this.coinbase = createAddressFromString(opts.coinbase);
    this.mode = opts.blockTime === 0 ? { kind: 'auto' } : { kind: 'interval', seconds: opts.blockTime };
  }

  start(): void {
    this.arm();
  }

  get mining(): MiningMode {
    return this.mode;
  }

  /** Switches how blocks are sealed from now on (a dev chain's evm_setAutomine/evm_setIntervalMining). */
  setMining(mode: MiningMode): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.mode = mode;
    this.generation++;
    this.arm();
  }

  private arm(): void {
    if (this.stopped) return;
    if (this.mode.kind === 'auto') {
      this.unsubscribe = this.deps.pool.onAdded(() => this.trigger());
      // what waited in the pool while mining was off goes now, as a new arrival would (after a
      // timer's seal still running, whose loop does not look for more)
      void Promise.resolve(this.running).then(() => this.trigger());
    } else if (this.mode.kind === 'interval') {
      // the first block one interval from now, as anvil's timer: a parent older than an interval
      // (a dev genesis stamped 0, a restart after downtime) sealed an empty block at once, racing
      // whatever a client did right after start-up (a dev test's first evm_mine made one block more)
      this.schedule(this.generation, this.mode.seconds, this.mode.seconds * 1000);
    }
  }

  /** Waits for the block being sealed, then stops; no block is left half-written. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.unsubscribe?.();
    await this.running;
    await this.tail;
  }

  /** While a block is being built, a promise that settles when it is done; otherwise undefined. */
  building(): Promise<void> | undefined {
    return this.buildingNow?.then(
      () => undefined,
      () => undefined,
    );
  }

  /** Told each block's phase times once it is committed (metrics). */
  onSealed(f: (t: { execMs: number; sealMs: number; commitMs: number }) => void): () => void {
    this.sealedListeners.push(f);
    return () => {
      this.sealedListeners = this.sealedListeners.filter((x) => x !== f);
    };
  }

  /** Seals one block now with whatever is pending (used by tests and evm_mine-like tooling). */
  mineOne(): Promise<Block | undefined> {
    return this.sealOne();
  }

  /** Runs `f` between two seals, with no block being built (a dev chain's snapshot revert). */
  exclusive<T>(f: () => Promise<T>): Promise<T> {
    const next = this.tail.then(async () => {
      const r = await f();
      this.vm = undefined;
      this.vmHead = undefined;
      return r;
    });
    this.tail = next.catch(() => undefined);
    return next;
  }

  private sealOne(): Promise<Block | undefined> {
    const next = this.tail.then(() => this.produce());
    this.tail = next.catch(() => undefined);
    return next;
  }

  private schedule(generation: number, seconds: number, first?: number): void {
    if (this.stopped || generation !== this.generation) return;
    const parentTs = Number(this.deps.chain.head.header.timestamp - (this.dev?.offset ?? 0n)) * 1000;
    // never more than one interval away: a parent stamped ahead of the clock (a dev chain's
    // evm_setNextBlockTimestamp) must not stall the timer until the clock catches up
    const due = first ?? Math.min(Math.max(parentTs + seconds * 1000 - Date.now(), 0), seconds * 1000);
    this.timer = setTimeout(() => {
      this.running = this.sealOne()
        .then(() => undefined)
        .finally(() => {
          this.running = undefined;
          this.schedule(generation, seconds);
        });
    }, due);
  }

  private trigger(): void {
    if (this.stopped) return;
    if (this.running !== undefined) {
      this.again = true;
      return;
    }
    this.running = (async () => {
      do {
        this.again = false;
        while (!this.stopped && this.deps.pool.status().pending > 0) {
          const b = await this.sealOne();
          if (b === undefined || b.transactions.length === 0) break;
        }
      } while (this.again && !this.stopped);
    })().finally(() => {
      this.running = undefined;
    });
  }

  private async sealerVM(): Promise<VM> {
    const head = this.deps.chain.head;
    if (this.vm === undefined || this.vmHead === undefined || !equalsBytes(this.vmHead, head.hash())) {
      this.vm = await this.deps.chain.builderVm(head.header.stateRoot);
      this.vmHead = head.hash();
    }
    return this.vm;
  }

  private async produce(): Promise<Block | undefined> {
    const { chain, pool, logger } = this.deps;
    const parent = chain.head;
    const started = Date.now();
    let built: Awaited<ReturnType<BlockProducer['build']>>;
    try {
      const building = this.build(parent, started);
      this.buildingNow = building;
      built = await building;
    } catch (err) {
      logger.error({ err }, 'block building failed; retrying from the head');
      chain.abandonPending();
      this.vm = undefined;
      return undefined;
    } finally {
      this.buildingNow = undefined;
    }
    const { block, included, receipts, activity, execMs, attrs, depositSenders } = built;
    const sealed = Date.now();
    try {
      await chain.commit(block, [...depositSenders, ...included.map((p) => p.sender)], receipts, activity);
    } catch (err) {
      this.deps.onFatal(err as Error);
      return undefined;
    }
    this.vmHead = block.hash();
    const nonces = new Map<string, bigint>();
    // a deposit bumps its sender's nonce too, which can make pool transactions stale
    receipts.forEach((r, i) => {
      if (r.depositNonce !== undefined) nonces.set(depositSenders[i]!.toString(), r.depositNonce + 1n);
    });
    for (const p of included) nonces.set(p.senderHex, p.nonce + 1n);
    pool.onBlockIncluded(nonces);
    if (attrs !== undefined && attrs.deposits.length > 0) this.deps.l1?.onConsumed?.(attrs.depositCount);
    const times = { execMs, sealMs: sealed - started - execMs, commitMs: Date.now() - sealed };
    for (const f of this.sealedListeners) f(times);
    logger.debug({ number: block.header.number, txs: block.transactions.length, gasUsed: block.header.gasUsed, ...times }, 'sealed block');
    return block;
  }

  private async build(parent: Block, started: number) {
    const { pool, logger } = this.deps;
    const vm = await this.sealerVM();
    const nextBase = parent.header.calcNextBaseFee();
    const baseFee = nextBase > this.opts.minBaseFee ? nextBase : this.opts.minBaseFee;
    const now = BigInt(Math.floor(Date.now() / 1000)) + (this.dev?.offset ?? 0n);
    const fixed = this.dev?.nextTimestamp;
    const timestamp = fixed !== undefined && fixed > parent.header.timestamp ? fixed : now > parent.header.timestamp ? now : parent.header.timestamp + 1n;
    const asm = await BlockAssembler.start(
      vm,
      {
        parentHash: parent.hash(),
        number: parent.header.number + 1n,
        timestamp,
        gasLimit: this.opts.gasLimit,
        coinbase: this.coinbase,
        baseFeePerGas: baseFee,
      },
      { recordActivity: true },
    );
    const maxTxs = this.mode.kind === 'auto' ? 1 : Number.POSITIVE_INFINITY;
    const included: PoolTx[] = [];
    const edits = this.dev?.edits.splice(0) ?? [];
    if (this.dev !== undefined) this.dev.nextTimestamp = undefined;
    for (const e of edits) await e(vm);
    let attrs: BlockAttributes | undefined;
    const depositSenders: Address[] = [];
    try {
      if (this.deps.l1 !== undefined) {
        const prev = await readL1BlockInfo(vm.stateManager as Parameters<typeof readL1BlockInfo>[0]);
        attrs = nextAttributes(prev, this.deps.l1.start, this.deps.l1.view, timestamp, this.opts.gasLimit - L1_INFO_GAS);
        for (const dep of [attrs.l1InfoTx, ...attrs.deposits]) {
          const r = await asm.addDeposit(dep);
          if (r.internalError !== undefined) logger.warn({ hash: bytesToHex(dep.hash()), err: r.internalError }, 'deposit call threw; included as a failed call');
          depositSenders.push(dep.from);
        }
      }
      // the selector reads the live pool: arrivals while the block is built can still go in it
      const sel = pool.selector(baseFee);
      let sliceStart = Date.now();
      for (let p = sel.peek(); p !== undefined && included.length < maxTxs; p = sel.peek()) {
        if (Date.now() - sliceStart > BUILD_SLICE_MS) {
          await new Promise<void>((resolve) => setImmediate(resolve));
          sliceStart = Date.now();
        }
        if (this.opts.gasLimit - asm.gasUsed < p.tx.gasLimit) {
          sel.pop();
          continue;
        }
        try {
          await asm.add(p.tx);
          included.push(p);
          sel.shift();
        } catch (err) {
          if (err instanceof BlockStateError) throw err;
          if (err instanceof InternalExecutionError) logger.warn({ hash: p.hash, err: err.reason }, 'dropping transaction: its execution threw, its state changes were discarded');
          else logger.debug({ hash: p.hash, err: (err as Error).message }, 'dropping transaction that cannot execute');
          pool.remove(p.hash);
          sel.pop();
        }
        if (Date.now() - started > MAX_BUILD_MS) break;
      }
    } catch (err) {
      await asm.abort();
      throw err;
    }
    const execMs = Date.now() - started;
    const block = await asm.seal();
    const receipts = asm.receipts;
    logger.trace({ hash: bytesToHex(block.hash()) }, 'built');
    return { block, included, receipts, activity: asm.activity, execMs, attrs, depositSenders };
  }
}
