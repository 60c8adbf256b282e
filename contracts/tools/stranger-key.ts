/**
 * A stranger's verifying key and "proofs" of made-up statements under it, for the tests of
 * what the InferenceOracle records (a stranger submitting for a batch before the honest poster).
 *
 * Whoever makes a Groth16 key knows its trapdoor and can prove anything under it, with no circuit
 * at all: with alpha = a G1, beta = b G2, gamma = G2, delta = d G2, IC[j] = c_j G1, the check
 * e(A, B) = e(alpha, beta) e(vk_x, gamma) e(C, delta) holds in the exponent when
 * s t = a b + l + c d for A = s G1, B = t G2, C = c G1 and l = c_0 + sum x_j c_j, so
 * c = (s t - a b - l) / d. Such a key is not degenerate (the oracle and the registry accept it):
 * the trapdoor is secret to everyone but its maker. Deterministic: the scalars come from a seed.
 */
import { bn254 } from '@noble/curves/bn254.js';
import { bytesToHex, keccak256, toHex } from 'viem';
import type { Hex } from 'viem';
import { BN254_R, vkToBytes } from '../../precompiles/groth16/encoding.ts';
import type { G1, G2 } from '../../precompiles/groth16/encoding.ts';

export interface StrangerProof {
  publicSignals: bigint[];
  /** EIP-197 order: A.x, A.y, B.x.c1, B.x.c0, B.y.c1, B.y.c0, C.x, C.y */
  proofWords: bigint[];
}

export interface StrangerKey {
  vk: Hex;
  vkHash: Hex;
  prove(publicSignals: readonly bigint[]): StrangerProof;
}

const mod = (x: bigint): bigint => ((x % BN254_R) + BN254_R) % BN254_R;

function inverse(x: bigint): bigint {
  let [a, b, u, v] = [mod(x), BN254_R, 1n, 0n];
  while (a !== 0n) {
    const q = b / a;
    [a, b, u, v] = [b - q * a, a, v - q * u, u];
  }
  if (b !== 1n) throw new Error('no inverse');
  return mod(v);
}

/** Scalar i of the seed, keccak-derived: no small multiples between the key's points. */
function scalar(seed: string, i: number): bigint {
  return mod(BigInt(keccak256(toHex(`${seed}/${i}`))));
}

function g1(k: bigint): G1 {
  const p = bn254.G1.Point.BASE.multiply(k).toAffine();
  return [p.x, p.y];
}

function g2(k: bigint): G2 {
  const p = bn254.G2.Point.BASE.multiply(k).toAffine();
  return [
    [p.x.c0, p.x.c1],
    [p.y.c0, p.y.c1],
  ];
}

/** A key of `inputs` public inputs whose trapdoor this function knows (scalars from `seed`). */
export function strangerKey(inputs: number, seed = 'stranger'): StrangerKey {
  const [a, b, d] = [scalar(seed, 0), scalar(seed, 1), scalar(seed, 2)];
  const c = Array.from({ length: inputs + 1 }, (_, j) => scalar(seed, 10 + j));
  const vk = bytesToHex(vkToBytes({ alpha: g1(a), beta: g2(b), gamma: g2(1n), delta: g2(d), ic: c.map(g1) }));
  return {
    vk,
    vkHash: keccak256(vk),
    prove(publicSignals) {
      if (publicSignals.length !== inputs) throw new Error(`the key takes ${inputs} signals, got ${publicSignals.length}`);
      const l = publicSignals.reduce((acc, x, j) => mod(acc + mod(x) * c[j + 1]!), c[0]!);
      const key = publicSignals.join(',');
      const [s, t] = [scalar(`${seed}/${key}`, 0), scalar(`${seed}/${key}`, 1)];
      const cc = mod((s * t - a * b - l) * inverse(d));
      const [A, B, C] = [g1(s), g2(t), g1(cc)];
      return { publicSignals: [...publicSignals], proofWords: [A[0], A[1], B[0][1], B[0][0], B[1][1], B[1][0], C[0], C[1]] };
    },
  };
}
