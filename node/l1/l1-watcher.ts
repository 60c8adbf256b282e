import type { Logger } from 'pino';
import { parseAbiItem } from 'viem';
import type { Hex, PublicClient } from 'viem';
import type { L1BlockRef, L1Deposit, L1View } from '../rollup/l1-attributes.ts';
import { depositScanStart } from './deposit-scan-start.ts';
import { getLogsInRanges } from './log-range.ts';

const depositQueued = parseAbiItem(
  'event DepositQueued(uint256 indexed index, address indexed from, address indexed to, uint256 mint, uint256 value, uint64 gasLimit, bool isCreation, bytes data, bytes32 depositHash)',
);

export interface L1WatcherOptions {
  bridge: Hex;
  /** The rollup's first L1 block (the Bridge was deployed at or before it). */
  startBlock: bigint;
  /** L1 blocks to stay behind the L1 head (0 on a devnet). */
  confirmations: number;
  pollMs: number;
  /** L1 blocks scanned per step (getLogsInRanges splits a step into the requests the provider takes). */
  logRange?: bigint;
}

/** An L1 reorg the watcher saw under blocks it had handed out. */
export interface L1Reorg {
  /** The newest handed-out block that was replaced (or is gone). */
  from: bigint;
  /** The newest handed-out block L1 still has; undefined when none of those remembered is left. */
  ancestor: bigint | undefined;
}

/** L1 blocks per scan step. */
const SCAN_STEP = 20_000n;

/** Tips remembered for finding where a reorg forked: deeper reorgs than this many polls only lose precision in the log. */
const TIPS_KEPT = 256;

/**
 * Follows L1 for the sequencer: the newest L1 block past the confirmation depth (a candidate
 * origin) and the Bridge's deposits up to it, kept in memory by index until L2 consumed them.
 *
 * The scan starts where the first deposit L2 has not consumed can be (`resume`, a binary
 * search on the Bridge's deposit times: node/l1/deposit-scan-start.ts), so a restart does not
 * rescan L1 from the Bridge's deployment. Every poll first re-reads the last tip it handed out:
 * a different hash means L1 reorganised under it, and everything read above the fork (tips,
 * deposits) is dropped and read again from the new chain; listeners (the sequencer's reorg
 * handler, sequencer/l1-reorg.ts) then rewind L2 blocks built on what is gone. An unreachable
 * L1 is logged and retried; the sequencer keeps building blocks on its last origin meanwhile.
 */
export class L1Watcher implements L1View {
  private head: L1BlockRef | undefined;
  private scannedTo: bigint | undefined;
  /** Set by resume(): the next poll finds the scan start for this many consumed deposits. */
  private resumeAt: bigint | undefined = 0n;
  private consumedCount = 0n;
  private readonly byIndex = new Map<bigint, L1Deposit>();
  private readonly tips = new Map<bigint, Hex>();
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  private stopped = false;
  private failing = false;
  private readonly listeners = new Set<() => void>();
  private readonly reorgListeners = new Set<(r: L1Reorg) => void>();
  /** Reorgs seen since start (metrics). */
  reorgs = 0;

  constructor(
    private readonly client: PublicClient,
    private readonly opts: L1WatcherOptions,
    private readonly logger: Logger,
  ) {}

  latest(): L1BlockRef | undefined {
    return this.head;
  }

  deposits(fromIndex: bigint, upTo: bigint): L1Deposit[] {
    const out: L1Deposit[] = [];
    for (let i = fromIndex; ; i++) {
      const d = this.byIndex.get(i);
      if (d === undefined || d.l1Block > upTo) return out;
      out.push(d);
    }
  }

  /** Forget deposits below `count`: L2 consumed them. */
  consumed(count: bigint): void {
    this.consumedCount = count;
    for (const i of this.byIndex.keys()) if (i < count) this.byIndex.delete(i);
  }

  /**
   * Scan again for the deposits from index `consumed` on (at start, and after L2 was rewound):
   * the next poll finds their first L1 block and reads the Bridge's logs from there.
   */
  resume(consumed: bigint): void {
    this.consumedCount = consumed;
    this.resumeAt = consumed;
  }

  /** Called after a poll that found new deposits. */
  onDeposits(l: () => void): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  /** Called when L1 reorganised under blocks this watcher had handed out. */
  onReorg(l: (r: L1Reorg) => void): () => void {
    this.reorgListeners.add(l);
    return () => this.reorgListeners.delete(l);
  }

  /** L1's hash at `n` now; undefined when L1 has no block `n` (a shorter chain after a reorg). */
  async hashAt(n: bigint): Promise<Hex | undefined> {
    return (await this.blockAt(n))?.hash ?? undefined;
  }

  private async blockAt(n: bigint) {
    try {
      return await this.client.getBlock({ blockNumber: n });
    } catch (err) {
      if ((err as Error).name === 'BlockNotFoundError') return undefined;
      throw err;
    }
  }

  async start(): Promise<void> {
    await this.poll();
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    await this.polling;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.polling = this.poll().finally(() => {
        this.polling = undefined;
        this.schedule();
      });
    }, this.opts.pollMs);
  }

  /** One round; never throws. */
  async poll(): Promise<void> {
    try {
      const found = await this.step();
      if (this.failing) this.logger.info('L1 reachable again');
      this.failing = false;
      if (found > 0) for (const l of this.listeners) l();
    } catch (err) {
      if (!this.failing) this.logger.warn({ err: (err as Error).message }, 'L1 unreachable; building on the last L1 origin');
      this.failing = true;
    }
  }

  private async step(): Promise<number> {
    const tip = (await this.client.getBlockNumber({ cacheTime: 0 })) - BigInt(this.opts.confirmations);
    if (tip < this.opts.startBlock) return 0;
    // the tip first: a reorg after this read changes its hash, which the next poll checks, so
    // logs read below from another fork than this tip's are caught then
    const block = await this.blockAt(tip);
    if (block === undefined) return 0;
    const head = this.head;
    if (head !== undefined) {
      // the common cases need no request of their own: the same tip, or the next block on top of it
      let kept: boolean;
      if (tip === head.number) kept = block.hash === head.hash;
      else if (tip === head.number + 1n) kept = block.parentHash === head.hash;
      else kept = (await this.hashAt(head.number)) === head.hash;
      if (!kept) {
        await this.reorged(head.number);
        return 0;
      }
      if (tip <= head.number) return 0;
    }
    let expect: bigint | undefined;
    if (this.resumeAt !== undefined) {
      const consumed = this.resumeAt;
      const start = await depositScanStart(this.client, { bridge: this.opts.bridge, consumed, l1Start: this.opts.startBlock, tip });
      if (this.resumeAt === consumed) this.resumeAt = undefined;
      this.byIndex.clear();
      this.scannedTo = start.from - 1n;
      if (start.pending) expect = consumed;
      this.logger.info({ consumed, from: start.from }, 'deposit scan starts');
    }
    let found = await this.scan(tip);
    if (expect !== undefined && !this.byIndex.has(expect)) {
      // the Bridge's deposit time and the block headers disagree (a dev L1's reorg re-stamps blocks): the slow, sure way
      this.logger.warn({ deposit: expect, from: this.scannedTo }, 'the first deposit not consumed is not where its time says; scanning from the start block');
      this.scannedTo = this.opts.startBlock - 1n;
      found = await this.scan(tip);
    }
    const ref = { number: block.number, hash: block.hash, timestamp: block.timestamp, baseFee: block.baseFeePerGas ?? 0n };
    this.head = ref;
    this.tips.set(ref.number, ref.hash);
    if (this.tips.size > TIPS_KEPT) this.tips.delete(this.tips.keys().next().value!);
    if (found > 0) this.logger.debug({ found, l1Block: tip }, 'deposits seen on L1');
    return found;
  }

  private async scan(tip: bigint): Promise<number> {
    const range = this.opts.logRange ?? SCAN_STEP;
    let found = 0;
    while (this.scannedTo! < tip) {
      const from = this.scannedTo! + 1n;
      const to = from + range - 1n < tip ? from + range - 1n : tip;
      // narrower requests when the provider refuses a range; progress kept per step, so a failure loses one step
      const logs = await getLogsInRanges(this.client, { address: this.opts.bridge, event: depositQueued, fromBlock: from, toBlock: to, strict: true });
      for (const log of logs) {
        const a = log.args;
        if (a.index < this.consumedCount) continue;
        this.byIndex.set(a.index, {
          index: a.index,
          l1Block: log.blockNumber,
          from: a.from,
          to: a.to,
          mint: a.mint,
          value: a.value,
          gasLimit: a.gasLimit,
          isCreation: a.isCreation,
          data: a.data,
          depositHash: a.depositHash,
        });
        found++;
      }
      this.scannedTo = to;
    }
    return found;
  }

  /** Drops what was read above the fork and scans again for the deposits not consumed. */
  private async reorged(from: bigint): Promise<void> {
    let ancestor: bigint | undefined;
    for (const n of [...this.tips.keys()].sort((a, b) => (a > b ? -1 : 1))) {
      if (n >= from) continue;
      if ((await this.hashAt(n)) === this.tips.get(n)) {
        ancestor = n;
        break;
      }
    }
    for (const n of this.tips.keys()) if (ancestor === undefined || n > ancestor) this.tips.delete(n);
    this.head = undefined;
    this.byIndex.clear();
    this.resumeAt = this.consumedCount;
    this.reorgs++;
    this.logger.warn({ from, ancestor: ancestor ?? null }, 'L1 reorg under the blocks handed out: deposits and origin read again');
    for (const l of this.reorgListeners) {
      try {
        l({ from, ancestor });
      } catch (err) {
        this.logger.error({ err }, 'reorg listener failed');
      }
    }
  }
}
