/**
 * Byte layouts of Groth16 (BN254) artifacts as the chain sees them, bound by
 * contracts/interfaces/IInferenceVerifier.sol:
 *
 *   verifying key: alpha G1 (2 words) | beta G2 (4) | gamma G2 (4) | delta G2 (4) | n (1) |
 *                  IC[0..n] G1 (2 each)                           => (17 + 2n) 32-byte words
 *   proof:         uint256[8] = [A.x, A.y, B.x.c1, B.x.c0, B.y.c1, B.y.c0, C.x, C.y]
 *
 * G2 coordinates go imaginary part first (EIP-197), while snarkjs JSON writes each Fp2 as
 * [c0, c1]: the swap happens here and only here.
 *
 * Decoding is purely structural (lengths, word count, n); whether the numbers are field
 * elements and the points lie on their curves is verify.ts's job, so that the verifier can
 * report which check failed.
 */
import { CodedError } from '../errors.ts';

/** BN254 base field modulus. */
export const BN254_P = 21888242871839275222246405745257275088696311157297823662689037894645226208583n;
/** BN254 scalar field order (public inputs live here). */
export const BN254_R = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;

/** Words before IC: 14 point words + the n word. */
export const VK_FIXED_WORDS = 15;
/** Matches ModelRegistry's bound, so every key the registry accepts decodes here. */
export const MAX_PUBLIC_INPUTS = 4096;

export type G1 = readonly [x: bigint, y: bigint];
/** Fp2 coordinates as [c0, c1] (real part first), like snarkjs and mcl. */
export type Fp2 = readonly [c0: bigint, c1: bigint];
export type G2 = readonly [x: Fp2, y: Fp2];

export interface VerifyingKey {
  alpha: G1;
  beta: G2;
  gamma: G2;
  delta: G2;
  /** n + 1 points: IC[0] plus one per public input. */
  ic: readonly G1[];
}

/** A snarkjs `verification_key.json` (only the fields we read). */
export interface SnarkjsVerificationKey {
  protocol: string;
  curve: string;
  nPublic: number;
  vk_alpha_1: readonly string[];
  vk_beta_2: readonly (readonly string[])[];
  vk_gamma_2: readonly (readonly string[])[];
  vk_delta_2: readonly (readonly string[])[];
  IC: readonly (readonly string[])[];
}

/** A snarkjs proof JSON (only the fields we read). */
export interface SnarkjsProof {
  pi_a: readonly string[];
  pi_b: readonly (readonly string[])[];
  pi_c: readonly string[];
  protocol?: string;
  curve?: string;
}

export class EncodingError extends CodedError {
  override readonly code = 'ENCODING_ERROR';

  override name = 'EncodingError';
}

export function vkWordCount(nPublic: number): number {
  return VK_FIXED_WORDS + 2 * (nPublic + 1);
}

function big(s: string | undefined, what: string): bigint {
  if (s === undefined || !/^[0-9]+$/.test(s)) throw new EncodingError(`${what}: not a decimal integer`);
  return BigInt(s);
}

/**
 * snarkjs points are projective with z = 1; z = 0 is infinity, which EIP-197 writes (0, 0)
 * (an IC point is infinity when its public signal appears in no constraint).
 */
function g1FromJson(p: readonly string[] | undefined, what: string): G1 {
  if (!p || p.length < 2) throw new EncodingError(`${what}: expected [x, y, 1]`);
  if (p.length > 2 && p[2] === '0') return [0n, 0n];
  if (p.length > 2 && p[2] !== '1') throw new EncodingError(`${what}: not affine (z != 1)`);
  return [big(p[0], `${what}.x`), big(p[1], `${what}.y`)];
}

function g2FromJson(p: readonly (readonly string[])[] | undefined, what: string): G2 {
  if (!p || p.length < 2) throw new EncodingError(`${what}: expected [[x0,x1],[y0,y1],[1,0]]`);
  const z = p[2];
  if (z && (z[0] !== '1' || z[1] !== '0')) throw new EncodingError(`${what}: not affine (z != 1)`);
  const fp2 = (c: readonly string[] | undefined, n: string): Fp2 => {
    if (!c || c.length !== 2) throw new EncodingError(`${what}.${n}: expected [c0, c1]`);
    return [big(c[0], `${what}.${n}.c0`), big(c[1], `${what}.${n}.c1`)];
  };
  return [fp2(p[0], 'x'), fp2(p[1], 'y')];
}

export function vkFromSnarkjs(json: SnarkjsVerificationKey): VerifyingKey {
  if (json.protocol !== 'groth16') throw new EncodingError(`protocol ${json.protocol}: only groth16`);
  if (json.curve !== 'bn128') throw new EncodingError(`curve ${json.curve}: only bn128 (BN254)`);
  if (!Number.isInteger(json.nPublic) || json.nPublic < 0 || json.nPublic > MAX_PUBLIC_INPUTS) {
    throw new EncodingError(`nPublic ${json.nPublic} out of range`);
  }
  if (json.IC.length !== json.nPublic + 1) throw new EncodingError(`IC has ${json.IC.length} points, nPublic is ${json.nPublic}`);
  return {
    alpha: g1FromJson(json.vk_alpha_1, 'vk_alpha_1'),
    beta: g2FromJson(json.vk_beta_2, 'vk_beta_2'),
    gamma: g2FromJson(json.vk_gamma_2, 'vk_gamma_2'),
    delta: g2FromJson(json.vk_delta_2, 'vk_delta_2'),
    ic: json.IC.map((p, i) => g1FromJson(p, `IC[${i}]`)),
  };
}

function putWord(out: Uint8Array, word: number, v: bigint): void {
  if (v < 0n || v >> 256n !== 0n) throw new EncodingError('value does not fit a 32-byte word');
  for (let i = 31; i >= 0; i--) {
    out[word * 32 + i] = Number(v & 0xffn);
    v >>= 8n;
  }
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** Word `word` of `bytes` (big-endian); through a hex string, ~10x faster than shifting bigints byte by byte. */
export function readWord(bytes: Uint8Array, word: number): bigint {
  const at = word * 32;
  if (at + 32 > bytes.length) throw new RangeError(`word ${word} is past the end of ${bytes.length} bytes`);
  let hex = '0x';
  for (let i = at; i < at + 32; i++) hex += HEX[bytes[i]!];
  return BigInt(hex);
}

/** Flat words of a key, in layout order. */
function vkWords(vk: VerifyingKey): bigint[] {
  const g2 = (p: G2): bigint[] => [p[0][1], p[0][0], p[1][1], p[1][0]];
  return [...vk.alpha, ...g2(vk.beta), ...g2(vk.gamma), ...g2(vk.delta), BigInt(vk.ic.length - 1), ...vk.ic.flatMap((p) => [...p])];
}

/** On-chain bytes of a verifying key: a snarkjs JSON object or an already parsed key. */
export function vkToBytes(vk: SnarkjsVerificationKey | VerifyingKey): Uint8Array {
  const key = 'protocol' in vk ? vkFromSnarkjs(vk) : vk;
  if (key.ic.length < 1) throw new EncodingError('IC must hold at least IC[0]');
  const words = vkWords(key);
  const out = new Uint8Array(words.length * 32);
  words.forEach((w, i) => putWord(out, i, w));
  return out;
}

/** Parses the on-chain layout; throws EncodingError on a wrong length or n. */
export function decodeVk(bytes: Uint8Array): VerifyingKey {
  if (bytes.length % 32 !== 0 || bytes.length < vkWordCount(0) * 32) {
    throw new EncodingError(`verifying key is ${bytes.length} bytes, not (17 + 2n) words`);
  }
  const n = readWord(bytes, 14);
  if (n > BigInt(MAX_PUBLIC_INPUTS) || bytes.length !== vkWordCount(Number(n)) * 32) {
    throw new EncodingError(`verifying key of ${bytes.length} bytes does not match n = ${n}`);
  }
  const w = (i: number): bigint => readWord(bytes, i);
  const g2 = (i: number): G2 => [
    [w(i + 1), w(i)],
    [w(i + 3), w(i + 2)],
  ];
  const ic: G1[] = [];
  for (let i = 0; i <= Number(n); i++) ic.push([w(15 + 2 * i), w(16 + 2 * i)]);
  return { alpha: [w(0), w(1)], beta: g2(2), gamma: g2(6), delta: g2(10), ic };
}

/** The 8 proof words in EIP-197 order (B imaginary part first). */
export function proofToWords(proof: SnarkjsProof): bigint[] {
  const a = g1FromJson(proof.pi_a, 'pi_a');
  const b = g2FromJson(proof.pi_b, 'pi_b');
  const c = g1FromJson(proof.pi_c, 'pi_c');
  return [a[0], a[1], b[0][1], b[0][0], b[1][1], b[1][0], c[0], c[1]];
}

export interface ProofPoints {
  a: G1;
  b: G2;
  c: G1;
}

/** Inverse of proofToWords; no range or curve checks (the verifier does those). */
export function proofFromWords(words: readonly bigint[]): ProofPoints {
  if (words.length !== 8) throw new EncodingError(`a proof is 8 words, got ${words.length}`);
  const w = (i: number): bigint => words[i]!;
  return {
    a: [w(0), w(1)],
    b: [
      [w(3), w(2)],
      [w(5), w(4)],
    ],
    c: [w(6), w(7)],
  };
}

/** snarkjs public signals (decimal strings) as uint256 words; refuses values >= r. */
export function publicSignalsToWords(signals: readonly (string | bigint | number)[]): bigint[] {
  return signals.map((s, i) => {
    const v = typeof s === 'string' ? big(s, `publicSignals[${i}]`) : BigInt(s);
    if (v < 0n || v >= BN254_R) throw new EncodingError(`publicSignals[${i}] is not a field element`);
    return v;
  });
}
