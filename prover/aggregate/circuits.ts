/**
 * The circuits the aggregation tooling proves with (the Foundry fixture, bench:aggregate), with
 * their Groth16 keys cached under .cache/aggregate: a setup draws fresh randomness, so keys are
 * made once and proofs made earlier stay valid. A cache entry is used only when every file still
 * has the sha256 recorded when it was made and the circuit source is what the generator makes now.
 *
 * Single-inference models go through compile-model.ts (the `model compile` artifacts); a
 * multi-inference circuit (prover/circuit/multi.ts) of any k is compiled and set up here with
 * aggregate-circuit.ts, the code `model compile --aggregate K` uses for a model directory's one k.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { compileCircuit } from '../circuit/compile.ts';
import { type InputMode, generateCircuit } from '../circuit/generate.ts';
import { generateMultiCircuit } from '../circuit/multi.ts';
import type { ParsedSpec } from '../../precompiles/model/spec.ts';
import { compileModel } from '../pipeline/compile-model.ts';
import { type LoadedModel, loadModelDir } from '../pipeline/prove.ts';
import { powerFor } from '../setup/ptau.ts';
import { type AggregateFiles, type AggregateProof, proveAggregate, setupAggregateCircuit } from './aggregate-circuit.ts';
import { CodedError } from '../../precompiles/errors.ts';

export const AGGREGATE_CACHE = resolve(import.meta.dirname, '../../.cache/aggregate');

export class CircuitCacheError extends CodedError {
  override readonly code = 'CIRCUIT_CACHE_ERROR';

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

/** Cache entries keep the names the tooling used before model directories held aggregates. */
const MULTI_NAMES: AggregateFiles = { wasm: 'circuit.wasm', zkey: 'circuit.zkey', vkBin: 'vk.bin', vkJson: 'verification_key.json' };

/** The k-inference circuit of a model with its Groth16 keys (a K >= the need ptau is made if none is cached). */
export async function cachedMultiCircuit(spec: ParsedSpec, k: number, cacheDir = AGGREGATE_CACHE): Promise<MultiCircuit> {
  const compiled = await compileCircuit(generateMultiCircuit(spec.model, k));
  const dir = join(cacheDir, `${spec.name}-multi${k}`);
  const metaPath = join(dir, 'meta.json');
  if (existsSync(metaPath)) {
    const meta = JSON.parse(readFileSync(metaPath, 'utf8')) as MultiMeta;
    if (meta.circuitKey === compiled.key && intact(dir, meta.artifacts)) return { ...meta, dir, vk: readFileSync(join(dir, 'vk.bin')) };
  }
  mkdirSync(dir, { recursive: true });
  const setup = await setupAggregateCircuit(spec.model, k, dir, MULTI_NAMES);
  writeFileSync(join(dir, 'circuit.circom'), setup.source);
  const meta: MultiMeta = {
    k,
    constraints: setup.constraints,
    publicSignals: 2 * k,
    ptauPower: setup.ptauPower,
    circuitKey: setup.circuitKey,
    artifacts: MULTI_FILES.map((name) => ({ name, sha256: sha256(join(dir, name)) })),
  };
  // written last: an interrupted setup leaves no meta.json, so the next run starts over
  writeFileSync(metaPath, `${JSON.stringify(meta, null, 2)}\n`);
  return { ...meta, dir, vk: setup.vk };
}

export type MultiProof = Omit<AggregateProof, 'k' | 'outputs'>;

/** A Groth16 proof of k inferences; the circuit's public signals must equal the executor's. */
export async function proveMulti(spec: ParsedSpec, circuit: MultiCircuit, inputs: readonly Uint8Array[]): Promise<MultiProof> {
  if (inputs.length !== circuit.k) throw new CircuitCacheError(`${inputs.length} inputs for a ${circuit.k}-inference circuit`);
  const { publicSignals, proofWords, proveMs } = await proveAggregate(spec.model, circuit.dir, MULTI_NAMES, inputs);
  return { publicSignals, proofWords, proveMs };
}
