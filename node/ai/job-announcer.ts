/**
 * Announces the inference market's open requests as proof jobs (node/ai/jobs/job-message.ts), so
 * provers learn of work without polling the chain: each block's InferenceRequested logs at once,
 * and the requests still open again later, for provers that joined late or restarted.
 *
 * A private-input request names only the Poseidon hash of its input; its job goes out once the
 * requester has handed the node the input (`submitInput`, i.e. `ai_submitJobInput`). Before that
 * no prover could use it, and every peer would reject it (job messages must carry their input).
 */
import { bytesToHex, createAddressFromString, equalsBytes } from '@ethereumjs/util';
import type { Logger } from 'pino';
import { decodeEventLog, getAbiItem, toEventSelector } from 'viem';
import type { AbiEvent, Hex } from 'viem';
import { INFERENCE_MARKET_ADDRESS, loadArtifact } from '../../contracts/predeploys.ts';
import { encodeJob, JOB_MESSAGE_VERSION, jobInput, JobMessageError } from './jobs/job-message.ts';
import type { JobMessage } from './jobs/job-message.ts';
import { ExecutionError } from '../chain/call.ts';
import { readContractAt } from '../chain/contract-read.ts';
import type { CallExecutor } from '../chain/call.ts';
import type { Chain, NewBlockEvent } from '../chain/chain.ts';
import type { ArtifactStore } from './artifact-store.ts';
import { JobInputError, JobInputs } from './job-inputs.ts';

const marketAbi = loadArtifact('InferenceMarket').abi;
const MARKET = createAddressFromString(INFERENCE_MARKET_ADDRESS).bytes;
const selector = (name: string): string => toEventSelector(getAbiItem({ abi: marketAbi, name }) as AbiEvent);
const REQUESTED = selector('InferenceRequested');
/** Either ends a request: nobody can fulfil it any more. */
const FULFILLED = selector('InferenceFulfilled');
const CLOSED = new Set([FULFILLED, selector('Refunded')]);
/** IInferenceMarket.Status, by its uint8 value. */
const STATUS = ['none', 'open', 'fulfilled', 'refunded'] as const;

export interface MarketRequest {
  id: bigint;
  modelId: Hex;
  status: (typeof STATUS)[number];
  /** Unix seconds; fulfillable up to and including it. */
  deadline: bigint;
  fee: bigint;
  outputCount: number;
  inputSignals: readonly bigint[];
}

/** The market as the node's head state has it. */
export interface MarketReader {
  /** undefined when there is no such request. */
  request(id: bigint): Promise<MarketRequest | undefined>;
  requestCount(): Promise<bigint>;
}

/** Reads the market predeploy with eth_call semantics at the head (nothing is written). */
export function chainMarketReader(chain: Pick<Chain, 'head'>, calls: Pick<CallExecutor, 'call'>): MarketReader {
  const to = createAddressFromString(INFERENCE_MARKET_ADDRESS);
  const read = (functionName: string, args: unknown[]): Promise<unknown> => readContractAt(calls, chain.head, to, marketAbi, functionName, args);
  return {
    async request(id) {
      let r: { modelId: Hex; status: number; deadline: bigint; fee: bigint; outputCount: number; inputSignals: readonly bigint[] };
      try {
        r = (await read('getRequest', [id])) as typeof r;
      } catch (err) {
        if (err instanceof ExecutionError && err.reverted) return undefined; // UnknownRequest
        throw err;
      }
      return { id, modelId: r.modelId, status: STATUS[r.status] ?? 'none', deadline: r.deadline, fee: r.fee, outputCount: r.outputCount, inputSignals: r.inputSignals };
    },
    async requestCount() {
      return (await read('requestCount', [])) as bigint;
    },
  };
}

export interface JobAnnouncerOptions {
  chainId: bigint;
  /** Milliseconds between passes over the open jobs (announce the due ones, forget the closed). */
  reannounceMs: number;
  /**
   * Milliseconds before a job that reached peers is published again: gossipsub's seen-cache TTL.
   * Inside it every peer that saw the message, and our own router, drops a byte-identical copy.
   */
  repeatAfterMs: number;
  /** Most open jobs tracked; past it the oldest is forgotten. */
  maxJobs: number;
  /** Request ids read back from the market at start, so open jobs survive a node restart. */
  backfill: number;
  /** Most jobs checked on chain and published per pass, so one pass stays short. */
  maxPerPass: number;
}

export const defaultJobAnnouncerOptions: Omit<JobAnnouncerOptions, 'chainId'> = {
  reannounceMs: 10_000,
  repeatAfterMs: 120_000,
  maxJobs: 10_000,
  backfill: 1_000,
  maxPerPass: 256,
};

export interface JobTransport {
  /** Resolves to the number of peers the message went to. */
  publish(data: Uint8Array): Promise<number>;
  /** Peers on the jobs topic. With none, publishing would only mark the message as seen. */
  subscribers(): number;
}

export interface JobAnnouncerDeps {
  chain: Pick<Chain, 'onBlock'>;
  market: MarketReader;
  artifacts: Pick<ArtifactStore, 'model'>;
  transport: JobTransport;
  inputs?: JobInputs;
  logger: Logger;
}

interface TrackedJob extends Omit<MarketRequest, 'status'> {
  /** When it last reached the topic's peers (ms); undefined: not yet. */
  announcedAt?: number;
}

const nowSeconds = (): bigint => BigInt(Math.floor(Date.now() / 1000));

export class JobAnnouncer {
  private readonly jobs = new Map<bigint, TrackedJob>();
  private readonly inputs: JobInputs;
  private readonly inflight = new Set<Promise<unknown>>();
  private timer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;
  private passing = false;
  private stopped = false;

  constructor(
    private readonly opts: JobAnnouncerOptions,
    private readonly deps: JobAnnouncerDeps,
  ) {
    this.inputs = deps.inputs ?? new JobInputs();
  }

  start(): void {
    if (this.unsubscribe !== undefined || this.stopped) return;
    this.unsubscribe = this.deps.chain.onBlock((ev) => this.onBlock(ev));
    this.timer = setInterval(() => this.run(this.pass()), this.opts.reannounceMs);
    this.run(this.backfill());
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    this.unsubscribe?.();
    await Promise.allSettled([...this.inflight]);
  }

  /**
   * Whether this node announces the request itself, so copies from peers need no relaying: it
   * tracks the request and can make its message (a private-input one only once it holds the
   * input; until then a peer's job carrying the input is worth relaying).
   */
  announces(id: bigint): boolean {
    const job = this.jobs.get(id);
    // what message() needs, without hashing the input again: it was checked when it was handed in
    return job !== undefined && (this.inputs.get(id) !== undefined || job.inputSignals.every((s) => s <= 255n));
  }

  get openJobs(): number {
    return this.jobs.size;
  }

  /**
   * Keeps the input of an open request and announces its job with it; resolves to the number of
   * peers it went to now (0: it goes out on a later pass). Throws JobInputError.
   */
  async submitInput(id: bigint, input: readonly number[]): Promise<number> {
    const req = await this.deps.market.request(id);
    if (req === undefined) throw new JobInputError('UNKNOWN_REQUEST', `unknown request ${id}`);
    if (req.status !== 'open') throw new JobInputError('NOT_OPEN', `request ${id} is ${req.status}`);
    if (req.deadline < nowSeconds()) throw new JobInputError('EXPIRED', `request ${id} expired at ${req.deadline}`);
    try {
      jobInput({ inputSignals: req.inputSignals.map(String), input: [...input] });
    } catch (err) {
      if (err instanceof JobMessageError) throw new JobInputError('INPUT_MISMATCH', `input does not match request ${id}: ${err.message}`);
      throw err;
    }
    if (!this.inputs.put(id, input)) throw new JobInputError('FULL', 'too many job inputs held; try again once some requests have closed');
    return this.announce(this.track(req));
  }

  private onBlock(ev: NewBlockEvent): void {
    const fresh: TrackedJob[] = [];
    for (const receipt of ev.receipts) {
      for (const [address, topics, data] of receipt.logs) {
        if (!equalsBytes(address, MARKET) || topics.length < 2) continue;
        const sig = bytesToHex(topics[0]!);
        if (sig === REQUESTED) fresh.push(this.track(decodeRequested(topics, data)));
        else if (CLOSED.has(sig)) this.drop(BigInt(bytesToHex(topics[1]!)), sig === FULFILLED);
      }
    }
    for (const job of fresh) this.run(this.announce(job));
  }

  private async backfill(): Promise<void> {
    const count = await this.deps.market.requestCount();
    const now = nowSeconds();
    for (let id = count; id >= 1n && id > count - BigInt(this.opts.backfill) && !this.stopped; id--) {
      const req = await this.deps.market.request(id);
      if (req?.status === 'open' && req.deadline >= now) this.track(req);
    }
    if (this.jobs.size > 0) this.deps.logger.info({ open: this.jobs.size }, 'open inference requests found; announcing them');
    await this.pass();
  }

  /** Forgets closed and expired jobs and publishes the due ones. */
  private async pass(): Promise<void> {
    if (this.passing) return;
    this.passing = true;
    try {
      const now = Date.now();
      const sec = nowSeconds();
      let checked = 0;
      for (const job of [...this.jobs.values()]) {
        if (this.stopped) return;
        if (job.deadline < sec) {
          this.drop(job.id);
          continue;
        }
        const due = job.announcedAt === undefined || now - job.announcedAt >= this.opts.repeatAfterMs;
        if (!due || this.message(job, undefined) === undefined || this.deps.transport.subscribers() === 0) continue;
        if (checked++ >= this.opts.maxPerPass) return;
        // block logs close jobs as they happen; reading the state before each repeat keeps a job
        // whose closing log we missed (a listener that failed) from being announced for ever
        const req = await this.deps.market.request(job.id);
        if (req?.status !== 'open') this.drop(job.id, req?.status === 'fulfilled');
        else await this.announce(job);
      }
    } finally {
      this.passing = false;
    }
  }

  private async announce(job: TrackedJob): Promise<number> {
    if (this.stopped || !this.jobs.has(job.id) || this.deps.transport.subscribers() === 0) return 0;
    const manifest = (await this.deps.artifacts.model(job.modelId))?.manifestEntry.sha256;
    const msg = this.message(job, manifest);
    if (msg === undefined) return 0;
    const peers = await this.deps.transport.publish(encodeJob(msg));
    job.announcedAt = Date.now();
    this.deps.logger.debug({ requestId: job.id.toString(), modelId: job.modelId, peers, manifest }, 'announced proof job');
    return peers;
  }

  /** The job message, or undefined while a private-input job still lacks its input. */
  private message(job: TrackedJob, manifest: string | undefined): JobMessage | undefined {
    const input = this.inputs.get(job.id);
    const msg: JobMessage = {
      v: JOB_MESSAGE_VERSION,
      chainId: this.opts.chainId.toString(),
      requestId: job.id.toString(),
      modelId: job.modelId,
      inputSignals: job.inputSignals.map(String),
      ...(input === undefined ? {} : { input }),
      fee: job.fee.toString(),
      deadline: Number(job.deadline),
      outputCount: job.outputCount,
      ...(manifest === undefined ? {} : { manifest }),
    };
    try {
      jobInput(msg);
      return msg;
    } catch {
      return undefined;
    }
  }

  private track(req: Omit<MarketRequest, 'status'>): TrackedJob {
    const known = this.jobs.get(req.id);
    if (known !== undefined) return known;
    const job: TrackedJob = { id: req.id, modelId: req.modelId, deadline: req.deadline, fee: req.fee, outputCount: req.outputCount, inputSignals: req.inputSignals };
    this.jobs.set(req.id, job);
    if (this.jobs.size > this.opts.maxJobs) {
      const oldest = this.jobs.keys().next().value!;
      this.deps.logger.warn({ requestId: oldest.toString(), max: this.opts.maxJobs }, 'too many open jobs; no longer announcing the oldest');
      this.drop(oldest);
    }
    return job;
  }

  /** `fulfilled`: the inference poster may still prove it again with others (JobInputs.close). */
  private drop(id: bigint, fulfilled = false): void {
    this.jobs.delete(id);
    if (fulfilled) this.inputs.close(id);
    else this.inputs.delete(id);
  }

  /** Runs background work; a failure is logged (the next block or pass tries again). */
  private run(p: Promise<unknown>): void {
    const tracked = p.catch((err: unknown) => {
      if (!this.stopped) this.deps.logger.warn({ err }, 'job announcement failed');
    });
    this.inflight.add(tracked);
    void tracked.finally(() => this.inflight.delete(tracked));
  }
}

function decodeRequested(topics: Uint8Array[], data: Uint8Array): Omit<MarketRequest, 'status'> {
  const { args } = decodeEventLog({
    abi: marketAbi,
    eventName: 'InferenceRequested',
    topics: topics.map((t) => bytesToHex(t) as Hex) as [Hex, ...Hex[]],
    data: bytesToHex(data) as Hex,
  }) as unknown as { args: { id: bigint; modelId: Hex; fee: bigint; deadline: bigint; outputCount: number; inputSignals: readonly bigint[] } };
  return { id: args.id, modelId: args.modelId, deadline: args.deadline, fee: args.fee, outputCount: args.outputCount, inputSignals: args.inputSignals };
}
