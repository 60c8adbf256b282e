/**
 * L2 predeploys: contracts whose code is in every genesis at a fixed address. Their runtime
 * code is committed (contracts/artifacts/*.json, written by `npm run contracts:build`) rather
 * than compiled at start-up, so every node of a chain gets byte-identical genesis state without
 * running solc; a test recompiles and compares.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Abi, Address, Hex } from 'viem';

export const MODEL_REGISTRY_ADDRESS: Address = '0x4200000000000000000000000000000000000A00';
/** L1 block info (IL1Block), written by the first transaction of every L2 block. */
export const L1_BLOCK_ADDRESS: Address = '0x4200000000000000000000000000000000000015';
/** Withdrawals out of L2 (IL2ToL1MessagePasser); the L1 Bridge proves its storage. */
export const MESSAGE_PASSER_ADDRESS: Address = '0x4200000000000000000000000000000000000016';
/** Inference market (IInferenceMarket): dApps post paid jobs, staked provers fulfil them with proofs. */
export const INFERENCE_MARKET_ADDRESS: Address = '0x4200000000000000000000000000000000000A03';
/** System account that sends the L1-info transaction (the only caller L1Block accepts). */
export const DEPOSITOR_ADDRESS: Address = '0xDeaDDEaDDeAdDeAdDEAdDEaddeAddEAdDEAd0001';

export interface PredeployArtifact {
  name: string;
  source: string;
  solc: string;
  abi: Abi;
  deployedBytecode: Hex;
}

export interface Predeploy extends PredeployArtifact {
  address: Address;
}

/** Source file (under contracts/), contract name and address of every predeploy. */
export const PREDEPLOY_SOURCES = [
  { source: 'l2/ModelRegistry.sol', name: 'ModelRegistry', address: MODEL_REGISTRY_ADDRESS },
  { source: 'l2/L1Block.sol', name: 'L1Block', address: L1_BLOCK_ADDRESS },
  { source: 'l2/L2ToL1MessagePasser.sol', name: 'L2ToL1MessagePasser', address: MESSAGE_PASSER_ADDRESS },
  { source: 'l2/InferenceMarket.sol', name: 'InferenceMarket', address: INFERENCE_MARKET_ADDRESS },
] as const;

/**
 * The market's parameters are genesis storage (no constructor runs for genesis code): these
 * slots, each a uint256, hold an operator's override; an empty slot means the contract's default
 * (IInferenceMarket documents both). Pinned against solc's storageLayout by a test.
 */
export const INFERENCE_MARKET_PARAM_SLOTS = {
  minStake: 0n,
  claimStake: 1n,
  claimWindow: 2n,
  missSlashBps: 3n,
  rejectSlashBps: 4n,
  maxCallbackGas: 5n,
} as const;
export type InferenceMarketParams = Partial<Record<keyof typeof INFERENCE_MARKET_PARAM_SLOTS, bigint>>;

/** Genesis alloc storage for the market (`alloc[INFERENCE_MARKET_ADDRESS].storage`); the node adds the code. */
export function inferenceMarketStorage(params: InferenceMarketParams): Record<Hex, Hex> {
  const storage: Record<Hex, Hex> = {};
  for (const [name, value] of Object.entries(params)) {
    const slot = INFERENCE_MARKET_PARAM_SLOTS[name as keyof typeof INFERENCE_MARKET_PARAM_SLOTS];
    if (slot === undefined) throw new Error(`unknown inference market parameter ${name}`);
    // zero would read as "default", so it cannot be configured: refuse it rather than surprise
    if (value === undefined || value <= 0n || value >= 2n ** 256n) throw new Error(`inference market ${name} must be in [1, 2^256)`);
    storage[`0x${slot.toString(16).padStart(64, '0')}`] = `0x${value.toString(16).padStart(64, '0')}`;
  }
  return storage;
}

export const ARTIFACTS_DIR = join(import.meta.dirname, 'artifacts');

export function loadArtifact(name: string): PredeployArtifact {
  return JSON.parse(readFileSync(join(ARTIFACTS_DIR, `${name}.json`), 'utf8')) as PredeployArtifact;
}

let cached: Predeploy[] | undefined;

export function predeploys(): Predeploy[] {
  cached ??= PREDEPLOY_SOURCES.map((p) => ({ ...loadArtifact(p.name), address: p.address }));
  return cached;
}
