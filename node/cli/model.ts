/** `ai-rollup model ...`: import an ONNX model, compile a model spec into circuit + keys, prove an inference, register. */
import { readFile, writeFile } from 'node:fs/promises';
import { basename, extname, join, resolve } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { parseModelSpecText } from '../../precompiles/model/spec.ts';
import { CodedError } from '../../precompiles/errors.ts';
import { importCommand } from './model-import.ts';
import { registerCommand } from './model-register.ts';

// snarkjs and circom2 take seconds to load: only the commands that prove or compile pay for it
const pipeline = async () => ({ ...(await import('../../prover/pipeline/compile-model.ts')), ...(await import('../../prover/pipeline/prove.ts')) });

/** A user error about the input file (exit 1 with its message). */
class InputError extends CodedError {
  override readonly code = 'INPUT_ERROR';
}

async function readText(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new Error(`cannot read ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** An input file: a JSON array of uint8 values, or { "input": [...] }. */
async function readInput(path: string): Promise<number[]> {
  let json: unknown;
  try {
    json = JSON.parse(await readText(path, 'input file'));
  } catch (err) {
    throw new InputError(err instanceof SyntaxError ? `input file ${path} is not JSON: ${err.message}` : (err as Error).message);
  }
  const arr = Array.isArray(json) ? json : (json as { input?: unknown } | null)?.input;
  if (!Array.isArray(arr)) throw new InputError(`input file ${path} must hold a JSON array of uint8 values or {"input": [...]}`);
  return arr as number[];
}

/** 2..64 inferences per proof (multi.ts's MAX_SLOTS; 1 would only repeat the single circuit). */
function parseAggregate(v: string): number {
  const k = Number(v);
  if (!/^\d+$/.test(v) || k < 2 || k > 64) throw new InvalidArgumentError('expected an integer from 2 to 64');
  return k;
}

const json = (v: unknown) => `${JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x), 2)}\n`;

export function modelCommand(): Command {
  const model = new Command('model').description('import ONNX models, compile models into circuits and keys, prove inferences, register models');
  model
    .command('compile')
    .description('SPEC.json -> model directory: encoding, circuit (circom2 --O2), Groth16 keys, verifying key, manifest')
    .argument('<spec>', 'model spec (JSON; format in precompiles/model/spec.ts)')
    .option('--out <dir>', 'output directory (default: ./models/<spec name>)')
    .option('--private-input', 'keep the input private; its Poseidon hash becomes the public signal', false)
    .option('--ptau <file>', 'a prepared Powers of Tau file (default: a local dev one, cached)')
    .option('--aggregate <k>', 'also make the K-inference circuit and its keys (agg<K>.* files): the inference poster proves K inferences per L1 proof with it', parseAggregate)
    .action(async (specPath: string, f: { out?: string; privateInput: boolean; ptau?: string; aggregate?: number }) => {
      const spec = parseModelSpecText(await readText(specPath, 'model spec'));
      const out = resolve(f.out ?? join('models', basename(specPath, extname(specPath))));
      const { compileModel } = await pipeline();
      const r = await compileModel(spec, { outDir: out, input: f.privateInput ? 'private' : 'public', ptauPath: f.ptau, aggregate: f.aggregate });
      const m = r.manifest;
      const aggregate = m.aggregate === undefined ? {} : { aggregate: m.aggregate };
      process.stdout.write(
        json({
          modelId: m.modelId,
          dir: out,
          inputMode: m.inputMode,
          constraints: m.constraints,
          publicInputs: m.publicInputs,
          macs: m.macs,
          ptauPower: m.ptauPower,
          ...aggregate,
          timings: r.timings,
        }),
      );
    });
  model
    .command('prove')
    .description('prove an inference: output, public signals and a Groth16 proof (snarkjs)')
    .requiredOption('--model <dir>', 'model directory written by `model compile`')
    .requiredOption('--input <file>', 'JSON array of uint8 input values (or {"input": [...]})')
    .option('--out <file>', 'write the proof JSON here instead of stdout')
    .action(async (f: { model: string; input: string; out?: string }) => {
      const { loadModelDir, proveInference } = await pipeline();
      const loaded = loadModelDir(f.model);
      const proof = await proveInference(loaded, await readInput(f.input));
      if (f.out === undefined) process.stdout.write(json(proof));
      else {
        await writeFile(f.out, json(proof));
        process.stdout.write(json({ modelId: proof.modelId, output: proof.output, out: f.out, timings: proof.timings }));
      }
    });
  model
    .command('ptau')
    .description('run a local Powers of Tau of 2^K (dev only: one contributor) into the cache; prints its path')
    .argument('<power>', 'K: circuits up to 2^K - 1 constraints + public signals')
    .option('--dir <dir>', 'where to write pot<K>.ptau (default: .cache/ptau)')
    .action(async (power: string, f: { dir?: string }) => {
      const k = Number(power);
      const { localPtau } = await import('../../prover/setup/ptau.ts');
      const r = await localPtau(k, f.dir);
      process.stdout.write(json(r));
    });
  model.addCommand(importCommand());
  model.addCommand(registerCommand());
  return model;
}
