import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { compileCircuit, computeWitness, firstViolatedConstraint, releaseSnarkjsCurve } from '../../prover/circuit/compile.ts';
import { generateCircuit } from '../../prover/circuit/generate.ts';
import { inputHash } from '../../precompiles/model/input-hash.ts';
import { MultiCircuitError, decodeMultiSignals, generateMultiCircuit, multiCircuitInput, multiPublicSignals, packOutputs } from '../../prover/circuit/multi.ts';
import { runModel } from '../../precompiles/model/executor.ts';
import type { Model } from '../../precompiles/model/format.ts';
import { mulberry32, randomInput } from '../../precompiles/model/random.ts';
import { parseModelSpecText } from '../../precompiles/model/spec.ts';

const TINY = parseModelSpecText(readFileSync(new URL('../../precompiles/model/examples/tiny-16-16-4.json', import.meta.url), 'utf8')).model;

describe('multi-inference circuits (prover/circuit/multi.ts)', () => {
  afterAll(releaseSnarkjsCurve);

  it('k = 2 of the example model: public signals = per slot packed outputs and input hash, from the executor, bit for bit', async () => {
    const compiled = await compileCircuit(generateMultiCircuit(TINY, 2));
    // two copies of the single private-input circuit, the packing is linear: no extra constraints
    const single = await compileCircuit(generateCircuit(TINY, { input: 'private' }));
    expect(compiled.constraints).toBe(2 * single.constraints);
    const rng = mulberry32(2);
    for (let i = 0; i < 3; i++) {
      const inputs = [randomInput(rng, TINY), randomInput(rng, TINY)];
      const w = await computeWitness(compiled, multiCircuitInput(inputs));
      expect(w.publicSignals).toEqual(multiPublicSignals(TINY, inputs));
      expect(firstViolatedConstraint(compiled, w.witness)).toBe(-1);
      const slots = decodeMultiSignals(TINY, w.publicSignals);
      slots.forEach((s, j) => {
        expect(s.output).toEqual(Array.from(runModel(TINY, inputs[j]!).output));
        expect(s.inputHash).toBe(inputHash(inputs[j]!));
      });
    }
  }, 240_000);

  it('packs the output encoding little-endian and refuses what does not fit', () => {
    const model: Model = { inputShape: [2], layers: [{ type: 'dense', inputs: 2, outputs: 3, weights: [1, 0, 0, 1, 1, 1], biases: [0, 0, 0], shift: 0, activation: 'relu' }] };
    expect(packOutputs(model, [1, 2, 3])).toBe(1n + 2n * 256n + 3n * 65536n);
    expect(packOutputs(TINY, [-128, 0, 1, 127])).toBe(0n + 128n * 256n + 129n * 65536n + 255n * 16777216n); // int8 + 128
    expect(() => generateMultiCircuit(model, 0)).toThrow(MultiCircuitError);
    expect(() => generateMultiCircuit(model, 65)).toThrow(MultiCircuitError);
    const wide: Model = {
      inputShape: [1],
      layers: [{ type: 'dense', inputs: 1, outputs: 32, weights: Array(32).fill(1), biases: Array(32).fill(0), shift: 0, activation: 'relu' }],
    };
    expect(() => generateMultiCircuit(wide, 2)).toThrow(/do not pack/);
    expect(() => decodeMultiSignals(model, [1n << 24n, 5n])).toThrow(MultiCircuitError);
    expect(() => decodeMultiSignals(model, [1n])).toThrow(MultiCircuitError);
  });
});
