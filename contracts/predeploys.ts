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
export const PREDEPLOY_SOURCES = [{ source: 'l2/ModelRegistry.sol', name: 'ModelRegistry', address: MODEL_REGISTRY_ADDRESS }] as const;

export const ARTIFACTS_DIR = join(import.meta.dirname, 'artifacts');

export function loadArtifact(name: string): PredeployArtifact {
  return JSON.parse(readFileSync(join(ARTIFACTS_DIR, `${name}.json`), 'utf8')) as PredeployArtifact;
}

let cached: Predeploy[] | undefined;

export function predeploys(): Predeploy[] {
  cached ??= PREDEPLOY_SOURCES.map((p) => ({ ...loadArtifact(p.name), address: p.address }));
  return cached;
}
