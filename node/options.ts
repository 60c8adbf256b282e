import type { SequencerOptions } from '../sequencer/options.ts';
import { defaultSequencerOptions } from '../sequencer/options.ts';
import type { LogLevel } from './logger.ts';
import type { Hex } from 'viem';
import type { RollupConfig } from './rollup-config.ts';
import type { RpcOptions } from './rpc/options.ts';
import { defaultRpcOptions } from './rpc/options.ts';

/** Everything a node needs to start; the CLI builds this from flags. */
export interface NodeOptions {
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
  sequencer: SequencerOptions;
  /** Rollup mode: follow an L1, include its deposits, and post batches and outputs when keys are given. */
  rollup?: RollupNodeOptions;
  /** Peer-to-peer: proof jobs gossiped to provers, model artifacts served by hash. Off when unset. */
  p2p?: NodeP2POptions;
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
  /** Post a batch once its oldest block is this old (ms), even if not full. */
  batchMaxAgeMs: number;
}

export const DEFAULT_CHAIN_ID = 1337n;

export const defaultNodeOptions: NodeOptions = {
  datadir: './data',
  chainId: DEFAULT_CHAIN_ID,
  dev: false,
  logLevel: 'info',
  rpc: defaultRpcOptions,
  sequencer: defaultSequencerOptions,
};
