import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initMcl, verifyGroth16 } from '../../precompiles/groth16/verify.ts';
import { runModel } from '../../precompiles/model/executor.ts';
import { parseModelSpecText } from '../../precompiles/model/spec.ts';
import { compileModel } from '../../prover/pipeline/compile-model.ts';
import { SHIPPED_PTAU_DIR } from '../../prover/setup/ptau.ts';
import { ProverPool } from '../../prover/worker/pool.ts';

const SPEC = parseModelSpecText(readFileSync(new URL('../../precompiles/model/examples/tiny-16-16-4.json', import.meta.url), 'utf8'));
const input = (seed: number) => Array.from({ length: 16 }, (_, i) => (i * 31 + seed * 17) % 256);

describe('proving pool (worker_threads)', () => {
  let work: string;
  let dir: string;
  let vk: Uint8Array;
  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'pool-'));
    dir = join(work, 'tiny');
    await compileModel(SPEC, { outDir: dir, input: 'private', ptauPath: join(SHIPPED_PTAU_DIR, 'pot11.ptau') });
    vk = readFileSync(join(dir, 'vk.bin'));
    await initMcl();
  }, 300_000);
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('proves tasks concurrently; every proof verifies and carries the executor output', async () => {
    const pool = new ProverPool({ concurrency: 2 }, { logger: pino({ level: 'silent' }) });
    try {
      const inputs = [1, 2, 3, 4, 5].map(input);
      const proofs = await Promise.all(inputs.map((x) => pool.prove(dir, x)));
      proofs.forEach((p, i) => {
        expect(p.output).toEqual(Array.from(runModel(SPEC.model, Uint8Array.from(inputs[i]!)).output));
        const r = verifyGroth16(
          vk,
          p.publicSignals.map(BigInt),
          p.proofWords.map((w) => BigInt(w)),
        );
        expect(r).toEqual({ kind: 'ok', valid: true });
      });
      // distinct inputs give distinct public signals (the input hash is among them)
      expect(new Set(proofs.map((p) => p.publicSignals.join())).size).toBe(5);
    } finally {
      await pool.close();
    }
  }, 120_000);

  it('a failing task fails alone with its reason; the pool keeps proving', async () => {
    const pool = new ProverPool({ concurrency: 1 }, { logger: pino({ level: 'silent' }) });
    try {
      const bad = pool.prove(dir, [1, 2, 3]);
      const missing = pool.prove(join(work, 'nowhere'), input(1));
      const good = pool.prove(dir, input(9));
      await expect(bad).rejects.toMatchObject({ code: 'PROVE_FAILED', message: expect.stringContaining('input has 3 values') });
      await expect(missing).rejects.toMatchObject({ code: 'PROVE_FAILED', message: expect.stringContaining('not a compiled model directory') });
      expect((await good).output.length).toBe(4);
    } finally {
      await pool.close();
    }
  }, 120_000);

  it('close() fails queued tasks with POOL_CLOSED and refuses new ones', async () => {
    const pool = new ProverPool({ concurrency: 1 }, { logger: pino({ level: 'silent' }) });
    const queued = [pool.prove(dir, input(1)), pool.prove(dir, input(2))].map((q) => expect(q).rejects.toMatchObject({ code: 'POOL_CLOSED' }));
    await pool.close();
    await Promise.all(queued);
    await expect(pool.prove(dir, input(3))).rejects.toMatchObject({ code: 'POOL_CLOSED' });
    expect(() => new ProverPool({ concurrency: 0 }, { logger: pino({ level: 'silent' }) })).toThrow(RangeError);
  });
});
