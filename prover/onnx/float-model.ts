/**
 * The float model the lowering produces: the project's layer list (format.ts) with float weights,
 * in the format's layout (channels-last), before quantization. `runFloat` runs it in float64; the
 * quantizer reads activation ranges from it and the report checks it against onnxruntime, which
 * catches a lowering that misread the graph before any int8 rounding is in the way.
 */
import { zeroPadInto } from '../../precompiles/model/executor.ts';
import { type Pair, type Shape, type Shape3, layerOutputShape, shapeSize, windowOut } from '../../precompiles/model/format.ts';

export interface FloatDense {
  readonly type: 'dense';
  readonly inputs: number;
  readonly outputs: number;
  /** Row-major [outputs][inputs] over the channels-last flat input. */
  weights: Float64Array;
  biases: Float64Array;
  relu: boolean;
  /** The ONNX node(s) this layer came from, for messages. */
  readonly source: string;
}

export interface FloatConv2d {
  readonly type: 'conv2d';
  readonly input: Shape3;
  readonly outChannels: number;
  readonly kernel: Pair;
  readonly stride: Pair;
  /** [outChannels][kernelH][kernelW][inChannels]. */
  weights: Float64Array;
  biases: Float64Array;
  relu: boolean;
  readonly source: string;
}

export interface FloatMaxPool2d {
  readonly type: 'maxpool2d';
  readonly input: Shape3;
  readonly pool: Pair;
  readonly stride: Pair;
  readonly source: string;
}

export interface FloatPad2d {
  readonly type: 'pad2d';
  readonly input: Shape3;
  /** [top, left, bottom, right], zeros. */
  readonly pads: readonly [number, number, number, number];
  readonly source: string;
}

export type FloatLayer = FloatDense | FloatConv2d | FloatMaxPool2d | FloatPad2d;
export type AffineLayer = FloatDense | FloatConv2d;

export interface FloatModel {
  /** The format's input shape: [n] or [H, W, C]. */
  readonly inputShape: Shape;
  readonly layers: FloatLayer[];
}

export function isAffine(l: FloatLayer): l is AffineLayer {
  return l.type === 'dense' || l.type === 'conv2d';
}

function runDense(l: FloatDense, x: Float64Array): Float64Array {
  const out = new Float64Array(l.outputs);
  for (let j = 0; j < l.outputs; j++) {
    let acc = l.biases[j]!;
    const row = j * l.inputs;
    for (let i = 0; i < l.inputs; i++) acc += l.weights[row + i]! * x[i]!;
    out[j] = l.relu && acc < 0 ? 0 : acc;
  }
  return out;
}

function runConv(l: FloatConv2d, x: Float64Array): Float64Array {
  const [H, W, C] = l.input;
  const [KH, KW] = l.kernel;
  const [SY, SX] = l.stride;
  const K = l.outChannels;
  const OH = windowOut(H, KH, SY);
  const OW = windowOut(W, KW, SX);
  const out = new Float64Array(OH * OW * K);
  for (let oy = 0; oy < OH; oy++) {
    for (let ox = 0; ox < OW; ox++) {
      for (let o = 0; o < K; o++) {
        let acc = l.biases[o]!;
        for (let ky = 0; ky < KH; ky++) {
          for (let kx = 0; kx < KW; kx++) {
            const xb = ((oy * SY + ky) * W + (ox * SX + kx)) * C;
            const wb = ((o * KH + ky) * KW + kx) * C;
            for (let c = 0; c < C; c++) acc += l.weights[wb + c]! * x[xb + c]!;
          }
        }
        out[(oy * OW + ox) * K + o] = l.relu && acc < 0 ? 0 : acc;
      }
    }
  }
  return out;
}

function runMaxPool(l: FloatMaxPool2d, x: Float64Array): Float64Array {
  const [H, W, C] = l.input;
  const [PH, PW] = l.pool;
  const [SY, SX] = l.stride;
  const OH = windowOut(H, PH, SY);
  const OW = windowOut(W, PW, SX);
  const out = new Float64Array(OH * OW * C);
  for (let oy = 0; oy < OH; oy++) {
    for (let ox = 0; ox < OW; ox++) {
      for (let c = 0; c < C; c++) {
        let best = Number.NEGATIVE_INFINITY;
        for (let py = 0; py < PH; py++) {
          for (let px = 0; px < PW; px++) best = Math.max(best, x[((oy * SY + py) * W + (ox * SX + px)) * C + c]!);
        }
        out[(oy * OW + ox) * C + c] = best;
      }
    }
  }
  return out;
}

/** The [H, W, C] a zero-padding layer makes of `input`. */
export function paddedShape(input: Shape3, pads: readonly [number, number, number, number]): Shape3 {
  return layerOutputShape({ type: 'pad2d', input, pads }) as Shape3;
}

/** Runs one layer in float64. */
export function runFloatLayer(l: FloatLayer, x: Float64Array): Float64Array {
  switch (l.type) {
    case 'dense':
      return runDense(l, x);
    case 'conv2d':
      return runConv(l, x);
    case 'maxpool2d':
      return runMaxPool(l, x);
    case 'pad2d': {
      const out = new Float64Array(shapeSize(paddedShape(l.input, l.pads)));
      zeroPadInto(l, x, out);
      return out;
    }
  }
}

/** Every layer's output for one channels-last input, in order (the last is the model output). */
export function runFloat(model: FloatModel, input: Float64Array): Float64Array[] {
  const outs: Float64Array[] = [];
  let x = input;
  for (const l of model.layers) {
    x = runFloatLayer(l, x);
    outs.push(x);
  }
  return outs;
}
