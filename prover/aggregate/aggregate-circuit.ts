/**
 * The k-inference circuit of a model (prover/circuit/multi.ts) as a set of files in a directory:
 * compiled, set up (Groth16) and proved. One implementation for the two places that hold such a
 * circuit: a model directory (`model compile --aggregate K`, files `agg<K>.*`, listed in its
 * manifest and served by the node like every artifact) and the tooling's cache
 * (circuits.ts: .cache/aggregate/<name>-multi<K>/circuit.*).
 */
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { keccak256 } from 'viem';
import { proofToWords, vkToBytes } from '../../precompiles/groth16/encoding.ts';
import type { SnarkjsVerificationKey } from '../../precompiles/groth16/encoding.ts';
import { compileCircuit } from '../circuit/compile.ts';
import { decodeMultiSignals, generateMultiCircuit, multiCircuitInput, multiPublicSignals } from '../circuit/multi.ts';
import type { Model } from '../../precompiles/model/format.ts';
import type { AggregateManifest } from '../pipeline/manifest.ts';
import { type LoadedModel, checkInput } from '../pipeline/prove.ts';
import { groth16Setup } from '../setup/groth16.ts';
import { operatorPtau, powerFor, ptauFor } from '../setup/ptau.ts';
import { withCurve } from '../setup/snarkjs-curve.ts';
import { CodedError } from '../../precompiles/errors.ts';

export class AggregateCircuitError extends CodedError {
  override readonly code = 'AGGREGATE_CIRCUIT_ERROR';

  override name = 'AggregateCircuitError';
}

/** File names of one k-inference circuit inside its directory. */
export interface AggregateFiles {
  wasm: string;
  zkey: string;
  /** On-chain verifying key (the registry's and the oracle's vk.bin layout). */
  vkBin: string;
  vkJson: string;
}

/** Names in a model directory; they match the ArtifactStore's /^[\w.-]+$/. */
export function modelAggregateFiles(k: number): AggregateFiles {
  return { wasm: `agg${k}.circuit.wasm`, zkey: `agg${k}.circuit.zkey`, vkBin: `agg${k}.vk.bin`, vkJson: `agg${k}.verification_key.json` };
}

export interface AggregateSetup extends AggregateManifest {
  /** compile.ts's cache key of the compiled circuit (source, compiler version, flags). */
  circuitKey: string;
  source: string;
  vk: Uint8Array;
  seconds: { circuit: number; ptau: number; setup: number };
}

/**
 * Compiles the k-inference circuit of `model` and makes its Groth16 keys into `dir` under
 * `files`. `ptauPath`: an operator's ptau (it must be large enough), else the smallest cached or
 * shipped one.
 */
export async function setupAggregateCircuit(model: Model, k: number, dir: string, files: AggregateFiles, ptauPath?: string): Promise<AggregateSetup> {
  const source = generateMultiCircuit(model, k);
  const compiled = await compileCircuit(source);
  copyFileSync(compiled.wasmPath, join(dir, files.wasm));
  const publicSignals = compiled.outputs + compiled.publicInputs;
  if (publicSignals !== 2 * k) throw new AggregateCircuitError(`the ${k}-inference circuit has ${publicSignals} public signals, expected ${2 * k}`);
  const power = powerFor(compiled.constraints, publicSignals);
  const ptau = ptauPath !== undefined ? operatorPtau(ptauPath, power) : await ptauFor(power);
  const setup = await groth16Setup(compiled.r1csPath, ptau.path, join(dir, files.zkey));
  const vk = vkToBytes(setup.vk as unknown as SnarkjsVerificationKey);
  writeFileSync(join(dir, files.vkJson), `${JSON.stringify(setup.vk, null, 2)}\n`);
  writeFileSync(join(dir, files.vkBin), vk);
  return {
    k,
    publicSignalsPerSlot: 2,
    vkHash: keccak256(vk),
    constraints: compiled.constraints,
    ptauPower: ptau.power,
    circuitKey: compiled.key,
    source,
    vk,
    seconds: { circuit: compiled.compileSeconds, ptau: ptau.seconds, setup: setup.seconds },
  };
}

export interface AggregateProof {
  k: number;
  /** Per slot, the executor's output values (int8 logits or uint8). */
  outputs: number[][];
  /** 2k signals in snarkjs order, decimal strings: per slot the packed outputs, then the input hash. */
  publicSignals: string[];
  /** uint256[8] in EIP-197 order, 0x-hex. */
  proofWords: `0x${string}`[];
  proveMs: number;
}

/** A Groth16 proof of k inferences; the circuit's public signals must equal the executor's. */
export async function proveAggregate(model: Model, dir: string, files: AggregateFiles, inputs: readonly Uint8Array[]): Promise<AggregateProof> {
  const expected = multiPublicSignals(model, inputs);
  return withCurve(async (s) => {
    const wtns = { type: 'mem' as const };
    const t0 = performance.now();
    await s.wtns.calculate(multiCircuitInput(inputs), join(dir, files.wasm), wtns);
    const { proof, publicSignals } = await s.groth16.prove(join(dir, files.zkey), wtns);
    const proveMs = performance.now() - t0;
    if (publicSignals.join() !== expected.map(String).join()) {
      throw new AggregateCircuitError(`circuit and native executor disagree: circuit ${publicSignals.join(',')} vs executor ${expected.join(',')}`);
    }
    const proofWords = proofToWords(proof).map((w) => `0x${w.toString(16).padStart(64, '0')}` as const);
    const outputs = decodeMultiSignals(model, expected).map((slot) => slot.output);
    return { k: inputs.length, outputs, publicSignals, proofWords, proveMs };
  });
}

/** The verifying key bytes of a directory's aggregate circuit, checked against the manifest's hash. */
export function readAggregateVk(dir: string, agg: AggregateManifest): Uint8Array {
  const vk = readFileSync(join(dir, modelAggregateFiles(agg.k).vkBin));
  if (keccak256(vk) !== agg.vkHash) throw new AggregateCircuitError(`${dir}: ${modelAggregateFiles(agg.k).vkBin} does not hash to the manifest's vkHash ${agg.vkHash}`);
  return vk;
}

/** proveAggregate on a compiled model directory whose manifest lists a k-inference circuit. */
export async function proveModelAggregate(m: LoadedModel, k: number, inputs: readonly (readonly number[])[]): Promise<AggregateProof> {
  const agg = m.manifest.aggregate;
  if (agg === undefined) throw new AggregateCircuitError(`${m.dir} has no aggregate circuit (compile it with --aggregate K)`);
  if (agg.k !== k) throw new AggregateCircuitError(`${m.dir} has a ${agg.k}-inference circuit, not a ${k}-inference one`);
  if (inputs.length !== k) throw new AggregateCircuitError(`${inputs.length} inputs for a ${k}-inference circuit`);
  return proveAggregate(
    m.model,
    m.dir,
    modelAggregateFiles(k),
    inputs.map((x) => checkInput(m, x)),
  );
}
