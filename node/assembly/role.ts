/**
 * What a role adds to the node both roles share (node/assembly/node.ts): the sequencer orders
 * transactions and posts to L1 (node/assembly/sequencer.ts); a replica follows the sequencer's
 * blocks and derives the chain from L1 (node/assembly/replica.ts). The shared node serves
 * JSON-RPC over whatever the role hands back here.
 */
import type { SealSource } from '../metrics/producer-metrics.ts';
import type { ReorgSource } from '../metrics/reorg-metrics.ts';
import type { L1RpcCounts } from '../l1/l1-rpc-stats.ts';
import type { Logger } from 'pino';
import type { BlockProducer } from '../../sequencer/block-producer.ts';
import type { ArtifactStore } from '../ai/artifact-store.ts';
import type { CallExecutor } from '../chain/call.ts';
import type { Chain } from '../chain/chain.ts';
import type { KV } from '../db/kv.ts';
import type { Challenger } from '../derivation/challenger.ts';
import type { DerivationSource } from '../metrics/derivation-metrics.ts';
import type { SerialImporter } from '../derivation/index.ts';
import type { RollupContext } from '../rpc/backend.ts';
import type { MethodDef } from '../rpc/method.ts';
import type { SyncProgress } from '../sync/progress.ts';
import type { TxPoolView } from '../txpool/view.ts';
import type { NodeP2P } from './p2p.ts';
import type { L1Parts } from './sequencer-l1.ts';

export interface Stoppable {
  stop(): Promise<void>;
}

/** Built by the shared node before the role: storage, chain, calls, artifacts, p2p. */
export interface SharedParts {
  kv: KV;
  chain: Chain;
  calls: CallExecutor;
  artifacts: ArtifactStore;
  p2p: NodeP2P | undefined;
  logger: Logger;
  /** Where a failed block write is reported (the producer's, or a replica's importer). */
  fatal(err: Error): void;
  /** A replica's block writer (gossip and derivation), made before p2p starts. */
  importer?: SerialImporter;
  /** A replica's eth_syncing. */
  progress?: SyncProgress;
}

export interface RoleServices {
  /** eth_sendRawTransaction's pool: the sequencer's mempool, or a replica's empty view. */
  pool: TxPoolView;
  /** The JSON-RPC method table (a replica forwards transactions to the sequencer). */
  methods: Record<string, MethodDef>;
  /** rollup_ methods, when the node knows its L1. */
  rollup?: RollupContext;
  /** The sequencer's block producer (benchmarks and tools seal blocks with it). */
  producer?: BlockProducer;
  /** What metrics read of the role: the sequencer's L1 side, a replica's challenger and derivation. */
  metrics: { l1?: L1Parts; challenger?: Challenger; derivation?: DerivationSource; producer?: SealSource; reorgs?: ReorgSource; l1Rpc?: { stats: L1RpcCounts } };
  /** Starts what waits for JSON-RPC to serve (block production, the inference poster). */
  run(): void;
  /** Stopped first, in this order (block production first, so the last block is fully written). */
  services: Stoppable[];
}
