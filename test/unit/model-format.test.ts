import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MAGIC, deserializeModel, serializeModel } from '../../precompiles/model/codec.ts';
import { modelId } from '../../precompiles/model/commitment.ts';
import { type DenseLayer, type Layer, type Model, type ModelErrorCode, ModelFormatError, validateModel } from '../../precompiles/model/format.ts';
import { mulberry32, randomModel } from '../../precompiles/model/random.ts';
import { parseModelSpec, parseModelSpecText, toModelSpec } from '../../precompiles/model/spec.ts';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

function expectError(fn: () => unknown, code: ModelErrorCode, path?: string): ModelFormatError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ModelFormatError);
    const err = e as ModelFormatError;
    expect({ code: err.code, path: path === undefined ? undefined : err.path }, err.message).toEqual({ code, path });
    return err;
  }
  throw new Error(`expected ModelFormatError ${code}`);
}

const tiny: Model = {
  inputShape: [2],
  layers: [{ type: 'dense', inputs: 2, outputs: 1, weights: [-1, 127], biases: [-2], shift: 3, activation: 'none' }],
};

describe('binary serialization', () => {
  it('has the documented big-endian layout', () => {
    expect(hex(serializeModel(tiny))).toBe(
      [
        '41494d46', // magic "AIMF"
        '0001', // format version
        '01', // input rank
        '00000002', // input shape
        '01', // layer count
        '01', // tag dense
        '00000002', // inputs
        '00000001', // outputs
        '03', // shift
        '00', // activation none
        'ff7f', // weights -1, 127
        'fffffffe', // bias -2
      ].join(''),
    );
    const spatial: Model = {
      inputShape: [3, 2, 1],
      layers: [
        { type: 'conv2d', input: [3, 2, 1], outChannels: 1, kernel: [2, 1], stride: [1, 1], weights: [-128, 1], biases: [256], shift: 0, activation: 'relu' },
        { type: 'maxpool2d', input: [2, 2, 1], pool: [2, 1], stride: [1, 2] },
      ],
    };
    expect(hex(serializeModel(spatial))).toBe(
      '41494d46' +
        '0001' +
        '03' +
        '00000003' +
        '00000002' +
        '00000001' +
        '02' +
        '02' +
        ['00000003', '00000002', '00000001', '00000001', '00000002', '00000001', '00000001', '00000001'].join('') +
        '00' +
        '01' +
        '8001' +
        '00000100' +
        '03' +
        ['00000002', '00000002', '00000001', '00000002', '00000001', '00000001', '00000002'].join(''),
    );
  });

  it('round-trips 300 random models, and accepted bytes re-encode to themselves', () => {
    const rng = mulberry32(1);
    for (let k = 0; k < 300; k++) {
      const model = randomModel(rng, { maxLayers: 5 });
      const bytes = serializeModel(model);
      const back = deserializeModel(bytes);
      expect(back, `case ${k}`).toEqual(model);
      expect(hex(serializeModel(back))).toBe(hex(bytes));
      expect(parseModelSpec(JSON.parse(JSON.stringify(toModelSpec(model, { name: 'm', version: 1 })))).model).toEqual(model);
    }
  });

  it('rejects every truncation, trailing bytes, bad magic and version, unknown enums', () => {
    const bytes = serializeModel(randomModel(mulberry32(7), { spatial: false }));
    for (let n = 0; n < bytes.length; n++) expectError(() => deserializeModel(bytes.subarray(0, n)), 'TRUNCATED');
    expectError(() => deserializeModel(Uint8Array.from([...bytes, 0])), 'TRAILING_BYTES');
    expectError(() => deserializeModel(Uint8Array.from([...bytes, ...bytes])), 'TRAILING_BYTES');
    const patched = (at: number, ...v: number[]): Uint8Array => {
      const b = Uint8Array.from(bytes);
      b.set(v, at);
      return b;
    };
    expectError(() => deserializeModel(patched(0, 0x42)), 'BAD_MAGIC');
    expectError(() => deserializeModel(new TextEncoder().encode('{"name":"x"}')), 'BAD_MAGIC');
    expectError(() => deserializeModel(patched(5, 2)), 'BAD_VERSION');
    const t = serializeModel(tiny); // offsets from the layout test above
    const tp = (at: number, v: number): Uint8Array => Uint8Array.from(t, (b, i) => (i === at ? v : b));
    expectError(() => deserializeModel(tp(6, 2)), 'BAD_SHAPE', 'input.shape');
    expectError(() => deserializeModel(tp(11, 0)), 'LAYER_COUNT');
    expectError(() => deserializeModel(tp(11, 17)), 'LAYER_COUNT');
    expectError(() => deserializeModel(tp(12, 9)), 'BAD_ENUM', 'layers[0].type');
    expectError(() => deserializeModel(tp(21, 32)), 'OUT_OF_RANGE', 'layers[0].shift');
    expectError(() => deserializeModel(tp(22, 2)), 'BAD_ENUM', 'layers[0].activation');
    expectError(() => deserializeModel(tp(10, 3)), 'SHAPE_MISMATCH'); // input [3], layer reads 2: length shifts
    // forged huge dimensions: refused as truncated before anything is allocated
    const huge = Uint8Array.from(t);
    huge.set([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], 13);
    expectError(() => deserializeModel(huge), 'TRUNCATED');
  });

  it('garbage and single-byte mutations: ModelFormatError, or a canonical valid model', () => {
    const rng = mulberry32(3);
    for (let k = 0; k < 1000; k++) {
      const len = rng.int(0, 64);
      const garbage = Uint8Array.from({ length: len }, (_, i) => (i < 4 && rng.chance(0.5) ? MAGIC[i]! : rng.int(0, 255)));
      expect(() => deserializeModel(garbage)).toThrow(ModelFormatError);
    }
    for (let k = 0; k < 30; k++) {
      const bytes = serializeModel(randomModel(rng, { maxLayers: 3, maxWidth: 6 }));
      for (let i = 0; i < bytes.length; i++) {
        const b = Uint8Array.from(bytes);
        b[i] = (b[i]! + rng.int(1, 255)) & 0xff;
        let model: Model;
        try {
          model = deserializeModel(b);
        } catch (e) {
          expect(e).toBeInstanceOf(ModelFormatError);
          continue;
        }
        expect(hex(serializeModel(model))).toBe(hex(b));
        expect(modelId(model)).not.toBe(modelId(deserializeModel(bytes)));
      }
    }
  });
});

describe('model id', () => {
  it('is stable for equal models and ignores metadata', () => {
    const rng = mulberry32(11);
    const model = randomModel(rng);
    const copy = JSON.parse(JSON.stringify(model)) as Model;
    expect(modelId(copy)).toBe(modelId(model));
    expect(modelId(model)).toMatch(/^0x[0-9a-f]{64}$/);
    const a = parseModelSpec(toModelSpec(model, { name: 'a', version: 1 }));
    const b = parseModelSpec(toModelSpec(model, { name: 'b', version: 2, description: 'other' }));
    expect(modelId(a.model)).toBe(modelId(b.model));
  });

  it('changes when any single weight, bias, shift, activation or geometry field changes', () => {
    const rng = mulberry32(12);
    for (let k = 0; k < 20; k++) {
      const model = randomModel(rng, { maxLayers: 3, maxWidth: 8 });
      const ids = new Set([modelId(model)]);
      let variants = 0;
      const variant = (i: number, patch: Partial<Record<string, unknown>>): void => {
        const layers = model.layers.map((l, j) => (j === i ? ({ ...l, ...patch } as Layer) : l));
        const m: Model = { ...model, layers };
        try {
          validateModel(m);
        } catch {
          return; // e.g. 'none' before another layer: not a model, no id
        }
        ids.add(modelId(m));
        variants++;
      };
      model.layers.forEach((l, i) => {
        if (l.type === 'maxpool2d') {
          variant(i, { stride: [l.stride[0] + 1, l.stride[1]] });
          return;
        }
        if (l.type === 'pad2d') {
          variant(i, { pads: [l.pads[1], l.pads[0] + 1, l.pads[2], l.pads[3]] });
          return;
        }
        l.weights.forEach((w, j) => variant(i, { weights: l.weights.map((v, jj) => (jj === j ? (w === 127 ? 126 : w + 1) : v)) }));
        l.biases.forEach((b, j) => variant(i, { biases: l.biases.map((v, jj) => (jj === j ? (b === 0 ? 1 : -b) : v)) }));
        variant(i, { shift: l.shift === 31 ? 30 : l.shift + 1 });
        variant(i, { activation: l.activation === 'relu' ? 'none' : 'relu' });
      });
      expect(ids.size, `case ${k}`).toBe(variants + 1);
    }
  });

  it('pins the example model', () => {
    const text = readFileSync(new URL('../../precompiles/model/examples/tiny-16-16-4.json', import.meta.url), 'utf8');
    const spec = parseModelSpecText(text);
    expect(spec.name).toBe('tiny-16-16-4');
    expect(spec.model.layers.map((l) => (l as DenseLayer).outputs)).toEqual([16, 4]);
    expect(modelId(spec.model)).toBe('0xdcd2a561e5297250f7578e6f35f8d48948e972d22483dce76f1df48586fb8380');
  });
});

describe('SPEC.json parser', () => {
  const base = () => ({
    name: 'm',
    version: 1,
    input: { shape: [2] },
    layers: [
      {
        type: 'dense',
        inputs: 2,
        outputs: 2,
        weights: [
          [1, 2],
          [3, 4],
        ],
        biases: [0, 0],
        shift: 1,
        activation: 'relu',
      },
      { type: 'dense', inputs: 2, outputs: 1, weights: [[5, 6]], biases: [7], shift: 0, activation: 'none' },
    ] as Record<string, unknown>[],
  });
  const conv = () => ({
    name: 'c',
    version: 1,
    input: { shape: [3, 3, 1] },
    layers: [
      {
        type: 'conv2d',
        input: [3, 3, 1],
        outChannels: 2,
        kernel: [2, 2],
        stride: [1, 1],
        weights: [
          [
            [[1], [2]],
            [[3], [4]],
          ],
          [
            [[5], [6]],
            [[7], [8]],
          ],
        ],
        biases: [0, 0],
        shift: 2,
        activation: 'relu',
      },
      { type: 'maxpool2d', input: [2, 2, 2], pool: [2, 2], stride: [1, 1] },
    ] as Record<string, unknown>[],
  });
  const bad = (mutate: (s: ReturnType<typeof base>) => void, code: ModelErrorCode, path: string, of = base) => {
    const s = of();
    mutate(s);
    return expectError(() => parseModelSpec(s), code, path);
  };

  it('accepts valid specs', () => {
    expect(parseModelSpec(base()).model.layers).toHaveLength(2);
    expect(parseModelSpec(conv()).model.layers[0]).toMatchObject({ weights: [1, 2, 3, 4, 5, 6, 7, 8] });
  });

  it('names the JSON path of every error', () => {
    bad((s) => ((s.layers[0]!.weights as number[][])[1]![0] = 200), 'OUT_OF_RANGE', 'layers[0].weights[1][0]');
    bad((s) => ((s.layers[0]!.weights as number[][])[0]![1] = 1.5), 'NOT_INTEGER', 'layers[0].weights[0][1]');
    bad((s) => ((s.layers[0]!.weights as unknown[][])[0]![1] = '1'), 'SCHEMA', 'layers[0].weights[0][1]');
    bad((s) => ((s.layers[0]!.weights as number[][])[1] = [1]), 'BAD_LENGTH', 'layers[0].weights[1]');
    bad((s) => (s.layers[0]!.weights as number[][]).push([1, 1]), 'BAD_LENGTH', 'layers[0].weights');
    bad((s) => (s.layers[1]!.biases = [1, 2]), 'BAD_LENGTH', 'layers[1].biases');
    bad((s) => (s.layers[1]!.biases = [2 ** 31]), 'OUT_OF_RANGE', 'layers[1].biases[0]');
    bad((s) => (s.layers[0]!.shift = 32), 'OUT_OF_RANGE', 'layers[0].shift');
    bad((s) => (s.layers[0]!.activation = 'sigmoid'), 'SCHEMA', 'layers[0].activation');
    bad((s) => delete s.layers[1]!.activation, 'SCHEMA', 'layers[1].activation');
    bad((s) => (s.layers[0]!.activaton = 'relu'), 'SCHEMA', 'layers[0]');
    bad((s) => (s.layers[0]!.type = 'lstm'), 'SCHEMA', 'layers[0].type');
    bad((s) => (s.layers[0]!.inputs = 0), 'OUT_OF_RANGE', 'layers[0].inputs');
    bad((s) => (s.layers[0]!.inputs = 3), 'BAD_LENGTH', 'layers[0].weights[0]');
    bad((s) => (s.input.shape = [3]), 'SHAPE_MISMATCH', 'layers[0].inputs');
    bad((s) => (s.input.shape = [2, 1]), 'BAD_SHAPE', 'input.shape');
    bad((s) => (s.layers[0]!.activation = 'none'), 'NONE_NOT_LAST', 'layers[0].activation');
    bad((s) => (s.layers = []), 'LAYER_COUNT', 'layers');
    bad((s) => (s.layers = Array.from({ length: 17 }, () => ({ ...s.layers[0]! }))), 'LAYER_COUNT', 'layers');
    bad((s) => (s.version = -1), 'OUT_OF_RANGE', 'version');
    bad((s) => delete (s as Partial<typeof s>).name, 'SCHEMA', 'name');
    bad((s) => (((s.layers[0]!.weights as number[][][][])[1]![0]![1] as unknown) = [6, 6]), 'BAD_LENGTH', 'layers[0].weights[1][0][1]', conv);
    bad((s) => (s.layers[0]!.kernel = [4, 1]), 'BAD_SHAPE', 'layers[0].kernel', conv);
    bad((s) => (s.layers[0]!.stride = [1]), 'BAD_LENGTH', 'layers[0].stride', conv);
    bad((s) => (s.layers[1]!.input = [2, 2, 1]), 'SHAPE_MISMATCH', 'layers[1].input', conv);
    bad((s) => (s.input.shape = [9]), 'SHAPE_MISMATCH', 'layers[0].input', conv);
    expectError(() => parseModelSpecText('{"name": '), 'BAD_JSON', '');
  });

  it('enforces the size limits', () => {
    const dense = (inputs: number, outputs: number, activation: 'relu' | 'none' = 'relu'): DenseLayer => ({
      type: 'dense',
      inputs,
      outputs,
      weights: new Array<number>(inputs * outputs).fill(1),
      biases: new Array<number>(outputs).fill(0),
      shift: 0,
      activation,
    });
    expectError(() => validateModel({ inputShape: [4097], layers: [dense(4097, 1)] }), 'OUT_OF_RANGE', 'input.shape[0]');
    expectError(() => validateModel({ inputShape: [4096], layers: [dense(4096, 245)] }), 'TOO_LARGE', 'layers[0].weights');
    expectError(() => validateModel({ inputShape: [4096], layers: [dense(4096, 160), dense(160, 4096)] }), 'TOO_LARGE', 'layers[1].weights');
    expectError(() => validateModel({ inputShape: [64, 64, 2], layers: [dense(8192, 1)] }), 'TOO_LARGE', 'input.shape');
    const conv: Layer = { type: 'conv2d', input: [64, 64, 1], outChannels: 2, kernel: [1, 1], stride: [1, 1], weights: [1, 1], biases: [0, 0], shift: 0, activation: 'relu' };
    expectError(() => validateModel({ inputShape: [64, 64, 1], layers: [conv] }), 'TOO_LARGE', 'layers[0]');
    expectError(() => validateModel({ inputShape: [1], layers: [{ ...dense(1, 1), type: 'lstm' } as unknown as Layer] }), 'UNKNOWN_LAYER', 'layers[0].type');
  });
});
