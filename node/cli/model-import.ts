/**
 * `ai-rollup model import`: a float ONNX model -> the project's int8 SPEC.json, with the accuracy
 * report printed and written beside it (<spec>.report.json). Both files are written only once
 * everything succeeded (each through a temporary file and a rename), so a refused import leaves
 * nothing behind.
 */
import { rename, writeFile } from 'node:fs/promises';
import { basename, extname, resolve } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';

interface ImportFlags {
  calibration: string;
  eval?: string;
  labels: 'last' | 'none';
  out?: string;
  name?: string;
  version: number;
  minAgreement?: number;
  json: boolean;
}

function parseShare(v: string): number {
  const x = Number(v);
  if (!Number.isFinite(x) || x < 0 || x > 1) throw new InvalidArgumentError('expected a share from 0 to 1, e.g. 0.98');
  return x;
}

function parseVersion(v: string): number {
  const x = Number(v);
  if (!Number.isInteger(x) || x < 0 || x > 2 ** 32 - 1) throw new InvalidArgumentError('expected an integer 0..2^32-1');
  return x;
}

const pct = (x: number | undefined) => (x === undefined ? '-' : `${(x * 100).toFixed(2)}%`);

type Report = import('../../prover/onnx/import.ts').ImportReport;
type SetReport = import('../../prover/onnx/accuracy.ts').SetReport;

function text(r: Report, specPath: string): string {
  const row = (name: string, s: SetReport) =>
    `  ${name.padEnd(12)} ${String(s.samples).padStart(7)}  ${pct(s.top1Agreement).padStart(9)}  ${pct(s.floatAccuracy).padStart(8)}  ${pct(s.quantizedAccuracy).padStart(8)}  ${s.maxLogitError.toFixed(4).padStart(8)}  ${s.meanLogitError.toFixed(4).padStart(8)}`;
  const lines = [
    `imported ${r.source.file} (${r.source.producer || 'unknown producer'}, opset ${r.source.opset}) -> ${specPath}`,
    `model id ${r.modelId}: ${r.quantization.layers.map((l) => l.type).join(' -> ')}, ${r.weights} weights, ${r.macs} MACs`,
    `input ${r.input.layout}: ${r.input.quantize}`,
    `output ${r.output.size} values: ${r.output.dequantize}`,
    ...r.notes.map((n) => `note: ${n}`),
    '',
    '  set          samples  agreement  float acc  int8 acc  max err  mean err',
    row('calibration', r.calibration),
    ...(r.evaluation ? [row('evaluation', r.evaluation)] : []),
    '',
  ];
  return `${lines.join('\n')}\n`;
}

async function writeAtomic(path: string, data: string): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, data);
  await rename(tmp, path);
}

export function importCommand(): Command {
  return new Command('import')
    .description('ONNX model (float) -> int8 fixed-point SPEC.json, quantized with calibration samples, and an accuracy report against onnxruntime')
    .argument(
      '<model.onnx>',
      'the float model: Gemm/MatMul(+Add), Conv (pads, strides, auto_pad), MaxPool, Relu; BatchNormalization, Flatten/Reshape, Identity, Dropout and a final Softmax are folded',
    )
    .requiredOption('--calibration <file>', 'calibration samples in the ONNX input layout: CSV (one sample a line) or JSON {"inputs": [[...]], "labels": [...]}')
    .option('--eval <file>', 'a held-out set scored in the report (same forms)')
    .addOption(new Option('--labels <column>', "CSV files: 'last' when each line ends with its class label").choices(['last', 'none']).default('none'))
    .option('--out <file>', 'the SPEC.json to write (default: ./<model name>.json); the report goes to <out without .json>.report.json')
    .option('--name <name>', 'model name in the spec (default: the ONNX file name)')
    .option('--version <n>', 'model version in the spec', parseVersion, 1)
    .option(
      '--min-agreement <share>',
      'fail (exit 1, nothing written) if top-1 agreement with the float model is below this share, on --eval if given, else on the calibration set',
      parseShare,
    )
    .option('--json', 'print the report as JSON instead of a table', false)
    .action(async (onnxFile: string, f: ImportFlags) => {
      const { importOnnx } = await import('../../prover/onnx/import.ts');
      const name = f.name ?? basename(onnxFile, extname(onnxFile));
      const out = resolve(f.out ?? `${name}.json`);
      const reportPath = `${out.endsWith('.json') ? out.slice(0, -5) : out}.report.json`;
      let result: Awaited<ReturnType<typeof importOnnx>>;
      try {
        result = await importOnnx({
          onnxFile,
          calibrationFile: f.calibration,
          evaluationFile: f.eval,
          labelColumn: f.labels,
          name,
          version: f.version,
          minAgreement: f.minAgreement,
        });
      } catch (err) {
        const report = (err as { report?: Report }).report;
        if (report) process.stdout.write(f.json ? `${JSON.stringify(report, null, 2)}\n` : text(report, '(not written)'));
        throw err;
      }
      await writeAtomic(out, `${JSON.stringify(result.spec)}\n`);
      await writeAtomic(reportPath, `${JSON.stringify(result.report, null, 2)}\n`);
      process.stdout.write(f.json ? `${JSON.stringify({ spec: out, report: reportPath, ...result.report }, null, 2)}\n` : `${text(result.report, out)}report: ${reportPath}\n`);
    });
}
