/**
 * The accuracy report of an import: the float model as onnxruntime runs it (onnxruntime-node, the
 * CPU build its npm package ships) against the quantized model as the project's executor runs it
 * (the executor every node and the circuit agree with), sample by sample. Also checks the
 * importer's own float reading of the graph against onnxruntime, so a lowering that misread the
 * graph is an error rather than a low score.
 */
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { runModel } from '../../precompiles/model/executor.ts';
import type { Model } from '../../precompiles/model/format.ts';
import { OnnxImportError } from './errors.ts';
import { runFloat } from './float-model.ts';
import type { Lowered } from './lower.ts';
import { type Quantization, quantizeInput } from './quantize.ts';
import type { Samples } from './samples.ts';

const { onnx } = onnxProto;

export interface SetReport {
  readonly samples: number;
  /** Share of samples whose quantized top-1 class is the float model's. */
  readonly top1Agreement: number;
  /** Against the labels, when the set has them. */
  readonly floatAccuracy?: number;
  readonly quantizedAccuracy?: number;
  /** |float logit - quantized logit / 2^outputExponent|, over every output of every sample. */
  readonly maxLogitError: number;
  readonly meanLogitError: number;
}

/** Relative disagreement between the importer's float64 reading and onnxruntime's float32 run above which the lowering is wrong. */
const LOWERING_TOLERANCE = 1e-3;

/** The channels-first (ONNX) sample as the format's channels-last input. */
export function toChannelsLast(x: Float64Array, onnxShape: readonly number[]): Float64Array {
  if (onnxShape.length !== 3) return x;
  const [C, H, W] = onnxShape as [number, number, number];
  const out = new Float64Array(x.length);
  for (let c = 0; c < C; c++) for (let y = 0; y < H; y++) for (let xx = 0; xx < W; xx++) out[(y * W + xx) * C + c] = x[(c * H + y) * W + xx]!;
  return out;
}

function argmax(xs: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < xs.length; i++) if (xs[i]! > xs[best]!) best = i;
  return best;
}

/** The model bytes with the logits tensor as a graph output too (when a final Softmax was dropped). */
function exposeLogits(bytes: Uint8Array, logits: string): Uint8Array {
  const model = onnx.ModelProto.decode(bytes);
  const outputs = model.graph?.output ?? [];
  if (outputs.some((o) => o.name === logits)) return bytes;
  outputs.push(onnx.ValueInfoProto.create({ name: logits, type: outputs[0]?.type }));
  return onnx.ModelProto.encode(model).finish();
}

export class FloatRunner {
  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly lowered: Lowered,
  ) {}

  static async open(bytes: Uint8Array, lowered: Lowered): Promise<FloatRunner> {
    try {
      return new FloatRunner(await ort.InferenceSession.create(exposeLogits(bytes, lowered.logits)), lowered);
    } catch (e) {
      throw new OnnxImportError('BAD_ONNX', `onnxruntime cannot load the model: ${(e as Error).message}`);
    }
  }

  /** onnxruntime's logits for one sample in ONNX layout. */
  async logits(x: Float64Array): Promise<Float64Array> {
    const { name, shape } = this.lowered.onnxInput;
    const feeds = { [name]: new ort.Tensor('float32', Float32Array.from(x), [1, ...shape]) };
    const out = await this.session.run(feeds, [this.lowered.logits]);
    return Float64Array.from(out[this.lowered.logits]!.data as Float32Array);
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}

/** Scores one sample set; throws LOWERING_MISMATCH if the importer's float model is not onnxruntime's. */
export async function scoreSet(runner: FloatRunner, lowered: Lowered, model: Model, q: Quantization, set: Samples): Promise<SetReport> {
  let agree = 0;
  let floatRight = 0;
  let quantRight = 0;
  let maxErr = 0;
  let sumErr = 0;
  let count = 0;
  const scale = 2 ** -q.outputExponent;
  for (const [i, x] of set.inputs.entries()) {
    const ref = await runner.logits(x);
    const hwc = toChannelsLast(x, lowered.onnxInput.shape);
    const mine = runFloat(lowered, hwc).at(-1)!;
    const bound = LOWERING_TOLERANCE * Math.max(1, ...Array.from(ref, Math.abs));
    if (mine.length !== ref.length || mine.some((v, k) => Math.abs(v - ref[k]!) > bound)) {
      throw new OnnxImportError(
        'LOWERING_MISMATCH',
        `sample ${i}: the importer's float reading of the graph gives [${Array.from(mine, (v) => v.toFixed(4)).join(', ')}], onnxruntime [${Array.from(ref, (v) => v.toFixed(4)).join(', ')}]`,
      );
    }
    const out = runModel(model, quantizeInput(hwc, q.inputExponent), { trusted: true }).output.map((v) => v * scale);
    const top = argmax(ref);
    if (argmax(out) === top) agree++;
    const label = set.labels?.[i];
    if (label !== undefined) {
      if (top === label) floatRight++;
      if (argmax(out) === label) quantRight++;
    }
    out.forEach((v, k) => {
      const err = Math.abs(v - ref[k]!);
      maxErr = Math.max(maxErr, err);
      sumErr += err;
      count++;
    });
  }
  const n = set.inputs.length;
  const report: SetReport = { samples: n, top1Agreement: agree / n, maxLogitError: maxErr, meanLogitError: sumErr / count };
  return set.labels ? { ...report, floatAccuracy: floatRight / n, quantizedAccuracy: quantRight / n } : report;
}
