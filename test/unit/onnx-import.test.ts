/**
 * `model import` on graphs built here in the styles exporters differ in, each scored against
 * onnxruntime: an import succeeds only if the importer's float reading of the graph equals
 * onnxruntime's output (LOWERING_MISMATCH otherwise), so every accepted variant below is checked
 * against the reference runtime, not against this test's own idea of the operator.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runModel } from '../../precompiles/model/executor.ts';
import { parseModelSpec } from '../../precompiles/model/spec.ts';
import { mulberry32 } from '../../precompiles/model/random.ts';
import { toChannelsLast } from '../../prover/onnx/accuracy.ts';
import { OnnxImportError } from '../../prover/onnx/errors.ts';
import { importOnnx } from '../../prover/onnx/import.ts';
import { type GraphSpec, type NodeSpec, type TensorSpec, buildOnnx } from '../../prover/onnx/onnx-builder.ts';
import { quantizeInput } from '../../prover/onnx/quantize.ts';

const dir = mkdtempSync(join(tmpdir(), 'onnx-import-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const DIGITS = join(import.meta.dirname, '../fixtures/digits');

const rng = mulberry32(2026);
const gauss = () => {
  const u = (rng.u32() + 1) / 2 ** 32;
  const v = rng.u32() / 2 ** 32;
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
};
const randn = (n: number, scale: number) => Array.from({ length: n }, () => gauss() * scale);
const t = (name: string, dims: number[], scale = 0.5, raw = true): TensorSpec => ({
  name,
  dims,
  data: randn(
    dims.reduce((a, b) => a * b, 1),
    scale,
  ),
  raw,
});

let files = 0;
async function importGraph(g: GraphSpec, samples = 40, size?: number) {
  const n = size ?? (g.input.shape.slice(1) as number[]).reduce((a, b) => a * b, 1);
  const onnxFile = join(dir, `m${++files}.onnx`);
  const calibrationFile = join(dir, `c${files}.json`);
  writeFileSync(onnxFile, buildOnnx(g));
  writeFileSync(calibrationFile, JSON.stringify({ inputs: Array.from({ length: samples }, () => Array.from({ length: n }, () => (rng.u32() / 2 ** 32) * 4)) }));
  return importOnnx({ onnxFile, calibrationFile, name: `m${files}` });
}

async function refusal(g: GraphSpec): Promise<OnnxImportError> {
  const err = await importGraph(g).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(OnnxImportError);
  return err as OnnxImportError;
}

/** A small CNN over [2, 6, 6] (two channels, so the channels-first -> channels-last reorder matters). */
function cnn(conv: Partial<NodeSpec> = {}, pool: Partial<NodeSpec> = {}, extra: { convOut?: number; flat?: number } = {}): GraphSpec {
  const flat = extra.flat ?? 3 * 3 * 3;
  return {
    input: { name: 'x', shape: ['N', 2, 6, 6] },
    output: { name: 'y', shape: ['N', 4] },
    initializers: [
      t('cw', [3, 2, 3, 3]),
      t('cb', [3], 0.1),
      t('bn_s', [3], 0.3),
      t('bn_b', [3], 0.1),
      t('bn_m', [3], 0.1),
      { name: 'bn_v', dims: [3], data: [0.5, 1.5, 2] },
      t('fw', [4, flat], 0.3),
      t('fb', [4], 0.1),
    ],
    nodes: [
      { op: 'Conv', inputs: ['x', 'cw', 'cb'], outputs: ['c'], attrs: { kernel_shape: { ints: [3, 3] }, pads: { ints: [1, 1, 1, 1] } }, ...conv },
      { op: 'BatchNormalization', inputs: ['c', 'bn_s', 'bn_b', 'bn_m', 'bn_v'], outputs: ['bn'], attrs: { epsilon: { f: 1e-5 } } },
      { op: 'Relu', inputs: ['bn'], outputs: ['r'] },
      { op: 'MaxPool', inputs: ['r'], outputs: ['p'], attrs: { kernel_shape: { ints: [2, 2] }, strides: { ints: [2, 2] } }, ...pool },
      { op: 'Flatten', inputs: ['p'], outputs: ['f'], attrs: { axis: { i: 1 } } },
      { op: 'Gemm', inputs: ['f', 'fw', 'fb'], outputs: ['y'], attrs: { transB: { i: 1 } } },
    ],
  };
}

describe('model import: the digits classifier (a real data set)', () => {
  it("keeps the float model's answers on held-out digits; the spec round-trips and runs as the report says", async () => {
    const { spec, report } = await importOnnx({
      onnxFile: join(DIGITS, 'digits-mlp.onnx'),
      calibrationFile: join(DIGITS, 'digits-train.csv'),
      evaluationFile: join(DIGITS, 'digits-test.csv'),
      labelColumn: 'last',
      name: 'digits',
    });
    const ev = report.evaluation!;
    expect(ev.samples).toBe(497);
    expect(ev.top1Agreement).toBeGreaterThanOrEqual(0.98);
    expect(ev.floatAccuracy).toBeGreaterThan(0.85);
    expect(Math.abs(ev.quantizedAccuracy! - ev.floatAccuracy!)).toBeLessThanOrEqual(0.02);
    expect(report.notes.join()).toMatch(/Softmax/);
    const parsed = parseModelSpec(JSON.parse(JSON.stringify(spec)));
    expect(parsed.model.layers.map((l) => l.type)).toEqual(['dense', 'dense']);
    // a held-out digit through the spec as a caller would feed it: uint8 = round(x * 2^e)
    const row = [
      0, 0, 10, 14, 8, 1, 0, 0, 0, 2, 16, 14, 6, 1, 0, 0, 0, 0, 15, 15, 8, 15, 0, 0, 0, 0, 5, 16, 16, 10, 0, 0, 0, 0, 12, 15, 15, 12, 0, 0, 0, 4, 16, 6, 4, 16, 6, 0, 0, 8, 16, 10,
      8, 16, 8, 0, 0, 1, 8, 12, 14, 12, 1, 0,
    ];
    const out = runModel(parsed.model, quantizeInput(row, report.quantization.inputExponent)).output;
    expect(out.indexOf(Math.max(...out))).toBe(8);
  });
});

describe('model import: graphs as different exporters write them', () => {
  it('Conv with pads, BatchNormalization folded, MaxPool, Flatten, Gemm over two channels (PyTorch style)', async () => {
    const { spec, report } = await importGraph(cnn());
    expect(spec.layers.map((l) => l.type)).toEqual(['pad2d', 'conv2d', 'maxpool2d', 'dense']);
    expect(report.notes.join()).toMatch(/BatchNormalization/);
    expect(report.calibration.top1Agreement).toBeGreaterThanOrEqual(0.9);
  });

  it('auto_pad SAME_UPPER and SAME_LOWER with strides, VALID, and MaxPool with its own pads', async () => {
    for (const autoPad of ['SAME_UPPER', 'SAME_LOWER']) {
      const { spec } = await importGraph(
        cnn(
          { attrs: { kernel_shape: { ints: [3, 3] }, auto_pad: { s: autoPad }, strides: { ints: [2, 2] } } },
          { attrs: { kernel_shape: { ints: [2, 2] }, pads: { ints: [0, 0, 1, 1] } } },
          { flat: 3 * 3 * 3 },
        ),
      );
      expect(spec.layers.map((l) => l.type)).toEqual(['pad2d', 'conv2d', 'pad2d', 'maxpool2d', 'dense']);
    }
    const valid = await importGraph(cnn({ attrs: { auto_pad: { s: 'VALID' } } }, {}, { flat: 3 * 2 * 2 }));
    expect(valid.spec.layers.map((l) => l.type)).toEqual(['conv2d', 'maxpool2d', 'dense']);
  });

  it('opset 9 style: initializers listed as graph inputs, typed (not raw) data, Reshape by a Constant shape, Gemm without transB, Dropout and Identity', async () => {
    const g: GraphSpec = {
      opset: 9,
      initializersAsInputs: true,
      input: { name: 'x', shape: [1, 2, 4, 4] },
      output: { name: 'y', shape: [1, 3] },
      initializers: [t('cw', [2, 2, 2, 2], 0.5, false), t('w', [18, 3], 0.4, false), t('b', [3], 0.1, false)],
      nodes: [
        { op: 'Conv', inputs: ['x', 'cw'], outputs: ['c'], attrs: { strides: { ints: [1, 1] } } },
        { op: 'Relu', inputs: ['c'], outputs: ['r'] },
        { op: 'Dropout', inputs: ['r'], outputs: ['d'] },
        { op: 'Constant', inputs: [], outputs: ['shape'], attrs: { value: { t: { name: 'shape', dims: [2], data: [1, -1], type: 'int64' } } } },
        { op: 'Reshape', inputs: ['d', 'shape'], outputs: ['f'] },
        { op: 'Identity', inputs: ['f'], outputs: ['i'] },
        { op: 'Gemm', inputs: ['i', 'w', 'b'], outputs: ['y'], attrs: { alpha: { f: 0.5 }, beta: { f: 2 } } },
      ],
    };
    const { spec } = await importGraph(g);
    expect(spec.layers.map((l) => l.type)).toEqual(['conv2d', 'dense']);
  });

  it('MatMul then Add (TensorFlow/Keras style), GlobalMaxPool, and a final LogSoftmax', async () => {
    const g: GraphSpec = {
      input: { name: 'x', shape: ['batch', 1, 5, 5] },
      output: { name: 'y', shape: ['batch', 3] },
      initializers: [t('cw', [4, 1, 2, 2]), t('cb', [1, 4, 1, 1], 0.1), t('w', [4, 3]), t('b', [3], 0.1), { name: 'shape', dims: [2], data: [0, 4], type: 'int64' }],
      nodes: [
        { op: 'Conv', inputs: ['x', 'cw'], outputs: ['c0'] },
        { op: 'Add', inputs: ['c0', 'cb'], outputs: ['c'] },
        { op: 'Relu', inputs: ['c'], outputs: ['r'] },
        { op: 'GlobalMaxPool', inputs: ['r'], outputs: ['g'] },
        { op: 'Reshape', inputs: ['g', 'shape'], outputs: ['f'] },
        { op: 'MatMul', inputs: ['f', 'w'], outputs: ['m'] },
        { op: 'Add', inputs: ['m', 'b'], outputs: ['z'] },
        { op: 'LogSoftmax', inputs: ['z'], outputs: ['y'], attrs: { axis: { i: -1 } } },
      ],
    };
    const { spec, report } = await importGraph(g);
    expect(spec.layers.map((l) => l.type)).toEqual(['conv2d', 'maxpool2d', 'dense']);
    expect(report.notes.join()).toMatch(/LogSoftmax/);
  });

  it('MaxPool before its Relu (Conv -> MaxPool -> Relu) is the same chain: the Relu moves onto the conv', async () => {
    const g = cnn();
    const nodes = [...g.nodes];
    [nodes[2], nodes[3]] = [
      { op: 'MaxPool', inputs: ['bn'], outputs: ['p0'], attrs: { kernel_shape: { ints: [2, 2] }, strides: { ints: [2, 2] } } },
      { op: 'Relu', inputs: ['p0'], outputs: ['p'] },
    ];
    const { spec } = await importGraph({ ...g, nodes });
    expect(spec.layers.map((l) => ('activation' in l ? `${l.type}:${l.activation}` : l.type))).toEqual(['pad2d', 'conv2d:relu', 'maxpool2d', 'dense:none']);
  });

  it('the quantized model reads the channels-last input the report describes', async () => {
    const { spec, report } = await importGraph(cnn());
    const parsed = parseModelSpec(spec);
    expect(parsed.model.inputShape).toEqual([6, 6, 2]);
    expect(report.input.layout).toMatch(/channels-last/);
    const x = Float64Array.from({ length: 72 }, (_, i) => (i % 7) / 2);
    const hwc = toChannelsLast(x, [2, 6, 6]);
    expect(hwc[1]).toBe(x[36]); // (y 0, x 0, c 1) is channel 1's first pixel
    expect(runModel(parsed.model, quantizeInput(hwc, report.quantization.inputExponent)).output).toHaveLength(4);
  });
});

describe('model import: refusals name the node and write nothing', () => {
  it('an operator with no mapping', async () => {
    const g = cnn();
    const e = await refusal({ ...g, nodes: g.nodes.map((n) => (n.op === 'Relu' ? { ...n, op: 'Sigmoid', name: 'act1' } : n)) });
    expect(e.code).toBe('UNSUPPORTED_OP');
    expect(e.message).toMatch(/node 'act1' \(Sigmoid\)/);
  });

  it('attributes the format cannot express: group, dilations, ceil_mode, AveragePool', async () => {
    const cases: [Partial<NodeSpec>, Partial<NodeSpec>, RegExp][] = [
      [{ name: 'conv_g', attrs: { group: { i: 2 } } }, {}, /conv_g.*group/],
      [{ name: 'conv_d', attrs: { dilations: { ints: [2, 2] } } }, {}, /conv_d.*dilations/],
      [{}, { name: 'pool_c', attrs: { kernel_shape: { ints: [2, 2] }, ceil_mode: { i: 1 } } }, /pool_c.*ceil_mode/],
      [{}, { name: 'avg', op: 'AveragePool' }, /avg.*AveragePool/],
    ];
    for (const [conv, pool, msg] of cases) expect((await refusal(cnn(conv, pool))).message).toMatch(msg);
  });

  it('graphs that are not a chain, or a hidden layer without Relu', async () => {
    const g = cnn();
    const branch: NodeSpec = { op: 'Add', name: 'residual', inputs: ['r', 'c'], outputs: ['r2'] };
    const nodes = [...g.nodes.slice(0, 3), branch, { ...g.nodes[3]!, inputs: ['r2'] }, ...g.nodes.slice(4)];
    expect((await refusal({ ...g, nodes })).message).toMatch(/residual.*computed|residual.*constant|residual/);
    const noRelu = g.nodes.filter((n) => n.op !== 'Relu').map((n) => (n.op === 'MaxPool' ? { ...n, inputs: ['bn'] } : n));
    expect((await refusal({ ...g, nodes: noRelu })).message).toMatch(/negative|Relu/);
  });

  it('bytes that are not a model, and a tensor that claims a billion values', async () => {
    const bad = join(dir, 'bad.onnx');
    writeFileSync(bad, new Uint8Array([0x08, 0x07, 0x12, 0xff, 0xff, 0xff, 0xff, 0x0f]));
    const calibrationFile = join(dir, 'cal.json');
    writeFileSync(calibrationFile, '[[1]]');
    await expect(importOnnx({ onnxFile: bad, calibrationFile, name: 'x' })).rejects.toMatchObject({ code: 'BAD_ONNX' });
    const huge = cnn();
    const e = await refusal({ ...huge, initializers: [...huge.initializers!.slice(0, 6), { name: 'fw', dims: [100000, 100000], data: [1] }, huge.initializers![7]!] });
    expect(e.code).toBe('BAD_TENSOR');
  });

  it('negative calibration inputs (the format reads uint8)', async () => {
    const onnxFile = join(dir, 'neg.onnx');
    writeFileSync(onnxFile, buildOnnx(cnn()));
    const calibrationFile = join(dir, 'neg.json');
    writeFileSync(calibrationFile, JSON.stringify([Array.from({ length: 72 }, (_, i) => i - 10)]));
    await expect(importOnnx({ onnxFile, calibrationFile, name: 'x' })).rejects.toMatchObject({ code: 'BAD_SAMPLES', message: expect.stringMatching(/non-negative/) });
  });
});
