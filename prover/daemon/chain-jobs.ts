/**
 * Jobs read from the chain itself (InferenceRequested logs), so a prover finds every request
 * even with no gossip at all, and after a restart resumes where it stopped: the scanned block is
 * kept in a small state file. Gossip only makes jobs arrive sooner, and brings the inputs of
 * private-input requests, which the chain does not hold: every request log goes to the intake
 * (job-intake.ts), which queues it with its public input or with a private one held from gossip.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { RequestLog } from './job-intake.ts';

export interface ChainJobsDeps {
  chain: {
    blockNumber(): Promise<bigint>;
    requestedBetween(from: bigint, to: bigint): Promise<readonly RequestLog[]>;
  };
  found(request: RequestLog): void;
  /** After each pass over the new blocks (JobIntake.recheck). */
  scanned?(): Promise<void>;
  logger: Logger;
}

export interface ChainJobsOptions {
  pollMs: number;
  /** Where the last scanned block is kept. */
  stateFile: string;
  /** Widest eth_getLogs range asked for (the node refuses wider ones). */
  maxRange: bigint;
}

export class ChainJobs {
  private timer: NodeJS.Timeout | undefined;
  private scanned: bigint | undefined;
  private stopped = false;
  private running: Promise<void> | undefined;

  constructor(
    private readonly options: ChainJobsOptions,
    private readonly deps: ChainJobsDeps,
  ) {}

  async start(): Promise<void> {
    const text = await readFile(this.options.stateFile, 'utf8').catch(() => undefined);
    if (text !== undefined) this.scanned = BigInt((JSON.parse(text) as { scanned: string }).scanned);
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.poll().finally(() => {
        this.running = undefined;
        this.schedule(this.options.pollMs);
      });
    }, ms);
  }

  private async poll(): Promise<void> {
    try {
      const head = await this.deps.chain.blockNumber();
      // a chain that went back (a fresh devnet on the same port) is scanned again from its start
      if (this.scanned !== undefined && this.scanned > head) this.scanned = undefined;
      let from = this.scanned === undefined ? 0n : this.scanned + 1n;
      while (from <= head && !this.stopped) {
        const to = from + this.options.maxRange - 1n < head ? from + this.options.maxRange - 1n : head;
        for (const log of await this.deps.chain.requestedBetween(from, to)) this.deps.found(log);
        this.scanned = to;
        await this.save();
        from = to + 1n;
      }
      await this.deps.scanned?.();
    } catch (err) {
      this.deps.logger.warn({ err: (err as Error).message }, 'chain scan for jobs failed; retrying');
    }
  }

  private async save(): Promise<void> {
    const tmp = `${this.options.stateFile}.tmp`;
    await writeFile(tmp, JSON.stringify({ scanned: this.scanned?.toString() }));
    await rename(tmp, this.options.stateFile);
  }
}
