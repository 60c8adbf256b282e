import { describe, expect, it } from 'vitest';
import { buildPredeployArtifacts } from '../../contracts/build.ts';
import { loadArtifact } from '../../contracts/predeploys.ts';

describe('predeploy artifacts', () => {
  it('the committed runtime code is what solc makes of the sources now (run `npm run contracts:build` after an edit)', async () => {
    for (const fresh of await buildPredeployArtifacts()) {
      const committed = loadArtifact(fresh.name);
      expect(committed.solc).toBe(fresh.solc);
      expect(committed.deployedBytecode, `${fresh.name} is stale`).toBe(fresh.deployedBytecode);
      expect(committed.abi).toEqual(fresh.abi);
    }
  }, 120_000);
});
