import * as mcl from 'mcl-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BN254_P, BN254_R, decodeVk, proofToWords, publicSignalsToWords, readWord, vkToBytes } from '../../precompiles/groth16/encoding.ts';
import { inG2Subgroup, toG2 } from '../../precompiles/groth16/points.ts';
import {
  checkKey,
  clearKeyCache,
  initMcl,
  InvalidKeyError,
  KeyCode,
  ProofCode,
  prepareKey,
  verifyGroth16,
  verifyPrepared,
  withPreparedKey,
} from '../../precompiles/groth16/verify.ts';
import { type Fixture, type FixtureProof, loadFixture, proveFixture, releaseFixture, snarkjsVerify } from './precompile-fixture.ts';

/** Points of the sextic twist y^2 = x^3 + 3/(9+u) with x = i + j u, in order of i (most lie outside G2). */
function* twistPoints(j = 0): Generator<mcl.G2> {
  const three = new mcl.Fp2();
  three.setInt(3, 0);
  const xi = new mcl.Fp2();
  xi.setInt(9, 1);
  const b = mcl.div(three, xi);
  for (let i = 1; ; i++) {
    const x = new mcl.Fp2();
    x.setInt(i, j);
    const [ok, y] = mcl.squareRoot(mcl.add(mcl.mul(mcl.sqr(x), x), b));
    if (!ok) continue;
    const p = new mcl.G2();
    p.setX(x);
    p.setY(y);
    const one = new mcl.Fp2();
    one.setInt(1, 0);
    p.setZ(one);
    expect(p.isValid()).toBe(true);
    yield p;
  }
}

const big = (f: mcl.Fp): bigint => BigInt(f.getStr(10));

/** A twist point's affine coordinates, as [x.c0, x.c1, y.c0, y.c1]. */
function coords(p: mcl.G2): [bigint, bigint, bigint, bigint] {
  const q = mcl.normalize(p);
  return [big(q.getX().get_a()), big(q.getX().get_b()), big(q.getY().get_a()), big(q.getY().get_b())];
}

function twistPointOutsideSubgroup(): [bigint, bigint, bigint, bigint] {
  for (const p of twistPoints()) if (!p.isValidOrder()) return coords(p);
  throw new Error('unreachable');
}

/** [r]P: what is left of a twist point once its G2 part is gone (order dividing the cofactor). */
function cofactorPart(p: mcl.G2): mcl.G2 {
  const rMinus1 = new mcl.Fr();
  rMinus1.setStr((BN254_R - 1n).toString(16), 16);
  return mcl.add(p, mcl.mul(p, rMinus1));
}

/** Overwrites word i of a key. */
function setWord(bytes: Uint8Array, i: number, v: bigint): Uint8Array {
  const out = bytes.slice();
  for (let k = 31; k >= 0; k--) {
    out[i * 32 + k] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

describe('groth16 verify (mcl)', () => {
  let f: Fixture;
  let vk: Uint8Array;
  let good: FixtureProof;

  beforeAll(async () => {
    await initMcl();
    f = await loadFixture();
    vk = vkToBytes(f.vk);
    good = await proveFixture(f, 3n, 4n, 5n);
  });
  afterAll(releaseFixture);

  it('agrees with snarkjs on real proofs and on wrong public inputs', async () => {
    for (const [a, b, c] of [
      [3n, 4n, 5n],
      [0n, 0n, 0n],
      [BN254_R - 1n, 2n, 7n],
    ] as const) {
      const p = await proveFixture(f, a, b, c);
      const inputs = publicSignalsToWords(p.publicSignals);
      expect(await snarkjsVerify(f, p)).toBe(true);
      expect(verifyGroth16(vk, inputs, proofToWords(p.proof))).toEqual({ kind: 'ok', valid: true });
      const wrong = { ...p, publicSignals: [String((inputs[0]! + 1n) % BN254_R), ...p.publicSignals.slice(1)] };
      expect(await snarkjsVerify(f, wrong)).toBe(false);
      expect(verifyGroth16(vk, publicSignalsToWords(wrong.publicSignals), proofToWords(p.proof))).toEqual({ kind: 'ok', valid: false });
    }
  });

  it('reports malformed proofs and inputs by kind', () => {
    const inputs = publicSignalsToWords(good.publicSignals);
    const words = proofToWords(good.proof);
    expect(verifyGroth16(vk, inputs.slice(1), words)).toEqual({ kind: 'count', expected: 3, given: 2 });
    expect(verifyGroth16(vk, [inputs[0]!, BN254_R, inputs[2]!], words)).toEqual({ kind: 'input', index: 1 });
    for (let i = 0; i < 8; i++) {
      const w = [...words];
      w[i] = w[i]! + BN254_P; // same residue, but not canonical
      expect(verifyGroth16(vk, inputs, w)).toEqual({ kind: 'proof', code: ProofCode.CoordinateRange });
      w[i] = words[i]! ^ 1n;
      expect(verifyGroth16(vk, inputs, w)).toEqual({ kind: 'proof', code: ProofCode.NotOnCurve });
    }
    expect(verifyGroth16(vk, inputs, [0n, 0n, ...words.slice(2)])).toEqual({ kind: 'proof', code: ProofCode.NotOnCurve });
  });

  it('rejects a twist point outside the prime-order subgroup', () => {
    const [x0, x1, y0, y1] = twistPointOutsideSubgroup();
    const words = proofToWords(good.proof);
    const bad = [words[0]!, words[1]!, x1, x0, y1, y0, words[6]!, words[7]!];
    expect(verifyGroth16(vk, publicSignalsToWords(good.publicSignals), bad)).toEqual({ kind: 'proof', code: ProofCode.NotInSubgroup });
    // the same point as the key's gamma: the key itself is refused
    const key = setWord(setWord(setWord(setWord(vk, 6, x1), 7, x0), 8, y1), 9, y0);
    expect(() => prepareKey(key)).toThrow(InvalidKeyError);
  });

  it("the endomorphism subgroup test agrees with mcl's [r]P = 0 on G2, off it, and on their sums", () => {
    let inside = 0;
    let outside = 0;
    let n = 0;
    for (const j of [0, 1, 5]) {
      for (const t of twistPoints(j)) {
        if (++n % 40 === 0) break;
        const q = mcl.hashAndMapToG2(`g2-${n}`);
        const h = cofactorPart(t);
        const sample = [t, q, h, mcl.add(q, h), mcl.add(q, t), mcl.dbl(t), mcl.neg(mcl.add(q, h))];
        for (const p of sample) {
          if (p.isZero()) continue;
          const expected = p.isValidOrder();
          expect(inG2Subgroup(p), `point ${n}`).toBe(expected);
          if (expected) inside++;
          else outside++;
        }
      }
    }
    expect(inside).toBeGreaterThan(100);
    expect(outside).toBeGreaterThan(100);
  });

  it("refuses a B that is a G2 point plus a point of the cofactor's order, and a key holding one", () => {
    const words = proofToWords(good.proof);
    const inputs = publicSignalsToWords(good.publicSignals);
    const b = toG2([
      [words[3]!, words[2]!],
      [words[5]!, words[4]!],
    ]);
    const [x0, x1, y0, y1] = coords(mcl.add(b, cofactorPart(twistPoints(1).next().value!)));
    expect(verifyGroth16(vk, inputs, [words[0]!, words[1]!, x1, x0, y1, y0, words[6]!, words[7]!])).toEqual({ kind: 'proof', code: ProofCode.NotInSubgroup });
    expect(verifyGroth16(vk, inputs, words)).toEqual({ kind: 'ok', valid: true });
    const delta = decodeVk(vk).delta;
    const [d0, d1, e0, e1] = coords(mcl.add(toG2(delta), cofactorPart(twistPoints(5).next().value!)));
    const key = setWord(setWord(setWord(setWord(vk, 10, d1), 11, d0), 12, e1), 13, e0);
    expect(checkKey(key)).toBe(KeyCode.NotInSubgroup);
  });

  it('the first use of a key (alpha, beta folded into its loop), the second (that loop kept) and later ones agree', () => {
    const inputs = publicSignalsToWords(good.publicSignals);
    const words = proofToWords(good.proof);
    const wrong = [(inputs[0]! + 1n) % BN254_R, ...inputs.slice(1)];
    for (const order of [
      [true, false, true, false],
      [false, true, false, true],
    ]) {
      clearKeyCache();
      for (const valid of order) expect(verifyGroth16(vk, valid ? inputs : wrong, words)).toEqual({ kind: 'ok', valid });
    }
    clearKeyCache();
    expect(withPreparedKey(vk, false, (k) => verifyPrepared(k, inputs, words))).toEqual({ kind: 'ok', valid: true });
    expect(withPreparedKey(vk, false, (k) => verifyPrepared(k, wrong, words))).toEqual({ kind: 'ok', valid: false });
  });

  it('refuses malformed keys', () => {
    expect(() => prepareKey(vk.subarray(0, vk.length - 32))).toThrow(InvalidKeyError);
    expect(() => prepareKey(setWord(vk, 0, readWord(vk, 0) + BN254_P))).toThrow(InvalidKeyError);
    expect(() => prepareKey(setWord(vk, 1, readWord(vk, 1) ^ 1n))).toThrow(InvalidKeyError);
    expect(() => prepareKey(setWord(vk, 15, 0n))).toThrow(InvalidKeyError); // IC[0] = (0, y): off curve
    expect(decodeVk(vk).ic.length).toBe(4);
  });

  it('measures mcl against snarkjs (figures only)', async () => {
    const inputs = publicSignalsToWords(good.publicSignals);
    const words = proofToWords(good.proof);
    const n = 20;
    let t = performance.now();
    for (let i = 0; i < n; i++) verifyGroth16(vk, inputs, words);
    const mclMs = (performance.now() - t) / n;
    t = performance.now();
    for (let i = 0; i < 5; i++) await snarkjsVerify(f, good);
    const snarkMs = (performance.now() - t) / 5;
    console.log(`groth16 verify: mcl ${mclMs.toFixed(2)} ms, snarkjs ${snarkMs.toFixed(2)} ms`);
  });
});
