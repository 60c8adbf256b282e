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
] as const;

export const ARTIFACTS_DIR = join(import.meta.dirname, 'artifacts');

export function loadArtifact(name: string): PredeployArtifact {
  return JSON.parse(readFileSync(join(ARTIFACTS_DIR, `${name}.json`), 'utf8')) as PredeployArtifact;
}

let cached: Predeploy[] | undefined;

export function predeploys(): Predeploy[] {
  cached ??= PREDEPLOY_SOURCES.map((p) => ({ ...loadArtifact(p.name), address: p.address }));
  return cached;
}
