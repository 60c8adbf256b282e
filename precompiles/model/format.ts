/**
 * Fixed-point model format, version 1. Three consumers must agree on it bit for bit: the native
 * executor (executor.ts), the circom circuit generator, and the commitment (codec.ts +
 * commitment.ts). This comment is the normative specification; code follows it.
 *
 * VALUES. The model input is a vector of uint8 (0..255). Every tensor is a flat vector; a 3-D
 * shape [H, W, C] is channels-last, row-major: element (y, x, c) sits at index (y*W + x)*C + c.
 * Weights are int8 (-128..127), biases int32 (-2^31..2^31-1), shifts 0..31.
 *
 * LAYERS, applied in order. Every layer reads uint8 values (see "chaining" below).
 *  dense {inputs n, outputs m, weights [m][n] row-major (w[j][i] at j*n + i), biases [m], shift s,
 *    activation}: for each j, acc_j = bias_j + sum_i w[j][i] * x[i]. Its input may have any shape
 *    whose element count is n (an implicit flatten, which is the identity on the flat vector).
 *    Output shape [m].
 *  conv2d {input [H, W, C], outChannels K, kernel [KH, KW], stride [SY, SX], weights [K][KH][KW][C]
 *    (w[o][ky][kx][c] at ((o*KH + ky)*KW + kx)*C + c), biases [K], shift, activation}: valid padding
 *    (no padding), OH = floor((H - KH)/SY) + 1, OW = floor((W - KW)/SX) + 1, output shape
 *    [OH, OW, K]; for output (oy, ox, o):
 *      acc = bias_o + sum_{ky<KH, kx<KW, c<C} w[o][ky][kx][c] * x[(oy*SY + ky, ox*SX + kx, c)].
 *  maxpool2d {input [H, W, C], pool [PH, PW], stride [SY, SX]}: valid padding, output
 *    [OH, OW, C] sized as for conv2d; out(oy, ox, c) = max over py<PH, px<PW of
 *    x[(oy*SY + py, ox*SX + px, c)]. No rescale, no activation: uint8 in, uint8 out.
 *  pad2d {input [H, W, C], pads [top, left, bottom, right]}: zero padding, output
 *    [top + H + bottom, left + W + right, C]; out(y, x, c) = x[(y - top, x - left, c)] where that
 *    lies inside the input, else 0. No rescale: uint8 in, uint8 out. (Padded convolutions and
 *    pools, e.g. ONNX Conv with pads, are a pad2d followed by the valid-padding layer; zero
 *    padding equals a pool's -infinity padding here because every value a layer reads is >= 0.)
 *
 * REQUANTIZATION (dense and conv2d). acc is an exact integer (no wrap-around). Then
 *    q = floor(acc / 2^s)            -- floor toward minus infinity = arithmetic shift right,
 *                                       e.g. acc = -1, s = 1 gives q = -1; acc = -3, s = 1 gives -2
 *    'relu': out = clamp(q, 0, 255)  -- uint8, saturating at both ends
 *    'none': out = clamp(q, -128, 127) -- int8 logits, saturating; only allowed in the LAST layer.
 * Accumulator bound: a layer reads at most MAX_TENSOR = 4096 values, so
 *    |sum w*x| <= 4096 * 128 * 255 = 133,693,440 < 2^27 and -2^31 - 2^27 < acc < 2^31 + 2^27,
 * i.e. |acc| < 2^32: exact in a JS number, and acc + 2^32 is a non-negative 33-bit value for the
 * circuit's bit decomposition (the low s bits are the remainder, the rest is q + 2^(32-s)).
 *
 * CHAINING. Layer i's declared input must equal layer i-1's output shape (for the first layer:
 * the model input shape); dense compares element counts only. Since 'none' may only be last,
 * every layer reads uint8 values. The model output is the last layer's output: uint8 unless the
 * last layer is 'none' (then int8).
 *
 * LIMITS (keep a proof and a native run bounded): 1..16 layers; every dimension 1..4096; every
 * tensor (model input, each layer's input and output) at most 4096 elements; kernel/pool no
 * larger than the input; at most 1,000,000 weights in total. Model input shape is [n] or [H,W,C].
 *
 * BINARY FORM AND ID: codec.ts (big-endian, fixed-width, canonical); id = keccak256 of it.
 * NOT PART OF THE MODEL: name, version and description of a SPEC.json are metadata. They are not
 * serialized and do not change the model id, so the same weights always have the same id.
 */
import { CodedError } from '../errors.ts';

export const FORMAT_VERSION = 1;
export const MAX_LAYERS = 16;
/** Largest tensor (element count) a layer may read or write; also bounds every dimension. */
export const MAX_TENSOR = 4096;
export const MAX_TOTAL_WEIGHTS = 1_000_000;
export const MAX_SHIFT = 31;
export const INT8_MIN = -128;
export const INT8_MAX = 127;
export const INT32_MIN = -(2 ** 31);
export const INT32_MAX = 2 ** 31 - 1;

export type Activation = 'relu' | 'none';
export type Shape = readonly number[];
export type Pair = readonly [number, number];
export type Shape3 = readonly [number, number, number];

export interface DenseLayer {
  readonly type: 'dense';
  readonly inputs: number;
  readonly outputs: number;
  /** Flat, row-major [outputs][inputs]. */
  readonly weights: readonly number[];
  readonly biases: readonly number[];
  readonly shift: number;
  readonly activation: Activation;
}

export interface Conv2dLayer {
  readonly type: 'conv2d';
  readonly input: Shape3;
  readonly outChannels: number;
  readonly kernel: Pair;
  readonly stride: Pair;
  /** Flat [outChannels][kernelH][kernelW][inChannels]. */
  readonly weights: readonly number[];
  readonly biases: readonly number[];
  readonly shift: number;
  readonly activation: Activation;
}

export interface MaxPool2dLayer {
  readonly type: 'maxpool2d';
  readonly input: Shape3;
  readonly pool: Pair;
  readonly stride: Pair;
}

export interface Pad2dLayer {
  readonly type: 'pad2d';
  readonly input: Shape3;
  /** Zeros added on each side: [top, left, bottom, right]. */
  readonly pads: readonly [number, number, number, number];
}

export type Layer = DenseLayer | Conv2dLayer | MaxPool2dLayer | Pad2dLayer;
/** The layers that carry weights and requantize (the others move uint8 values). */
export type AffineLayer = DenseLayer | Conv2dLayer;
export type LayerType = Layer['type'];

/** The computation only: what the model id commits to. */
export interface Model {
  readonly inputShape: Shape;
  readonly layers: readonly Layer[];
}

export type ModelErrorCode =
  | 'BAD_JSON' // SPEC text is not JSON
  | 'SCHEMA' // wrong JSON type, missing or unknown key
  | 'NOT_INTEGER'
  | 'OUT_OF_RANGE'
  | 'BAD_LENGTH' // an array's length disagrees with the declared dimensions
  | 'BAD_SHAPE' // impossible geometry: rank, kernel larger than input
  | 'SHAPE_MISMATCH' // a layer's input is not the previous layer's output
  | 'TOO_LARGE'
  | 'LAYER_COUNT'
  | 'NONE_NOT_LAST' // an int8 ('none') layer is followed by another layer
  | 'UNKNOWN_LAYER'
  | 'BAD_MAGIC'
  | 'BAD_VERSION'
  | 'BAD_ENUM' // unknown byte for a layer tag or activation in the binary form
  | 'TRUNCATED'
  | 'TRAILING_BYTES'
  | 'BAD_INPUT'; // executor input

export class ModelFormatError extends CodedError {
  constructor(
    override readonly code: ModelErrorCode,
    message: string,
    /** JSON-ish path of the offending value, e.g. `layers[1].weights[3][0]`; '' for the whole. */
    readonly path = '',
  ) {
    super(path ? `${path}: ${message}` : message);
    this.name = 'ModelFormatError';
  }
}

export function shapeSize(shape: Shape): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Output extent of a valid-padding window: floor((n - k) / s) + 1. */
export function windowOut(n: number, k: number, s: number): number {
  return Math.floor((n - k) / s) + 1;
}

export function isAffine(layer: Layer): layer is AffineLayer {
  return layer.type === 'dense' || layer.type === 'conv2d';
}

/** Number of weights a layer carries (0 for maxpool2d and pad2d). */
export function weightCount(layer: Layer): number {
  switch (layer.type) {
    case 'dense':
      return layer.inputs * layer.outputs;
    case 'conv2d':
      return layer.outChannels * layer.kernel[0] * layer.kernel[1] * layer.input[2];
    case 'maxpool2d':
    case 'pad2d':
      return 0;
  }
}

/** Output shape of a layer (assumes its own fields are valid). */
export function layerOutputShape(layer: Layer): Shape {
  switch (layer.type) {
    case 'dense':
      return [layer.outputs];
    case 'conv2d':
    case 'maxpool2d': {
      const k = layer.type === 'conv2d' ? layer.kernel : layer.pool;
      const c = layer.type === 'conv2d' ? layer.outChannels : layer.input[2];
      return [windowOut(layer.input[0], k[0], layer.stride[0]), windowOut(layer.input[1], k[1], layer.stride[1]), c];
    }
    case 'pad2d': {
      const [t, l, b, r] = layer.pads;
      return [layer.input[0] + t + b, layer.input[1] + l + r, layer.input[2]];
    }
  }
}

/** Output shape of the whole model (assumes a valid model). */
export function modelOutputShape(model: Model): Shape {
  return layerOutputShape(model.layers[model.layers.length - 1]!);
}

export function checkInt(v: unknown, lo: number, hi: number, path: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) {
    throw new ModelFormatError('NOT_INTEGER', `expected an integer, got ${typeof v === 'number' ? v : typeof v}`, path);
  }
  if (v < lo || v > hi) throw new ModelFormatError('OUT_OF_RANGE', `${v} is outside ${lo}..${hi}`, path);
  return v;
}

function checkDim(v: unknown, path: string): number {
  return checkInt(v, 1, MAX_TENSOR, path);
}

function checkInts(arr: unknown, len: number, lo: number, hi: number, path: string): void {
  if (!Array.isArray(arr)) throw new ModelFormatError('SCHEMA', 'expected an array', path);
  if (arr.length !== len) throw new ModelFormatError('BAD_LENGTH', `expected ${len} values, got ${arr.length}`, path);
  // a plain loop: this runs over up to a million weights
  for (let i = 0; i < len; i++) {
    const v = arr[i];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) checkInt(v, lo, hi, `${path}[${i}]`);
  }
}

function checkTensor(shape: Shape, path: string): void {
  const n = shapeSize(shape);
  if (n > MAX_TENSOR) throw new ModelFormatError('TOO_LARGE', `tensor [${shape.join(', ')}] has ${n} elements, more than ${MAX_TENSOR}`, path);
}

function checkShape3(v: unknown, path: string): Shape3 {
  if (!Array.isArray(v) || v.length !== 3) throw new ModelFormatError('BAD_SHAPE', 'expected [height, width, channels]', path);
  v.forEach((d, i) => checkDim(d, `${path}[${i}]`));
  checkTensor(v, path);
  return v as unknown as Shape3;
}

function checkWindow(input: Shape3, k: unknown, s: unknown, kName: string, path: string): void {
  for (const [v, name] of [
    [k, kName],
    [s, 'stride'],
  ] as const) {
    if (!Array.isArray(v) || v.length !== 2) throw new ModelFormatError('BAD_SHAPE', 'expected [y, x]', `${path}.${name}`);
    v.forEach((d, i) => checkDim(d, `${path}.${name}[${i}]`));
  }
  const kk = k as Pair;
  if (kk[0] > input[0] || kk[1] > input[1]) {
    throw new ModelFormatError('BAD_SHAPE', `${kName} [${kk.join(', ')}] is larger than the input [${input[0]}, ${input[1]}]`, `${path}.${kName}`);
  }
}

function checkWeightCount(layer: Layer, path: string): void {
  const n = weightCount(layer);
  if (n > MAX_TOTAL_WEIGHTS) throw new ModelFormatError('TOO_LARGE', `${n} weights, more than ${MAX_TOTAL_WEIGHTS}`, `${path}.weights`);
}

/**
 * Checks a layer's geometry: type, dimensions, windows, tensor and weight-count limits; not the
 * weights, biases, shift or activation. Separate so that the SPEC parser can report a bad kernel
 * as such before it checks the nesting of the weight arrays against it.
 */
export function validateGeometry(layer: Pick<Layer, 'type'>, path: string): void {
  const l = layer as Layer;
  switch (l?.type) {
    case 'dense':
      checkDim(l.inputs, `${path}.inputs`);
      checkDim(l.outputs, `${path}.outputs`);
      return checkWeightCount(l, path); // before any scan: 4096 x 4096 would be 16M values
    case 'conv2d':
      checkDim(l.outChannels, `${path}.outChannels`);
      checkWindow(checkShape3(l.input, `${path}.input`), l.kernel, l.stride, 'kernel', path);
      checkTensor(layerOutputShape(l), path);
      return checkWeightCount(l, path);
    case 'maxpool2d':
      return checkWindow(checkShape3(l.input, `${path}.input`), l.pool, l.stride, 'pool', path);
    case 'pad2d': {
      checkShape3(l.input, `${path}.input`);
      if (!Array.isArray(l.pads) || l.pads.length !== 4) throw new ModelFormatError('BAD_SHAPE', 'expected [top, left, bottom, right]', `${path}.pads`);
      l.pads.forEach((p, i) => checkInt(p, 0, MAX_TENSOR, `${path}.pads[${i}]`));
      const out = layerOutputShape(l);
      for (const d of out) checkDim(d, `${path}.pads`);
      return checkTensor(out, path);
    }
    default:
      throw new ModelFormatError('UNKNOWN_LAYER', `unknown layer type ${JSON.stringify((layer as { type?: unknown })?.type)}`, `${path}.type`);
  }
}

/** Checks one layer's own fields (not its place in the chain). Throws ModelFormatError. */
export function validateLayer(layer: Layer, path: string): void {
  validateGeometry(layer, path);
  if (!isAffine(layer)) return;
  checkInt(layer.shift, 0, MAX_SHIFT, `${path}.shift`);
  if (layer.activation !== 'relu' && layer.activation !== 'none') {
    throw new ModelFormatError('SCHEMA', `activation must be 'relu' or 'none', got ${JSON.stringify(layer.activation)}`, `${path}.activation`);
  }
  checkInts(layer.biases, layer.type === 'dense' ? layer.outputs : layer.outChannels, INT32_MIN, INT32_MAX, `${path}.biases`);
  checkInts(layer.weights, weightCount(layer), INT8_MIN, INT8_MAX, `${path}.weights`);
}

/** Checks a whole model against the specification above. Throws the first ModelFormatError. */
export function validateModel(model: Model): void {
  const shape = model.inputShape;
  if (!Array.isArray(shape) || (shape.length !== 1 && shape.length !== 3)) {
    throw new ModelFormatError('BAD_SHAPE', 'input shape must be [n] or [height, width, channels]', 'input.shape');
  }
  shape.forEach((d, i) => checkDim(d, `input.shape[${i}]`));
  checkTensor(shape, 'input.shape');
  const layers = model.layers;
  if (!Array.isArray(layers) || layers.length < 1 || layers.length > MAX_LAYERS) {
    throw new ModelFormatError('LAYER_COUNT', `a model has 1..${MAX_LAYERS} layers`, 'layers');
  }
  let prev: Shape = shape;
  let totalWeights = 0;
  layers.forEach((layer, i) => {
    const path = `layers[${i}]`;
    const before = layers[i - 1];
    if (before && isAffine(before) && before.activation === 'none') {
      throw new ModelFormatError('NONE_NOT_LAST', `activation 'none' (int8 output) is only allowed in the last layer`, `layers[${i - 1}].activation`);
    }
    validateLayer(layer, path);
    if (layer.type === 'dense') {
      if (shapeSize(prev) !== layer.inputs) {
        throw new ModelFormatError('SHAPE_MISMATCH', `inputs is ${layer.inputs} but the previous output has ${shapeSize(prev)} elements`, `${path}.inputs`);
      }
    } else if (prev.length !== 3 || prev.some((d, k) => d !== layer.input[k])) {
      throw new ModelFormatError('SHAPE_MISMATCH', `input [${layer.input.join(', ')}] is not the previous output [${prev.join(', ')}]`, `${path}.input`);
    }
    totalWeights += weightCount(layer);
    if (totalWeights > MAX_TOTAL_WEIGHTS) {
      throw new ModelFormatError('TOO_LARGE', `more than ${MAX_TOTAL_WEIGHTS} weights in total`, `${path}.weights`);
    }
    prev = layerOutputShape(layer);
  });
}
