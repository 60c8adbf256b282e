/**
 * A local Powers of Tau (phase 1 of the Groth16 setup), since nothing may be downloaded here:
 * a fresh accumulator, one contribution with OS randomness, and the phase-2 preparation, all
 * with snarkjs. The result is cached as <cacheDir>/pot<K>.ptau (written under a temporary name,
 * then renamed, so parallel runs never read half a file). A toxic-waste-free ceremony needs
 * other contributors: a production operator passes a public ptau file (e.g. a Hermez/PSE one)
 * instead, with `--ptau FILE`.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { quietLogger, withCurve } from './snarkjs-curve.ts';

export const DEFAULT_PTAU_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../.cache/ptau');
/**
 * A K=11 ptau made by localPtau and committed (2.3 MB), so tests and dev circuits up to 2^11
 * constraints need no 60-second ceremony on a fresh clone. Dev only, like every local ptau.
 */
export const SHIPPED_PTAU_DIR = resolve(dirname(fileURLToPath(import.meta.url)), 'ptau');
/** snarkjs refuses powers above 28 (BN254's 2-adicity); ours must fit in memory and time. */
export const MAX_POWER = 20;

export interface PtauResult {
  path: string;
  power: number;
  seconds: number;
  cached: boolean;
}

/** Smallest K with 2^K >= constraints + public signals + 1 (snarkjs's domain size rule). */
export function powerFor(constraints: number, publicSignals: number): number {
  const need = constraints + publicSignals + 1;
  let k = 1;
  while (1 << k < need) k++;
  return Math.max(k, 8);
}

/** The smallest cached or shipped ptau with power >= `power`, else a new local one. */
export async function ptauFor(power: number, dir = process.env.AI_ROLLUP_PTAU_DIR ?? DEFAULT_PTAU_DIR): Promise<PtauResult> {
  for (let k = Math.max(power, 1); k <= MAX_POWER; k++) {
    for (const d of [dir, SHIPPED_PTAU_DIR]) {
      const path = join(d, `pot${k}.ptau`);
      if (existsSync(path)) return { path, power: k, seconds: 0, cached: true };
    }
  }
  return localPtau(power, dir);
}

export async function localPtau(power: number, dir = process.env.AI_ROLLUP_PTAU_DIR ?? DEFAULT_PTAU_DIR): Promise<PtauResult> {
  if (!Number.isInteger(power) || power < 1 || power > MAX_POWER) throw new Error(`ptau power ${power} is outside 1..${MAX_POWER}`);
  const path = join(dir, `pot${power}.ptau`);
  if (existsSync(path)) return { path, power, seconds: 0, cached: true };
  mkdirSync(dir, { recursive: true });
  const t0 = performance.now();
  const tmp = `${path}.${process.pid}.${Date.now()}`;
  try {
    await withCurve(async (snarkjs, curve) => {
      await snarkjs.powersOfTau.newAccumulator(curve, power, `${tmp}.0`, quietLogger);
      await snarkjs.powersOfTau.contribute(`${tmp}.0`, `${tmp}.1`, 'ai-rollup local', randomBytes(32).toString('hex'), quietLogger);
      await snarkjs.powersOfTau.preparePhase2(`${tmp}.1`, tmp, quietLogger);
    });
    renameSync(tmp, path);
  } finally {
    for (const f of [`${tmp}.0`, `${tmp}.1`, tmp]) rmSync(f, { force: true });
  }
  return { path, power, seconds: (performance.now() - t0) / 1000, cached: false };
}
