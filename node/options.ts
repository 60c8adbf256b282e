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
}

export interface RollupNodeOptions {
  config: RollupConfig;
  l1Rpc: string;
  /** Posts batches to the Rollup contract when set. */
  batcherKey?: Hex;
  /** Posts output roots when set. */
  proposerKey?: Hex;
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
