/**
 * ONNX graph -> the project's layer chain in float (float-model.ts). The format is a chain of
 * dense, conv2d, maxpool2d and pad2d layers, channels-last, with Relu after every layer but the
 * last; so the lowering walks the nodes in order, keeps one running activation, and:
 *  - maps Gemm (alpha, beta, transB), MatMul, Conv (pads, strides, auto_pad, kernel_shape),
 *    MaxPool and GlobalMaxPool (pads, strides) and Relu;
 *  - folds what is arithmetic on constants: BatchNormalization and Add-of-a-constant into the
 *    preceding Conv/Gemm/MatMul, Flatten/Reshape to [batch, features], Identity, Dropout, and a
 *    final Softmax/LogSoftmax (monotone: the argmax is unchanged; the model returns logits);
 *  - turns ONNX's channels-first layout into the format's channels-last: conv weights are
 *    reordered, and the dense layer after a Flatten has its columns permuted so it reads the
 *    channels-last vector the same way ONNX reads the channels-first one.
 * Anything else is refused with the node's name and op type (OnnxImportError); nothing is guessed.
 */
import type { Pair, Shape3 } from '../../precompiles/model/format.ts';
import { OnnxImportError } from './errors.ts';
import { type AffineLayer, type FloatLayer, type FloatModel, isAffine, paddedShape } from './float-model.ts';
import type { AttrValue, OnnxGraph, OnnxNode, Tensor } from './onnx-graph.ts';

/** What the importer learnt besides the layers: for the report and the ONNX runtime check. */
export interface Lowered extends FloatModel {
  /** The ONNX input's name and its shape without the batch axis ([F] or [C, H, W]). */
  readonly onnxInput: { readonly name: string; readonly shape: readonly number[] };
  /** The tensor holding the logits the quantized model returns (before a dropped Softmax). */
  readonly logits: string;
  /** What was folded or dropped, one line each, for the report. */
  readonly notes: string[];
}

/** The running activation: its ONNX shape without batch, and the channels-first shape it was flattened from. */
interface Current {
  name: string;
  shape: readonly number[];
  flatFrom?: Shape3;
}

class Lowering {
  readonly layers: FloatLayer[] = [];
  readonly notes: string[] = [];
  cur: Current;
  /** Set by a final Softmax: its output is the graph output, its input the logits. */
  logits: string | undefined;

  constructor(
    readonly g: OnnxGraph,
    input: Current,
  ) {
    this.cur = input;
  }

  constant(n: OnnxNode, i: number, what: string): Tensor {
    const t = this.g.constants.get(n.inputs[i] ?? '');
    if (!t) throw new OnnxImportError('UNSUPPORTED_GRAPH', `${what} (input ${i}, '${n.inputs[i] ?? ''}') must be a constant`, n);
    return t;
  }

  optionalConstant(n: OnnxNode, i: number, what: string): Tensor | undefined {
    return n.inputs[i] ? this.constant(n, i, what) : undefined;
  }

  /** The node's activation input must be the running activation: the format is a chain. */
  takeInput(n: OnnxNode): void {
    const x = n.inputs[0] ?? '';
    if (x !== this.cur.name) {
      const why = this.g.constants.has(x) ? 'its first input is a constant' : `it reads '${x}', not the previous layer's output '${this.cur.name}'`;
      throw new OnnxImportError('UNSUPPORTED_GRAPH', `${why}; only a chain of layers can be imported`, n);
    }
    for (let i = 1; i < n.inputs.length; i++) {
      if (n.inputs[i] && !this.g.constants.has(n.inputs[i]!) && n.opType !== 'Dropout') {
        throw new OnnxImportError('UNSUPPORTED_GRAPH', `input '${n.inputs[i]}' is computed, not a constant; only a chain of layers can be imported`, n);
      }
    }
  }

  output(n: OnnxNode, shape: readonly number[], flatFrom?: Shape3): void {
    this.cur = flatFrom ? { name: n.outputs[0]!, shape, flatFrom } : { name: n.outputs[0]!, shape };
  }

  spatial(n: OnnxNode): Shape3 {
    const s = this.cur.shape;
    if (s.length !== 3) throw new OnnxImportError('UNSUPPORTED_GRAPH', `expects an image [C, H, W], the input here is [${s.join(', ')}]`, n);
    return s as unknown as Shape3;
  }

  /** The last layer, if it is an affine layer still open for folding (no Relu, nothing after it). */
  openAffine(n: OnnxNode, what: string): AffineLayer {
    const last = this.layers[this.layers.length - 1];
    if (!last || !isAffine(last) || last.relu) {
      throw new OnnxImportError('UNSUPPORTED_GRAPH', `${what} can only be folded into a directly preceding Conv, Gemm or MatMul (before its Relu)`, n);
    }
    return last;
  }
}

function attr(n: OnnxNode, name: string): AttrValue | undefined {
  return n.attrs.get(name);
}

function intAttr(n: OnnxNode, name: string, dflt: number): number {
  const v = attr(n, name);
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new OnnxImportError('UNSUPPORTED_ATTR', `attribute ${name} is not a number`, n);
  return v;
}

function intsAttr(n: OnnxNode, name: string): readonly number[] | undefined {
  const v = attr(n, name);
  if (v === undefined) return undefined;
  if (!Array.isArray(v)) throw new OnnxImportError('UNSUPPORTED_ATTR', `attribute ${name} is not a list of integers`, n);
  return v as readonly number[];
}

function stringAttr(n: OnnxNode, name: string, dflt: string): string {
  const v = attr(n, name);
  return typeof v === 'string' ? v : dflt;
}

function refuseAttr(n: OnnxNode, name: string, ok: (v: AttrValue) => boolean, want: string): void {
  const v = attr(n, name);
  if (v !== undefined && !ok(v)) throw new OnnxImportError('UNSUPPORTED_ATTR', `${name}=${JSON.stringify(v)} is not supported (only ${want})`, n);
}

const allOnes = (v: AttrValue) => Array.isArray(v) && v.every((d) => d === 1);

/** Pads [top, left, bottom, right] from pads/auto_pad, as ONNX defines them for a 2-D window. */
function windowPads(n: OnnxNode, hw: Pair, k: Pair, s: Pair): [number, number, number, number] {
  const autoPad = stringAttr(n, 'auto_pad', 'NOTSET');
  if (autoPad === 'VALID') return [0, 0, 0, 0];
  if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    const pad = (i: 0 | 1): [number, number] => {
      const total = Math.max((Math.ceil(hw[i] / s[i]) - 1) * s[i] + k[i] - hw[i], 0);
      const small = Math.floor(total / 2);
      return autoPad === 'SAME_UPPER' ? [small, total - small] : [total - small, small];
    };
    const [t, b] = pad(0);
    const [l, r] = pad(1);
    return [t, l, b, r];
  }
  if (autoPad !== 'NOTSET') throw new OnnxImportError('UNSUPPORTED_ATTR', `auto_pad=${autoPad} is not supported`, n);
  const pads = intsAttr(n, 'pads') ?? [0, 0, 0, 0];
  if (pads.length !== 4 || pads.some((p) => !Number.isInteger(p) || p < 0)) {
    throw new OnnxImportError('UNSUPPORTED_ATTR', `pads [${pads.join(', ')}] must be four non-negative integers (2-D)`, n);
  }
  return [pads[0]!, pads[1]!, pads[2]!, pads[3]!];
}

function pair(n: OnnxNode, name: string, dflt: Pair): Pair {
  const v = intsAttr(n, name);
  if (v === undefined) return dflt;
  if (v.length !== 2 || v.some((d) => !Number.isInteger(d) || d < 1))
    throw new OnnxImportError('UNSUPPORTED_ATTR', `${name} [${v.join(', ')}] must be two positive integers (2-D)`, n);
  return [v[0]!, v[1]!];
}

/** A zero-padding layer before a window op, if any side is padded; returns the padded [H, W, C]. */
function addPad(L: Lowering, n: OnnxNode, hwc: Shape3, pads: [number, number, number, number]): Shape3 {
  if (pads.every((p) => p === 0)) return hwc;
  L.layers.push({ type: 'pad2d', input: hwc, pads, source: n.name });
  return paddedShape(hwc, pads);
}

function toHwc(chw: Shape3): Shape3 {
  return [chw[1], chw[2], chw[0]];
}

function conv(L: Lowering, n: OnnxNode): void {
  L.takeInput(n);
  const [C, H, W] = L.spatial(n);
  const w = L.constant(n, 1, 'the weights');
  const b = L.optionalConstant(n, 2, 'the bias');
  refuseAttr(n, 'group', (v) => v === 1, 'group=1');
  refuseAttr(n, 'dilations', allOnes, 'dilations of 1');
  if (w.dims.length !== 4 || w.dims[1] !== C) throw new OnnxImportError('UNSUPPORTED_GRAPH', `weights [${w.dims.join(', ')}] do not fit a 2-D convolution over ${C} channels`, n);
  const [K, , KH, KW] = w.dims as [number, number, number, number];
  const ks = intsAttr(n, 'kernel_shape');
  if (ks && (ks[0] !== KH || ks[1] !== KW)) throw new OnnxImportError('UNSUPPORTED_ATTR', `kernel_shape [${ks.join(', ')}] disagrees with the weights`, n);
  const stride = pair(n, 'strides', [1, 1]);
  const input = addPad(L, n, [H, W, C], windowPads(n, [H, W], [KH, KW], stride));
  if (KH > input[0] || KW > input[1]) throw new OnnxImportError('UNSUPPORTED_GRAPH', `kernel ${KH}x${KW} is larger than the input`, n);
  const weights = new Float64Array(K * KH * KW * C);
  for (let o = 0; o < K; o++) {
    for (let c = 0; c < C; c++) {
      for (let ky = 0; ky < KH; ky++) {
        for (let kx = 0; kx < KW; kx++) weights[((o * KH + ky) * KW + kx) * C + c] = w.data[((o * C + c) * KH + ky) * KW + kx]!;
      }
    }
  }
  const biases = new Float64Array(K);
  if (b) {
    if (b.data.length !== K) throw new OnnxImportError('UNSUPPORTED_GRAPH', `bias has ${b.data.length} values for ${K} output channels`, n);
    biases.set(b.data);
  }
  L.layers.push({ type: 'conv2d', input, outChannels: K, kernel: [KH, KW], stride, weights, biases, relu: false, source: n.name });
  const OH = Math.floor((input[0] - KH) / stride[0]) + 1;
  const OW = Math.floor((input[1] - KW) / stride[1]) + 1;
  L.output(n, [K, OH, OW]);
}

/** A dense layer from a [n][m] (MatMul, Gemm without transB) or [m][n] (transB) constant. */
function dense(L: Lowering, n: OnnxNode, w: Tensor, transposed: boolean, scale: number): void {
  if (w.dims.length !== 2) throw new OnnxImportError('UNSUPPORTED_GRAPH', `weights [${w.dims.join(', ')}] are not a matrix`, n);
  const [rows, cols] = w.dims as [number, number];
  const inputs = transposed ? cols : rows;
  const outputs = transposed ? rows : cols;
  const cur = L.cur;
  const size = cur.shape.reduce((a, d) => a * d, 1);
  if (cur.shape.length !== 1 || size !== inputs) {
    throw new OnnxImportError('UNSUPPORTED_GRAPH', `multiplies a [${cur.shape.join(', ')}] input by a matrix for ${inputs} features (flatten first)`, n);
  }
  // column p of ours reads channels-last element p; ONNX reads channels-first element q
  const onnxIndex = new Int32Array(inputs);
  if (cur.flatFrom) {
    const [C, H, W] = cur.flatFrom;
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) for (let c = 0; c < C; c++) onnxIndex[(y * W + x) * C + c] = (c * H + y) * W + x;
  } else {
    for (let i = 0; i < inputs; i++) onnxIndex[i] = i;
  }
  const weights = new Float64Array(outputs * inputs);
  for (let j = 0; j < outputs; j++) {
    for (let p = 0; p < inputs; p++) {
      const q = onnxIndex[p]!;
      weights[j * inputs + p] = scale * w.data[transposed ? j * cols + q : q * cols + j]!;
    }
  }
  L.layers.push({ type: 'dense', inputs, outputs, weights, biases: new Float64Array(outputs), relu: false, source: n.name });
  L.output(n, [outputs]);
}

function gemm(L: Lowering, n: OnnxNode): void {
  L.takeInput(n);
  refuseAttr(n, 'transA', (v) => v === 0, 'transA=0');
  const alpha = (attr(n, 'alpha') as number | undefined) ?? 1;
  const beta = (attr(n, 'beta') as number | undefined) ?? 1;
  dense(L, n, L.constant(n, 1, 'B (the weights)'), intAttr(n, 'transB', 0) === 1, alpha);
  const c = L.optionalConstant(n, 2, 'C (the bias)');
  if (c) addBias(L, n, c, beta);
}

function matmul(L: Lowering, n: OnnxNode): void {
  L.takeInput(n);
  dense(L, n, L.constant(n, 1, 'the weights'), false, 1);
}

/** Adds a constant broadcast over the open affine layer's output channels to its biases. */
function addBias(L: Lowering, n: OnnxNode, t: Tensor, scale: number): void {
  const layer = L.openAffine(n, 'a constant Add');
  const m = layer.type === 'dense' ? layer.outputs : layer.outChannels;
  const count = t.data.length;
  // per output channel: [m], [1, m] for a dense layer; [m, 1, 1], [1, m, 1, 1] for a conv; or one scalar
  const perChannel = count === m && t.dims.filter((d) => d !== 1).length <= 1 && (layer.type === 'dense' || t.dims.length <= 1 || t.dims[t.dims.length - 1] === 1 || m === 1);
  if (count !== 1 && !perChannel) throw new OnnxImportError('UNSUPPORTED_GRAPH', `a constant of shape [${t.dims.join(', ')}] is not a per-channel bias for ${m} channels`, n);
  const biases = Float64Array.from(layer.biases, (b, j) => b + scale * t.data[count === 1 ? 0 : j]!);
  layer.biases = biases;
}

function batchNorm(L: Lowering, n: OnnxNode): void {
  L.takeInput(n);
  refuseAttr(n, 'training_mode', (v) => v === 0, 'training_mode=0');
  const layer = L.openAffine(n, 'BatchNormalization');
  const [scale, bias, mean, variance] = [1, 2, 3, 4].map((i) => L.constant(n, i, ['scale', 'B', 'mean', 'var'][i - 1]!));
  const eps = (attr(n, 'epsilon') as number | undefined) ?? 1e-5;
  const m = layer.type === 'dense' ? layer.outputs : layer.outChannels;
  if ([scale, bias, mean, variance].some((t) => t!.data.length !== m)) throw new OnnxImportError('UNSUPPORTED_GRAPH', `parameters are not one per each of the ${m} channels`, n);
  const per = layer.weights.length / m;
  const weights = Float64Array.from(layer.weights);
  const biases = new Float64Array(m);
  for (let o = 0; o < m; o++) {
    const k = scale!.data[o]! / Math.sqrt(variance!.data[o]! + eps);
    for (let i = 0; i < per; i++) weights[o * per + i]! *= k;
    biases[o] = (layer.biases[o]! - mean!.data[o]!) * k + bias!.data[o]!;
  }
  layer.weights = weights;
  layer.biases = biases;
  L.notes.push(`BatchNormalization '${n.name}' folded into '${layer.source}'`);
  L.output(n, L.cur.shape, L.cur.flatFrom);
}

function relu(L: Lowering, n: OnnxNode): void {
  L.takeInput(n);
  const last = L.layers[L.layers.length - 1];
  // Relu after a MaxPool (and its padding) of a conv without one: max and zero-padding commute with Relu
  let i = L.layers.length - 1;
  while (i >= 0 && (L.layers[i]!.type === 'maxpool2d' || L.layers[i]!.type === 'pad2d')) i--;
  const affine = L.layers[i];
  if (!last || !affine || !isAffine(affine)) throw new OnnxImportError('UNSUPPORTED_GRAPH', 'a Relu must follow a Conv, Gemm or MatMul', n);
  if (affine.relu && affine !== last) {
    L.notes.push(`Relu '${n.name}' after a pool of non-negative values dropped (identity)`);
  } else if (affine.relu) {
    throw new OnnxImportError('UNSUPPORTED_GRAPH', 'two Relu in a row', n);
  }
  affine.relu = true;
  L.output(n, L.cur.shape, L.cur.flatFrom);
}

function maxPool(L: Lowering, n: OnnxNode, global: boolean): void {
  L.takeInput(n);
  const [C, H, W] = L.spatial(n);
  if (n.outputs.length > 1 && n.outputs[1]) throw new OnnxImportError('UNSUPPORTED_ATTR', 'the Indices output is not supported', n);
  refuseAttr(n, 'ceil_mode', (v) => v === 0, 'ceil_mode=0');
  refuseAttr(n, 'dilations', allOnes, 'dilations of 1');
  refuseAttr(n, 'storage_order', (v) => v === 0, 'storage_order=0');
  const pool: Pair = global ? [H, W] : pair(n, 'kernel_shape', [0, 0]);
  if (pool[0] === 0) throw new OnnxImportError('UNSUPPORTED_ATTR', 'kernel_shape is required', n);
  const stride = global ? pool : pair(n, 'strides', [1, 1]);
  const pads = global ? ([0, 0, 0, 0] as [number, number, number, number]) : windowPads(n, [H, W], pool, stride);
  if (pads[0] >= pool[0] || pads[2] >= pool[0] || pads[1] >= pool[1] || pads[3] >= pool[1]) {
    throw new OnnxImportError('UNSUPPORTED_ATTR', `pads [${pads.join(', ')}] must be smaller than the window ${pool.join('x')}`, n);
  }
  // zero padding equals ONNX's -inf padding here: a window always holds a real value, and every value is >= 0 (checked after lowering)
  const input = addPad(L, n, [H, W, C], pads);
  if (pool[0] > input[0] || pool[1] > input[1]) throw new OnnxImportError('UNSUPPORTED_GRAPH', `window ${pool.join('x')} is larger than the input`, n);
  L.layers.push({ type: 'maxpool2d', input, pool, stride, source: n.name });
  L.output(n, [C, Math.floor((input[0] - pool[0]) / stride[0]) + 1, Math.floor((input[1] - pool[1]) / stride[1]) + 1]);
}

/** Flatten(axis=1) or a Reshape to [batch, features] (or to the shape it already has). */
function flatten(L: Lowering, n: OnnxNode): void {
  L.takeInput(n);
  const size = L.cur.shape.reduce((a, d) => a * d, 1);
  if (n.opType === 'Flatten') {
    refuseAttr(n, 'axis', (v) => v === 1, 'axis=1 (keep the batch axis)');
  } else {
    const target = [...L.constant(n, 1, 'the shape').data];
    const inShape = [1, ...L.cur.shape];
    const allowZero = intAttr(n, 'allowzero', 0) === 1;
    const dims = target.map((d, i) => (d === 0 && !allowZero ? (inShape[i] ?? 0) : d));
    const known = dims.filter((d) => d !== -1).reduce((a, d) => a * d, 1);
    const resolved = dims.map((d) => (d === -1 ? size / known : d));
    const same = resolved.length === inShape.length && resolved.every((d, i) => d === inShape[i]);
    if (same) {
      L.output(n, L.cur.shape, L.cur.flatFrom);
      return;
    }
    if (resolved.length !== 2 || resolved[0] !== 1 || resolved[1] !== size) {
      throw new OnnxImportError('UNSUPPORTED_GRAPH', `reshape of [${L.cur.shape.join(', ')}] to [${target.join(', ')}]: only a flatten to [batch, ${size}] is supported`, n);
    }
  }
  const s = L.cur.shape;
  L.output(n, [size], s.length === 3 ? (s as unknown as Shape3) : L.cur.flatFrom);
}

function passThrough(L: Lowering, n: OnnxNode): void {
  L.takeInput(n);
  L.output(n, L.cur.shape, L.cur.flatFrom);
}

function softmax(L: Lowering, n: OnnxNode, graphOutput: string): void {
  L.takeInput(n);
  if (n.outputs[0] !== graphOutput) throw new OnnxImportError('UNSUPPORTED_GRAPH', 'a Softmax is only supported as the last operation (dropped: the argmax is the same)', n);
  L.logits = L.cur.name;
  L.notes.push(`final ${n.opType} '${n.name}' dropped: the model returns logits, whose argmax is the same`);
  L.output(n, L.cur.shape, L.cur.flatFrom);
}

/** The graph's one input, as the format's input shape and ONNX's shape without the batch axis. */
function modelInput(g: OnnxGraph): { name: string; onnx: readonly number[] } {
  if (g.inputs.length !== 1) throw new OnnxImportError('UNSUPPORTED_GRAPH', `the model has ${g.inputs.length} inputs; one is supported`);
  const { name, shape } = g.inputs[0]!;
  if (shape.length !== 2 && shape.length !== 4)
    throw new OnnxImportError('UNSUPPORTED_GRAPH', `input '${name}' has shape [${shape.join(', ')}]; [batch, features] or [batch, C, H, W] is supported`);
  const rest = shape.slice(1);
  if (shape[0] !== -1 && shape[0] !== 1) throw new OnnxImportError('UNSUPPORTED_GRAPH', `input '${name}': batch axis ${shape[0]}; 1 or symbolic is supported`);
  if (rest.some((d) => d < 1)) throw new OnnxImportError('UNSUPPORTED_GRAPH', `input '${name}' has an unknown dimension besides the batch axis: [${shape.join(', ')}]`);
  return { name, onnx: rest };
}

/** Checks what only the whole chain shows: Relu between layers, non-negative pool inputs. */
function checkChain(L: Lowering): void {
  const layers = L.layers;
  if (!layers.some(isAffine)) throw new OnnxImportError('UNSUPPORTED_GRAPH', 'the model has no Conv, Gemm or MatMul');
  layers.forEach((l, i) => {
    const lastAffine = layers.slice(i + 1).every((x) => !isAffine(x));
    if (isAffine(l) && !l.relu && !lastAffine) {
      throw new OnnxImportError('UNSUPPORTED_GRAPH', `layer '${l.source}' has no Relu but is not the last layer (the format carries uint8 values between layers)`);
    }
    if (l.type === 'maxpool2d' || l.type === 'pad2d') {
      const before = layers.slice(0, i).filter(isAffine).pop();
      if (before && !before.relu) throw new OnnxImportError('UNSUPPORTED_GRAPH', `'${l.source}' reads values that may be negative (put a Relu before it)`);
    }
  });
}

type Handler = (L: Lowering, n: OnnxNode) => void;

/** Lowers a decoded graph to the float layer chain, or throws OnnxImportError naming the node. */
export function lowerGraph(g: OnnxGraph): Lowered {
  const input = modelInput(g);
  if (g.outputs.length !== 1) throw new OnnxImportError('UNSUPPORTED_GRAPH', `the model has ${g.outputs.length} outputs; one is supported`);
  const graphOutput = g.outputs[0]!.name;
  const L = new Lowering(g, { name: input.name, shape: input.onnx });
  const handlers: Record<string, Handler> = {
    Conv: conv,
    Gemm: gemm,
    MatMul: matmul,
    Add: (L, n) => {
      L.takeInput(n);
      addBias(L, n, L.constant(n, 1, 'the addend'), 1);
      L.output(n, L.cur.shape, L.cur.flatFrom);
    },
    BatchNormalization: batchNorm,
    Relu: relu,
    MaxPool: (L, n) => maxPool(L, n, false),
    GlobalMaxPool: (L, n) => maxPool(L, n, true),
    Flatten: flatten,
    Reshape: flatten,
    Identity: passThrough,
    Dropout: passThrough,
    Softmax: (L, n) => softmax(L, n, graphOutput),
    LogSoftmax: (L, n) => softmax(L, n, graphOutput),
  };
  for (const n of g.nodes) {
    const h = handlers[n.opType];
    if (!h) throw new OnnxImportError('UNSUPPORTED_OP', `operator ${n.opType} has no mapping to the fixed-point format`, n);
    h(L, n);
  }
  if (L.cur.name !== graphOutput) throw new OnnxImportError('UNSUPPORTED_GRAPH', `the graph output '${graphOutput}' is not the end of the layer chain ('${L.cur.name}')`);
  checkChain(L);
  const [a, b, c] = input.onnx as [number, number, number];
  const inputShape = input.onnx.length === 3 ? toHwc([a, b, c]) : [a];
  return { inputShape, layers: L.layers, onnxInput: { name: input.name, shape: input.onnx }, logits: L.logits ?? graphOutput, notes: L.notes };
}
