/**
 * The skeleton every L1 poster shares (the sequencer's batcher, proposer and inference poster,
 * and a replica's challenger): one transaction sender on its own key (so posters never race for
 * a nonce), one ServiceLoop running the poster's step, start/stop/poke, and the last step's error.
 * A poster writes only its step: what to read from L1 and what to send.
 */
import type { Logger } from 'pino';
import { L1TxError, L1TxErrorCode } from './l1-tx.ts';
import type { L1TxSender } from './l1-tx.ts';
import { ServiceLoop } from './l1-loop.ts';
import type { LoopOptions, QuietGate, StepResult } from './l1-loop.ts';

/** An unreachable L1 is expected now and then (a warning, retried); anything else is an error. */
export function unreachableIsWarning(err: unknown): 'warn' | 'error' {
  return err instanceof L1TxError && err.code === L1TxErrorCode.Unreachable ? 'warn' : 'error';
}

/** `Sender` is undefined for a poster that may only watch (a challenger without a key). */
export abstract class L1Poster<Sender extends L1TxSender | undefined = L1TxSender> {
  protected readonly loop: ServiceLoop;

  protected constructor(
    /** Names the poster in its start and stop lines. */
    private readonly role: string,
    protected readonly logger: Logger,
    options: LoopOptions,
    protected readonly sender: Sender,
  ) {
    this.loop = new ServiceLoop(options, logger, (signal) => this.hold(() => this.step(signal)), unreachableIsWarning);
  }

  private passes: Promise<unknown> = Promise.resolve();

  /**
   * Runs `f` between two passes: no pass, so none of this poster's L1 transactions, is in
   * progress meanwhile (the sequencer's L1 reorg handler reads what L1 holds under it).
   */
  hold<T>(f: () => Promise<T>): Promise<T> {
    const run = this.passes.then(f);
    this.passes = run.catch(() => undefined);
    return run;
  }

  /** One pass: read L1 and the chain, send what is due; `busy` runs the next pass at once. */
  protected abstract step(signal: AbortSignal): Promise<StepResult>;

  /** What the start line says besides the role (the contract, the poster's address). */
  protected abstract startFields(): Record<string, unknown>;

  /** The start line's message; a poster that may only watch says so. */
  protected startMessage(): string {
    return `${this.role} started`;
  }

  start(): void {
    this.logger.info(this.startFields(), this.startMessage());
    this.loop.start();
  }

  async stop(): Promise<void> {
    await this.loop.stop();
    this.logger.info(`${this.role} stopped`);
  }

  /** Skips idle passes while nothing the pass reads has changed (QuietGate). */
  quietWhileUnchanged(gate: QuietGate): void {
    this.loop.quietWhileUnchanged(gate);
  }

  /** Runs the next pass now instead of after the pause (e.g. a batch was confirmed). */
  poke(): void {
    this.loop.poke();
  }

  /** The last pass's error while it keeps failing (it retries with back-off), else undefined. */
  get lastError(): string | undefined {
    return this.loop.lastError;
  }
}
