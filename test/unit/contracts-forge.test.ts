import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const FORGE = join(ROOT, 'node_modules/.bin/forge');

describe('Foundry tests of the L1 contracts and L2 predeploys (contracts/test/foundry)', () => {
  it('forge test passes (npm solc through contracts/tools/solc-wrapper.mjs, offline)', async () => {
    // foundry.toml's `solc` path is relative to contracts/, so forge runs there
    const run = await promisify(execFile)(FORGE, ['test', '--color', 'never'], {
      cwd: join(ROOT, 'contracts'),
      maxBuffer: 64 * 1024 * 1024,
      env: { ...process.env, NO_COLOR: '1' },
    }).then(
      (r) => ({ ok: true, out: `${r.stdout}${r.stderr}` }),
      (e: { stdout?: string; stderr?: string; message: string }) => ({ ok: false, out: `${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}` }),
    );
    expect(run.ok, run.out).toBe(true);
    expect(run.out).toMatch(/\d+ tests passed, 0 failed/);
  }, 600_000);
});
