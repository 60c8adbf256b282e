/**
 * Per-circuit Groth16 setup (phase 2): the proving key from the R1CS and a prepared ptau, one
 * contribution with OS randomness, and the verifying key. One key pair per model, because the
 * weights are constants of the circuit.
 */
import { randomBytes } from 'node:crypto';
import { renameSync, rmSync } from 'node:fs';
import type { VerificationKey } from 'snarkjs';
import { quietLogger, withCurve } from './snarkjs-curve.ts';

export interface SetupResult {
  zkeyPath: string;
  vk: VerificationKey;
  seconds: number;
}

export async function groth16Setup(r1csPath: string, ptauPath: string, zkeyPath: string): Promise<SetupResult> {
  const t0 = performance.now();
  const tmp = `${zkeyPath}.${process.pid}.tmp`;
  try {
    const vk = await withCurve(async (s) => {
      await s.zKey.newZKey(r1csPath, ptauPath, `${tmp}.0`, quietLogger);
      await s.zKey.contribute(`${tmp}.0`, tmp, 'ai-rollup model setup', randomBytes(32).toString('hex'), quietLogger);
      return s.zKey.exportVerificationKey(tmp, quietLogger);
    });
    renameSync(tmp, zkeyPath);
    return { zkeyPath, vk, seconds: (performance.now() - t0) / 1000 };
  } finally {
    rmSync(`${tmp}.0`, { force: true });
    rmSync(tmp, { force: true });
  }
}
