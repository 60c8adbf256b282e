/**
 * The node's validator of the jobs gossip topic: a job from a peer is relayed only once it is
 * checked against the market as this node's head state has it (node/ai/jobs/job-check.ts).
 * Malformed jobs, jobs of another chain, and jobs that contradict their request are rejected,
 * which costs the sender score; jobs for requests this node does not have (yet) are ignored:
 * neither relayed nor penalised. A job with a future request id therefore reaches no prover
 * through this node, and a fake copy of a real request's job is rejected on sight.
 *
 * Copies are ignored too: of a job this node announces itself, and of one relayed in the last
 * `rememberMs` with the same manifest. The key includes the manifest (the one field the chain
 * cannot check), so a copy with a bogus manifest relayed first cannot keep the real one from
 * being relayed; at most MANIFESTS_PER_JOB variants of one job go out per window.
 */
import type { JobMessage } from './jobs/job-message.ts';
import { decodeJob, JobMessageError } from './jobs/job-message.ts';
import { checkJob, nowSeconds } from './jobs/job-check.ts';
import { GossipAction, GossipValidationError } from '../p2p/gossip.ts';
import type { TopicHandler } from '../p2p/gossip.ts';
import type { MarketReader } from './job-announcer.ts';

/** Manifest variants of one request relayed per window. */
export const MANIFESTS_PER_JOB = 3;

export interface JobRelayDeps {
  market: MarketReader;
  /** Whether this node announces the request itself (JobAnnouncer.announces). */
  announces(id: bigint): boolean;
}

export function jobsHandler(chainId: bigint, deps: JobRelayDeps, rememberMs: number): TopicHandler<JobMessage> {
  const relayed = new RecentIds(10_000, rememberMs);
  return {
    decode(bytes) {
      try {
        return decodeJob(bytes, chainId);
      } catch (err) {
        if (err instanceof JobMessageError) throw new GossipValidationError(GossipAction.Reject, err.code, err.message);
        throw err;
      }
    },
    async handle(job) {
      const id = BigInt(job.requestId);
      const req = await deps.market.request(id);
      const verdict = checkJob(job, req === undefined ? undefined : { ...req, open: req.status === 'open' }, nowSeconds());
      if (!verdict.ok) throw new GossipValidationError(verdict.action === 'reject' ? GossipAction.Reject : GossipAction.Ignore, verdict.code, verdict.message);
      if (deps.announces(id)) throw new GossipValidationError(GossipAction.Ignore, 'OWN_JOB');
      if (relayed.count(job.requestId) >= MANIFESTS_PER_JOB || !relayed.add(`${job.requestId}/${job.manifest ?? ''}`, job.requestId)) {
        throw new GossipValidationError(GossipAction.Ignore, 'DUPLICATE');
      }
    },
  };
}

/** Keys seen within the last `ttlMs`, at most `max` of them (the oldest go first), counted per group. */
class RecentIds {
  private readonly seen = new Map<string, { at: number; group: string }>();
  private readonly groups = new Map<string, number>();

  constructor(
    private readonly max: number,
    private readonly ttlMs: number,
  ) {}

  /** Live keys of the group. */
  count(group: string): number {
    this.expire(Date.now());
    return this.groups.get(group) ?? 0;
  }

  /** false when the key was seen within the TTL. */
  add(key: string, group: string): boolean {
    const now = Date.now();
    this.expire(now);
    if (this.seen.has(key)) return false;
    this.seen.set(key, { at: now, group });
    this.groups.set(group, (this.groups.get(group) ?? 0) + 1);
    if (this.seen.size > this.max) this.remove(this.seen.keys().next().value!);
    return true;
  }

  private expire(now: number): void {
    for (const [key, { at }] of this.seen) {
      if (now - at < this.ttlMs) return;
      this.remove(key);
    }
  }

  private remove(key: string): void {
    const entry = this.seen.get(key);
    if (entry === undefined) return;
    this.seen.delete(key);
    const left = (this.groups.get(entry.group) ?? 1) - 1;
    if (left === 0) this.groups.delete(entry.group);
    else this.groups.set(entry.group, left);
  }
}
