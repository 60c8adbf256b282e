/**
 * The node's peer-to-peer side: the libp2p service (key in DATADIR/p2p-key), the model
 * artifacts served by hash from the node's ArtifactStore, and proof jobs: announced from the
 * inference market, and checked against it before they are relayed (ai/job-relay.ts). Blocks
 * (gossip and ranges) are set up by node/assembly/replica.ts through `deps.blocks`.
 */
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { ArtifactStore } from '../ai/artifact-store.ts';
import { chainMarketReader, defaultJobAnnouncerOptions, JobAnnouncer } from '../ai/job-announcer.ts';
import { JobInputs } from '../ai/job-inputs.ts';
import { jobsHandler } from '../ai/job-relay.ts';
import type { CallExecutor } from '../chain/call.ts';
import type { Chain } from '../chain/chain.ts';
import type { NodeP2POptions } from './options.ts';
import { artifactStoreLookup, P2PService, p2pOptions, TopicKind } from '../p2p/index.ts';

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
  /** Block gossip and range sync (node/assembly/replica.ts), set up before the service starts and stopped before it. */
  blocks?: (service: P2PService) => Promise<{ stop(): Promise<void> }>;
}

/** Creates and starts the p2p service and the job announcer; `stop()` ends both. */
export async function startNodeP2P(o: { chainId: bigint; datadir: string; p2p: NodeP2POptions }, deps: NodeP2PDeps): Promise<NodeP2P> {
  const options = p2pOptions(o.chainId, { listen: o.p2p.listen, bootstrap: o.p2p.bootstrap, keyFile: join(o.datadir, 'p2p-key') });
  const service = await P2PService.create(options, { logger: deps.logger });
  const inputs = new JobInputs();
  const market = chainMarketReader(deps.chain, deps.calls);
  const announcer = new JobAnnouncer(
    { ...defaultJobAnnouncerOptions, chainId: o.chainId, reannounceMs: o.p2p.jobReannounceMs, repeatAfterMs: options.gossip.seenTtlMs },
    {
      chain: deps.chain,
      market,
      artifacts: deps.artifacts,
      inputs,
      transport: {
        publish: (data) => service.gossip.publish(TopicKind.Jobs, data),
        subscribers: () => service.gossip.topicPeers(TopicKind.Jobs).subscribers,
      },
      logger: deps.logger.child({ module: 'ai:jobs' }),
    },
  );
  service.gossip.subscribe(TopicKind.Jobs, jobsHandler(o.chainId, { market, announces: (id) => announcer.announces(id) }, options.gossip.seenTtlMs));
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
