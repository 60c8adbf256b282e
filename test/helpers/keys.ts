/**
 * Verifying keys for registry and verifier tests: sound random ones (points hashed to the curves,
 * so nobody knows a relation between them) and the degenerate classes the chain must refuse,
 * with the proofs that forge against them. mcl must be initialised (initMcl).
 */
import * as mcl from 'mcl-wasm';
import { BN254_R, type G1, type G2, type VerifyingKey, vkToBytes } from '../../precompiles/groth16/encoding.ts';
import { toG1, toG2 } from '../../precompiles/groth16/points.ts';

const big = (f: mcl.Fp): bigint => BigInt(f.getStr(10));

export function fromG1(p: mcl.G1): G1 {
  if (p.isZero()) return [0n, 0n];
  const q = mcl.normalize(p);
  return [big(q.getX()), big(q.getY())];
}

export function fromG2(p: mcl.G2): G2 {
  if (p.isZero())
    return [
      [0n, 0n],
      [0n, 0n],
    ];
  const q = mcl.normalize(p);
  return [
    [big(q.getX().get_a()), big(q.getX().get_b())],
    [big(q.getY().get_a()), big(q.getY().get_b())],
  ];
}

const mod = (k: bigint): bigint => ((k % BN254_R) + BN254_R) % BN254_R;
const fr = (k: bigint): mcl.Fr => {
  const x = new mcl.Fr();
  x.setStr(mod(k).toString(16), 16);
  return x;
};

/** k P on G1 (k may be negative). */
export const mulG1 = (p: G1, k: bigint): G1 => fromG1(mcl.mul(toG1(p), fr(k)));
export const mulG2 = (p: G2, k: bigint): G2 => fromG2(mcl.mul(toG2(p), fr(k)));

/** A key with n public inputs and independent random points (`tag` seeds them). */
export function randomKey(n: number, tag = 'key'): VerifyingKey {
  const g1 = (t: string): G1 => fromG1(mcl.hashAndMapToG1(`${tag}/${t}`));
  const g2 = (t: string): G2 => fromG2(mcl.hashAndMapToG2(`${tag}/${t}`));
  return { alpha: g1('alpha'), beta: g2('beta'), gamma: g2('gamma'), delta: g2('delta'), ic: Array.from({ length: n + 1 }, (_, i) => g1(`ic${i}`)) };
}

export const keyBytes = (k: VerifyingKey): Uint8Array => vkToBytes(k);
export const keyHex = (k: VerifyingKey): `0x${string}` => `0x${Buffer.from(vkToBytes(k)).toString('hex')}`;

const ZERO_G1: G1 = [0n, 0n];
const ZERO_G2: G2 = [
  [0n, 0n],
  [0n, 0n],
];

/** One key per class the chain refuses, named, with the KeyRefused code expected. */
export function degenerateKeys(k: VerifyingKey): { name: string; code: number; key: VerifyingKey }[] {
  const ic = (i: number, p: G1): G1[] => k.ic.map((q, j) => (j === i ? p : q));
  return [
    { name: 'alpha = identity', code: 5, key: { ...k, alpha: ZERO_G1 } },
    { name: 'beta = identity', code: 5, key: { ...k, beta: ZERO_G2 } },
    { name: 'gamma = identity', code: 5, key: { ...k, gamma: ZERO_G2 } },
    { name: 'delta = identity', code: 5, key: { ...k, delta: ZERO_G2 } },
    { name: 'IC[0] = identity', code: 5, key: { ...k, ic: ic(0, ZERO_G1) } },
    { name: 'IC[2] = identity', code: 5, key: { ...k, ic: ic(2, ZERO_G1) } },
    { name: 'gamma = delta', code: 6, key: { ...k, delta: k.gamma } },
    { name: 'gamma = -delta', code: 6, key: { ...k, delta: mulG2(k.gamma, -1n) } },
    { name: 'delta = 2 gamma', code: 6, key: { ...k, delta: mulG2(k.gamma, 2n) } },
    { name: 'delta = -16 gamma', code: 6, key: { ...k, delta: mulG2(k.gamma, -16n) } },
    { name: '3 delta = 2 gamma', code: 6, key: { ...k, delta: mulG2(k.gamma, 2n * inverse(3n)) } },
    { name: 'beta = 5 gamma', code: 6, key: { ...k, beta: mulG2(k.gamma, 5n) } },
    { name: 'beta = -delta', code: 6, key: { ...k, beta: mulG2(k.delta, -1n) } },
    { name: 'IC[1] = IC[2]', code: 7, key: { ...k, ic: ic(2, k.ic[1]!) } },
    { name: 'IC[1] = -IC[3]', code: 7, key: { ...k, ic: ic(3, mulG1(k.ic[1]!, -1n)) } },
  ];
}

/** a^-1 mod r (Fermat). */
function inverse(a: bigint): bigint {
  let [result, base, e] = [1n, mod(a), BN254_R - 2n];
  for (; e > 0n; e >>= 1n, base = (base * base) % BN254_R) if (e & 1n) result = (result * base) % BN254_R;
  return result;
}

/** vk_x = IC[0] + sum x_i IC[i]. */
export function vkX(k: VerifyingKey, inputs: readonly bigint[]): G1 {
  let acc = toG1(k.ic[0]!);
  inputs.forEach((x, i) => {
    acc = mcl.add(acc, mcl.mul(toG1(k.ic[i + 1]!), fr(x)));
  });
  return fromG1(acc);
}

/** EIP-197 proof words of points A, B, C. */
export function proofWords(a: G1, b: G2, c: G1): bigint[] {
  return [a[0], a[1], b[0][1], b[0][0], b[1][1], b[1][0], c[0], c[1]];
}

/**
 * The forgery for a key with gamma = delta, for ANY inputs and no trapdoor:
 * A = alpha, B = beta, C = -vk_x, as e(vk_x, gamma) e(-vk_x, delta) = 1.
 */
export function forgeGammaIsDelta(k: VerifyingKey, inputs: readonly bigint[]): bigint[] {
  return proofWords(k.alpha, k.beta, mulG1(vkX(k, inputs), -1n));
}

/** For beta = s gamma: A = C = s alpha + vk_x, B = gamma + delta. */
export function forgeBetaIsMultipleOfGamma(k: VerifyingKey, s: bigint, inputs: readonly bigint[]): bigint[] {
  const a = fromG1(mcl.add(mcl.mul(toG1(k.alpha), fr(s)), toG1(vkX(k, inputs))));
  return proofWords(a, fromG2(mcl.add(toG2(k.gamma), toG2(k.delta))), a);
}
