/**
 * Post-training quantization of a float layer chain into the fixed-point format (format.ts).
 *
 * Every tensor is represented as an integer q with real value q / 2^e for a per-tensor exponent e
 * (a power-of-two scale, no zero point, so real 0 is integer 0 and zero padding stays exact):
 *  - the input: e_in is the largest e with max(calibration input) * 2^e <= 255, and a caller
 *    feeds round(x * 2^e_in) clamped to 0..255 (inputs must be non-negative: the format's input
 *    is uint8);
 *  - a dense/conv layer: int8 weights round(w * 2^e_w), e_w the largest e with max|w| * 2^e <= 127;
 *    the accumulator then has exponent e_acc = e_x + e_w, so the int32 bias is round(b * 2^e_acc);
 *  - its output: e_y the largest e with max(calibration output) * 2^e <= 255 (Relu, uint8) or
 *    127 (the last layer without Relu, int8 logits), and shift s = e_acc - e_y (clamped to 0..31);
 *    2^(s-1) is added to the bias so the format's floor(acc / 2^s) rounds to nearest;
 *  - maxpool2d and pad2d keep their input's exponent.
 * Calibration ranges come from the float model run on the calibration samples (the maximum, so no
 * calibration value saturates; values beyond it saturate at the format's clamp).
 */
import { INT32_MAX, INT32_MIN, type Layer, MAX_SHIFT, type Model, validateModel } from '../../precompiles/model/format.ts';
import { OnnxImportError } from './errors.ts';
import { type AffineLayer, type FloatModel, runFloat } from './float-model.ts';

export interface LayerQuantization {
  readonly source: string;
  readonly type: Layer['type'];
  /** Weight exponent (weights = round(w * 2^e)); absent for layers without weights. */
  readonly weightExponent?: number;
  readonly shift?: number;
  /** Exponent of this layer's output values. */
  readonly outputExponent: number;
}

export interface Quantization {
  /** uint8 input = clamp(round(x * 2^inputExponent), 0, 255), channels-last. */
  readonly inputExponent: number;
  /** real output = output / 2^outputExponent. */
  readonly outputExponent: number;
  readonly layers: readonly LayerQuantization[];
}

export interface Quantized {
  readonly model: Model;
  readonly quantization: Quantization;
}

/** Largest integer e with max * 2^e <= limit (e = 0 for an all-zero tensor). */
function exponentFor(max: number, limit: number): number {
  if (!(max > 0)) return 0;
  let e = Math.floor(Math.log2(limit / max));
  // log2 rounding at exact powers of two
  while (max * 2 ** (e + 1) <= limit) e++;
  while (max * 2 ** e > limit) e--;
  return e;
}

function maxAbs(xs: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < xs.length; i++) m = Math.max(m, Math.abs(xs[i]!));
  return m;
}

/** Quantizes one channels-last float input to the model's uint8 input. */
export function quantizeInput(x: ArrayLike<number>, inputExponent: number): number[] {
  const k = 2 ** inputExponent;
  return Array.from(x, (v) => Math.min(255, Math.max(0, Math.round(v * k))));
}

/** Per layer, the largest value (|value| for the last) its output takes over the calibration set. */
function calibrate(model: FloatModel, samples: readonly Float64Array[]): number[] {
  const max = new Array<number>(model.layers.length).fill(0);
  for (const s of samples) {
    runFloat(model, s).forEach((out, i) => {
      max[i] = Math.max(max[i]!, maxAbs(out));
    });
  }
  return max;
}

function quantizeAffine(l: AffineLayer, eIn: number, maxOut: number, last: boolean): { layer: Layer; q: LayerQuantization } {
  const limit = l.relu ? 255 : 127;
  let eW = exponentFor(maxAbs(l.weights), 127);
  const eYWanted = maxOut > 0 ? exponentFor(maxOut, limit) : eIn + eW;
  for (let tries = 0; tries < 64; tries++, eW--) {
    const eAcc = eIn + eW;
    let shift = eAcc - eYWanted;
    if (shift < 0) shift = 0; // the output range is under-used rather than over-scaled
    if (shift > MAX_SHIFT) continue; // coarser weights bring the shift back into range
    const eY = eAcc - shift;
    const round = shift > 0 ? 2 ** (shift - 1) : 0;
    const biases = Array.from(l.biases, (b) => Math.round(b * 2 ** eAcc) + round);
    if (biases.some((b) => b < INT32_MIN || b > INT32_MAX)) continue; // a bias too large for int32 at this scale
    const weights = Array.from(l.weights, (w) => Math.min(127, Math.max(-128, Math.round(w * 2 ** eW))));
    const activation = l.relu ? 'relu' : 'none';
    if (!l.relu && !last) throw new OnnxImportError('QUANTIZATION', `layer '${l.source}' has no Relu and is not last`);
    const layer: Layer =
      l.type === 'dense'
        ? { type: 'dense', inputs: l.inputs, outputs: l.outputs, weights, biases, shift, activation }
        : { type: 'conv2d', input: l.input, outChannels: l.outChannels, kernel: l.kernel, stride: l.stride, weights, biases, shift, activation };
    return { layer, q: { source: l.source, type: l.type, weightExponent: eW, shift, outputExponent: eY } };
  }
  throw new OnnxImportError('QUANTIZATION', `layer '${l.source}': no power-of-two scale fits its weights in int8, its biases in int32 and its shift in 0..${MAX_SHIFT}`);
}

/** Quantizes a float chain with calibration samples given channels-last. */
export function quantize(model: FloatModel, samples: readonly Float64Array[]): Quantized {
  if (samples.length === 0) throw new OnnxImportError('BAD_SAMPLES', 'calibration needs at least one sample');
  let minIn = 0;
  let maxIn = 0;
  for (const s of samples) {
    for (const v of s) {
      if (!Number.isFinite(v)) throw new OnnxImportError('BAD_SAMPLES', 'a calibration sample holds a value that is not a finite number');
      minIn = Math.min(minIn, v);
      maxIn = Math.max(maxIn, v);
    }
  }
  if (minIn < 0)
    throw new OnnxImportError(
      'BAD_SAMPLES',
      `calibration inputs go down to ${minIn}; the format's input is uint8, so inputs must be non-negative (shift them in the model's first layer)`,
    );
  const inputExponent = exponentFor(maxIn, 255);
  const maxOut = calibrate(model, samples);
  const layers: Layer[] = [];
  const info: LayerQuantization[] = [];
  let e = inputExponent;
  model.layers.forEach((l, i) => {
    if (l.type === 'dense' || l.type === 'conv2d') {
      const { layer, q } = quantizeAffine(l, e, maxOut[i]!, i === model.layers.length - 1);
      layers.push(layer);
      info.push(q);
      e = q.outputExponent;
    } else if (l.type === 'maxpool2d') {
      layers.push({ type: 'maxpool2d', input: l.input, pool: l.pool, stride: l.stride });
      info.push({ source: l.source, type: 'maxpool2d', outputExponent: e });
    } else {
      layers.push({ type: 'pad2d', input: l.input, pads: l.pads });
      info.push({ source: l.source, type: 'pad2d', outputExponent: e });
    }
  });
  const out: Model = { inputShape: model.inputShape, layers };
  validateModel(out);
  return { model: out, quantization: { inputExponent, outputExponent: e, layers: info } };
}
