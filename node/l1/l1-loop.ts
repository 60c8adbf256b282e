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

/**
 * What an idle step's answer depends on (e.g. the L1 head and the L2 head): while `key()` stays
 * what it was before the last idle step, no poke came and less than `maxMs` passed, the step is
 * not run again. A poster's idle step reads L1 a dozen times to learn that nothing is due; with
 * nothing new on either chain it would learn the same, so an idle node sent ~21 L1 requests a
 * second (at a 1 s poll) for nothing. `maxMs` bounds what the key cannot see (wall-clock ages).
 */
export interface QuietGate {
  key: () => string;
  maxMs: number;
}

export class ServiceLoop {
  private readonly abort = new AbortController();
  private running: Promise<void> | undefined;
  private wakeUp: (() => void) | undefined;
  private failures = 0;
  /** A poke that came during a step: the next pause is skipped. */
  private poked = false;
  private gate: QuietGate | undefined;
  /** The gate's key before the last step, when that step was idle, and when it ran. */
  private idle: { key: string; at: number } | undefined;
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

  /** Skips idle steps while `gate.key()` is unchanged (see QuietGate). */
  quietWhileUnchanged(gate: QuietGate): void {
    this.gate = gate;
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
      const key = this.gate?.key();
      const delay = this.quiet(key) ? this.opts.pollMs : await this.stepOnce(key, signal);
      if (delay === undefined) break;
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

  /** Whether the step can be skipped: idle last time, no poke since, the gate's key unchanged and not too long ago. */
  private quiet(key: string | undefined): boolean {
    const idle = this.idle;
    return !this.poked && idle !== undefined && key === idle.key && Date.now() - idle.at < (this.gate?.maxMs ?? 0);
  }

  /** Runs one step; answers the pause before the next, or undefined when the loop was stopped. */
  private async stepOnce(key: string | undefined, signal: AbortSignal): Promise<number | undefined> {
    this.poked = false;
    this.idle = undefined;
    try {
      const r = await this.step(signal);
      if (this.failures > 0) this.logger.info({ failures: this.failures }, 'recovered');
      this.failures = 0;
      this.lastError = undefined;
      if (r === 'idle' && key !== undefined && !this.poked) this.idle = { key, at: Date.now() };
      return r === 'busy' || this.poked ? 0 : this.opts.pollMs;
    } catch (err) {
      if (err instanceof LoopAborted || signal.aborted) return undefined;
      this.failures++;
      this.lastError = (err as Error).message;
      const delay = Math.min(this.opts.pollMs * 2 ** Math.min(this.failures, 16), this.opts.maxBackoffMs);
      this.logger[this.level(err)]({ err: (err as Error).message, code: (err as { code?: string }).code, failures: this.failures, retryInMs: delay }, 'step failed; retrying');
      return delay;
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
