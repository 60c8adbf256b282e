/**
 * npm run bench:import — a real model brought in from ONNX, end to end: the digits classifier
 * (test/fixtures/digits: 64-32-10 MLP trained on the UCI 8x8 digits, exported to ONNX by
 * make-onnx.ts) through `model import`, `model compile` and proving, next to the 16-16-4 example
 * in the same run. Prints figures, asserts nothing:
 *  - the import: float and int8 accuracy on the 497 held-out digits, top-1 agreement, logit error,
 *    and how long the import (onnxruntime scoring included) takes;
 *  - the circuit: constraints, public signals, Groth16 setup time (public input);
 *  - proving: witness + prove per proof, median and p90 over N proofs on one thread;
 *  - model execution (0x..0a02): gas of one call from the published schedule, and the native
 *    executor's time per call.
 *
 *   npx tsx bench/import.ts [--proofs 10]
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { execGas, execWork } from '../precompiles/exec-gas.ts';
import { serializeModel } from '../precompiles/model/codec.ts';
import { runModel } from '../precompiles/model/executor.ts';
import { type ParsedSpec, parseModelSpec, parseModelSpecText } from '../precompiles/model/spec.ts';
import { mulberry32, randomInput } from '../precompiles/model/random.ts';
import { importOnnx } from '../prover/onnx/import.ts';
import { compileModel } from '../prover/pipeline/compile-model.ts';
import { loadModelDir, proveInference } from '../prover/pipeline/prove.ts';
import { TINY_SPEC } from '../test/helpers/ai.ts';
import { ROOT, machineNote, quantile, table } from './lib.ts';

const { values: args } = parseArgs({ options: { proofs: { type: 'string', default: '10' } } });
const PROOFS = Math.max(1, Number(args.proofs) || 10);
const DIGITS = join(ROOT, 'test/fixtures/digits');
const load = loadavg()[0]!;
const work = mkdtempSync(join(tmpdir(), 'bench-import-'));
const pct = (x: number | undefined) => (x === undefined ? '-' : `${(x * 100).toFixed(2)}%`);

async function measure(name: string, spec: ParsedSpec): Promise<Record<string, string | number>> {
  const compiled = await compileModel(spec, { outDir: join(work, name) });
  const loaded = loadModelDir(compiled.dir);
  const rng = mulberry32(11);
  const times: number[] = [];
  await proveInference(loaded, Array.from(randomInput(rng, spec.model))); // warm-up: wasm and key loaded
  for (let i = 0; i < PROOFS; i++) {
    const p = await proveInference(loaded, Array.from(randomInput(rng, spec.model)));
    times.push(p.timings.witnessMs + p.timings.proveMs);
  }
  const input = randomInput(rng, spec.model);
  const runs = 2000;
  const t0 = performance.now();
  for (let i = 0; i < runs; i++) runModel(spec.model, input, { trusted: true });
  const execUs = ((performance.now() - t0) * 1000) / runs;
  const bytes = serializeModel(spec.model).length;
  return {
    model: name,
    constraints: compiled.manifest.constraints,
    'public signals': compiled.manifest.publicInputs,
    'setup s': compiled.timings.setupSeconds.toFixed(1),
    'prove ms (median)': quantile(times, 0.5).toFixed(0),
    'prove ms (p90)': quantile(times, 0.9).toFixed(0),
    'exec gas': execGas(bytes, execWork(spec.model)).toString(),
    'exec us/call': execUs.toFixed(1),
  };
}

try {
  const t0 = performance.now();
  const { spec, report } = await importOnnx({
    onnxFile: join(DIGITS, 'digits-mlp.onnx'),
    calibrationFile: join(DIGITS, 'digits-train.csv'),
    evaluationFile: join(DIGITS, 'digits-test.csv'),
    labelColumn: 'last',
    name: 'digits',
  });
  const importMs = performance.now() - t0;
  const ev = report.evaluation!;
  console.log(`model import of digits-mlp.onnx: ${importMs.toFixed(0)} ms (1,797 samples scored against onnxruntime)`);
  console.log(
    table([
      {
        set: 'calibration (1,300)',
        'float acc': pct(report.calibration.floatAccuracy),
        'int8 acc': pct(report.calibration.quantizedAccuracy),
        agreement: pct(report.calibration.top1Agreement),
        'max logit err': report.calibration.maxLogitError.toFixed(3),
        'mean logit err': report.calibration.meanLogitError.toFixed(3),
      },
      {
        set: 'held out (497)',
        'float acc': pct(ev.floatAccuracy),
        'int8 acc': pct(ev.quantizedAccuracy),
        agreement: pct(ev.top1Agreement),
        'max logit err': ev.maxLogitError.toFixed(3),
        'mean logit err': ev.meanLogitError.toFixed(3),
      },
    ]),
  );
  const rows = [await measure('digits 64-32-10 (imported)', parseModelSpec(spec)), await measure('tiny 16-16-4 (example)', parseModelSpecText(readFileSync(TINY_SPEC, 'utf8')))];
  console.log(table(rows));
  console.log(`${PROOFS} proofs per model, one thread. ${machineNote(load)}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
