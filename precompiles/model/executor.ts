/**
 * Native deterministic executor: the reference semantics of format.ts in integer arithmetic.
 * Every intermediate value is an integer below 2^33 in magnitude (see the accumulator bound in
 * format.ts), so plain JS numbers are exact; no float rounding can creep in, and the division
 * by 2^shift followed by Math.floor is exact too (dividing by a power of two only changes the
 * exponent). The circuit must reproduce these numbers bit for bit.
 *
 * To add a layer type: add it to format.ts (type, validation, output shape), codec.ts (tag and
 * fields), and give it a runner in RUNNERS below; the `satisfies` clause makes a missing runner a
 * type error.
 */
import {
  type Activation,
  type Conv2dLayer,
  type DenseLayer,
  type Layer,
  type LayerType,
  type MaxPool2dLayer,
  type Model,
  type Pad2dLayer,
  ModelFormatError,
  layerOutputShape,
  shapeSize,
  validateModel,
} from './format.ts';

export interface RunResult {
  /** Last layer's output: uint8 values, or int8 when the last activation is 'none'. */
  output: number[];
  /** Multiply-accumulates performed (dense and conv2d; maxpool2d and pad2d perform none). */
  macs: number;
}

export interface RunOptions {
  /** Skip validateModel when the caller already holds a validated model (e.g. just decoded). */
  trusted?: boolean;
}

/** floor(acc / 2^shift), then saturate to uint8 ('relu') or int8 ('none'). */
export function requantize(acc: number, shift: number, activation: Activation): number {
  const q = Math.floor(acc / 2 ** shift);
  return activation === 'relu' ? (q < 0 ? 0 : q > 255 ? 255 : q) : q < -128 ? -128 : q > 127 ? 127 : q;
}

function runDense(l: DenseLayer, x: readonly number[]): number[] {
  const { inputs: n, outputs: m, weights: w, biases: b } = l;
  const out = new Array<number>(m);
  for (let j = 0; j < m; j++) {
    let acc = b[j]!;
    const row = j * n;
    for (let i = 0; i < n; i++) acc += w[row + i]! * x[i]!;
    out[j] = requantize(acc, l.shift, l.activation);
  }
  return out;
}

function runConv2d(l: Conv2dLayer, x: readonly number[]): number[] {
  const [, W, C] = l.input;
  const [KH, KW] = l.kernel;
  const [SY, SX] = l.stride;
  const K = l.outChannels;
  const [OH, OW] = layerOutputShape(l) as [number, number, number];
  const out = new Array<number>(OH * OW * K);
  for (let oy = 0; oy < OH; oy++) {
    for (let ox = 0; ox < OW; ox++) {
      for (let o = 0; o < K; o++) {
        let acc = l.biases[o]!;
        for (let ky = 0; ky < KH; ky++) {
          for (let kx = 0; kx < KW; kx++) {
            const xBase = ((oy * SY + ky) * W + (ox * SX + kx)) * C;
            const wBase = ((o * KH + ky) * KW + kx) * C;
            for (let c = 0; c < C; c++) acc += l.weights[wBase + c]! * x[xBase + c]!;
          }
        }
        out[(oy * OW + ox) * K + o] = requantize(acc, l.shift, l.activation);
      }
    }
  }
  return out;
}

function runMaxPool2d(l: MaxPool2dLayer, x: readonly number[]): number[] {
  const [, W, C] = l.input;
  const [PH, PW] = l.pool;
  const [SY, SX] = l.stride;
  const [OH, OW] = layerOutputShape(l) as [number, number, number];
  const out = new Array<number>(OH * OW * C);
  for (let oy = 0; oy < OH; oy++) {
    for (let ox = 0; ox < OW; ox++) {
      for (let c = 0; c < C; c++) {
        let best = x[(oy * SY * W + ox * SX) * C + c]!;
        for (let py = 0; py < PH; py++) {
          for (let px = 0; px < PW; px++) {
            const v = x[((oy * SY + py) * W + (ox * SX + px)) * C + c]!;
            if (v > best) best = v;
          }
        }
        out[(oy * OW + ox) * C + c] = best;
      }
    }
  }
  return out;
}

/** Copies `x` into `out` (already zero-filled, of the padded size) at the layer's offsets; any numeric arrays. */
export function zeroPadInto(l: Pick<Pad2dLayer, 'input' | 'pads'>, x: ArrayLike<number>, out: { [i: number]: number }): void {
  const [H, W, C] = l.input;
  const [top, left, , right] = l.pads;
  const OW = W + left + right;
  for (let y = 0; y < H; y++) {
    for (let xx = 0; xx < W; xx++) {
      for (let c = 0; c < C; c++) out[((y + top) * OW + (xx + left)) * C + c] = x[(y * W + xx) * C + c]!;
    }
  }
}

function runPad2d(l: Pad2dLayer, x: readonly number[]): number[] {
  const out = new Array<number>(shapeSize(layerOutputShape(l))).fill(0);
  zeroPadInto(l, x, out);
  return out;
}

type Runner<T extends LayerType> = (layer: Extract<Layer, { type: T }>, x: readonly number[]) => number[];
const RUNNERS = { dense: runDense, conv2d: runConv2d, maxpool2d: runMaxPool2d, pad2d: runPad2d } satisfies { [T in LayerType]: Runner<T> };

/** Multiply-accumulates of one layer (what a gas schedule charges for). */
export function layerMacs(layer: Layer): number {
  switch (layer.type) {
    case 'dense':
      return layer.inputs * layer.outputs;
    case 'conv2d':
      return shapeSize(layerOutputShape(layer)) * layer.kernel[0] * layer.kernel[1] * layer.input[2];
    case 'maxpool2d':
    case 'pad2d':
      return 0;
  }
}

/** MACs of a whole run, known before running (a precompile can charge gas up front). */
export function countMacs(model: Model): number {
  return model.layers.reduce((a, l) => a + layerMacs(l), 0);
}

function checkInput(model: Model, input: Uint8Array | readonly number[]): number[] {
  const n = shapeSize(model.inputShape);
  if (input.length !== n) throw new ModelFormatError('BAD_INPUT', `expected ${n} input values, got ${input.length}`, 'input');
  const x = Array.from(input);
  for (let i = 0; i < n; i++) {
    const v = x[i];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 255) {
      throw new ModelFormatError('BAD_INPUT', `expected a uint8 (0..255), got ${String(v)}`, `input[${i}]`);
    }
  }
  return x;
}

/** Runs a model on a uint8 input vector (flat; channels-last for a 3-D input shape). */
export function runModel(model: Model, input: Uint8Array | readonly number[], opts: RunOptions = {}): RunResult {
  if (!opts.trusted) validateModel(model);
  let x = checkInput(model, input);
  let macs = 0;
  for (const layer of model.layers) {
    x = (RUNNERS[layer.type] as Runner<LayerType>)(layer, x);
    macs += layerMacs(layer);
  }
  return { output: x, macs };
}
