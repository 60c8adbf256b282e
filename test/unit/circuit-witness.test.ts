import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { computeWitness, compileCircuit, firstViolatedConstraint, readSymbols, releaseSnarkjsCurve, snarkjsCheckWitness } from '../../prover/circuit/compile.ts';
import { encodeOutputs, generateCircuit } from '../../prover/circuit/generate.ts';
import { hashPlan, inputHash, packInput } from '../../precompiles/model/input-hash.ts';
import { runModel } from '../../precompiles/model/executor.ts';
import type { Model } from '../../precompiles/model/format.ts';
import { mulberry32, randomInput, randomModel } from '../../precompiles/model/random.ts';
import { parseModelSpecText } from '../../precompiles/model/spec.ts';

const TINY = parseModelSpecText(readFileSync(new URL('../../precompiles/model/examples/tiny-16-16-4.json', import.meta.url), 'utf8')).model;

/** Every public signal of the circuit equals what the native executor says. */
async function agree(model: Model, input: Uint8Array, mode: 'public' | 'private') {
  const compiled = await compileCircuit(generateCircuit(model, { input: mode }));
  const w = await computeWitness(compiled, input);
  const expected = [...encodeOutputs(model, Array.from(runModel(model, input).output)), ...(mode === 'private' ? [inputHash(input)] : Array.from(input, BigInt))];
  expect(w.publicSignals).toEqual(expected);
  expect(firstViolatedConstraint(compiled, w.witness)).toBe(-1);
  return { compiled, w };
}

describe('circuit generator == native executor, bit for bit', () => {
  afterAll(releaseSnarkjsCurve);

  it('random models (dense, conv2d, maxpool2d; relu and int8 outputs) and random inputs', async () => {
    const rng = mulberry32(20261122);
    for (let m = 0; m < 14; m++) {
      const model = randomModel(rng, { maxLayers: 3, maxWidth: 12 });
      for (let i = 0; i < 6; i++) await agree(model, randomInput(rng, model), 'public');
    }
  }, 240_000);

  it('zero padding (pad2d) before a conv2d and a maxpool2d, as the ONNX importer writes padded Conv and MaxPool', async () => {
    const rng = mulberry32(4242);
    const conv = { type: 'conv2d', input: [7, 6, 2], outChannels: 3, kernel: [3, 3], stride: [1, 2], shift: 5, activation: 'relu' } as const;
    const model: Model = {
      inputShape: [5, 4, 2],
      layers: [
        { type: 'pad2d', input: [5, 4, 2], pads: [1, 2, 1, 0] },
        { ...conv, weights: Array.from({ length: 3 * 3 * 3 * 2 }, () => rng.int(-128, 127)), biases: [300, -200, 0] },
        { type: 'pad2d', input: [5, 2, 3], pads: [0, 1, 1, 1] },
        { type: 'maxpool2d', input: [6, 4, 3], pool: [2, 2], stride: [2, 2] },
      ],
    };
    for (let i = 0; i < 4; i++) await agree(model, randomInput(rng, model), 'public');
  }, 120_000);

  it('the reference model in both input modes; snarkjs agrees the witness satisfies the R1CS', async () => {
    const rng = mulberry32(7);
    for (const mode of ['public', 'private'] as const) {
      for (let i = 0; i < 4; i++) {
        const { compiled, w } = await agree(TINY, randomInput(rng, TINY), mode);
        if (i === 0) expect(await snarkjsCheckWitness(compiled, w.witness)).toBe(true);
      }
    }
  }, 240_000);

  it('packs the input 31 bytes per element and chains Poseidon past 16 elements', () => {
    expect(packInput([1, 2])).toEqual([0x0201n]);
    expect(packInput(new Uint8Array(32).fill(255))).toEqual([(1n << 248n) - 1n, 255n]);
    expect(hashPlan(16)).toEqual([16]);
    expect(hashPlan(26)).toEqual([16, 10]);
    expect(hashPlan(47)).toEqual([16, 15, 15, 1]);
    expect(inputHash([1, 2, 3])).not.toBe(inputHash([1, 2, 4]));
  });

  it('a private-input circuit over more than 16 packed elements hashes like input-hash.ts', async () => {
    const model: Model = {
      inputShape: [31 * 17 + 3],
      layers: [{ type: 'dense', inputs: 31 * 17 + 3, outputs: 1, weights: Array.from({ length: 31 * 17 + 3 }, (_, i) => (i % 5) - 2), biases: [7], shift: 4, activation: 'relu' }],
    };
    const rng = mulberry32(99);
    await agree(model, randomInput(rng, model), 'private');
  }, 120_000);

  it('leaves the prover no choice: any other rounding, sign or clamp breaks a constraint', async () => {
    const input = Uint8Array.from({ length: 16 }, (_, i) => (i * 37 + 11) % 256);
    const { compiled, w } = await agree(TINY, input, 'public');
    const wires = readSymbols(compiled);
    const tampered = (name: string, f: (v: bigint) => bigint) => {
      const wire = wires.get(name);
      expect(wire, `no wire for ${name}`).toBeDefined();
      const copy = [...w.witness];
      copy[wire!] = f(copy[wire!]!);
      return firstViolatedConstraint(compiled, copy);
    };
    // flip a remainder bit, the sign bit and a quotient bit of the first requantizer, and an output
    // (bits 31 and 32 have no wire of their own: --O2 substitutes them from the sum constraint)
    const bits = [0, 7, 20, 30].map((b) => `main.l0.r[0].t.out[${b}]`);
    expect(bits.filter((n) => wires.has(n)).length, 'the requantizer bits kept their wires').toBe(bits.length);
    for (const name of bits) expect(tampered(name, (v) => 1n - v)).toBeGreaterThanOrEqual(0);
    expect(tampered('main.out[0]', (v) => v + 1n)).toBeGreaterThanOrEqual(0);
    // an input outside 0..255 (as a field element) cannot be decomposed into 8 bits
    expect(tampered('main.in[0]', (v) => v + 256n)).toBeGreaterThanOrEqual(0);
  }, 120_000);
});
