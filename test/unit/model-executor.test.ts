import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { deserializeModel, serializeModel } from '../../precompiles/model/codec.ts';
import { countMacs, requantize, runModel } from '../../precompiles/model/executor.ts';
import { type Activation, type DenseLayer, type Layer, type Model, ModelFormatError } from '../../precompiles/model/format.ts';
import { mulberry32, randomInput, randomModel } from '../../precompiles/model/random.ts';
import { parseModelSpecText } from '../../precompiles/model/spec.ts';

const dense = (inputs: number, outputs: number, weights: number[], biases: number[], shift: number, activation: Activation): DenseLayer => ({
  type: 'dense',
  inputs,
  outputs,
  weights,
  biases,
  shift,
  activation,
});
/** One output whose accumulator is exactly `acc` (zero weight, input 0). */
const accOnly = (acc: number, shift: number, activation: Activation) => runModel({ inputShape: [1], layers: [dense(1, 1, [0], [acc], shift, activation)] }, [0]).output[0];

/**
 * Independent reference, written from the specification in format.ts with BigInt and nested
 * (y, x, c) indexing rather than the executor's flat loops; BigInt >> is floor division by 2^s.
 */
function reference(model: Model, input: ArrayLike<number>): { output: number[]; macs: number } {
  let x = Array.from(input, BigInt);
  let macs = 0;
  const sat = (q: bigint, act: Activation): bigint => {
    const [lo, hi] = act === 'relu' ? [0n, 255n] : [-128n, 127n];
    return q < lo ? lo : q > hi ? hi : q;
  };
  for (const l of model.layers) {
    if (l.type === 'dense') {
      const out: bigint[] = [];
      for (let j = 0; j < l.outputs; j++) {
        let acc = BigInt(l.biases[j]!);
        for (let i = 0; i < l.inputs; i++, macs++) acc += BigInt(l.weights[j * l.inputs + i]!) * x[i]!;
        out.push(sat(acc >> BigInt(l.shift), l.activation));
      }
      x = out;
      continue;
    }
    if (l.type === 'pad2d') {
      // spec: out(y, x, c) = in(y - top, x - left, c) inside the input, else 0
      const [H, W, C] = l.input;
      const [top, left, bottom, right] = l.pads;
      const out: bigint[] = [];
      for (let y = 0; y < top + H + bottom; y++)
        for (let xx = 0; xx < left + W + right; xx++)
          for (let c = 0; c < C; c++) {
            const iy = y - top;
            const ix = xx - left;
            out.push(iy >= 0 && iy < H && ix >= 0 && ix < W ? x[(iy * W + ix) * C + c]! : 0n);
          }
      x = out;
      continue;
    }
    const [H, W, C] = l.input;
    const at = (y: number, xx: number, c: number): bigint => x[(y * W + xx) * C + c]!;
    const [KH, KW] = l.type === 'conv2d' ? l.kernel : l.pool;
    const OH = Math.floor((H - KH) / l.stride[0]) + 1;
    const OW = Math.floor((W - KW) / l.stride[1]) + 1;
    const K = l.type === 'conv2d' ? l.outChannels : C;
    const out: bigint[][][] = [];
    for (let oy = 0; oy < OH; oy++) {
      out.push([]);
      for (let ox = 0; ox < OW; ox++) {
        out[oy]!.push([]);
        for (let o = 0; o < K; o++) {
          let v: bigint;
          if (l.type === 'conv2d') {
            let acc = BigInt(l.biases[o]!);
            for (let ky = 0; ky < KH; ky++)
              for (let kx = 0; kx < KW; kx++)
                for (let c = 0; c < C; c++, macs++) acc += BigInt(l.weights[((o * KH + ky) * KW + kx) * C + c]!) * at(oy * l.stride[0] + ky, ox * l.stride[1] + kx, c);
            v = sat(acc >> BigInt(l.shift), l.activation);
          } else {
            v = -1n;
            for (let py = 0; py < KH; py++)
              for (let px = 0; px < KW; px++) {
                const e = at(oy * l.stride[0] + py, ox * l.stride[1] + px, o);
                if (e > v) v = e;
              }
          }
          out[oy]![ox]!.push(v);
        }
      }
    }
    x = out.flat(2);
  }
  return { output: x.map(Number), macs };
}

describe('requantization', () => {
  it('floors toward minus infinity', () => {
    const cases: [number, number, number][] = [
      [-1, 1, -1],
      [-2, 1, -1],
      [-3, 1, -2],
      [3, 1, 1],
      [1, 1, 0],
      [0, 5, 0],
      [-4, 2, -1],
      [-5, 2, -2],
      [5, 0, 5],
      [-5, 0, -5],
      [-1, 31, -1],
      [2 ** 31 - 1, 31, 0],
      [-(2 ** 31), 31, -1],
    ];
    for (const [acc, shift, q] of cases) expect(accOnly(acc, shift, 'none'), `${acc} >> ${shift}`).toBe(q);
  });

  it('saturates at both ends', () => {
    expect(accOnly(-1, 0, 'relu')).toBe(0);
    expect(accOnly(255, 0, 'relu')).toBe(255);
    expect(accOnly(256, 0, 'relu')).toBe(255);
    expect(accOnly(2 ** 31 - 1, 0, 'relu')).toBe(255);
    expect(accOnly(-(2 ** 31), 0, 'relu')).toBe(0);
    expect(accOnly(127, 0, 'none')).toBe(127);
    expect(accOnly(128, 0, 'none')).toBe(127);
    expect(accOnly(-128, 0, 'none')).toBe(-128);
    expect(accOnly(-129, 0, 'none')).toBe(-128);
    expect(accOnly(511, 1, 'relu')).toBe(255);
    expect(accOnly(512, 1, 'relu')).toBe(255);
    expect(accOnly(-257, 1, 'none')).toBe(-128);
    expect(accOnly(-256, 1, 'none')).toBe(-128);
    expect(accOnly(-255, 1, 'none')).toBe(-128);
    expect(accOnly(-254, 1, 'none')).toBe(-127);
  });

  it('agrees with BigInt >> over the whole accumulator range', () => {
    const rng = mulberry32(5);
    for (let k = 0; k < 20000; k++) {
      const acc = rng.int(-(2 ** 31) - 133_693_440, 2 ** 31 - 1 + 132_648_960);
      const shift = rng.int(0, 31);
      const q = BigInt(acc) >> BigInt(shift);
      const clamp = (lo: bigint, hi: bigint) => Number(q < lo ? lo : q > hi ? hi : q);
      expect(requantize(acc, shift, 'relu')).toBe(clamp(0n, 255n));
      expect(requantize(acc, shift, 'none')).toBe(clamp(-128n, 127n));
    }
  });
});

describe('runModel on hand-computed cases', () => {
  it('two dense layers with a negative accumulator', () => {
    // layer 0: acc = [4 + 10 + 40 + 90, 100 - 10 - 40 - 90] = [144, -40] >> 2 = [36, -10] -> relu [36, 0]
    // layer 1: acc = [72, -108 - 1] >> 1 = [36, floor(-54.5) = -55]
    const model: Model = {
      inputShape: [3],
      layers: [dense(3, 2, [1, 2, 3, -1, -2, -3], [4, 100], 2, 'relu'), dense(2, 2, [2, -1, -3, 1], [0, -1], 1, 'none')],
    };
    expect(runModel(model, [10, 20, 30])).toEqual({ output: [36, -55], macs: 10 });
    expect(runModel(model, Uint8Array.from([10, 20, 30]))).toEqual({ output: [36, -55], macs: 10 });
    expect(countMacs(model)).toBe(10);
  });

  it('the extreme accumulators of the bound stay exact', () => {
    const n = 4096;
    const low = dense(n, 1, new Array<number>(n).fill(-128), [-(2 ** 31)], 31, 'none');
    // acc = -2^31 - 4096 * 128 * 255 = -2281177088; / 2^31 = -1.06.. -> -2
    expect(runModel({ inputShape: [n], layers: [low] }, new Array<number>(n).fill(255)).output).toEqual([-2]);
    const high = dense(n, 1, new Array<number>(n).fill(127), [2 ** 31 - 1], 31, 'none');
    // acc = 2^31 - 1 + 4096 * 127 * 255 = 2280132607 -> 1
    expect(runModel({ inputShape: [n], layers: [high] }, new Array<number>(n).fill(255)).output).toEqual([1]);
    const sat = dense(2, 2, [-128, -128, 127, 127], [0, 0], 8, 'none'); // [-65280, 64770] >> 8 = [-255, 253]
    expect(runModel({ inputShape: [2], layers: [sat] }, [255, 255]).output).toEqual([-128, 127]);
  });

  it('conv2d: channels-last, valid padding, strides', () => {
    // input 3x3x1 = 1..9; channel 0 = x[y][x] - x[y+1][x+1] + 10 = 6; channel 1 = 2x2 window sum + 10
    const conv: Layer = {
      type: 'conv2d',
      input: [3, 3, 1],
      outChannels: 2,
      kernel: [2, 2],
      stride: [1, 1],
      weights: [1, 0, 0, -1, 1, 1, 1, 1],
      biases: [10, 10],
      shift: 0,
      activation: 'relu',
    };
    const x = [1, 2, 3, 4, 5, 6, 7, 8, 9];
    expect(runModel({ inputShape: [3, 3, 1], layers: [conv] }, x)).toEqual({ output: [6, 22, 6, 26, 6, 34, 6, 38], macs: 32 });
    const strided: Layer = { type: 'conv2d', input: [3, 3, 1], outChannels: 1, kernel: [1, 1], stride: [2, 2], weights: [1], biases: [0], shift: 0, activation: 'relu' };
    expect(runModel({ inputShape: [3, 3, 1], layers: [strided] }, x).output).toEqual([1, 3, 7, 9]);
    // two input channels: w . (x_c0, x_c1) per pixel, with a floor on a negative result
    const mix: Layer = { type: 'conv2d', input: [1, 2, 2], outChannels: 1, kernel: [1, 1], stride: [1, 1], weights: [1, -2], biases: [0], shift: 2, activation: 'none' };
    expect(runModel({ inputShape: [1, 2, 2], layers: [mix] }, [5, 3, 1, 0]).output).toEqual([-1, 0]); // (5-6)>>2, (1-0)>>2
  });

  it('maxpool2d per channel, then dense on the flattened tensor', () => {
    const model: Model = {
      inputShape: [2, 4, 2],
      layers: [{ type: 'maxpool2d', input: [2, 4, 2], pool: [2, 2], stride: [2, 2] }, dense(4, 1, [1, 1, 1, 1], [0], 0, 'relu')],
    };
    // pixels (y, x) -> [c0, c1]; row 0: [1,9] [2,0] [3,4] [0,8]; row 1: [5,1] [6,7] [0,0] [2,2]
    const x = [1, 9, 2, 0, 3, 4, 0, 8, 5, 1, 6, 7, 0, 0, 2, 2];
    // windows: c0 max(1,2,5,6) = 6, c1 max(9,0,1,7) = 9; c0 max(3,0,0,2) = 3, c1 max(4,8,0,2) = 8
    expect(runModel({ ...model, layers: [model.layers[0]!] }, x)).toEqual({ output: [6, 9, 3, 8], macs: 0 });
    expect(runModel(model, x)).toEqual({ output: [26], macs: 4 });
  });

  it('rejects a bad input and an invalid model', () => {
    const model: Model = { inputShape: [2], layers: [dense(2, 1, [1, 1], [0], 0, 'relu')] };
    for (const input of [[1], [1, 2, 3], [1, 256], [-1, 0], [0.5, 1]]) expect(() => runModel(model, input)).toThrow(ModelFormatError);
    expect(() => runModel({ ...model, layers: [dense(2, 1, [1, 1], [0], 32, 'relu')] }, [1, 1])).toThrow(/shift/);
  });
});

describe('runModel against the BigInt reference', () => {
  it('agrees on 200 random models and inputs (outputs and MACs)', () => {
    const rng = mulberry32(2024);
    let spatial = 0;
    let saturated = 0;
    let unsaturated = 0;
    for (let k = 0; k < 200; k++) {
      const model = randomModel(rng, { maxLayers: 5, maxWidth: 48 });
      if (model.inputShape.length === 3) spatial++;
      for (let t = 0; t < 3; t++) {
        const input = randomInput(rng, model);
        const got = runModel(model, input);
        expect(got, `model ${k} input ${t}`).toEqual(reference(model, input));
        expect(got.macs).toBe(countMacs(model));
        for (const v of got.output) v === 0 || v === 255 || v === -128 || v === 127 ? saturated++ : unsaturated++;
      }
    }
    // the generator must exercise both the spatial layers and both sides of saturation
    expect(spatial).toBeGreaterThan(40);
    expect(saturated).toBeGreaterThan(200);
    expect(unsaturated).toBeGreaterThan(200);
  });

  it('gives the same result after a serialization round trip', () => {
    const rng = mulberry32(99);
    for (let k = 0; k < 50; k++) {
      const model = randomModel(rng);
      const input = randomInput(rng, model);
      expect(runModel(deserializeModel(serializeModel(model)), input, { trusted: true })).toEqual(runModel(model, input));
    }
  });

  it('runs the example model', () => {
    const { model } = parseModelSpecText(readFileSync(new URL('../../precompiles/model/examples/tiny-16-16-4.json', import.meta.url), 'utf8'));
    const input = Array.from({ length: 16 }, (_, i) => i * 16);
    const got = runModel(model, input);
    expect(got).toEqual(reference(model, input));
    expect(got.macs).toBe(16 * 16 + 16 * 4);
  });
});
