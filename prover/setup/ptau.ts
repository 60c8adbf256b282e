/**
 * A local Powers of Tau (phase 1 of the Groth16 setup), since nothing may be downloaded here:
 * a fresh accumulator, one contribution with OS randomness, and the phase-2 preparation, all
 * with snarkjs. The result is cached as <cacheDir>/pot<K>.ptau (written under a temporary name,
 * then renamed, so parallel runs never read half a file). A toxic-waste-free ceremony needs
 * other contributors: a production operator passes a public ptau file (e.g. a Hermez/PSE one)
 * instead, with `--ptau FILE`.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readSync, renameSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { quietLogger, withCurve } from './snarkjs-curve.ts';
import { CodedError } from '../../precompiles/errors.ts';

export const DEFAULT_PTAU_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../.cache/ptau');
/**
 * Dev ptaus made by localPtau and committed, so tests and dev circuits need no ceremony on a
 * fresh clone: pot11.ptau (2.3 MB; the 16-16-4 example needs K=10 with a public input, 11 with a
 * private one) and pot13.ptau (9.4 MB; the 4-inference aggregate circuit of that example, 4,356
 * constraints). ptauFor looks here for every power, so another shipped pot<K>.ptau is found
 * without code changes. Dev only, like every local ptau. Measured on the 2-core dev machine:
 * K=10 41 s (1.2 MB), K=11 66-86 s (2.4 MB), K=12 137 s (4.7 MB), K=13 234 s (9.4 MB): too slow
 * for CI, and each step doubles the file, hence no K=12 (K=13 covers it) and nothing above 13.
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

export class PtauError extends CodedError {
  override readonly code = 'PTAU_ERROR';
}

export interface PtauInfo {
  power: number;
  /** Has the phase-2 (Lagrange) sections that zKey.newZKey reads: the output of preparePhase2. */
  prepared: boolean;
}

/**
 * Power and phase-2 readiness from a ptau file's section table (iden3 binfile: "ptau", version,
 * section count, then [type u32, size u64, data]; header section 1 = n8, q, power). Read here so an
 * operator's file that is too small or unprepared gets a clear error, not one from deep in snarkjs.
 */
export function readPtauInfo(path: string): PtauInfo {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    throw new PtauError(`cannot read ptau file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  try {
    const read = (pos: number, len: number): DataView => {
      const buf = Buffer.alloc(len);
      if (readSync(fd, buf, 0, len, pos) !== len) throw new PtauError(`${path} is not a ptau file (truncated)`);
      return new DataView(buf.buffer, buf.byteOffset, len);
    };
    const head = read(0, 12);
    if (head.getUint32(0, false) !== 0x70746175) throw new PtauError(`${path} is not a ptau file`);
    const sections = new Map<number, number>();
    let pos = 12;
    for (let i = 0; i < head.getUint32(8, true); i++) {
      const s = read(pos, 12);
      sections.set(s.getUint32(0, true), pos + 12);
      pos += 12 + Number(s.getBigUint64(4, true));
    }
    const h = sections.get(1);
    if (h === undefined) throw new PtauError(`${path} has no ptau header`);
    const n8 = read(h, 4).getUint32(0, true);
    const power = read(h + 4 + n8, 4).getUint32(0, true);
    return { power, prepared: [12, 13, 14, 15].every((t) => sections.has(t)) };
  } finally {
    closeSync(fd);
  }
}

/** An operator's ptau, checked against the circuit's needs. */
export function operatorPtau(path: string, power: number): PtauResult {
  const info = readPtauInfo(path);
  if (!info.prepared) throw new PtauError(`${path} is a phase-1 ptau: run snarkjs powersoftau prepare phase2 on it first`);
  if (info.power < power) throw new PtauError(`${path} has power ${info.power}, the circuit needs ${power} (2^K >= constraints + public signals + 1)`);
  return { path, power: info.power, seconds: 0, cached: true };
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
