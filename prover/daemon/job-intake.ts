/**
 * Where the prover's jobs come in: gossip and its own chain scan. A job from gossip is checked
 * against its request on chain (node/ai/jobs/job-check.ts, read over the prover's RPC) before it
 * is queued or relayed: a contradiction rejects it (its sender is scored down), a request that is
 * closed or expired ignores it, and one the chain does not have yet ignores it too: a job with a
 * future request id is worked on by nobody and relayed by nobody, so it cannot sit in the queue
 * in the real job's place.
 *
 * A private-input job is the one thing the chain scan cannot replace (the chain holds only the
 * input's hash), and its announcement can reach us before our RPC node has the request (or
 * before we re-read the request count). So such a message is held, bounded (at most one per
 * request per peer, maxHeldPerPeer per peer, maxHeld in all, for heldTtlMs) until the scan reads
 * the request, or a later scan pass (`recheck`) finds it on chain: then a held input that hashes
 * to the request's commitment is queued with the request's own fields, and the rest are dropped.
 * Fakes held meanwhile cannot hide the real input, which is held beside them, not instead.
 *
 * Ids above the market's request count need no RPC call: the count is re-read at most every
 * countRefreshMs, so a flood of future ids costs a comparison each.
 */
import type { Hex } from 'viem';
import type { Logger } from 'pino';
import { GossipAction, GossipValidationError } from '../../node/p2p/gossip.ts';
import type { GossipMeta, TopicHandler } from '../../node/p2p/gossip.ts';
import { checkJob, nowSeconds } from '../../node/ai/jobs/job-check.ts';
import { decodeJob, jobInput } from '../../node/ai/jobs/job-message.ts';
import type { JobMessage } from '../../node/ai/jobs/job-message.ts';
import type { OfferResult } from './job-queue.ts';
import type { Job } from './job-queue.ts';
import { RequestStatus } from '../../contracts/abi/market.ts';
import type { MarketRequest } from './prover-chain.ts';

export interface IntakeOptions {
  maxHeld: number;
  maxHeldPerPeer: number;
  heldTtlMs: number;
  countRefreshMs: number;
}

export const defaultIntakeOptions: IntakeOptions = { maxHeld: 1_024, maxHeldPerPeer: 32, heldTtlMs: 300_000, countRefreshMs: 500 };

export interface IntakeDeps {
  chain: { findRequest(id: bigint): Promise<MarketRequest | undefined>; requestCount(): Promise<bigint> };
  runner: { offer(job: Job): OfferResult };
  logger: Logger;
}

/** A request log as the chain scan reads it. */
export interface RequestLog {
  id?: bigint;
  modelId?: Hex;
  inputSignals?: readonly bigint[];
}

interface Held {
  id: bigint;
  peer: string;
  msg: JobMessage;
  at: number;
}

export class JobIntake {
  /** By `${id}/${peer}`, oldest first. */
  private readonly held = new Map<string, Held>();
  private readonly byId = new Map<bigint, Set<string>>();
  private readonly perPeer = new Map<string, number>();
  private knownCount = 0n;
  private countReadAt = Number.NEGATIVE_INFINITY;
  /** Most messages held at once so far. */
  heldPeak = 0;

  constructor(
    private readonly options: IntakeOptions,
    private readonly deps: IntakeDeps,
  ) {}

  get heldCount(): number {
    return this.held.size;
  }

  /** The jobs topic handler: decodeJob, then the chain check; only accepted jobs are relayed. */
  handler(chainId: bigint): TopicHandler<JobMessage> {
    return { decode: (bytes) => decodeJob(bytes, chainId), handle: (msg, meta) => this.fromGossip(msg, meta) };
  }

  async fromGossip(msg: JobMessage, meta: Pick<GossipMeta, 'from'>): Promise<GossipAction> {
    const id = BigInt(msg.requestId);
    const req = await this.request(id);
    if (req === undefined) this.hold(msg, meta.from);
    const verdict = checkJob(msg, req === undefined ? undefined : { ...req, open: req.status === RequestStatus.Open }, nowSeconds());
    if (!verdict.ok) throw new GossipValidationError(verdict.action === 'reject' ? GossipAction.Reject : GossipAction.Ignore, verdict.code, verdict.message);
    this.release(id);
    const result = this.deps.runner.offer({ requestId: id, modelId: req!.modelId, inputSignals: req!.inputSignals, input: jobInput(msg), manifest: msg.manifest });
    if (result === 'full') throw new GossipValidationError(GossipAction.Ignore, 'QUEUE_FULL');
    return GossipAction.Accept;
  }

  /** A request the chain scan read: queued with its public input, or with a held private one. */
  fromChain(log: RequestLog): void {
    if (log.id === undefined || log.modelId === undefined || log.inputSignals === undefined) return;
    const base = { requestId: log.id, modelId: log.modelId, inputSignals: log.inputSignals };
    const signals = log.inputSignals.map(String);
    const keys = [...(this.byId.get(log.id) ?? [])];
    const candidates = keys.map((k) => this.held.get(k)!).filter((h) => h.msg.modelId.toLowerCase() === log.modelId!.toLowerCase());
    this.release(log.id);
    for (const h of [{ input: undefined, manifest: undefined }, ...candidates.map((c) => c.msg)]) {
      let input: number[];
      try {
        input = jobInput({ inputSignals: signals, input: h.input });
      } catch {
        continue; // a private-input request without its input, or a held input that is not the one
      }
      this.deps.runner.offer({ ...base, input, manifest: h.manifest });
      return;
    }
  }

  /**
   * After a scan pass: held messages whose request is now on chain (the scan may have read its log
   * before the message came) are matched against it, as the scan would have.
   */
  async recheck(): Promise<void> {
    if (this.held.size === 0) return;
    await this.readCount();
    for (const id of [...this.byId.keys()]) {
      if (id > this.knownCount) continue;
      const req = await this.deps.chain.findRequest(id);
      if (req !== undefined) this.fromChain({ id, modelId: req.modelId, inputSignals: req.inputSignals });
    }
  }

  private async readCount(): Promise<void> {
    this.countReadAt = Date.now();
    this.knownCount = await this.deps.chain.requestCount();
  }

  /** The request, or undefined when the market has none with this id on our RPC node. */
  private async request(id: bigint): Promise<MarketRequest | undefined> {
    if (id > this.knownCount && Date.now() - this.countReadAt >= this.options.countRefreshMs) await this.readCount();
    if (id === 0n || id > this.knownCount) return undefined;
    return this.deps.chain.findRequest(id);
  }

  /** Keeps a private-input message for a request we cannot see yet, within the bounds. */
  private hold(msg: JobMessage, peer: string): void {
    if (msg.input === undefined) return; // a public input: the chain scan brings the job
    const now = Date.now();
    for (const [key, h] of this.held) {
      if (now - h.at < this.options.heldTtlMs) break;
      this.drop(key, h);
    }
    const key = `${msg.requestId}/${peer}`;
    const previous = this.held.get(key);
    if (previous !== undefined) this.drop(key, previous); // a peer's newer message for the id replaces its older one
    if (this.held.size >= this.options.maxHeld || (this.perPeer.get(peer) ?? 0) >= this.options.maxHeldPerPeer) return;
    const id = BigInt(msg.requestId);
    this.held.set(key, { id, peer, msg, at: now });
    this.byId.set(id, (this.byId.get(id) ?? new Set()).add(key));
    this.perPeer.set(peer, (this.perPeer.get(peer) ?? 0) + 1);
    this.heldPeak = Math.max(this.heldPeak, this.held.size);
  }

  /** Forgets every message held for the request. */
  private release(id: bigint): void {
    for (const key of [...(this.byId.get(id) ?? [])]) this.drop(key, this.held.get(key)!);
  }

  private drop(key: string, h: Held): void {
    this.held.delete(key);
    const keys = this.byId.get(h.id);
    keys?.delete(key);
    if (keys?.size === 0) this.byId.delete(h.id);
    const left = (this.perPeer.get(h.peer) ?? 1) - 1;
    if (left === 0) this.perPeer.delete(h.peer);
    else this.perPeer.set(h.peer, left);
  }
}
