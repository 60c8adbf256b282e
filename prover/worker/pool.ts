/**
 * A pool of proving threads (worker_threads). Tasks queue in order and go to the first idle
 * thread; a thread that dies fails only its own task and is replaced, so one bad witness or an
 * out-of-memory prover cannot take the prover process down with it.
 */
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { AggregateProof } from '../aggregate/aggregate-circuit.ts';
import type { InferenceProof } from '../pipeline/prove.ts';
import type { TaskResults, WorkerReady, WorkerReply, WorkerTask } from './messages.ts';
import { CodedError } from '../../precompiles/errors.ts';

export type ProverPoolErrorCode = 'POOL_CLOSED' | 'WORKER_DIED' | 'PROVE_FAILED';

export class ProverPoolError extends CodedError {
  override name = 'ProverPoolError';
  constructor(
    override readonly code: ProverPoolErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface ProverPoolOptions {
  /** Proving threads; each uses one core. */
  concurrency: number;
}

interface Pending {
  task: WorkerTask;
  resolve(p: TaskResults[WorkerTask['kind']]): void;
  reject(e: Error): void;
}

/** A task as submitted: the pool numbers it. */
type NewTask = WorkerTask extends infer T ? (T extends WorkerTask ? Omit<T, 'id'> : never) : never;

interface Slot {
  worker: Worker;
  ready: boolean;
  busy?: Pending;
}

const ENTRY = new URL('./worker-entry.mjs', import.meta.url);

export class ProverPool {
  private readonly slots: Slot[] = [];
  private readonly queue: Pending[] = [];
  private nextId = 1;
  private closed = false;

  constructor(
    private readonly options: ProverPoolOptions,
    private readonly deps: { logger: Logger },
  ) {
    if (!Number.isInteger(options.concurrency) || options.concurrency < 1) throw new RangeError(`concurrency must be a positive integer, got ${options.concurrency}`);
  }

  get concurrency(): number {
    return this.options.concurrency;
  }

  /** Tasks waiting plus tasks being proved. */
  get load(): number {
    return this.queue.length + this.slots.filter((s) => s.busy !== undefined).length;
  }

  prove(modelDir: string, input: readonly number[]): Promise<InferenceProof> {
    return this.submit<InferenceProof>({ kind: 'single', modelDir, input: [...input] });
  }

  /**
   * One proof of k inferences of the model in `modelDir`, with its agg<k> circuit (`model compile
   * --aggregate K`); `inputs` holds exactly k inputs.
   */
  proveAggregate(modelDir: string, k: number, inputs: readonly (readonly number[])[]): Promise<AggregateProof> {
    return this.submit<AggregateProof>({ kind: 'aggregate', modelDir, k, inputs: inputs.map((x) => [...x]) });
  }

  private submit<T extends TaskResults[WorkerTask['kind']]>(task: NewTask): Promise<T> {
    if (this.closed) return Promise.reject(new ProverPoolError('POOL_CLOSED', 'the prover pool is closed'));
    while (this.slots.length < this.options.concurrency) this.spawn();
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ task: { ...task, id: this.nextId++ } as WorkerTask, resolve: resolve as Pending['resolve'], reject });
      this.dispatch();
    });
  }

  /** Fails every task not finished yet and stops the threads. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const err = new ProverPoolError('POOL_CLOSED', 'the prover pool was closed before the proof was done');
    for (const p of this.queue.splice(0)) p.reject(err);
    const slots = this.slots.splice(0);
    for (const s of slots) s.busy?.reject(err);
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }

  private spawn(): void {
    const worker = new Worker(ENTRY);
    const slot: Slot = { worker, ready: false };
    this.slots.push(slot);
    worker.on('message', (msg: WorkerReply | WorkerReady) => this.onMessage(slot, msg));
    worker.on('error', (err) => this.deps.logger.error({ err }, 'proving thread failed'));
    worker.on('exit', (code) => this.onExit(slot, code));
  }

  private onMessage(slot: Slot, msg: WorkerReply | WorkerReady): void {
    if ('ready' in msg) {
      slot.ready = true;
    } else {
      const p = slot.busy;
      slot.busy = undefined;
      if (p !== undefined && p.task.id === msg.id) {
        if (msg.ok) p.resolve(msg.result);
        else p.reject(new ProverPoolError('PROVE_FAILED', `${msg.error.name}: ${msg.error.message}`));
      }
    }
    this.dispatch();
  }

  private onExit(slot: Slot, code: number): void {
    const i = this.slots.indexOf(slot);
    if (i < 0) return; // closed: already removed
    this.slots.splice(i, 1);
    this.deps.logger.warn({ code, task: slot.busy?.task.id }, 'proving thread exited; starting another');
    slot.busy?.reject(new ProverPoolError('WORKER_DIED', `the proving thread exited with code ${code}`));
    if (!this.closed && (this.queue.length > 0 || this.slots.length < this.options.concurrency)) this.spawn();
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (this.queue.length === 0) return;
      if (!slot.ready || slot.busy !== undefined) continue;
      const p = this.queue.shift()!;
      slot.busy = p;
      slot.worker.postMessage(p.task);
    }
  }
}
