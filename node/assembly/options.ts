import type { SequencerOptions } from '../../sequencer/options.ts';
import { defaultSequencerOptions } from '../../sequencer/options.ts';
import type { LogLevel } from '../logger.ts';
import type { Hex } from 'viem';
import type { RollupConfig } from '../rollup-config.ts';
import type { L1TransportOptions } from '../l1/l1-transport.ts';
import type { MetricsOptions } from '../metrics/options.ts';
import type { RpcOptions } from '../rpc/options.ts';
import { defaultRpcOptions } from '../rpc/options.ts';
import type { SyncOptions } from '../sync/options.ts';

/** What a node of either role needs to start; the CLI builds this from flags. */
interface BaseNodeOptions {
  /** Directory of the LevelDB; created when missing. */
  datadir: string;
  chainId: bigint;
  /** Path of a geth-style genesis file; without it, the dev genesis is used. */
  genesisFile?: string;
  /** Dev mode: the 10 mnemonic accounts are funded in genesis. */
  dev: boolean;
  logLevel: LogLevel;
  /** Directory of compiled models (`ai-rollup model compile --out`) whose artifacts this node serves; default <datadir>/models. */
  modelsDir?: string;
  rpc: RpcOptions;
  /** Block parameters (gas limit, base fee floor) both roles read; block time, coinbase and the pool are the sequencer's. */
  sequencer: SequencerOptions;
  /** Peer-to-peer: proof jobs gossiped to provers, model artifacts served by hash, blocks. Off when unset. */
  p2p?: NodeP2POptions;
  /** `/metrics` and `/health` thresholds and an optional separate listener; node/metrics/options.ts defaults when unset. */
  metrics?: MetricsOptions;
  /** Serve the block explorer at /explorer on the JSON-RPC port (default true). */
  explorer?: boolean;
}

/** The sequencer: orders transactions into blocks; with `rollup`, includes L1 deposits and posts to L1. */
export interface SequencerNodeOptions extends BaseNodeOptions {
  role: 'sequencer';
  /** Rollup mode: follow an L1, include its deposits, and post batches and outputs when keys are given. */
  rollup?: RollupNodeOptions;
  /**
   * The sequencer's block key: every block it commits is signed with it and gossiped on the
   * `blocks` topic (needs p2p). Its address is what replicas check: the rollup config's
   * `unsafeBlockSigner`, or a replica's `--sequencer-address` on a chain without one.
   */
  sequencerKey?: Hex;
  replica?: undefined;
}

/** A replica: no block production; blocks come from the sequencer over p2p (node/sync) and from L1 (node/derivation). */
export interface ReplicaNodeOptions extends BaseNodeOptions {
  role: 'replica';
  replica: ReplicaOptions;
  rollup?: undefined;
  sequencerKey?: undefined;
}

export type NodeOptions = SequencerNodeOptions | ReplicaNodeOptions;

/** A replica: follows the sequencer's signed blocks, re-executing each; serves JSON-RPC read-only. */
export interface ReplicaOptions {
  /** Address whose signature gossiped blocks must carry; unset: nothing can be followed by gossip (logged at start). */
  signer?: Hex;
  /** eth_sendRawTransaction (and `pending` nonces) are forwarded here; unset: eth_sendRawTransaction answers -32000. */
  sequencerRpc?: string;
  /** The rollup followed: rollup_ methods; with `l1Rpc` the chain is also derived from L1 (node/derivation), which sets safe/finalized. */
  rollup?: {
    config: RollupConfig;
    l1Rpc?: string;
    l1PollMs: number;
    /** The Rollup's challenger key (needs l1Rpc): wrong outputs the replica finds are deleted on L1. */
    challengerKey?: Hex;
    /** Fallback endpoints, timeout, retries and rate bound of every L1 client (defaultL1TransportOptions). */
    l1Transport?: Partial<L1TransportOptions>;
  };
  sync: SyncOptions;
}

/** The node's p2p settings; the key lives in DATADIR/p2p-key, the rest uses node/p2p's defaults. */
export interface NodeP2POptions {
  /** Multiaddrs to listen on; `/tcp/0` picks a free port (the `node started` log line has the result). */
  listen: string[];
  /** Peers dialled at start and re-dialled when they drop, each ending in `/p2p/<peer id>`. */
  bootstrap: string[];
  /** Milliseconds between passes over the open jobs that are due to be announced (again). */
  jobReannounceMs: number;
}

/** Where `devnet` listens by default (a fixed port, as geth's 30303 and op-node's 9222). */
export const DEFAULT_P2P_LISTEN = '/ip4/127.0.0.1/tcp/9222';

export const defaultNodeP2POptions: NodeP2POptions = {
  listen: [DEFAULT_P2P_LISTEN],
  bootstrap: [],
  jobReannounceMs: 10_000,
};

export interface RollupNodeOptions {
  config: RollupConfig;
  l1Rpc: string;
  /** Posts batches to the Rollup contract when set. */
  batcherKey?: Hex;
  /** Posts output roots when set. */
  proposerKey?: Hex;
  /** Posts each batch's inference proofs to the InferenceOracle when set (and the config names one). */
  inferencePosterKey?: Hex;
  /** Milliseconds between L1 polls. */
  l1PollMs: number;
  /** Fallback endpoints, timeout, retries and rate bound of every L1 client (defaultL1TransportOptions). */
  l1Transport?: Partial<L1TransportOptions>;
  /** Post a batch once its oldest block is this old (ms), even if not full. */
  batchMaxAgeMs: number;
  /** L1 blocks on top of a block's L1 origin before the batcher posts the block (sequencer/batcher.ts originDepth). */
  batchOriginDepth?: number;
}

export const DEFAULT_CHAIN_ID = 1337n;

export const defaultNodeOptions: SequencerNodeOptions = {
  role: 'sequencer',
  datadir: './data',
  chainId: DEFAULT_CHAIN_ID,
  dev: false,
  logLevel: 'info',
  rpc: defaultRpcOptions,
  sequencer: defaultSequencerOptions,
};
