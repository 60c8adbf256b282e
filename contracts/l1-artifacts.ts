/**
 * L1 contracts (Rollup, Bridge): ABI and creation code, committed under contracts/artifacts/
 * (written by `npm run contracts:build`, checked against solc by test/unit/predeploys.test.ts),
 * so deploying them needs no compiler.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Abi, Hex } from 'viem';
import { ARTIFACTS_DIR } from './predeploys.ts';

export interface L1Artifact {
  name: string;
  source: string;
  solc: string;
  abi: Abi;
  /** creation code; constructor arguments are appended ABI-encoded */
  bytecode: Hex;
  deployedBytecode: Hex;
}

/**
 * Deployment order: the Bridge first (its resource config: devnet/deploy.ts), then
 * Rollup(bridge, batcher, proposer, challenger, challengeWindow, inclusionWindow), then
 * bridge.initialize(rollup) from the Bridge's deployer. InferenceOracle(rollup) any time after
 * the Rollup (or with the zero address: batch indexes unchecked).
 */
export const L1_SOURCES = [
  { source: 'l1/Bridge.sol', name: 'Bridge' },
  { source: 'l1/Rollup.sol', name: 'Rollup' },
  { source: 'l1/InferenceOracle.sol', name: 'InferenceOracle' },
] as const;

export type L1ContractName = (typeof L1_SOURCES)[number]['name'];

export function loadL1Artifact(name: L1ContractName): L1Artifact {
  return JSON.parse(readFileSync(join(ARTIFACTS_DIR, `${name}.json`), 'utf8')) as L1Artifact;
}
