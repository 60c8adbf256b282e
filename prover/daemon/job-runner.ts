/**
 * Takes proof jobs (from gossip or from the chain, in any order, duplicates included) and runs
 * each one through: check on chain -> fetch the model -> claim -> prove -> verify locally ->
 * fulfil. The chain is the only truth: a job message only says where to look.
 *
 * A job someone else holds is looked at again when their claim ends (a prover that died
 * mid-job leaves a claim that expires, and the market offers the job again); a job is dropped
 * once it is fulfilled, refunded or past its deadline. A proof is never sent unless it verifies
 * here against the registry's key, so an honest prover is never slashed for a bad artifact.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Hex } from 'viem';
import type { Logger } from 'pino';
import { verifyGroth16 } from '../../precompiles/groth16/verify.ts';
import type { InferenceProof } from '../pipeline/prove.ts';
import { RequestStatus } from './market-abi.ts';
import type { ModelWanted } from './model-fetcher.ts';
import { MarketRevert, NO_CLAIMANT } from './prover-chain.ts';
import type { FulfilOutcome, MarketRequest } from './prover-chain.ts';

export interface Job {
  requestId: bigint;
  modelId: Hex;
  inputSignals: readonly bigint[];
  /** The raw input the proof is made from (checked against inputSignals by the job's source). */
  input: readonly number[];
  /** sha256 of the model package's manifest, when the announcer named it. */
  manifest?: string;
}

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
  logger: Logger;
}

export interface RunnerOptions {
  /** Jobs paying less are left to others. */
  minFee: bigint;
  /** Seconds of margin a claim needs before the deadline (proving + inclusion). */
  deadlineMarginS: bigint;
  /** Wait before looking again at a job after a transient failure (RPC down, stake locked). */
  retryMs: number;
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
  private readonly active = new Map<bigint, Job>();
  private readonly finished = new Set<bigint>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private closed = false;
  readonly stats: RunnerStats = { fulfilled: 0, rejected: 0, lost: 0, expired: 0, failed: 0, earned: 0n };
  private readonly listeners: ((id: bigint, end: JobEnd) => void)[] = [];

  constructor(
    private readonly options: RunnerOptions,
    private readonly deps: RunnerDeps,
  ) {}

  /** Called with every job that ends here, and how. */
  onJobEnd(fn: (id: bigint, end: JobEnd) => void): void {
    this.listeners.push(fn);
  }

  /** Jobs being worked on or waiting for a retry. */
  get pending(): number {
    return this.active.size;
  }

  /** Starts on a job unless it is already known; a message with a newer manifest replaces nothing. */
  offer(job: Job): void {
    if (this.closed || this.finished.has(job.requestId) || this.active.has(job.requestId)) return;
    this.active.set(job.requestId, job);
    void this.run(job);
  }

  close(): void {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  private async run(job: Job): Promise<void> {
    const log = this.deps.logger.child({ job: job.requestId.toString() });
    let step: Step;
    try {
      step = await this.attempt(job, log);
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'job attempt failed; will retry');
      step = { retryInMs: this.options.retryMs };
    }
    if (this.closed) return;
    if ('done' in step) return this.end(job, step.done, log);
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (!this.closed) void this.run(job);
    }, step.retryInMs);
    this.timers.add(t);
  }

  private end(job: Job, end: JobEnd, log: Logger): void {
    this.active.delete(job.requestId);
    // a failure may be the message's (a lying announcer) or passing (no package yet): a later
    // offer of the same request is taken again; the other ends are the chain's, and final
    if (end !== 'failed') this.finished.add(job.requestId);
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
    if (req.claimant.toLowerCase() !== chain.address.toLowerCase() || req.claimedUntil < now) {
      const claimed = await this.claim(job, log);
      if (claimed !== undefined) return claimed;
    }
    const proof = await this.deps.prove(dir, job.input);
    const signals = proof.publicSignals.map(BigInt);
    const outputs = signals.slice(0, signals.length - job.inputSignals.length);
    const words = proof.proofWords.map((w) => BigInt(w));
    const local = verifyGroth16(readFileSync(join(dir, 'vk.bin')), signals, words);
    if (local.kind !== 'ok' || !local.valid || outputs.length !== req.outputCount) {
      log.error({ local, outputs: outputs.length, expected: req.outputCount }, 'our proof does not verify against the registered key; not sending it');
      return { done: 'failed' };
    }
    return this.fulfil(job, outputs, words, log);
  }

  private async modelDir(job: Job): Promise<string | undefined> {
    const vkHash = await this.deps.chain.modelKey(job.modelId);
    const manifest = job.manifest ?? (await this.deps.chain.modelManifest(job.modelId));
    if (vkHash === undefined || manifest === undefined) {
      this.deps.logger.warn({ modelId: job.modelId, registered: vkHash !== undefined }, 'model unusable or its package is not offered');
      return undefined;
    }
    return this.deps.models.ensure({ modelId: job.modelId, manifest, vkHash });
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
      if (err.errorName === 'AlreadyClaimed' || err.errorName === 'Reverted') return { retryInMs: this.options.retryMs };
      log.warn({ err: err.message }, 'fulfil refused');
      return { done: 'failed' };
    }
  }
}

function matches(job: Job, req: MarketRequest): boolean {
  return req.modelId.toLowerCase() === job.modelId.toLowerCase() && req.inputSignals.length === job.inputSignals.length && req.inputSignals.every((s, i) => s === job.inputSignals[i]);
}
