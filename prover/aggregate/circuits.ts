/**
 * The circuits the aggregation tooling proves with (the Foundry fixture, bench:aggregate), with
 * their Groth16 keys cached under .cache/aggregate: a setup draws fresh randomness, so keys are
 * made once and proofs made earlier stay valid. A cache entry is used only when every file still
 * has the sha256 recorded when it was made and the circuit source is what the generator makes now.
 *
 * Single-inference models go through compile-model.ts (the `model compile` artifacts); a
 * multi-inference circuit (prover/circuit/multi.ts) is compiled and set up here, since a model
 * directory holds one circuit of one inference.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { proofToWords, vkToBytes } from '../../precompiles/groth16/encoding.ts';
import type { SnarkjsVerificationKey } from '../../precompiles/groth16/encoding.ts';
import { compileCircuit } from '../circuit/compile.ts';
import { type InputMode, generateCircuit } from '../circuit/generate.ts';
import { generateMultiCircuit, multiCircuitInput, multiPublicSignals } from '../circuit/multi.ts';
import type { ParsedSpec } from '../model/spec.ts';
import { compileModel } from '../pipeline/compile-model.ts';
import { type LoadedModel, loadModelDir } from '../pipeline/prove.ts';
import { groth16Setup } from '../setup/groth16.ts';
import { powerFor, ptauFor } from '../setup/ptau.ts';
import { withCurve } from '../setup/snarkjs-curve.ts';

export const AGGREGATE_CACHE = resolve(import.meta.dirname, '../../.cache/aggregate');

export class CircuitCacheError extends Error {
  override name = 'CircuitCacheError';
}

const sha256 = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

function intact(dir: string, artifacts: readonly { name: string; sha256: string }[]): boolean {
  return artifacts.every((a) => existsSync(join(dir, a.name)) && sha256(join(dir, a.name)) === a.sha256);
}

/** A compiled model directory for `spec` in `mode`, compiled (and set up) only when missing or stale. */
export async function cachedModel(spec: ParsedSpec, mode: InputMode, cacheDir = AGGREGATE_CACHE): Promise<LoadedModel> {
  const dir = join(cacheDir, `${spec.name}-${mode}`);
  if (existsSync(join(dir, 'manifest.json'))) {
    const m = loadModelDir(dir);
    const source = generateCircuit(spec.model, { input: mode });
    if (m.manifest.inputMode === mode && intact(dir, m.manifest.artifacts) && readFileSync(join(dir, 'circuit.circom'), 'utf8') === source) return m;
  }
  await compileModel(spec, { outDir: dir, input: mode });
  return loadModelDir(dir);
}

export interface MultiCircuit {
  dir: string;
  k: number;
  constraints: number;
  /** 2k: per slot the packed outputs and the input hash. */
  publicSignals: number;
  ptauPower: number;
  /** On-chain verifying key bytes (vk.bin layout). */
  vk: Uint8Array;
}

interface MultiMeta extends Omit<MultiCircuit, 'dir' | 'vk'> {
  circuitKey: string;
  artifacts: { name: string; sha256: string }[];
}

const MULTI_FILES = ['circuit.circom', 'circuit.wasm', 'circuit.zkey', 'verification_key.json', 'vk.bin'];

/** Constraints of the k-inference circuit (compiled with circom2 --O2, cached), without a setup. */
export async function multiConstraints(spec: ParsedSpec, k: number): Promise<{ constraints: number; publicSignals: number; ptauPower: number }> {
  const c = await compileCircuit(generateMultiCircuit(spec.model, k));
  const publicSignals = c.outputs + c.publicInputs;
  return { constraints: c.constraints, publicSignals, ptauPower: powerFor(c.constraints, publicSignals) };
}

/** The k-inference circuit of a model with its Groth16 keys (a K >= the need ptau is made if none is cached). */
export async function cachedMultiCircuit(spec: ParsedSpec, k: number, cacheDir = AGGREGATE_CACHE): Promise<MultiCircuit> {
  const source = generateMultiCircuit(spec.model, k);
  const compiled = await compileCircuit(source);
  const dir = join(cacheDir, `${spec.name}-multi${k}`);
  const metaPath = join(dir, 'meta.json');
  if (existsSync(metaPath)) {
    const meta = JSON.parse(readFileSync(metaPath, 'utf8')) as MultiMeta;
    if (meta.circuitKey === compiled.key && intact(dir, meta.artifacts)) return { ...meta, dir, vk: readFileSync(join(dir, 'vk.bin')) };
  }
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'circuit.circom'), source);
  copyFileSync(compiled.wasmPath, join(dir, 'circuit.wasm'));
  const publicSignals = compiled.outputs + compiled.publicInputs;
  const ptau = await ptauFor(powerFor(compiled.constraints, publicSignals));
  const setup = await groth16Setup(compiled.r1csPath, ptau.path, join(dir, 'circuit.zkey'));
  const vk = vkToBytes(setup.vk as unknown as SnarkjsVerificationKey);
  writeFileSync(join(dir, 'verification_key.json'), `${JSON.stringify(setup.vk, null, 2)}\n`);
  writeFileSync(join(dir, 'vk.bin'), vk);
  const meta: MultiMeta = {
    k,
    constraints: compiled.constraints,
    publicSignals,
    ptauPower: ptau.power,
    circuitKey: compiled.key,
    artifacts: MULTI_FILES.map((name) => ({ name, sha256: sha256(join(dir, name)) })),
  };
  // written last: an interrupted setup leaves no meta.json, so the next run starts over
  writeFileSync(metaPath, `${JSON.stringify(meta, null, 2)}\n`);
  return { ...meta, dir, vk };
}

export interface MultiProof {
  publicSignals: string[];
  /** uint256[8] in EIP-197 order, 0x-hex. */
  proofWords: `0x${string}`[];
  proveMs: number;
}

/** A Groth16 proof of k inferences; the circuit's public signals must equal the executor's. */
export async function proveMulti(spec: ParsedSpec, circuit: MultiCircuit, inputs: readonly Uint8Array[]): Promise<MultiProof> {
  if (inputs.length !== circuit.k) throw new CircuitCacheError(`${inputs.length} inputs for a ${circuit.k}-inference circuit`);
  const expected = multiPublicSignals(spec.model, inputs).map(String);
  return withCurve(async (s) => {
    const wtns = { type: 'mem' as const };
    const t0 = performance.now();
    await s.wtns.calculate(multiCircuitInput(inputs), join(circuit.dir, 'circuit.wasm'), wtns);
    const { proof, publicSignals } = await s.groth16.prove(join(circuit.dir, 'circuit.zkey'), wtns);
    const proveMs = performance.now() - t0;
    if (publicSignals.join() !== expected.join()) {
      throw new CircuitCacheError(`circuit and native executor disagree: circuit ${publicSignals.join(',')} vs executor ${expected.join(',')}`);
    }
    const proofWords = proofToWords(proof).map((w) => `0x${w.toString(16).padStart(64, '0')}` as const);
    return { publicSignals, proofWords, proveMs };
  });
}
