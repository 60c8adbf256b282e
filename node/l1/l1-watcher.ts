import type { Logger } from 'pino';
import { parseAbiItem } from 'viem';
import type { Hex, PublicClient } from 'viem';
import type { L1BlockRef, L1Deposit, L1View } from '../rollup/l1-attributes.ts';

const depositQueued = parseAbiItem(
  'event DepositQueued(uint256 indexed index, address indexed from, address indexed to, uint256 mint, uint256 value, uint64 gasLimit, bool isCreation, bytes data, bytes32 depositHash)',
);

export interface L1WatcherOptions {
  bridge: Hex;
  /** First L1 block to scan: the Bridge's deployment block. */
  startBlock: bigint;
  /** L1 blocks to stay behind the L1 head (0 on a devnet). */
  confirmations: number;
  pollMs: number;
  /** Blocks per eth_getLogs request. */
  logRange?: bigint;
}

/**
 * Follows L1 for the sequencer: the newest L1 block past the confirmation depth (a candidate
 * origin) and the Bridge's deposits up to it, kept in memory by index until L2 consumed them.
 * Scanning restarts from the Bridge's deployment block after a restart: the L2 state, not this
 * cache, says which deposits were consumed. An unreachable L1 is logged and retried; the
 * sequencer keeps building blocks on its last origin meanwhile.
 */
export class L1Watcher implements L1View {
  private head: L1BlockRef | undefined;
  private scannedTo: bigint;
  private readonly byIndex = new Map<bigint, L1Deposit>();
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  private stopped = false;
  private failing = false;
  private readonly listeners = new Set<() => void>();

  constructor(
    private readonly client: PublicClient,
    private readonly opts: L1WatcherOptions,
    private readonly logger: Logger,
  ) {
    this.scannedTo = opts.startBlock - 1n;
  }

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
    for (const i of this.byIndex.keys()) if (i < count) this.byIndex.delete(i);
  }

  /** Called after a poll that found new deposits. */
  onDeposits(l: () => void): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
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
    if (tip < this.opts.startBlock || (this.head !== undefined && tip <= this.head.number)) return 0;
    const range = this.opts.logRange ?? 5_000n;
    let found = 0;
    while (this.scannedTo < tip) {
      const from = this.scannedTo + 1n;
      const to = from + range - 1n < tip ? from + range - 1n : tip;
      const logs = await this.client.getLogs({ address: this.opts.bridge, event: depositQueued, fromBlock: from, toBlock: to, strict: true });
      for (const log of logs) {
        const a = log.args;
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
    const block = await this.client.getBlock({ blockNumber: tip });
    this.head = { number: block.number, hash: block.hash, timestamp: block.timestamp, baseFee: block.baseFeePerGas ?? 0n };
    if (found > 0) this.logger.debug({ found, l1Block: tip }, 'deposits seen on L1');
    return found;
  }
}
