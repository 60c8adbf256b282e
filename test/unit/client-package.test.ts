/**
 * The dApp SDK as a package: `ai-rollup/client` (package.json's export) is one ESM bundle plain
 * Node loads without tsx, with the SDK's whole surface, computing what the sources compute.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { CLIENT_DIST, bundleClient } from '../../bin/bundle.mjs';
import { inputHash } from '../../precompiles/model/input-hash.ts';

const ROOT = resolve(import.meta.dirname, '../..');

describe('ai-rollup/client package', () => {
  let dir = '';
  afterAll(async () => {
    if (dir !== '') await rm(dir, { recursive: true, force: true });
  });

  it('bundles to the file the package export names, which plain node imports with its whole surface', async () => {
    const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8'));
    expect(pkg.exports['./client'].default).toBe(`./${relative(ROOT, join(CLIENT_DIST, 'index.js'))}`);
    // under the repository, so the bundle's npm imports resolve as in an installed package
    await mkdir(join(ROOT, '.cache'), { recursive: true });
    dir = await mkdtemp(join(ROOT, '.cache/client-test-'));
    const file = await bundleClient(dir);
    const script = `
      const m = await import(${JSON.stringify(file)});
      const names = Object.keys(m).sort();
      console.log(JSON.stringify({ names, chain: m.devnetChain('http://127.0.0.1:1').id, hash: m.inputHash([1, 2, 3]).toString(), actions: Object.keys(m.aiRollupActions()({ request: async () => null })).sort() }));`;
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { cwd: dir });
    const out = JSON.parse(stdout);
    for (const n of [
      'aiRollupActions',
      'aiRollupChain',
      'chainFromRollupConfig',
      'devnetChain',
      'AiRollupContractError',
      'InferenceWaitError',
      'BridgeWaitError',
      'aiRollupL1Actions',
      'depositTransactionHash',
      'withdrawalHash',
      'bridgeAbi',
      'marketAbi',
      'checkInferenceProof',
      'inputHash',
    ])
      expect(out.names).toContain(n);
    expect(out.chain).toBe(901);
    expect(out.hash).toBe(inputHash([1, 2, 3]).toString());
    expect(out.actions).toEqual(
      [
        'executeModel',
        'getInferenceProof',
        'getInferenceRequest',
        'initiateWithdrawal',
        'waitForDeposit',
        'getModel',
        'listModels',
        'modelArtifacts',
        'requestInference',
        'verifyInference',
        'waitForInferenceResult',
        'watchInferenceResults',
      ].sort(),
    );
  }, 60_000);
});
