/**
 * The prover's open jobs: bounded, one per request id, failures retried with backoff and a cap.
 *
 * Only jobs that match their request on chain get here (prover/daemon/job-intake.ts checks gossip;
 * the chain scan reads the request logs), so whichever message of a request arrives first is the
 * request itself and keying by id is safe: a fake with the same id is refused before it could
 * take the slot, and a fake with a future id is never queued at all. The one field no chain holds
 * is the package manifest hash; every hint offered for a job is kept (a few), so a bogus one sent
 * first cannot hide the real one, and the node's own manifest is tried last.
 *
 * A failed attempt (an RPC error, a package that cannot be fetched) is retried after retryMs,
 * doubling up to maxRetryMs; after maxFailures in a row it is retried at maxRetryMs for as long
 * as its request is open, never dropped: every attempt re-reads the request first, so the job
 * ends once the request is fulfilled, refunded or near its deadline, and a node outage longer
 * than the backoff no longer loses a paying request for good. Ended jobs are
 * remembered (the most recent maxFinished), so neither the chain scan nor a re-announcement
 * starts them again.
 */
import type { Hex } from 'viem';

/** One inference to prove, as the intake (gossip or the chain scan) hands it over. */
export interface Job {
  requestId: bigint;
  modelId: Hex;
  inputSignals: readonly bigint[];
  /** The raw input the proof is made from (checked against inputSignals by the job's source). */
  input: readonly number[];
  /** sha256 of the model package's manifest, when the announcer named it. */
  manifest?: string;
}

export interface QueueLimits {
  /** Open jobs at most; past it offers are refused (the chain scan's as much as gossip's). */
  maxJobs: number;
  /** Manifest hints kept per job. */
  maxManifests: number;
  /** Failed attempts in a row before the job is retried at maxRetryMs only (and said to be failing persistently). */
  maxFailures: number;
  /** Longest wait between attempts. */
  maxRetryMs: number;
  /** Ended jobs remembered. */
  maxFinished: number;
}

export const defaultQueueLimits: QueueLimits = { maxJobs: 1_024, maxManifests: 4, maxFailures: 6, maxRetryMs: 60_000, maxFinished: 100_000 };

export type OfferResult = 'queued' | 'known' | 'full';

export interface QueuedJob {
  job: Job;
  /** Manifest hints, in arrival order; a failing one is removed. */
  manifests: string[];
  failures: number;
}

export class JobQueue {
  private readonly open = new Map<bigint, QueuedJob>();
  private readonly finished = new Set<bigint>();

  constructor(
    private readonly limits: QueueLimits,
    private readonly retryMs: number,
  ) {}

  get size(): number {
    return this.open.size;
  }

  get(id: bigint): QueuedJob | undefined {
    return this.open.get(id);
  }

  /** Adds the job; for one already open, only its manifest hint. */
  offer(job: Job): { result: OfferResult; queued?: QueuedJob } {
    if (this.finished.has(job.requestId)) return { result: 'known' };
    const known = this.open.get(job.requestId);
    if (known !== undefined) {
      if (job.manifest !== undefined && !known.manifests.includes(job.manifest) && known.manifests.length < this.limits.maxManifests) known.manifests.push(job.manifest);
      return { result: 'known' };
    }
    if (this.open.size >= this.limits.maxJobs) return { result: 'full' };
    const queued: QueuedJob = { job, manifests: job.manifest === undefined ? [] : [job.manifest], failures: 0 };
    this.open.set(job.requestId, queued);
    return { result: 'queued', queued };
  }

  /** An attempt failed: when to try again, and whether it has failed maxFailures times in a row. */
  failed(q: QueuedJob): { retryInMs: number; persistent: boolean } {
    q.failures++;
    const persistent = q.failures >= this.limits.maxFailures;
    const retryInMs = persistent ? this.limits.maxRetryMs : Math.min(this.retryMs * 2 ** (q.failures - 1), this.limits.maxRetryMs);
    return { retryInMs, persistent };
  }

  /** An attempt went through (whatever it decided): the failure count starts over. */
  succeeded(q: QueuedJob): void {
    q.failures = 0;
  }

  end(id: bigint): void {
    this.open.delete(id);
    this.finished.add(id);
    if (this.finished.size > this.limits.maxFinished) this.finished.delete(this.finished.values().next().value!);
  }
}
