/**
 * `model prove`: a Groth16 proof that a compiled model maps an input to its output. The output
 * comes from the native executor and must equal the circuit's (a mismatch would be a bug in one
 * of them, so it is an error, never a silently different proof).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Groth16Proof } from 'snarkjs';
import { proofToWords } from '../../precompiles/groth16/encoding.ts';
import { encodeOutputs } from '../circuit/generate.ts';
import { inputHash } from '../../precompiles/model/input-hash.ts';
import { deserializeModel } from '../../precompiles/model/codec.ts';
import { runModel } from '../../precompiles/model/executor.ts';
import type { Model } from '../../precompiles/model/format.ts';
import { shapeSize } from '../../precompiles/model/format.ts';
import { withCurve } from '../setup/snarkjs-curve.ts';
import type { ModelManifest } from './manifest.ts';
import { CodedError } from '../../precompiles/errors.ts';

export class ProveError extends CodedError {
  override readonly code = 'PROVE_ERROR';
}

export interface LoadedModel {
  dir: string;
  manifest: ModelManifest;
  model: Model;
}

export function loadModelDir(dir: string): LoadedModel {
  let manifest: ModelManifest;
  try {
    manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as ModelManifest;
  } catch (err) {
    throw new ProveError(`${dir} is not a compiled model directory (manifest.json: ${(err as Error).message})`);
  }
  return { dir, manifest, model: deserializeModel(readFileSync(join(dir, 'model.bin'))) };
}

export interface InferenceProof {
  modelId: `0x${string}`;
  /** The executor's output values (int8 logits or uint8). */
  output: number[];
  /** The public signals in snarkjs order, decimal strings. */
  publicSignals: string[];
  proof: Groth16Proof;
  /** The proof as the verifier precompile takes it (uint256[8], 0x-hex). */
  proofWords: `0x${string}`[];
  timings: { witnessMs: number; proveMs: number };
}

export function checkInput(m: LoadedModel, input: readonly number[]): Uint8Array {
  const n = shapeSize(m.model.inputShape);
  if (input.length !== n) throw new ProveError(`input has ${input.length} values, the model takes ${n}`);
  input.forEach((v, i) => {
    if (!Number.isInteger(v) || v < 0 || v > 255) throw new ProveError(`input[${i}] = ${v} is not a uint8 (0..255)`);
  });
  return Uint8Array.from(input);
}

export async function proveInference(m: LoadedModel, values: readonly number[]): Promise<InferenceProof> {
  const input = checkInput(m, values);
  const output = Array.from(runModel(m.model, input).output);
  const expected = [...encodeOutputs(m.model, output), ...(m.manifest.inputMode === 'private' ? [inputHash(input)] : Array.from(input, BigInt))].map(String);
  return withCurve(async (s) => {
    const wtns = { type: 'mem' as const };
    const t0 = performance.now();
    await s.wtns.calculate({ in: Array.from(input, String) }, join(m.dir, 'circuit.wasm'), wtns);
    const t1 = performance.now();
    const { proof, publicSignals } = await s.groth16.prove(join(m.dir, 'circuit.zkey'), wtns);
    const t2 = performance.now();
    if (publicSignals.length !== expected.length || publicSignals.some((v, i) => v !== expected[i])) {
      throw new ProveError(`circuit and native executor disagree: circuit ${publicSignals.join(',')} vs executor ${expected.join(',')}`);
    }
    const proofWords = proofToWords(proof).map((w) => `0x${w.toString(16).padStart(64, '0')}` as const);
    return { modelId: m.manifest.modelId, output, publicSignals, proof, proofWords, timings: { witnessMs: t1 - t0, proveMs: t2 - t1 } };
  });
}
