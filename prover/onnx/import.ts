/**
 * `ai-rollup model import`: a float ONNX model and calibration samples in, the project's int8
 * fixed-point SPEC and an accuracy report out. Read (onnx-graph.ts) -> lower to a float layer
 * chain (lower.ts) -> quantize with the calibration set (quantize.ts) -> score against
 * onnxruntime (accuracy.ts). Pure until the caller writes: every refusal happens before a file is
 * touched.
 */
import { readFile } from 'node:fs/promises';
import { countMacs } from '../../precompiles/model/executor.ts';
import { modelOutputShape, shapeSize, weightCount } from '../../precompiles/model/format.ts';
import { type ModelSpec, toModelSpec } from '../../precompiles/model/spec.ts';
import { modelId } from '../../precompiles/model/commitment.ts';
import { FloatRunner, type SetReport, scoreSet, toChannelsLast } from './accuracy.ts';
import { OnnxImportError } from './errors.ts';
import { lowerGraph } from './lower.ts';
import { readOnnx } from './onnx-graph.ts';
import { type Quantization, quantize } from './quantize.ts';
import { type LabelColumn, readSamples } from './samples.ts';

export interface ImportOptions {
  readonly onnxFile: string;
  readonly calibrationFile: string;
  /** A held-out set, scored but not used for calibration. */
  readonly evaluationFile?: string;
  /** For CSV sample files: whether the last column is the label. */
  readonly labelColumn?: LabelColumn;
  readonly name: string;
  readonly version?: number;
  /** Refuse (ACCURACY) when top-1 agreement on the evaluation set (else calibration) is below this share. */
  readonly minAgreement?: number;
}

export interface ImportReport {
  readonly source: { readonly file: string; readonly producer: string; readonly opset: number };
  readonly modelId: string;
  /** How a caller turns its float input into the model's uint8 input, and the output back. */
  readonly input: { readonly shape: readonly number[]; readonly layout: string; readonly quantize: string };
  readonly output: { readonly size: number; readonly dequantize: string };
  readonly weights: number;
  readonly macs: number;
  readonly notes: readonly string[];
  readonly quantization: Quantization;
  readonly calibration: SetReport;
  readonly evaluation?: SetReport;
}

export interface ImportResult {
  readonly spec: ModelSpec;
  readonly report: ImportReport;
}

function describe(q: Quantization, shape: readonly number[], onnxShape: readonly number[]): ImportReport['input'] {
  const layout = onnxShape.length === 3 ? `channels-last [H, W, C] = [${shape.join(', ')}] (ONNX's [C, H, W] = [${onnxShape.join(', ')}] transposed)` : `[${shape.join(', ')}]`;
  return { shape, layout, quantize: `uint8 = clamp(round(x * 2^${q.inputExponent}), 0, 255)` };
}

export async function importOnnx(opts: ImportOptions): Promise<ImportResult> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(opts.onnxFile));
  } catch (e) {
    throw new OnnxImportError('BAD_ONNX', `cannot read ${opts.onnxFile}: ${(e as Error).message}`);
  }
  const graph = readOnnx(bytes);
  const lowered = lowerGraph(graph);
  const size = lowered.onnxInput.shape.reduce((a, d) => a * d, 1);
  const calibration = await readSamples(opts.calibrationFile, size, opts.labelColumn);
  const evaluation = opts.evaluationFile ? await readSamples(opts.evaluationFile, size, opts.labelColumn) : undefined;
  const { model, quantization } = quantize(
    lowered,
    calibration.inputs.map((x) => toChannelsLast(x, lowered.onnxInput.shape)),
  );
  const runner = await FloatRunner.open(bytes, lowered);
  let calReport: SetReport;
  let evalReport: SetReport | undefined;
  try {
    calReport = await scoreSet(runner, lowered, model, quantization, calibration);
    if (evaluation) evalReport = await scoreSet(runner, lowered, model, quantization, evaluation);
  } finally {
    await runner.close();
  }
  const report: ImportReport = {
    source: { file: opts.onnxFile, producer: graph.producer, opset: graph.opset },
    modelId: modelId(model),
    input: describe(quantization, model.inputShape, lowered.onnxInput.shape),
    output: { size: shapeSize(modelOutputShape(model)), dequantize: `logit = output / 2^${quantization.outputExponent}` },
    weights: model.layers.reduce((a, l) => a + weightCount(l), 0),
    macs: countMacs(model),
    notes: lowered.notes,
    quantization,
    calibration: calReport,
    ...(evalReport ? { evaluation: evalReport } : {}),
  };
  const judged = evalReport ?? calReport;
  if (opts.minAgreement !== undefined && judged.top1Agreement < opts.minAgreement) {
    throw Object.assign(
      new OnnxImportError('ACCURACY', `top-1 agreement ${(judged.top1Agreement * 100).toFixed(2)}% is below the required ${(opts.minAgreement * 100).toFixed(2)}%`),
      { report },
    );
  }
  const description = `Imported from ${opts.onnxFile.split('/').pop()} (${graph.producer || 'unknown producer'}, opset ${graph.opset}). Input ${report.input.layout}: ${report.input.quantize}. Output: ${report.output.dequantize}.`;
  const spec = toModelSpec(model, { name: opts.name, version: opts.version ?? 1, description });
  return { spec, report };
}
