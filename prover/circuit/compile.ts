/**
 * Compiles circom source with the npm `circom2` package (circom 2.2.x in WebAssembly, --O2) into
 * an R1CS and a witness-generator wasm, cached on disk under a key that hashes the source, the
 * circom2 version and the flags; computes witnesses with the generated witness calculator; and
 * checks a witness against the R1CS (own BigInt checker, independent of snarkjs).
 *
 * Cache layout: <cacheDir>/<key>/{circuit.circom, circuit.r1cs, circuit.sym, circuit.wasm,
 * witness_calculator.cjs, meta.json}. meta.json is written last and the directory is built
 * under a temporary name then renamed, so two processes compiling the same circuit at once
 * (vitest forks) never see a half-written entry.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);

/** BN254 scalar field: circom's default prime. */
export const BN254_R = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;

export const CIRCOM_FLAGS = ['--r1cs', '--wasm', '--sym', '--O2'] as const;

export const DEFAULT_CACHE_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../.cache/circuits');

export interface R1csInfo {
  prime: bigint;
  /** Wires, including the constant-one wire 0. */
  wires: number;
  outputs: number;
  publicInputs: number;
  privateInputs: number;
  labels: number;
  constraints: number;
}

export interface CompiledCircuit extends R1csInfo {
  /** Cache key: sha256 of circom2 version, flags, source and (when included) circomlib's version and files (hex). */
  key: string;
  dir: string;
  r1csPath: string;
  /** circom's symbol file: `label,wire,component,name` per signal (wire -1 when optimized out). */
  symPath: string;
  wasmPath: string;
  witnessCalculatorPath: string;
  /** As circom reported them (non-linear + linear = constraints). */
  nonLinearConstraints: number;
  linearConstraints: number;
  /** Seconds the compile took (0 when it came from the cache). */
  compileSeconds: number;
  cached: boolean;
}

export interface CompileOptions {
  /** Default: DEFAULT_CACHE_DIR, or the AI_ROLLUP_CIRCUIT_CACHE environment variable. */
  cacheDir?: string;
  /** Recompile even when a cache entry exists. */
  force?: boolean;
}

function circom2Version(): string {
  return (require('circom2/package.json') as { version: string }).version;
}

/**
 * node_modules holding circomlib. circom2 runs in a WASI sandbox that sees only the working
 * directory and its parents by relative path, so the included files are copied next to the
 * source (`include "circomlib/..."` resolves from the including file's directory).
 */
const LIBRARY_PATH = resolve(dirname(require.resolve('circomlib/package.json')), '..');
const CIRCOMLIB_FILES = ['circuits/poseidon.circom', 'circuits/poseidon_constants.circom'];

let circomlibDigest: string | undefined;
function circomlibHash(): string {
  if (circomlibDigest === undefined) {
    const { version } = require('circomlib/package.json') as { version: string };
    const h = createHash('sha256').update(`circomlib ${version}\n`);
    for (const f of CIRCOMLIB_FILES) h.update(f).update(readFileSync(join(LIBRARY_PATH, 'circomlib', f)));
    circomlibDigest = h.digest('hex');
  }
  return circomlibDigest;
}

export function circuitKey(source: string): string {
  const h = createHash('sha256').update(`circom2 ${circom2Version()}\n${CIRCOM_FLAGS.join(' ')}\n`);
  // an included library file is part of what the compiler sees
  if (source.includes('include "circomlib/')) h.update(`circomlib ${circomlibHash()}\n`);
  return h.update(source).digest('hex');
}

function runCircom(cwd: string, file: string): Promise<string> {
  const cli = require.resolve('circom2/cli.js');
  return new Promise((res, rej) => {
    execFile(process.execPath, [cli, file, ...CIRCOM_FLAGS, '-o', '.'], { cwd, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const out = `${stdout}\n${stderr}`.replace(/\x1b\[[0-9;]*m/g, '');
      if (err) rej(new Error(`circom2 failed (${err.code ?? err.message}):\n${out.slice(-4000)}`));
      else res(out);
    });
  });
}

const reportNumber = (out: string, label: string): number => {
  const m = new RegExp(`^${label}: (\\d+)`, 'm').exec(out);
  if (!m) throw new Error(`circom2 output has no "${label}" line`);
  return Number(m[1]);
};

/** Header of an .r1cs file (iden3 binary format, version 1). */
export function readR1csInfo(bytes: Uint8Array): R1csInfo {
  return parseR1cs(bytes, false).info;
}

type Lc = [number[], bigint[]];
interface ParsedR1cs {
  info: R1csInfo;
  constraints: [Lc, Lc, Lc][];
}

function parseR1cs(bytes: Uint8Array, withConstraints: boolean): ParsedR1cs {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (String.fromCharCode(...bytes.subarray(0, 4)) !== 'r1cs') throw new Error('not an r1cs file');
  const nSections = dv.getUint32(8, true);
  const sections = new Map<number, number>();
  let pos = 12;
  for (let i = 0; i < nSections; i++) {
    const type = dv.getUint32(pos, true);
    const size = Number(dv.getBigUint64(pos + 4, true));
    sections.set(type, pos + 12);
    pos += 12 + size;
  }
  let h = sections.get(1);
  if (h === undefined) throw new Error('r1cs has no header section');
  const n8 = dv.getUint32(h, true);
  const le = (at: number): bigint => {
    let v = 0n;
    for (let i = n8 - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[at + i]!);
    return v;
  };
  const prime = le(h + 4);
  h += 4 + n8;
  const info: R1csInfo = {
    prime,
    wires: dv.getUint32(h, true),
    outputs: dv.getUint32(h + 4, true),
    publicInputs: dv.getUint32(h + 8, true),
    privateInputs: dv.getUint32(h + 12, true),
    labels: Number(dv.getBigUint64(h + 16, true)),
    constraints: dv.getUint32(h + 24, true),
  };
  const constraints: [Lc, Lc, Lc][] = [];
  if (withConstraints) {
    let c = sections.get(2);
    if (c === undefined) throw new Error('r1cs has no constraint section');
    const lc = (): Lc => {
      const n = dv.getUint32(c!, true);
      c! += 4;
      const ids: number[] = [];
      const coefs: bigint[] = [];
      for (let i = 0; i < n; i++) {
        ids.push(dv.getUint32(c!, true));
        coefs.push(le(c! + 4));
        c! += 4 + n8;
      }
      return [ids, coefs];
    };
    for (let i = 0; i < info.constraints; i++) constraints.push([lc(), lc(), lc()]);
  }
  return { info, constraints };
}

/** Compiles (or fetches from the cache) a circom source. */
export async function compileCircuit(source: string, opts: CompileOptions = {}): Promise<CompiledCircuit> {
  const cacheDir = opts.cacheDir ?? process.env.AI_ROLLUP_CIRCUIT_CACHE ?? DEFAULT_CACHE_DIR;
  const key = circuitKey(source);
  const dir = join(cacheDir, key);
  const metaPath = join(dir, 'meta.json');
  if (!opts.force && existsSync(metaPath)) {
    const meta = JSON.parse(readFileSync(metaPath, 'utf8')) as Omit<CompiledCircuit, 'prime' | 'dir' | 'r1csPath' | 'symPath' | 'wasmPath' | 'witnessCalculatorPath'> & {
      prime: string;
    };
    return { ...meta, ...paths(dir), prime: BigInt(meta.prime), compileSeconds: 0, cached: true };
  }
  mkdirSync(cacheDir, { recursive: true });
  const tmp = join(cacheDir, `${key}.tmp-${process.pid}-${Date.now()}`);
  mkdirSync(tmp, { recursive: true });
  try {
    writeFileSync(join(tmp, 'circuit.circom'), source);
    if (source.includes('include "circomlib/')) {
      mkdirSync(join(tmp, 'circomlib', 'circuits'), { recursive: true });
      for (const f of CIRCOMLIB_FILES) copyFileSync(join(LIBRARY_PATH, 'circomlib', f), join(tmp, 'circomlib', f));
    }
    const t0 = performance.now();
    const out = await runCircom(tmp, 'circuit.circom');
    const compileSeconds = (performance.now() - t0) / 1000;
    renameSync(join(tmp, 'circuit_js', 'circuit.wasm'), join(tmp, 'circuit.wasm'));
    // the generated calculator is CommonJS; our package is "type": "module"
    copyFileSync(join(tmp, 'circuit_js', 'witness_calculator.js'), join(tmp, 'witness_calculator.cjs'));
    rmSync(join(tmp, 'circuit_js'), { recursive: true, force: true });
    rmSync(join(tmp, 'circomlib'), { recursive: true, force: true });
    const info = readR1csInfo(readFileSync(join(tmp, 'circuit.r1cs')));
    const nonLinearConstraints = reportNumber(out, 'non-linear constraints');
    const linearConstraints = reportNumber(out, 'linear constraints');
    if (nonLinearConstraints + linearConstraints !== info.constraints) {
      throw new Error(`circom reported ${nonLinearConstraints}+${linearConstraints} constraints, the r1cs has ${info.constraints}`);
    }
    const meta = { key, ...info, prime: info.prime.toString(), nonLinearConstraints, linearConstraints, compileSeconds };
    writeFileSync(join(tmp, 'meta.json'), JSON.stringify(meta, null, 2));
    if (opts.force) rmSync(dir, { recursive: true, force: true });
    try {
      renameSync(tmp, dir);
    } catch (e) {
      // another process got there first: its entry is as good as ours
      if (!existsSync(metaPath)) throw e;
    }
    return { ...meta, ...paths(dir), prime: info.prime, compileSeconds, cached: false };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

function paths(dir: string): Pick<CompiledCircuit, 'dir' | 'r1csPath' | 'symPath' | 'wasmPath' | 'witnessCalculatorPath'> {
  return {
    dir,
    r1csPath: join(dir, 'circuit.r1cs'),
    symPath: join(dir, 'circuit.sym'),
    wasmPath: join(dir, 'circuit.wasm'),
    witnessCalculatorPath: join(dir, 'witness_calculator.cjs'),
  };
}

interface WitnessCalculator {
  calculateWitness(input: Record<string, unknown>, sanityCheck: boolean): Promise<bigint[]>;
}
type Builder = (code: Uint8Array, options?: unknown) => Promise<WitnessCalculator>;
const calculators = new Map<string, Promise<WitnessCalculator>>();

function calculator(c: CompiledCircuit): Promise<WitnessCalculator> {
  let wc = calculators.get(c.dir);
  if (!wc) {
    const builder = require(c.witnessCalculatorPath) as Builder;
    wc = builder(readFileSync(c.wasmPath));
    calculators.set(c.dir, wc);
  }
  return wc;
}

export interface WitnessResult {
  /** The circuit's output signals (main's `out`), in order. */
  outputs: bigint[];
  /** What a verifier sees, in snarkjs order: outputs, then the public inputs. */
  publicSignals: bigint[];
  /** The full witness, indexed by R1CS wire (wire 0 is the constant 1). */
  witness: bigint[];
}

/**
 * Runs the witness generator on an input: a model input vector (uint8 values, becomes `in`) or a
 * ready input object of signal names. Throws if an assertion in the circuit fails.
 */
export async function computeWitness(compiled: CompiledCircuit, input: Uint8Array | readonly number[] | Record<string, unknown>): Promise<WitnessResult> {
  const obj = input instanceof Uint8Array || Array.isArray(input) ? { in: Array.from(input as ArrayLike<number>, String) } : input;
  const witness = await (await calculator(compiled)).calculateWitness(obj as Record<string, unknown>, true);
  if (witness.length !== compiled.wires) throw new Error(`witness has ${witness.length} values, the r1cs ${compiled.wires} wires`);
  const nPub = compiled.outputs + compiled.publicInputs;
  return { outputs: witness.slice(1, 1 + compiled.outputs), publicSignals: witness.slice(1, 1 + nPub), witness };
}

const r1csCache = new Map<string, [Lc, Lc, Lc][]>();

/**
 * Checks A*B = C for every constraint of the circuit's R1CS on a witness (values reduced mod p).
 * Returns the index of the first violated constraint, or -1 when all hold.
 */
export function firstViolatedConstraint(compiled: CompiledCircuit, witness: readonly bigint[]): number {
  let cs = r1csCache.get(compiled.r1csPath);
  if (!cs) {
    cs = parseR1cs(readFileSync(compiled.r1csPath), true).constraints;
    r1csCache.set(compiled.r1csPath, cs);
  }
  const p = compiled.prime;
  if (witness.length !== compiled.wires) throw new Error(`witness has ${witness.length} values, expected ${compiled.wires}`);
  if (witness[0] !== 1n) return -2; // wire 0 must be the constant one
  const ev = ([ids, coefs]: Lc): bigint => {
    let s = 0n;
    for (let i = 0; i < ids.length; i++) s += coefs[i]! * witness[ids[i]!]!;
    return ((s % p) + p) % p;
  };
  for (let i = 0; i < cs.length; i++) {
    const [a, b, c] = cs[i]!;
    if ((ev(a) * ev(b) - ev(c)) % p !== 0n) return i;
  }
  return -1;
}

/** A witness as an iden3 .wtns file (version 2), e.g. for snarkjs.wtns.check or proving. */
export function encodeWtns(witness: readonly bigint[], prime: bigint = BN254_R): Uint8Array {
  const n8 = 32;
  const out = new Uint8Array(12 + 12 + 4 + n8 + 4 + 12 + witness.length * n8);
  const dv = new DataView(out.buffer);
  out.set([0x77, 0x74, 0x6e, 0x73]); // "wtns"
  dv.setUint32(4, 2, true);
  dv.setUint32(8, 2, true);
  const putLe = (at: number, v: bigint, reduce = true): void => {
    let x = reduce ? ((v % prime) + prime) % prime : v;
    for (let i = 0; i < n8; i++, x >>= 8n) out[at + i] = Number(x & 0xffn);
  };
  let pos = 12;
  dv.setUint32(pos, 1, true);
  dv.setBigUint64(pos + 4, BigInt(4 + n8 + 4), true);
  dv.setUint32(pos + 12, n8, true);
  putLe(pos + 16, prime, false);
  dv.setUint32(pos + 16 + n8, witness.length, true);
  pos += 12 + 4 + n8 + 4;
  dv.setUint32(pos, 2, true);
  dv.setBigUint64(pos + 4, BigInt(witness.length * n8), true);
  pos += 12;
  witness.forEach((v, i) => putLe(pos + i * n8, v));
  return out;
}

/** Signal name (e.g. `main.l0.r[3].t.out[5]`) -> R1CS wire, for signals that kept a wire. */
export function readSymbols(compiled: CompiledCircuit): Map<string, number> {
  const map = new Map<string, number>();
  for (const line of readFileSync(compiled.symPath, 'utf8').split('\n')) {
    const [, wire, , name] = line.split(',');
    if (name !== undefined && Number(wire) >= 0) map.set(name, Number(wire));
  }
  return map;
}

const quiet = { info() {}, warn() {}, error() {}, debug() {} };

/**
 * snarkjs's own witness check (`snarkjs.wtns.check`) of a witness against the circuit's R1CS: a
 * second opinion next to firstViolatedConstraint. snarkjs builds a multi-threaded BN254 curve
 * and caches it in a global; its worker threads keep a process alive, so call
 * releaseSnarkjsCurve() when done with snarkjs.
 */
export async function snarkjsCheckWitness(compiled: CompiledCircuit, witness: readonly bigint[]): Promise<boolean> {
  const { wtns } = await import('snarkjs');
  const dir = mkdtempSync(join(tmpdir(), 'wtns-'));
  try {
    const file = join(dir, 'witness.wtns');
    writeFileSync(file, encodeWtns(witness, compiled.prime));
    return await wtns.check(compiled.r1csPath, file, quiet);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Stops the worker threads of the BN254 curve that snarkjs (ffjavascript) caches globally. */
export async function releaseSnarkjsCurve(): Promise<void> {
  const g = globalThis as { curve_bn128?: { terminate(): Promise<void> } | null };
  const curve = g.curve_bn128;
  g.curve_bn128 = null;
  if (curve) await curve.terminate();
}
