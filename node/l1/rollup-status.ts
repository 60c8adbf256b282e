import type { Logger } from 'pino';
import type { Hex, PublicClient } from 'viem';
import { rollupAbi } from '../../contracts/abi/rollup.ts';

export interface L1Output {
  index: bigint;
  root: Hex;
  batchIndex: bigint;
  l2Block: bigint;
  timestamp: bigint;
  finalized: boolean;
}

export interface RollupStatusSnapshot {
  /** Newest L2 block posted in a batch accepted on L1; 0 before the first. */
  safeBlock: bigint;
  /** Newest L2 block covered by an output past its challenge window; 0 before the first. */
  finalizedBlock: bigint;
  batchCount: bigint;
  outputs: L1Output[];
  l1Head: bigint;
}

/**
 * Reads the Rollup contract every poll: what L1 has accepted (safe) and what is final. The
 * sequencer's safe and finalized block tags and rollup_syncStatus come from here. Outputs are
 * kept in full (one per batch: a few thousand a year on a 7-day window is small) and re-read
 * from scratch when the challenger shrinks the list.
 */
export class RollupStatus {
  private snap: RollupStatusSnapshot = { safeBlock: 0n, finalizedBlock: 0n, batchCount: 0n, outputs: [], l1Head: 0n };
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  private stopped = false;
  private failing = false;
  /** When the Rollup was last read (not only the L1 head). */
  private readAt = 0;

  constructor(
    private readonly client: PublicClient,
    private readonly rollup: Hex,
    private readonly pollMs: number,
    private readonly logger: Logger,
  ) {}

  get snapshot(): RollupStatusSnapshot {
    return this.snap;
  }

  outputForBlock(l2Block: bigint): L1Output | undefined {
    return this.snap.outputs.find((o) => o.l2Block === l2Block);
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
    }, this.pollMs);
  }

  async poll(): Promise<void> {
    try {
      await this.step();
      this.failing = false;
    } catch (err) {
      if (!this.failing) this.logger.warn({ err: (err as Error).message }, 'cannot read the Rollup contract on L1; keeping the last status');
      this.failing = true;
    }
  }

  private async step(): Promise<void> {
    const read = <T>(functionName: string, args: unknown[] = []) => this.client.readContract({ address: this.rollup, abi: rollupAbi, functionName, args } as never) as Promise<T>;
    const l1Head = await this.client.getBlockNumber({ cacheTime: 0 });
    // the Rollup's state is the L1 head's: on the same head the reads would answer the same (ten
    // polls at most, for a reorg that keeps the height)
    if (l1Head === this.snap.l1Head && Date.now() - this.readAt < 10 * this.pollMs) return;
    const [batchCount, nextBlock, outputCount] = await Promise.all([read<bigint>('batchCount'), read<bigint>('nextBlock'), read<bigint>('outputCount')]);
    const outputs = outputCount < BigInt(this.snap.outputs.length) ? [] : this.snap.outputs.slice();
    for (let i = BigInt(outputs.length); i < outputCount; i++) {
      const o = await read<{ root: Hex; batchIndex: bigint; l2Block: bigint; timestamp: bigint }>('getOutput', [i]);
      outputs.push({ index: i, root: o.root, batchIndex: BigInt(o.batchIndex), l2Block: BigInt(o.l2Block), timestamp: BigInt(o.timestamp), finalized: false });
    }
    // outputs finalize in order, so only the not-yet-final tail needs asking
    let finalizedBlock = 0n;
    for (const o of outputs) {
      if (!o.finalized) o.finalized = await read<boolean>('isFinalized', [o.index]);
      if (!o.finalized) break;
      finalizedBlock = o.l2Block;
    }
    this.snap = { safeBlock: BigInt(nextBlock) - 1n, finalizedBlock, batchCount, outputs, l1Head };
    this.readAt = Date.now();
  }
}
