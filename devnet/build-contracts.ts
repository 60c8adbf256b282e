/**
 * Writes contracts/artifacts/<Name>.json, compiled with the npm solc package: ABI + runtime code
 * for every predeploy, ABI + creation and runtime code for the L1 contracts; then regenerates the
 * Foundry withdrawal fixture, whose storage proofs come from the message passer's runtime code,
 * and the InferenceOracle fixture's Solidity, whose calldata comes from node/rollup/oracle-submission.ts (its
 * proofs are committed JSON: a Groth16 setup cannot be redone bit for bit).
 * Run after editing any of them: `npm run contracts:build`.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { compileContracts, solcVersion } from '../contracts/compile.ts';
import { L1_SOURCES } from '../contracts/l1-artifacts.ts';
import type { L1Artifact } from '../contracts/l1-artifacts.ts';
import { ARTIFACTS_DIR, PREDEPLOY_SOURCES } from '../contracts/predeploys.ts';
import type { PredeployArtifact } from '../contracts/predeploys.ts';

export async function buildPredeployArtifacts(): Promise<PredeployArtifact[]> {
  const out: PredeployArtifact[] = [];
  for (const p of PREDEPLOY_SOURCES) {
    const c = (await compileContracts([p.source]))[p.name];
    if (c === undefined) throw new Error(`${p.source} has no contract ${p.name}`);
    out.push({ name: p.name, source: p.source, solc: solcVersion(), abi: c.abi, deployedBytecode: c.deployedBytecode });
  }
  return out;
}

export async function buildL1Artifacts(): Promise<L1Artifact[]> {
  const out: L1Artifact[] = [];
  for (const p of L1_SOURCES) {
    const c = (await compileContracts([p.source]))[p.name];
    if (c === undefined) throw new Error(`${p.source} has no contract ${p.name}`);
    out.push({ name: p.name, source: p.source, solc: solcVersion(), abi: c.abi, bytecode: c.bytecode, deployedBytecode: c.deployedBytecode });
  }
  return out;
}

/** EIP-170: the most runtime code an L1 contract may have. */
const MAX_CODE_SIZE = 24_576;

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const a of [...(await buildPredeployArtifacts()), ...(await buildL1Artifacts())]) {
    const size = (a.deployedBytecode.length - 2) / 2;
    if (size > MAX_CODE_SIZE) throw new Error(`${a.name}: ${size} bytes of runtime code, over the ${MAX_CODE_SIZE}-byte limit`);
    await writeFile(join(ARTIFACTS_DIR, `${a.name}.json`), `${JSON.stringify(a, null, 2)}\n`);
    process.stdout.write(`${a.name}: ${size} bytes of runtime code\n`);
  }
  const { writeBridgeFixture } = await import('../contracts/tools/bridge-fixture.ts');
  process.stdout.write(`${await writeBridgeFixture()}\n`);
  const { writeOracleFixture } = await import('./fixtures/oracle-fixture.ts');
  process.stdout.write(`${await writeOracleFixture()}\n`);
}
