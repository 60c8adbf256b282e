/**
 * The run loop of an L1 poster (batcher, proposer): one step at a time, an idle pause between
 * steps that poke() cuts short, exponential back-off after a failure, never a crash, and a
 * stop() that waits for the step in progress and leaves no timer behind.
 */
import type { Logger } from 'pino';
import { CodedError } from '../../precompiles/errors.ts';

export class LoopAborted extends CodedError {
  override readonly code = 'LOOP_ABORTED';

  constructor() {
    super('stopped');
    this.name = 'LoopAborted';
  }
}

/** Resolves after `ms`, or at once when `wake` fires; rejects with LoopAborted when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal, wake?: Promise<void>): Promise<void> {
  if (signal?.aborted === true) return Promise.reject(new LoopAborted());
  return new Promise((resolve, reject) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    const onAbort = () => {
      done();
      reject(new LoopAborted());
    };
    const timer = setTimeout(() => {
      done();
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
    void wake?.then(() => {
      done();
      resolve();
    });
  });
}

/** What a step did: `busy` runs the next step at once (a backlog), `idle` waits pollMs. */
export type StepResult = 'busy' | 'idle';

export interface LoopOptions {
  pollMs: number;
  /** Longest pause after repeated failures. */
  maxBackoffMs: number;
}

export class ServiceLoop {
  private readonly abort = new AbortController();
  private running: Promise<void> | undefined;
  private wakeUp: (() => void) | undefined;
  private failures = 0;
  /** A poke that came during a step: the next pause is skipped. */
  private poked = false;
  lastError: string | undefined;

  constructor(
    private readonly opts: LoopOptions,
    private readonly logger: Logger,
    private readonly step: (signal: AbortSignal) => Promise<StepResult>,
    /** How to log a failed step (e.g. an unreachable L1 is a warning, not an error). */
    private readonly level: (err: unknown) => 'warn' | 'error' = () => 'error',
  ) {}

  get signal(): AbortSignal {
    return this.abort.signal;
  }

  start(): void {
    this.running ??= this.run();
  }

  /** Ends the pause between steps now (e.g. a new batch was confirmed). */
  poke(): void {
    this.poked = true;
    this.wakeUp?.();
  }

  /** Aborts waits, lets the step in progress end, and resolves when the loop has exited. */
  async stop(): Promise<void> {
    this.abort.abort();
    this.poke();
    await this.running;
  }

  private async run(): Promise<void> {
    const signal = this.abort.signal;
    while (!signal.aborted) {
      let delay = this.opts.pollMs;
      this.poked = false;
      try {
        const r = await this.step(signal);
        if (this.failures > 0) this.logger.info({ failures: this.failures }, 'recovered');
        this.failures = 0;
        this.lastError = undefined;
        if (r === 'busy' || this.poked) delay = 0;
      } catch (err) {
        if (err instanceof LoopAborted || signal.aborted) break;
        this.failures++;
        this.lastError = (err as Error).message;
        delay = Math.min(this.opts.pollMs * 2 ** Math.min(this.failures, 16), this.opts.maxBackoffMs);
        this.logger[this.level(err)]({ err: (err as Error).message, code: (err as { code?: string }).code, failures: this.failures, retryInMs: delay }, 'step failed; retrying');
      }
      const wake = new Promise<void>((r) => (this.wakeUp = r));
      try {
        await sleep(delay, signal, wake);
      } catch {
        break;
      } finally {
        this.wakeUp = undefined;
      }
    }
  }
}

/** Subscribers of a service event; one failing listener is logged and does not stop the others. */
export class Listeners<T> {
  private readonly set = new Set<(ev: T) => void>();

  constructor(private readonly logger: Logger) {}

  add(listener: (ev: T) => void): () => void {
    this.set.add(listener);
    return () => this.set.delete(listener);
  }

  emit(ev: T): void {
    for (const l of this.set) {
      try {
        l(ev);
      } catch (err) {
        this.logger.error({ err }, 'listener failed');
      }
    }
  }
}
