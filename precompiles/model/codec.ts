/**
 * Deterministic binary form of a model (format.ts). The model id is keccak256 of these bytes, so
 * the encoding must be canonical: every field is fixed-width, there is no padding, no optional
 * field and no JSON, and every enum byte has exactly one accepted value per meaning. Hence each
 * valid model has exactly one encoding, and every byte string the decoder accepts re-encodes to
 * itself.
 *
 * All integers are BIG-ENDIAN (network / EVM order, so hex dumps read naturally), signed values
 * in two's complement. Layout, version 1:
 *
 *   magic    4 bytes  "AIMF" = 41 49 4d 46
 *   version  u16      1
 *   rank     u8       1 or 3
 *   dims     u32 x rank            model input shape
 *   count    u8       1..16        number of layers
 *   layers, in order, each starting with a u8 tag:
 *     1 dense:     inputs u32, outputs u32, shift u8, activation u8,
 *                  weights i8 x (outputs*inputs) row-major, biases i32 x outputs
 *     2 conv2d:    H u32, W u32, C u32, outChannels u32, KH u32, KW u32, SY u32, SX u32,
 *                  shift u8, activation u8,
 *                  weights i8 x (outChannels*KH*KW*C) as [o][ky][kx][c], biases i32 x outChannels
 *     3 maxpool2d: H u32, W u32, C u32, PH u32, PW u32, SY u32, SX u32
 *     4 pad2d:     H u32, W u32, C u32, top u32, left u32, bottom u32, right u32
 *   activation byte: 0 = 'none', 1 = 'relu'.
 * Nothing may follow the last layer.
 */
import { type Activation, type Layer, type Model, FORMAT_VERSION, MAX_LAYERS, ModelFormatError, validateModel, weightCount } from './format.ts';

export const MAGIC = new Uint8Array([0x41, 0x49, 0x4d, 0x46]); // "AIMF"
const TAG = { dense: 1, conv2d: 2, maxpool2d: 3, pad2d: 4 } as const;
const ACTIVATION_BYTE: Record<Activation, number> = { none: 0, relu: 1 };

function encodedLayerSize(layer: Layer): number {
  switch (layer.type) {
    case 'dense':
      return 1 + 8 + 2 + weightCount(layer) + 4 * layer.outputs;
    case 'conv2d':
      return 1 + 32 + 2 + weightCount(layer) + 4 * layer.outChannels;
    case 'maxpool2d':
    case 'pad2d':
      return 1 + 28;
  }
}

class Writer {
  readonly bytes: Uint8Array;
  private readonly view: DataView;
  private pos = 0;
  constructor(size: number) {
    this.bytes = new Uint8Array(size);
    this.view = new DataView(this.bytes.buffer);
  }
  u8(v: number): void {
    this.view.setUint8(this.pos, v);
    this.pos += 1;
  }
  u16(v: number): void {
    this.view.setUint16(this.pos, v, false);
    this.pos += 2;
  }
  u32(...vs: readonly number[]): void {
    for (const v of vs) {
      this.view.setUint32(this.pos, v, false);
      this.pos += 4;
    }
  }
  i8s(vs: readonly number[]): void {
    for (const v of vs) this.bytes[this.pos++] = v & 0xff;
  }
  i32s(vs: readonly number[]): void {
    for (const v of vs) {
      this.view.setInt32(this.pos, v, false);
      this.pos += 4;
    }
  }
  get offset(): number {
    return this.pos;
  }
}

/** Canonical bytes of a model. Validates first: an invalid model has no encoding (and no id). */
export function serializeModel(model: Model): Uint8Array {
  validateModel(model);
  const size = 4 + 2 + 1 + 4 * model.inputShape.length + 1 + model.layers.reduce((a, l) => a + encodedLayerSize(l), 0);
  const w = new Writer(size);
  w.i8s(Array.from(MAGIC));
  w.u16(FORMAT_VERSION);
  w.u8(model.inputShape.length);
  w.u32(...model.inputShape);
  w.u8(model.layers.length);
  for (const layer of model.layers) {
    w.u8(TAG[layer.type]);
    switch (layer.type) {
      case 'dense':
        w.u32(layer.inputs, layer.outputs);
        w.u8(layer.shift);
        w.u8(ACTIVATION_BYTE[layer.activation]);
        w.i8s(layer.weights);
        w.i32s(layer.biases);
        break;
      case 'conv2d':
        w.u32(...layer.input, layer.outChannels, ...layer.kernel, ...layer.stride);
        w.u8(layer.shift);
        w.u8(ACTIVATION_BYTE[layer.activation]);
        w.i8s(layer.weights);
        w.i32s(layer.biases);
        break;
      case 'maxpool2d':
        w.u32(...layer.input, ...layer.pool, ...layer.stride);
        break;
      case 'pad2d':
        w.u32(...layer.input, ...layer.pads);
        break;
    }
  }
  if (w.offset !== size) throw new Error(`internal: encoded ${w.offset} bytes, expected ${size}`);
  return w.bytes;
}

class Reader {
  private readonly view: DataView;
  pos = 0;
  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  /** Refuses before allocating: a forged length can never make us allocate more than the input. */
  private need(n: number, what: string): void {
    if (n > this.bytes.length - this.pos) {
      throw new ModelFormatError('TRUNCATED', `${what}: needs ${n} bytes at offset ${this.pos}, only ${this.bytes.length - this.pos} left`);
    }
  }
  u8(what: string): number {
    this.need(1, what);
    return this.view.getUint8(this.pos++);
  }
  u16(what: string): number {
    this.need(2, what);
    const v = this.view.getUint16(this.pos, false);
    this.pos += 2;
    return v;
  }
  u32s(n: number, what: string): number[] {
    this.need(4 * n, what);
    const out: number[] = [];
    for (let i = 0; i < n; i++, this.pos += 4) out.push(this.view.getUint32(this.pos, false));
    return out;
  }
  i8s(n: number, what: string): number[] {
    this.need(n, what);
    const out = new Array<number>(n);
    for (let i = 0; i < n; i++) out[i] = this.view.getInt8(this.pos++);
    return out;
  }
  i32s(n: number, what: string): number[] {
    this.need(4 * n, what);
    const out = new Array<number>(n);
    for (let i = 0; i < n; i++, this.pos += 4) out[i] = this.view.getInt32(this.pos, false);
    return out;
  }
  get remaining(): number {
    return this.bytes.length - this.pos;
  }
}

function activationOf(byte: number, path: string): Activation {
  if (byte === 0) return 'none';
  if (byte === 1) return 'relu';
  throw new ModelFormatError('BAD_ENUM', `activation byte ${byte} is neither 0 (none) nor 1 (relu)`, path);
}

function readLayer(r: Reader, path: string): Layer {
  const tag = r.u8(`${path} tag`);
  switch (tag) {
    case TAG.dense: {
      const [inputs, outputs] = r.u32s(2, path) as [number, number];
      const shift = r.u8(path);
      const activation = activationOf(r.u8(path), `${path}.activation`);
      const weights = r.i8s(inputs * outputs, `${path}.weights`);
      const biases = r.i32s(outputs, `${path}.biases`);
      return { type: 'dense', inputs, outputs, weights, biases, shift, activation };
    }
    case TAG.conv2d: {
      const [h, w, c, outChannels, kh, kw, sy, sx] = r.u32s(8, path) as [number, number, number, number, number, number, number, number];
      const shift = r.u8(path);
      const activation = activationOf(r.u8(path), `${path}.activation`);
      const weights = r.i8s(outChannels * kh * kw * c, `${path}.weights`);
      const biases = r.i32s(outChannels, `${path}.biases`);
      return { type: 'conv2d', input: [h, w, c], outChannels, kernel: [kh, kw], stride: [sy, sx], weights, biases, shift, activation };
    }
    case TAG.maxpool2d: {
      const [h, w, c, ph, pw, sy, sx] = r.u32s(7, path) as [number, number, number, number, number, number, number];
      return { type: 'maxpool2d', input: [h, w, c], pool: [ph, pw], stride: [sy, sx] };
    }
    case TAG.pad2d: {
      const [h, w, c, top, left, bottom, right] = r.u32s(7, path) as [number, number, number, number, number, number, number];
      return { type: 'pad2d', input: [h, w, c], pads: [top, left, bottom, right] };
    }
    default:
      throw new ModelFormatError('BAD_ENUM', `unknown layer tag ${tag}`, `${path}.type`);
  }
}

/** Inverse of serializeModel. Accepts only canonical, valid, complete encodings. */
export function deserializeModel(bytes: Uint8Array): Model {
  const r = new Reader(bytes);
  const magic = r.i8s(4, 'magic').map((b) => b & 0xff);
  if (magic.some((b, i) => b !== MAGIC[i])) throw new ModelFormatError('BAD_MAGIC', 'not a model: bad magic (expected "AIMF")');
  const version = r.u16('version');
  if (version !== FORMAT_VERSION) throw new ModelFormatError('BAD_VERSION', `format version ${version} is not supported (expected ${FORMAT_VERSION})`);
  const rank = r.u8('input rank');
  if (rank !== 1 && rank !== 3) throw new ModelFormatError('BAD_SHAPE', `input rank ${rank} is neither 1 nor 3`, 'input.shape');
  const inputShape = r.u32s(rank, 'input.shape');
  const count = r.u8('layer count');
  if (count < 1 || count > MAX_LAYERS) throw new ModelFormatError('LAYER_COUNT', `${count} layers; a model has 1..${MAX_LAYERS}`, 'layers');
  const layers: Layer[] = [];
  for (let i = 0; i < count; i++) layers.push(readLayer(r, `layers[${i}]`));
  if (r.remaining !== 0) throw new ModelFormatError('TRAILING_BYTES', `${r.remaining} bytes after the last layer`);
  const model: Model = { inputShape, layers };
  validateModel(model);
  return model;
}
