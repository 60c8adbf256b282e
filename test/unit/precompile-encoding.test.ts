import { describe, expect, it } from 'vitest';
import {
  type SnarkjsVerificationKey,
  decodeVk,
  EncodingError,
  proofFromWords,
  proofToWords,
  publicSignalsToWords,
  readWord,
  vkFromSnarkjs,
  vkToBytes,
  vkWordCount,
  BN254_R,
} from '../../precompiles/groth16/encoding.ts';

const s = (n: number): string => String(n);
const g2 = (b: number): string[][] => [
  [s(b), s(b + 1)],
  [s(b + 2), s(b + 3)],
  ['1', '0'],
];

function fakeVk(nPublic: number): SnarkjsVerificationKey {
  return {
    protocol: 'groth16',
    curve: 'bn128',
    nPublic,
    vk_alpha_1: ['1', '2', '1'],
    vk_beta_2: g2(10),
    vk_gamma_2: g2(20),
    vk_delta_2: g2(30),
    IC: Array.from({ length: nPublic + 1 }, (_, i) => [s(100 + 2 * i), s(101 + 2 * i), '1']),
  };
}

describe('groth16 encoding', () => {
  it('lays a key out as IInferenceVerifier documents, G2 imaginary part first', () => {
    const bytes = vkToBytes(fakeVk(2));
    expect(bytes.length).toBe(vkWordCount(2) * 32);
    const words = Array.from({ length: bytes.length / 32 }, (_, i) => readWord(bytes, i));
    expect(words).toEqual([1n, 2n, 11n, 10n, 13n, 12n, 21n, 20n, 23n, 22n, 31n, 30n, 33n, 32n, 2n, 100n, 101n, 102n, 103n, 104n, 105n]);
  });

  it('decodes what it encodes', () => {
    for (const n of [0, 1, 5]) {
      const vk = vkFromSnarkjs(fakeVk(n));
      expect(decodeVk(vkToBytes(vk))).toEqual(vk);
    }
  });

  it('refuses keys of the wrong shape', () => {
    const ok = vkToBytes(fakeVk(1));
    expect(() => decodeVk(ok.subarray(0, ok.length - 32))).toThrow(EncodingError);
    expect(() => decodeVk(ok.subarray(0, ok.length - 1))).toThrow(EncodingError);
    const badN = ok.slice();
    badN[14 * 32 + 31] = 7;
    expect(() => decodeVk(badN)).toThrow(EncodingError);
    expect(() => decodeVk(new Uint8Array(0))).toThrow(EncodingError);
    expect(() => vkToBytes({ ...fakeVk(1), curve: 'bls12381' })).toThrow(EncodingError);
    expect(() => vkToBytes({ ...fakeVk(1), nPublic: 2 })).toThrow(EncodingError);
  });

  it('orders proof words as EIP-197 and back', () => {
    const proof = {
      pi_a: ['1', '2', '1'],
      pi_b: [
        ['3', '4'],
        ['5', '6'],
        ['1', '0'],
      ],
      pi_c: ['7', '8', '1'],
    };
    const words = proofToWords(proof);
    expect(words).toEqual([1n, 2n, 4n, 3n, 6n, 5n, 7n, 8n]);
    expect(proofFromWords(words)).toEqual({
      a: [1n, 2n],
      b: [
        [3n, 4n],
        [5n, 6n],
      ],
      c: [7n, 8n],
    });
  });

  it('checks public signals are field elements', () => {
    expect(publicSignalsToWords(['0', '255', 7n])).toEqual([0n, 255n, 7n]);
    expect(() => publicSignalsToWords([BN254_R.toString()])).toThrow(EncodingError);
    expect(() => publicSignalsToWords(['-1'])).toThrow(EncodingError);
  });
});
