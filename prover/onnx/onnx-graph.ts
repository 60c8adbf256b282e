/**
 * An ONNX model file read into a plain graph: nodes in file order (ONNX requires topological
 * order), attributes as numbers, constants (initializers and Constant nodes) as float tensors.
 * The protobuf is decoded by `onnx-proto` (the official onnx.proto compiled by protobufjs); no
 * hand-written wire parsing. Everything later (lowering, quantization) reads only this shape, so
 * the differences between exporters are settled here: initializers listed as graph inputs are
 * constants, not model inputs; int64 fields arrive as Long objects; tensors come as typed fields
 * or as raw little-endian bytes.
 */
import onnxProto from 'onnx-proto';
import { OnnxImportError } from './errors.ts';

const { onnx } = onnxProto;

export interface Tensor {
  readonly dims: readonly number[];
  readonly data: Float64Array;
}

export type AttrValue = number | string | readonly number[] | Tensor;

export interface OnnxNode {
  readonly name: string;
  readonly opType: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attrs: ReadonlyMap<string, AttrValue>;
}

export interface ValueInfo {
  readonly name: string;
  /** Dimensions; a symbolic or missing dimension (a batch axis, usually) is -1. */
  readonly shape: readonly number[];
}

export interface OnnxGraph {
  /** Default-domain opset version the model was exported for (0 if none is declared). */
  readonly opset: number;
  readonly producer: string;
  readonly inputs: readonly ValueInfo[];
  readonly outputs: readonly ValueInfo[];
  readonly nodes: readonly OnnxNode[];
  readonly constants: ReadonlyMap<string, Tensor>;
}

/** Largest constant tensor read (elements): far above any model the format accepts. */
const MAX_CONSTANT = 4_000_000;

type Long = { toNumber(): number };
function num(v: number | Long | null | undefined): number {
  if (v === null || v === undefined) return 0;
  return typeof v === 'number' ? v : v.toNumber();
}

const DT = onnx.TensorProto.DataType;

/** Reads raw little-endian tensor bytes of one of the numeric types into float64 values. */
function fromRaw(raw: Uint8Array, dataType: number, count: number, name: string): Float64Array {
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const width: Record<number, number> = { [DT.FLOAT]: 4, [DT.DOUBLE]: 8, [DT.INT64]: 8, [DT.INT32]: 4, [DT.INT8]: 1, [DT.UINT8]: 1 };
  const w = width[dataType];
  if (w === undefined) throw new OnnxImportError('UNSUPPORTED_TENSOR', `tensor ${name}: data type ${DT[dataType] ?? dataType} is not supported`);
  if (raw.byteLength !== w * count) throw new OnnxImportError('BAD_TENSOR', `tensor ${name}: ${raw.byteLength} raw bytes for ${count} values of ${w} bytes`);
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const o = i * w;
    switch (dataType) {
      case DT.FLOAT:
        out[i] = view.getFloat32(o, true);
        break;
      case DT.DOUBLE:
        out[i] = view.getFloat64(o, true);
        break;
      case DT.INT64:
        out[i] = Number(view.getBigInt64(o, true));
        break;
      case DT.INT32:
        out[i] = view.getInt32(o, true);
        break;
      case DT.INT8:
        out[i] = view.getInt8(o);
        break;
      default:
        out[i] = view.getUint8(o);
    }
  }
  return out;
}

function readTensor(t: InstanceType<typeof onnx.TensorProto>, fallbackName = ''): Tensor {
  const name = t.name || fallbackName;
  const dims = (t.dims ?? []).map((d) => num(d as number | Long));
  const count = dims.reduce((a, b) => a * b, 1);
  if (dims.some((d) => !Number.isSafeInteger(d) || d < 0) || count > MAX_CONSTANT) {
    throw new OnnxImportError('BAD_TENSOR', `tensor ${name}: dimensions [${dims.join(', ')}] are negative or too large`);
  }
  if (t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) {
    throw new OnnxImportError('UNSUPPORTED_TENSOR', `tensor ${name}: external data files are not supported (save the model with its weights inside)`);
  }
  const dataType = t.dataType ?? 0;
  let data: Float64Array;
  if (t.rawData && t.rawData.length > 0) data = fromRaw(t.rawData, dataType, count, name);
  else if (dataType === DT.FLOAT) data = Float64Array.from(t.floatData ?? []);
  else if (dataType === DT.DOUBLE) data = Float64Array.from(t.doubleData ?? []);
  else if (dataType === DT.INT64) data = Float64Array.from((t.int64Data ?? []).map((v) => num(v as number | Long)));
  else if (dataType === DT.INT32 || dataType === DT.INT8 || dataType === DT.UINT8) data = Float64Array.from(t.int32Data ?? []);
  else throw new OnnxImportError('UNSUPPORTED_TENSOR', `tensor ${name}: data type ${DT[dataType] ?? dataType} is not supported`);
  if (data.length !== count) throw new OnnxImportError('BAD_TENSOR', `tensor ${name}: ${data.length} values for dimensions [${dims.join(', ')}]`);
  return { dims, data };
}

function readAttr(a: InstanceType<typeof onnx.AttributeProto>): AttrValue {
  const T = onnx.AttributeProto.AttributeType;
  switch (a.type) {
    case T.FLOAT:
      return a.f ?? 0;
    case T.INT:
      return num(a.i as number | Long);
    case T.STRING:
      return new TextDecoder().decode(a.s ?? new Uint8Array());
    case T.INTS:
      return (a.ints ?? []).map((v) => num(v as number | Long));
    case T.FLOATS:
      return [...(a.floats ?? [])];
    case T.TENSOR:
      if (!a.t) break;
      return readTensor(a.t as InstanceType<typeof onnx.TensorProto>, a.name ?? '');
    default:
      break;
  }
  return Number.NaN; // an attribute kind no mapped operator reads; the lowering refuses it if asked
}

function valueInfo(v: InstanceType<typeof onnx.ValueInfoProto>): ValueInfo {
  const dims = v.type?.tensorType?.shape?.dim ?? [];
  return {
    name: v.name ?? '',
    shape: dims.map((d) => (d.dimValue !== null && d.dimValue !== undefined && num(d.dimValue as number | Long) > 0 ? num(d.dimValue as number | Long) : -1)),
  };
}

/** Decodes an .onnx file. Throws OnnxImportError('BAD_ONNX') for bytes that are not a model. */
export function readOnnx(bytes: Uint8Array): OnnxGraph {
  let model: InstanceType<typeof onnx.ModelProto>;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (e) {
    throw new OnnxImportError('BAD_ONNX', `not an ONNX model: ${(e as Error).message}`);
  }
  const g = model.graph;
  if (!g) throw new OnnxImportError('BAD_ONNX', 'the file has no graph');
  const constants = new Map<string, Tensor>();
  for (const t of g.initializer ?? []) constants.set(t.name ?? '', readTensor(t as InstanceType<typeof onnx.TensorProto>));
  const nodes: OnnxNode[] = [];
  for (const [i, n] of (g.node ?? []).entries()) {
    const attrs = new Map<string, AttrValue>();
    for (const a of n.attribute ?? []) attrs.set(a.name ?? '', readAttr(a as InstanceType<typeof onnx.AttributeProto>));
    const node: OnnxNode = { name: n.name || `node ${i}`, opType: n.opType ?? '', inputs: n.input ?? [], outputs: n.output ?? [], attrs };
    if (n.domain && n.domain !== 'ai.onnx') {
      throw new OnnxImportError('UNSUPPORTED_OP', `operator domain '${n.domain}' is not supported`, node);
    }
    // a Constant node is data, whatever exporter wrote it that way
    if (node.opType === 'Constant' && node.outputs.length === 1) {
      const value = attrs.get('value');
      if (value && typeof value === 'object' && 'data' in value) {
        constants.set(node.outputs[0]!, value);
        continue;
      }
    }
    nodes.push(node);
  }
  const opset = (model.opsetImport ?? []).filter((o) => !o.domain || o.domain === 'ai.onnx').map((o) => num(o.version as number | Long))[0] ?? 0;
  return {
    opset,
    producer: [model.producerName, model.producerVersion].filter(Boolean).join(' '),
    // older exporters list every initializer as a graph input too: those are weights, not inputs
    inputs: (g.input ?? []).map((v) => valueInfo(v as InstanceType<typeof onnx.ValueInfoProto>)).filter((v) => !constants.has(v.name)),
    outputs: (g.output ?? []).map((v) => valueInfo(v as InstanceType<typeof onnx.ValueInfoProto>)),
    nodes,
    constants,
  };
}
