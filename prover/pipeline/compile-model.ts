/**
 * `model compile`: SPEC.json -> a model directory holding everything a prover and the chain
 * need: the canonical encoding (whose keccak is the model id), the circuit and its compiled
 * forms, the Groth16 keys, the on-chain verifying key and a manifest with every file's sha256
 * (what the node serves by content hash). With `aggregate: K` the directory also holds the
 * model's K-inference circuit (prover/aggregate/aggregate-circuit.ts) and its own keys, which the
 * inference poster uses to prove K inferences per L1 proof.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { vkToBytes } from '../../precompiles/groth16/encoding.ts';
import type { SnarkjsVerificationKey } from '../../precompiles/groth16/encoding.ts';
import { compileCircuit } from '../circuit/compile.ts';
import { type InputMode, generateCircuit } from '../circuit/generate.ts';
import { serializeModel } from '../../precompiles/model/codec.ts';
import { keccakHex } from '../../precompiles/model/commitment.ts';
import { countMacs } from '../../precompiles/model/executor.ts';
import { modelOutputShape, shapeSize } from '../../precompiles/model/format.ts';
import { type ParsedSpec, toModelSpec } from '../../precompiles/model/spec.ts';
import { modelAggregateFiles, setupAggregateCircuit } from '../aggregate/aggregate-circuit.ts';
import type { AggregateManifest, ModelManifest } from './manifest.ts';
import { generateMultiCircuit } from '../circuit/multi.ts';
import { groth16Setup } from '../setup/groth16.ts';
import { operatorPtau, powerFor, ptauFor, readPtauInfo } from '../setup/ptau.ts';

export interface CompileModelOptions {
  outDir: string;
  input?: InputMode;
  /** An operator's public ptau; default: the smallest cached/shipped one that fits, else a local one. */
  ptauPath?: string;
  /** Also make the K-inference circuit and its keys (agg<K>.* files, manifest `aggregate`). */
  aggregate?: number;
}

export interface CompileModelResult {
  manifest: ModelManifest;
  dir: string;
  timings: { circuitSeconds: number; ptauSeconds: number; setupSeconds: number; aggregateSeconds?: number };
}

const ARTIFACTS = ['model.bin', 'spec.json', 'circuit.circom', 'circuit.r1cs', 'circuit.wasm', 'witness_calculator.cjs', 'circuit.zkey', 'verification_key.json', 'vk.bin'];

export async function compileModel(spec: ParsedSpec, opts: CompileModelOptions): Promise<CompileModelResult> {
  const { model } = spec;
  const input = opts.input ?? 'public';
  const dir = opts.outDir;
  // a missing or foreign --ptau file, or a model the aggregate circuit cannot take, fails now,
  // not after a long circuit compile
  if (opts.ptauPath !== undefined) readPtauInfo(opts.ptauPath);
  if (opts.aggregate !== undefined) generateMultiCircuit(model, opts.aggregate);
  mkdirSync(dir, { recursive: true });
  const encoding = serializeModel(model);
  writeFileSync(join(dir, 'model.bin'), encoding);
  writeFileSync(join(dir, 'spec.json'), `${JSON.stringify(toModelSpec(model, spec), null, 2)}\n`);

  const source = generateCircuit(model, { input, trusted: true });
  const compiled = await compileCircuit(source);
  writeFileSync(join(dir, 'circuit.circom'), source);
  for (const f of ['circuit.r1cs', 'circuit.wasm', 'witness_calculator.cjs']) copyFileSync(join(compiled.dir, f), join(dir, f));

  const publicSignals = compiled.outputs + compiled.publicInputs;
  const power = powerFor(compiled.constraints, publicSignals);
  const ptau = opts.ptauPath !== undefined ? operatorPtau(opts.ptauPath, power) : await ptauFor(power);
  const setup = await groth16Setup(join(dir, 'circuit.r1cs'), ptau.path, join(dir, 'circuit.zkey'));
  writeFileSync(join(dir, 'verification_key.json'), `${JSON.stringify(setup.vk, null, 2)}\n`);
  writeFileSync(join(dir, 'vk.bin'), vkToBytes(setup.vk as unknown as SnarkjsVerificationKey));

  const agg = opts.aggregate === undefined ? undefined : await compileAggregate(model, opts.aggregate, dir, opts.ptauPath);
  const aggregate = agg?.manifest;
  const aggregateSeconds = agg?.seconds;
  const names = [...ARTIFACTS, ...(agg?.names ?? [])];

  const manifest: ModelManifest = {
    format: 'ai-rollup-model/1',
    modelId: keccakHex(encoding),
    name: spec.name,
    version: spec.version,
    inputMode: input,
    inputSize: shapeSize(model.inputShape),
    outputSize: shapeSize(modelOutputShape(model)),
    macs: countMacs(model),
    constraints: compiled.constraints,
    publicInputs: publicSignals,
    ptauPower: ptau.power,
    ...(aggregate === undefined ? {} : { aggregate }),
    artifacts: names.map((name) => {
      const bytes = readFileSync(join(dir, name));
      return { name, sha256: createHash('sha256').update(bytes).digest('hex'), size: bytes.length };
    }),
  };
  writeFileSync(join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  const timings = {
    circuitSeconds: compiled.compileSeconds,
    ptauSeconds: ptau.seconds,
    setupSeconds: setup.seconds,
    ...(aggregateSeconds === undefined ? {} : { aggregateSeconds }),
  };
  return { manifest, dir, timings };
}

/** The K-inference circuit and its keys, next to the single-inference ones. */
async function compileAggregate(
  model: ParsedSpec['model'],
  k: number,
  dir: string,
  ptauPath: string | undefined,
): Promise<{ manifest: AggregateManifest; seconds: number; names: string[] }> {
  const files = modelAggregateFiles(k);
  const a = await setupAggregateCircuit(model, k, dir, files, ptauPath);
  return {
    manifest: { k: a.k, publicSignalsPerSlot: a.publicSignalsPerSlot, vkHash: a.vkHash, constraints: a.constraints, ptauPower: a.ptauPower },
    seconds: a.seconds.circuit + a.seconds.ptau + a.seconds.setup,
    names: [files.wasm, files.zkey, files.vkJson, files.vkBin],
  };
}
