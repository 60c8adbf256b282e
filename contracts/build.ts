/**
 * Writes contracts/artifacts/<Name>.json (ABI + runtime code) for every predeploy, compiled with
 * the npm solc package. Run after editing a predeploy: `npm run contracts:build`.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { compileContracts, solcVersion } from './compile.ts';
import { ARTIFACTS_DIR, PREDEPLOY_SOURCES } from './predeploys.ts';
import type { PredeployArtifact } from './predeploys.ts';

export async function buildPredeployArtifacts(): Promise<PredeployArtifact[]> {
  const out: PredeployArtifact[] = [];
  for (const p of PREDEPLOY_SOURCES) {
    const c = (await compileContracts([p.source]))[p.name];
    if (c === undefined) throw new Error(`${p.source} has no contract ${p.name}`);
    out.push({ name: p.name, source: p.source, solc: solcVersion(), abi: c.abi, deployedBytecode: c.deployedBytecode });
  }
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const a of await buildPredeployArtifacts()) {
    await writeFile(join(ARTIFACTS_DIR, `${a.name}.json`), `${JSON.stringify(a, null, 2)}\n`);
    process.stdout.write(`${a.name}: ${(a.deployedBytecode.length - 2) / 2} bytes of runtime code\n`);
  }
}
