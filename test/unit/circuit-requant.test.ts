import { describe, expect, it } from 'vitest';
import { CIRCOM_PRAGMA } from '../../prover/circuit/generate.ts';
import { compileCircuit, computeWitness, firstViolatedConstraint } from '../../prover/circuit/compile.ts';
import { CIRCUIT_LIBRARY } from '../../prover/circuit/templates.ts';
import { requantize } from '../../precompiles/model/executor.ts';
import { MAX_SHIFT } from '../../precompiles/model/format.ts';
import { mulberry32 } from '../../precompiles/model/random.ts';

/**
 * Every shift 0..31 through both requantizers in one circuit: random models reach the s >= 24
 * (RequantRelu) and s >= 25 (RequantNone) branches only now and then, and each branch has its own
 * saturation logic, so each shift is checked at the values where the result changes.
 */
const SHIFTS = MAX_SHIFT + 1;
/** format.ts: |acc| <= 2^31 + 4096*128*255 < 2^31 + 2^27. */
const ACC_MAX = 2 ** 31 + 2 ** 27 - 1;
const PER_SHIFT = 12;

const SOURCE = `${CIRCOM_PRAGMA}
${CIRCUIT_LIBRARY}
template Sweep() {
    signal input acc[${SHIFTS}][${PER_SHIFT}];
    signal output relu[${SHIFTS}][${PER_SHIFT}];
    signal output none[${SHIFTS}][${PER_SHIFT}];
    component r[${SHIFTS}][${PER_SHIFT}];
    component n[${SHIFTS}][${PER_SHIFT}];
    for (var s = 0; s < ${SHIFTS}; s++) {
        for (var k = 0; k < ${PER_SHIFT}; k++) {
            r[s][k] = RequantRelu(s);
            r[s][k].in <== acc[s][k];
            relu[s][k] <== r[s][k].out;
            n[s][k] = RequantNone(s);
            n[s][k].in <== acc[s][k];
            none[s][k] <== n[s][k].out;
        }
    }
}
component main = Sweep();
`;

const clampAcc = (v: number): number => Math.max(-ACC_MAX, Math.min(ACC_MAX, v));

/** Values where floor, a clamp or the sign flips, for shift s; the rest random. */
function edges(s: number, rng: ReturnType<typeof mulberry32>): number[] {
  const u = 2 ** s;
  const vs = [0, -1, 1, 256 * u - 1, 256 * u, 128 * u - 1, 128 * u, -128 * u, -128 * u - 1, ACC_MAX, -ACC_MAX];
  while (vs.length < PER_SHIFT) vs.push(rng.int(-ACC_MAX, ACC_MAX));
  return vs.map(clampAcc);
}

describe('requantizers == executor for every shift', () => {
  it('RequantRelu(s) and RequantNone(s), s = 0..31, at the rounding and saturation edges', async () => {
    const compiled = await compileCircuit(SOURCE);
    const rng = mulberry32(31);
    for (let round = 0; round < 2; round++) {
      const acc = Array.from({ length: SHIFTS }, (_, s) => (round === 0 ? edges(s, rng) : Array.from({ length: PER_SHIFT }, () => rng.int(-ACC_MAX, ACC_MAX))));
      const w = await computeWitness(compiled, { acc: acc.map((row) => row.map(String)) });
      const relu = acc.flatMap((row, s) => row.map((a) => BigInt(requantize(a, s, 'relu'))));
      const none = acc.flatMap((row, s) => row.map((a) => BigInt(requantize(a, s, 'none') + 128)));
      expect(w.outputs.slice(0, relu.length)).toEqual(relu);
      expect(w.outputs.slice(relu.length)).toEqual(none);
      expect(firstViolatedConstraint(compiled, w.witness)).toBe(-1);
    }
  }, 120_000);
});
