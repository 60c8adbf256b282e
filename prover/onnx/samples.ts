/**
 * Calibration and evaluation samples for `model import`: one float vector per sample in the ONNX
 * model's own input layout (flattened, channels-first for an image), with an optional class label.
 * Two file forms:
 *  - CSV (.csv, or any other extension): one sample per line, values separated by commas or
 *    whitespace; with `labelColumn: 'last'` the last value of each line is its integer label
 *    (the UCI and scikit-learn digits files are in this form);
 *  - JSON (.json): { "inputs": [[...], ...], "labels"?: [...] } or a bare array of inputs.
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { OnnxImportError } from './errors.ts';

export interface Samples {
  readonly inputs: readonly Float64Array[];
  /** One label per input, or none at all. */
  readonly labels?: readonly number[];
}

export type LabelColumn = 'last' | 'none';

/** Most samples read from one file: plenty for calibration and a report, bounded for memory. */
export const MAX_SAMPLES = 100_000;

const jsonSamples = z.union([z.array(z.array(z.number())), z.strictObject({ inputs: z.array(z.array(z.number())), labels: z.array(z.int().min(0)).optional() })]);

function parseCsv(text: string, labelColumn: LabelColumn, file: string): Samples {
  const inputs: Float64Array[] = [];
  const labels: number[] = [];
  const lines = text.split(/\r?\n/);
  for (const [i, raw] of lines.entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const values = line.split(/[,\s]+/).map(Number);
    if (values.some((v) => !Number.isFinite(v))) throw new OnnxImportError('BAD_SAMPLES', `${file}:${i + 1}: not a list of numbers`);
    if (labelColumn === 'last') {
      const label = values.pop()!;
      if (!Number.isInteger(label) || label < 0) throw new OnnxImportError('BAD_SAMPLES', `${file}:${i + 1}: the label ${label} is not a class index`);
      labels.push(label);
    }
    inputs.push(Float64Array.from(values));
    if (inputs.length > MAX_SAMPLES) throw new OnnxImportError('BAD_SAMPLES', `${file}: more than ${MAX_SAMPLES} samples`);
  }
  return labelColumn === 'last' ? { inputs, labels } : { inputs };
}

function parseJson(text: string, file: string): Samples {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new OnnxImportError('BAD_SAMPLES', `${file}: not valid JSON: ${(e as Error).message}`);
  }
  const r = jsonSamples.safeParse(json);
  if (!r.success) throw new OnnxImportError('BAD_SAMPLES', `${file}: expected [[numbers]] or { "inputs": [[numbers]], "labels": [integers] }`);
  const v = r.data;
  const inputs = (Array.isArray(v) ? v : v.inputs).map((x) => Float64Array.from(x));
  if (inputs.length > MAX_SAMPLES) throw new OnnxImportError('BAD_SAMPLES', `${file}: more than ${MAX_SAMPLES} samples`);
  if (Array.isArray(v) || !v.labels) return { inputs };
  if (v.labels.length !== inputs.length) throw new OnnxImportError('BAD_SAMPLES', `${file}: ${v.labels.length} labels for ${inputs.length} inputs`);
  return { inputs, labels: v.labels };
}

/** Reads a sample file; every sample must have `size` values. */
export async function readSamples(file: string, size: number, labelColumn: LabelColumn = 'none'): Promise<Samples> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new OnnxImportError('BAD_SAMPLES', `cannot read ${file}: ${(e as Error).message}`);
  }
  const samples = file.endsWith('.json') ? parseJson(text, file) : parseCsv(text, labelColumn, file);
  if (samples.inputs.length === 0) throw new OnnxImportError('BAD_SAMPLES', `${file}: no samples`);
  samples.inputs.forEach((x, i) => {
    if (x.length !== size) throw new OnnxImportError('BAD_SAMPLES', `${file}: sample ${i} has ${x.length} values; the model's input has ${size}`);
  });
  return samples;
}
