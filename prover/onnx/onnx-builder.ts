/**
 * Writes ONNX model files (through onnx-proto's encoder): the digits fixture's export script and
 * the importer's tests build graphs with it, in the several styles exporters use (raw or typed
 * tensor data, initializers repeated as graph inputs, Constant nodes, symbolic batch axes).
 */
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

export interface TensorSpec {
  readonly name: string;
  readonly dims: readonly number[];
  readonly data: ArrayLike<number>;
  /** Default 'float'. int64 is what Reshape's shape input takes. */
  readonly type?: 'float' | 'int64';
  /** Store as raw little-endian bytes (what PyTorch writes) instead of the typed field (what hand-made graphs often use). */
  readonly raw?: boolean;
}

export type AttrSpec = { f: number } | { i: number } | { s: string } | { ints: readonly number[] } | { floats: readonly number[] } | { t: TensorSpec };

export interface NodeSpec {
  readonly op: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly name?: string;
  readonly attrs?: Readonly<Record<string, AttrSpec>>;
  readonly domain?: string;
}

export interface GraphSpec {
  readonly input: { readonly name: string; readonly shape: readonly (number | string)[] };
  readonly output: { readonly name: string; readonly shape: readonly (number | string)[] };
  readonly nodes: readonly NodeSpec[];
  readonly initializers?: readonly TensorSpec[];
  readonly opset?: number;
  readonly producer?: string;
  /** List every initializer as a graph input as well (IR version 3 exporters did). */
  readonly initializersAsInputs?: boolean;
}

export function tensorProto(t: TensorSpec): InstanceType<typeof onnx.TensorProto> {
  const int64 = t.type === 'int64';
  const dataType = int64 ? onnx.TensorProto.DataType.INT64 : onnx.TensorProto.DataType.FLOAT;
  const values = Array.from(t.data);
  if (t.raw) {
    const buf = new ArrayBuffer(values.length * (int64 ? 8 : 4));
    const view = new DataView(buf);
    values.forEach((v, i) => (int64 ? view.setBigInt64(i * 8, BigInt(v), true) : view.setFloat32(i * 4, v, true)));
    return onnx.TensorProto.create({ name: t.name, dims: [...t.dims], dataType, rawData: new Uint8Array(buf) });
  }
  return onnx.TensorProto.create(int64 ? { name: t.name, dims: [...t.dims], dataType, int64Data: values } : { name: t.name, dims: [...t.dims], dataType, floatData: values });
}

function attribute(name: string, a: AttrSpec): InstanceType<typeof onnx.AttributeProto> {
  const T = onnx.AttributeProto.AttributeType;
  if ('f' in a) return onnx.AttributeProto.create({ name, type: T.FLOAT, f: a.f });
  if ('i' in a) return onnx.AttributeProto.create({ name, type: T.INT, i: a.i });
  if ('s' in a) return onnx.AttributeProto.create({ name, type: T.STRING, s: new TextEncoder().encode(a.s) });
  if ('ints' in a) return onnx.AttributeProto.create({ name, type: T.INTS, ints: [...a.ints] });
  if ('floats' in a) return onnx.AttributeProto.create({ name, type: T.FLOATS, floats: [...a.floats] });
  return onnx.AttributeProto.create({ name, type: T.TENSOR, t: tensorProto(a.t) });
}

function valueInfo(name: string, shape: readonly (number | string)[], int64 = false): InstanceType<typeof onnx.ValueInfoProto> {
  const dim = shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d }));
  const elemType = int64 ? onnx.TensorProto.DataType.INT64 : onnx.TensorProto.DataType.FLOAT;
  return onnx.ValueInfoProto.create({ name, type: { tensorType: { elemType, shape: { dim } } } });
}

/** The .onnx bytes of a graph. */
export function buildOnnx(g: GraphSpec): Uint8Array {
  const initializers = g.initializers ?? [];
  const graph = onnx.GraphProto.create({
    name: 'graph',
    input: [valueInfo(g.input.name, g.input.shape), ...(g.initializersAsInputs ? initializers.map((t) => valueInfo(t.name, t.dims, t.type === 'int64')) : [])],
    output: [valueInfo(g.output.name, g.output.shape)],
    initializer: initializers.map(tensorProto),
    node: g.nodes.map((n, i) =>
      onnx.NodeProto.create({
        name: n.name ?? `${n.op.toLowerCase()}_${i}`,
        opType: n.op,
        input: [...n.inputs],
        output: [...n.outputs],
        domain: n.domain ?? '',
        attribute: Object.entries(n.attrs ?? {}).map(([k, v]) => attribute(k, v)),
      }),
    ),
  });
  const model = onnx.ModelProto.create({
    irVersion: 7,
    producerName: g.producer ?? 'ai-rollup onnx-builder',
    opsetImport: [{ domain: '', version: g.opset ?? 13 }],
    graph,
  });
  return onnx.ModelProto.encode(model).finish();
}
