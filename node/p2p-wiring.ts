/**
 * The node's peer-to-peer side: the libp2p service (key in DATADIR/p2p-key), the model
 * artifacts served by hash from the node's ArtifactStore, and proof jobs: announced from the
 * inference market, and validated before they are relayed. Blocks (gossip and ranges) are set
 * up by node/replica-wiring.ts through `deps.blocks`.
 */
import { join } from 'node:path';
import type { Logger } from 'pino';
import { decodeJob, JobMessageError } from '../prover/jobs/job-message.ts';
import type { JobMessage } from '../prover/jobs/job-message.ts';
import type { ArtifactStore } from './ai/artifact-store.ts';
import { chainMarketReader, defaultJobAnnouncerOptions, JobAnnouncer } from './ai/job-announcer.ts';
import { JobInputs } from './ai/job-inputs.ts';
import type { CallExecutor } from './chain/call.ts';
import type { Chain } from './chain/chain.ts';
import type { NodeP2POptions } from './options.ts';
import { artifactStoreLookup, GossipAction, GossipValidationError, P2PService, p2pOptions, TopicKind } from './p2p/index.ts';
import type { TopicHandler } from './p2p/index.ts';

export interface NodeP2P {
  service: P2PService;
  announcer: JobAnnouncer;
  /** Private inputs handed in with ai_submitJobInput; the inference poster reads fulfilled ones. */
  inputs: JobInputs;
  /** Full multiaddrs (`.../p2p/<peer id>`) others can dial. */
  addrs: string[];
  stop(): Promise<void>;
}

export interface NodeP2PDeps {
  chain: Chain;
  calls: CallExecutor;
  artifacts: ArtifactStore;
  /** The node's logger; the services name their children (`p2p*`, `ai:jobs`). */
  logger: Logger;
  /** Block gossip and range sync (node/replica-wiring.ts), set up before the service starts and stopped before it. */
  blocks?: (service: P2PService) => Promise<{ stop(): Promise<void> }>;
}

/** Creates and starts the p2p service and the job announcer; `stop()` ends both. */
export async function startNodeP2P(o: { chainId: bigint; datadir: string; p2p: NodeP2POptions }, deps: NodeP2PDeps): Promise<NodeP2P> {
  const options = p2pOptions(o.chainId, { listen: o.p2p.listen, bootstrap: o.p2p.bootstrap, keyFile: join(o.datadir, 'p2p-key') });
  const service = await P2PService.create(options, { logger: deps.logger });
  const inputs = new JobInputs();
  const announcer = new JobAnnouncer(
    { ...defaultJobAnnouncerOptions, chainId: o.chainId, reannounceMs: o.p2p.jobReannounceMs, repeatAfterMs: options.gossip.seenTtlMs },
    {
      chain: deps.chain,
      market: chainMarketReader(deps.chain, deps.calls),
      artifacts: deps.artifacts,
      inputs,
      transport: {
        publish: (data) => service.gossip.publish(TopicKind.Jobs, data),
        subscribers: () => service.gossip.topicPeers(TopicKind.Jobs).subscribers,
      },
      logger: deps.logger.child({ module: 'ai:jobs' }),
    },
  );
  service.gossip.subscribe(TopicKind.Jobs, jobsHandler(o.chainId, announcer, options.gossip.seenTtlMs));
  await service.artifacts.serve(artifactStoreLookup(deps.artifacts));
  let blocks: { stop(): Promise<void> } | undefined;
  try {
    blocks = await deps.blocks?.(service);
    await service.start();
  } catch (err) {
    await blocks?.stop();
    await service.stop();
    throw err;
  }
  announcer.start();
  return {
    service,
    announcer,
    inputs,
    addrs: service.listenAddrs,
    async stop() {
      await blocks?.stop();
      await announcer.stop();
      await service.stop();
    },
  };
}

/**
 * Jobs from peers: relayed only when decodeJob accepts them (the input matches the request's
 * signals, the chain is ours), so junk costs its sender score. Copies of a job this node
 * announces itself, or relayed already, are ignored: relaying them again only doubles traffic.
 */
function jobsHandler(chainId: bigint, announcer: JobAnnouncer, rememberMs: number): TopicHandler<JobMessage> {
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
    handle(job) {
      if (announcer.announces(BigInt(job.requestId))) throw new GossipValidationError(GossipAction.Ignore, 'OWN_JOB');
      if (!relayed.add(job.requestId)) throw new GossipValidationError(GossipAction.Ignore, 'DUPLICATE');
    },
  };
}

/** Ids seen within the last `ttlMs`, at most `max` of them (the oldest go first). */
class RecentIds {
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly max: number,
    private readonly ttlMs: number,
  ) {}

  /** false when the id was seen within the TTL. */
  add(id: string): boolean {
    const now = Date.now();
    const at = this.seen.get(id);
    if (at !== undefined && now - at < this.ttlMs) return false;
    this.seen.delete(id);
    this.seen.set(id, now);
    if (this.seen.size > this.max) this.seen.delete(this.seen.keys().next().value!);
    return true;
  }
}
