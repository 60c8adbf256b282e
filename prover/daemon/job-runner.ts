/**
 * Takes proof jobs (from gossip or from the chain, in any order, duplicates included) and runs
 * each one through: check on chain -> fetch the model -> prove -> verify locally -> claim ->
 * fulfil. The chain is the only truth: a job message only says where to look. The market pays
 * only the live claimant (a fulfilment copied from the pool must not pay its copier), so every
 * fulfilment needs a claim. It is taken once the proof is made and verified (a claim taken while
 * proving could lapse when proofs queue up, and a lapse is slashed), and the fulfilment is sent
 * only after the claim is mined; a proof made for a job whose claim was lost is kept for the next
 * attempt at it.
 *
 * A job someone else holds is looked at again when their claim ends (a prover that died
 * mid-job leaves a claim that expires, and the market offers the job again); a job is dropped
 * once it is fulfilled, refunded or past its deadline. A proof is never sent unless it verifies
 * here against the registry's key, so an honest prover is never slashed for a bad artifact.
 * Jobs are offered only once checked against their request on chain; the open ones are bounded,
 * and a job whose attempts keep failing is retried with backoff, then dropped (job-queue.ts).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Hex } from 'viem';
import type { Logger } from 'pino';
import { verifyGroth16 } from '../../precompiles/groth16/verify.ts';
import type { InferenceProof } from '../pipeline/prove.ts';
import { RequestStatus } from '../../contracts/abi/market.ts';
import { JobQueue, defaultQueueLimits } from './job-queue.ts';
import type { Job, OfferResult, QueueLimits, QueuedJob } from './job-queue.ts';
import { ModelFetchError } from './model-fetcher.ts';
import type { ModelWanted } from './model-fetcher.ts';
import { MarketRevert, NO_CLAIMANT } from './prover-chain.ts';
import type { FulfilOutcome, MarketRequest } from './prover-chain.ts';

/** The chain as the runner needs it (ProverChain implements it). */
export interface RunnerChain {
  readonly address: Hex;
  getRequest(id: bigint): Promise<MarketRequest>;
  latestTimestamp(): Promise<bigint>;
  modelKey(modelId: Hex): Promise<Hex | undefined>;
  modelManifest(modelId: Hex): Promise<string | undefined>;
  claim(id: bigint): Promise<unknown>;
  fulfil(id: bigint, outputs: readonly bigint[], proof: readonly bigint[]): Promise<FulfilOutcome>;
}

export interface RunnerDeps {
  chain: RunnerChain;
  models: { ensure(want: ModelWanted): Promise<string> };
  prove(modelDir: string, input: readonly number[]): Promise<InferenceProof>;
  /**
   * Brings the stake back up to the market's minimum after slashes took it below (a miss under
   * load must not retire the prover for good); false when it cannot. Absent: never restakes.
   */
  restake?: () => Promise<boolean>;
  logger: Logger;
}

export interface RunnerOptions {
  /** Jobs paying less are left to others. */
  minFee: bigint;
  /** Seconds of margin a claim needs before the deadline (proving + inclusion). */
  deadlineMarginS: bigint;
  /** Wait before looking again at a job after a transient failure (RPC down, stake locked); doubles per failure. */
  retryMs: number;
  /** Bounds of the open jobs and of their retries (defaultQueueLimits). */
  queue?: Partial<QueueLimits>;
}

export type JobEnd = 'fulfilled' | 'rejected' | 'lost' | 'expired' | 'unpayable' | 'failed';

export interface RunnerStats {
  fulfilled: number;
  rejected: number;
  lost: number;
  expired: number;
  failed: number;
  earned: bigint;
}

type Step = { done: JobEnd } | { retryInMs: number };

export class JobRunner {
  private readonly queue: JobQueue;
  /** Proofs being made or made, per job, until the job ends (a lost claim does not waste one). */
  private readonly proofs = new Map<bigint, Promise<InferenceProof>>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private closed = false;
  readonly stats: RunnerStats = { fulfilled: 0, rejected: 0, lost: 0, expired: 0, failed: 0, earned: 0n };
  private readonly listeners: ((id: bigint, end: JobEnd) => void)[] = [];

  constructor(
    private readonly options: RunnerOptions,
    private readonly deps: RunnerDeps,
  ) {
    this.queue = new JobQueue({ ...defaultQueueLimits, ...options.queue }, options.retryMs);
  }

  /** Called with every job that ends here, and how. */
  onJobEnd(fn: (id: bigint, end: JobEnd) => void): void {
    this.listeners.push(fn);
  }

  /** Jobs being worked on or waiting for a retry. */
  get pending(): number {
    return this.queue.size;
  }

  /**
   * Starts on a job checked against its request on chain, unless it is known (then only its
   * manifest hint is kept) or the open jobs are at their bound ('full': left to other provers).
   */
  offer(job: Job): OfferResult {
    if (this.closed) return 'known';
    const { result, queued } = this.queue.offer(job);
    if (result === 'full') this.deps.logger.warn({ job: job.requestId.toString(), open: this.queue.size }, 'too many open jobs; this one is left to other provers');
    if (queued !== undefined) void this.run(queued);
    return result;
  }

  close(): void {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  private async run(queued: QueuedJob): Promise<void> {
    const job = queued.job;
    const log = this.deps.logger.child({ job: job.requestId.toString() });
    let step: Step;
    try {
      step = await this.attempt(job, log);
      this.queue.succeeded(queued);
    } catch (err) {
      const { retryInMs, persistent } = this.queue.failed(queued);
      const fields = { err: (err as Error).message, failures: queued.failures, retryInMs };
      if (persistent) log.error(fields, 'job attempts keep failing; retrying at the longest backoff while the request is open');
      else log.warn(fields, 'job attempt failed; will retry');
      step = { retryInMs };
    }
    if (this.closed) return;
    if ('done' in step) return this.end(job, step.done, log);
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (!this.closed) void this.run(queued);
    }, step.retryInMs);
    this.timers.add(t);
  }

  private end(job: Job, end: JobEnd, log: Logger): void {
    // every end is final: jobs are checked against the chain before they get here, so a failure
    // is not a lying message's, and the retries it had were its backoff
    this.queue.end(job.requestId);
    this.proofs.delete(job.requestId);
    if (end !== 'unpayable') this.stats[end]++;
    log.info({ end }, 'job done');
    for (const fn of this.listeners) fn(job.requestId, end);
  }

  /** One pass over a job; returns how it ended or when to look again. */
  private async attempt(job: Job, log: Logger): Promise<Step> {
    const { chain } = this.deps;
    const [req, now] = await Promise.all([chain.getRequest(job.requestId), chain.latestTimestamp()]);
    if (req.status !== RequestStatus.Open) return { done: req.status === RequestStatus.Fulfilled ? 'lost' : 'expired' };
    if (!matches(job, req)) {
      log.warn({ chainModel: req.modelId }, 'the job message does not match the request on chain; dropped');
      return { done: 'failed' };
    }
    if (req.fee < this.options.minFee) return { done: 'unpayable' };
    if (req.deadline < now + this.options.deadlineMarginS) return { done: 'expired' };
    const heldByOther = req.claimant !== NO_CLAIMANT && req.claimant.toLowerCase() !== chain.address.toLowerCase() && req.claimedUntil >= now;
    if (heldByOther) return { retryInMs: Number(req.claimedUntil - now + 1n) * 1000 };

    const dir = await this.modelDir(job);
    if (dir === undefined) return { done: 'failed' };
    // prove first, claim after: a claim taken while the proof waits behind others in the pool
    // can lapse under load, and each lapse is a miss slashed from the stake
    const proof = await this.proof(job, dir);
    const signals = proof.publicSignals.map(BigInt);
    const outputs = signals.slice(0, signals.length - job.inputSignals.length);
    const words = proof.proofWords.map((w) => BigInt(w));
    const local = verifyGroth16(readFileSync(join(dir, 'vk.bin')), signals, words);
    if (local.kind !== 'ok' || !local.valid || outputs.length !== req.outputCount) {
      log.error({ local, outputs: outputs.length, expected: req.outputCount }, 'our proof does not verify against the registered key; not sending it');
      return { done: 'failed' };
    }
    const after = await chain.latestTimestamp();
    if (req.claimant.toLowerCase() !== chain.address.toLowerCase() || req.claimedUntil < after) {
      // the claim is mined before the fulfilment is sent: a proof seen in the pool is then useless to anyone else
      const claimed = await this.claim(job, log);
      if (claimed !== undefined) return claimed;
    }
    return this.fulfil(job, outputs, words, log);
  }

  /** The job's proof, started now or earlier; a failed one is forgotten, so a retry proves again. */
  private proof(job: Job, dir: string): Promise<InferenceProof> {
    let p = this.proofs.get(job.requestId);
    if (p === undefined) {
      p = this.deps.prove(dir, job.input);
      this.proofs.set(job.requestId, p);
      // also marks the rejection handled when the attempt ends at the claim without awaiting it
      p.catch(() => this.proofs.delete(job.requestId));
    }
    return p;
  }

  /**
   * The model's package, by one of the job's manifest hints (a hint that fails is dropped) or
   * else by the manifest of the node's own package (ai_modelArtifacts). Undefined when the chain
   * says the model is unusable (unknown or deprecated); throws when no package could be had, a
   * failure retried with backoff.
   */
  private async modelDir(job: Job): Promise<string | undefined> {
    const vkHash = await this.deps.chain.modelKey(job.modelId);
    if (vkHash === undefined) {
      this.deps.logger.warn({ modelId: job.modelId }, 'model unknown or deprecated');
      return undefined;
    }
    const hints = this.queue.get(job.requestId)?.manifests ?? [];
    for (const manifest of [...hints]) {
      try {
        return await this.deps.models.ensure({ modelId: job.modelId, manifest, vkHash });
      } catch (err) {
        if (!(err instanceof ModelFetchError)) throw err;
        hints.splice(hints.indexOf(manifest), 1);
        this.deps.logger.warn({ modelId: job.modelId, manifest, err: err.message }, 'no usable package by this manifest hint; dropped');
      }
    }
    const own = await this.deps.chain.modelManifest(job.modelId);
    if (own === undefined) throw new Error(`no package of model ${job.modelId}: no manifest hint worked and the node serves none`);
    return this.deps.models.ensure({ modelId: job.modelId, manifest: own, vkHash });
  }

  /** undefined: claimed, go on; else how the job ends or when to retry. */
  private async claim(job: Job, log: Logger): Promise<Step | undefined> {
    try {
      await this.deps.chain.claim(job.requestId);
      log.info('claimed');
      return undefined;
    } catch (err) {
      if (!(err instanceof MarketRevert)) throw err;
      switch (err.errorName) {
        case 'AlreadyClaimed':
        case 'InsufficientFreeStake':
        case 'Reverted':
          return { retryInMs: this.options.retryMs };
        case 'AlreadyFulfilled':
          return { done: 'lost' };
        case 'NotRegistered':
          if ((await this.deps.restake?.()) === true) return { retryInMs: 0 };
          log.warn({ err: err.message }, 'claim refused: the stake is below the market minimum');
          return { done: 'failed' };
        case 'TooLateToClaim':
        case 'Expired':
        case 'AlreadyRefunded':
          return { done: 'expired' };
        default:
          log.warn({ err: err.message }, 'claim refused');
          return { done: 'failed' };
      }
    }
  }

  private async fulfil(job: Job, outputs: bigint[], words: bigint[], log: Logger): Promise<Step> {
    try {
      const r = await this.deps.chain.fulfil(job.requestId, outputs, words);
      if (r.kind === 'paid') {
        this.stats.earned += r.fee;
        log.info({ fee: r.fee.toString(), tx: r.tx }, 'fulfilled and paid');
        return { done: 'fulfilled' };
      }
      log.error({ reason: r.reason, tx: r.tx }, 'the market rejected our proof');
      return { done: 'rejected' };
    } catch (err) {
      if (!(err instanceof MarketRevert)) throw err;
      if (err.errorName === 'AlreadyFulfilled') return { done: 'lost' };
      if (err.errorName === 'Expired' || err.errorName === 'AlreadyRefunded') return { done: 'expired' };
      // NotClaimant: our claim lapsed before the fulfilment landed; claim again (the proof is kept)
      if (err.errorName === 'NotClaimant' || err.errorName === 'AlreadyClaimed' || err.errorName === 'Reverted') return { retryInMs: this.options.retryMs };
      log.warn({ err: err.message }, 'fulfil refused');
      return { done: 'failed' };
    }
  }
}

function matches(job: Job, req: MarketRequest): boolean {
  return (
    req.modelId.toLowerCase() === job.modelId.toLowerCase() && req.inputSignals.length === job.inputSignals.length && req.inputSignals.every((s, i) => s === job.inputSignals[i])
  );
}
