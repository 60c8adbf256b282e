/**
 * Groth16 (BN254) verification with mcl-wasm, for the inference-verifier precompile.
 *
 * mcl is initialised once (async, ~50 ms); after that everything here is synchronous, so a
 * precompile never yields in the middle of a pairing. Points are loaded into mcl without any
 * implicit validation (setX/setY/setZ copy memory) and then checked explicitly, in the order
 * IInferenceVerifier's error codes report: coordinate < p (1), on the curve (2), in the
 * prime-order subgroup (3). G1 of BN254 has cofactor 1, so only G2 needs the subgroup check;
 * without it a point on the twist of small order could make the pairing equation hold.
 *
 * A verifying key is prepared once (points checked, e(alpha, beta) computed, gamma and delta
 * precomputed for the Miller loop) and cached by keccak256 of its bytes: the registry stores
 * keys as bytes, and the same bytes always prepare the same way.
 */
import { keccak_256 } from '@noble/hashes/sha3.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import * as mcl from 'mcl-wasm';
import { BN254_P, BN254_R, type G1, type G2, decodeVk, EncodingError, proofFromWords } from './encoding.ts';

let initPromise: Promise<void> | undefined;
let initialized = false;

/** Loads mcl for BN254 (snarkjs's bn128); idempotent. */
export function initMcl(): Promise<void> {
  initPromise ??= mcl.init(mcl.BN_SNARK1).then(() => {
    // isValid() then means "on the curve" only; the subgroup is checked explicitly
    mcl.verifyOrderG1(false);
    mcl.verifyOrderG2(false);
    initialized = true;
  });
  return initPromise;
}

export function mclReady(): boolean {
  return initialized;
}

export const enum ProofCode {
  CoordinateRange = 1,
  NotOnCurve = 2,
  NotInSubgroup = 3,
}

export type VerifyResult =
  | { kind: 'ok'; valid: boolean }
  | { kind: 'count'; expected: number; given: number }
  | { kind: 'input'; index: number }
  | { kind: 'proof'; code: ProofCode };

export class InvalidKeyError extends Error {
  override name = 'InvalidKeyError';
}

export interface PreparedKey {
  readonly nPublic: number;
  readonly alphaBeta: mcl.GT;
  readonly gamma: mcl.PrecomputedG2;
  readonly delta: mcl.PrecomputedG2;
  readonly ic: readonly mcl.G1[];
}

class PointError extends Error {
  constructor(readonly code: ProofCode) {
    super(`invalid point (code ${code})`);
  }
}

function fp(v: bigint): mcl.Fp {
  if (v < 0n || v >= BN254_P) throw new PointError(ProofCode.CoordinateRange);
  const x = new mcl.Fp();
  x.setStr(v.toString(16), 16);
  return x;
}

function fp2(c0: bigint, c1: bigint): mcl.Fp2 {
  const x = new mcl.Fp2();
  x.set_a(fp(c0));
  x.set_b(fp(c1));
  return x;
}

/** (0, 0) is the EIP-197 encoding of infinity; only verifying-key IC points may use it. */
function toG1(p: G1, allowInfinity = false): mcl.G1 {
  const x = fp(p[0]);
  const y = fp(p[1]);
  const q = new mcl.G1();
  if (p[0] === 0n && p[1] === 0n) {
    if (!allowInfinity) throw new PointError(ProofCode.NotOnCurve);
    return q; // a fresh G1 is the identity
  }
  const one = new mcl.Fp();
  one.setInt(1);
  q.setX(x);
  q.setY(y);
  q.setZ(one);
  if (!q.isValid()) throw new PointError(ProofCode.NotOnCurve);
  return q;
}

function toG2(p: G2): mcl.G2 {
  const x = fp2(p[0][0], p[0][1]);
  const y = fp2(p[1][0], p[1][1]);
  const q = new mcl.G2();
  const one = new mcl.Fp2();
  one.setInt(1, 0);
  q.setX(x);
  q.setY(y);
  q.setZ(one);
  // infinity (all zero) is not on the curve: a proof or key never needs it
  if (!q.isValid()) throw new PointError(ProofCode.NotOnCurve);
  if (!q.isValidOrder()) throw new PointError(ProofCode.NotInSubgroup);
  return q;
}

function assertReady(): void {
  if (!mclReady()) throw new Error('mcl is not initialised for BN254: await initMcl() first');
}

/** Checks and precomputes a key; throws InvalidKeyError for any malformed key. */
export function prepareKey(vkBytes: Uint8Array): PreparedKey {
  assertReady();
  try {
    const vk = decodeVk(vkBytes);
    const alpha = toG1(vk.alpha);
    const beta = toG2(vk.beta);
    return {
      nPublic: vk.ic.length - 1,
      alphaBeta: mcl.pairing(alpha, beta),
      gamma: new mcl.PrecomputedG2(toG2(vk.gamma)),
      delta: new mcl.PrecomputedG2(toG2(vk.delta)),
      ic: vk.ic.map((p) => toG1(p, true)),
    };
  } catch (e) {
    if (e instanceof EncodingError || e instanceof PointError) throw new InvalidKeyError(e.message);
    throw e;
  }
}

const MAX_CACHED_KEYS = 256;
/** Insertion-ordered, so the first entry is the least recently used. */
const keyCache = new Map<string, PreparedKey>();

/** prepareKey through a per-key-hash LRU cache (a malformed key is never cached). */
export function preparedKey(vkBytes: Uint8Array): PreparedKey {
  const h = bytesToHex(keccak_256(vkBytes));
  const hit = keyCache.get(h);
  if (hit) {
    keyCache.delete(h);
    keyCache.set(h, hit);
    return hit;
  }
  const key = prepareKey(vkBytes);
  keyCache.set(h, key);
  if (keyCache.size > MAX_CACHED_KEYS) {
    const [oldest, evicted] = keyCache.entries().next().value as [string, PreparedKey];
    keyCache.delete(oldest);
    // precomputed G2 lines live in mcl's heap, outside the JS garbage collector
    evicted.gamma.destroy();
    evicted.delta.destroy();
  }
  return key;
}

export function clearKeyCache(): void {
  for (const k of keyCache.values()) {
    k.gamma.destroy();
    k.delta.destroy();
  }
  keyCache.clear();
}

function fr(v: bigint): mcl.Fr {
  const x = new mcl.Fr();
  x.setStr(v.toString(16), 16);
  return x;
}

/**
 * Verifies proof words (EIP-197 order) for public inputs against a prepared key.
 * Malformed data gives a typed result, never an exception and never `valid: true`.
 */
export function verifyPrepared(key: PreparedKey, inputs: readonly bigint[], proofWords: readonly bigint[]): VerifyResult {
  assertReady();
  if (inputs.length !== key.nPublic) return { kind: 'count', expected: key.nPublic, given: inputs.length };
  for (let i = 0; i < inputs.length; i++) {
    const v = inputs[i]!;
    if (v < 0n || v >= BN254_R) return { kind: 'input', index: i };
  }
  if (proofWords.length !== 8) return { kind: 'proof', code: ProofCode.CoordinateRange };
  let a: mcl.G1, b: mcl.G2, c: mcl.G1;
  try {
    const p = proofFromWords(proofWords);
    a = toG1(p.a);
    b = toG2(p.b);
    c = toG1(p.c);
  } catch (e) {
    if (e instanceof PointError) return { kind: 'proof', code: e.code };
    throw e;
  }
  let vkx = key.ic[0]!;
  if (inputs.length > 0) vkx = mcl.add(vkx, mcl.mulVec(key.ic.slice(1) as mcl.G1[], inputs.map(fr)));
  // e(A, B) * e(-vk_x, gamma) * e(-C, delta) == e(alpha, beta)
  const ml = mcl.mul(mcl.millerLoop(a, b), mcl.precomputedMillerLoop2(mcl.neg(vkx), key.gamma, mcl.neg(c), key.delta));
  return { kind: 'ok', valid: mcl.finalExp(ml).isEqual(key.alphaBeta) };
}

/** One-shot convenience: key bytes in, result out (the key goes through the cache). */
export function verifyGroth16(vkBytes: Uint8Array, inputs: readonly bigint[], proofWords: readonly bigint[]): VerifyResult {
  return verifyPrepared(preparedKey(vkBytes), inputs, proofWords);
}
