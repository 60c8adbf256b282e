/**
 * Groth16 (BN254) verification with mcl-wasm, for the inference-verifier precompile.
 *
 * mcl is initialised once (async, ~50 ms); after that everything here is synchronous, so a
 * precompile never yields in the middle of a pairing. Points are checked explicitly
 * (points.ts), and keys are refused as key-check.ts says.
 *
 * A verifying key is prepared once (checked, e(alpha, beta) computed, gamma and delta
 * precomputed for the Miller loop) and cached by keccak256 of its bytes: the registry stores
 * keys as bytes, and the same bytes always prepare the same way.
 */
import { keccak_256 } from '@noble/hashes/sha3.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import * as mcl from 'mcl-wasm';
import { BN254_R, proofFromWords } from './encoding.ts';
import { InvalidKeyError, type KeyCode, loadKey } from './key-check.ts';
import { PointError, ProofCode, toG1, toG2 } from './points.ts';

export { InvalidKeyError, KeyCode } from './key-check.ts';
export { ProofCode } from './points.ts';

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

export type VerifyResult =
  | { kind: 'ok'; valid: boolean }
  | { kind: 'count'; expected: number; given: number }
  | { kind: 'input'; index: number }
  | { kind: 'proof'; code: ProofCode };

export interface PreparedKey {
  readonly nPublic: number;
  readonly alphaBeta: mcl.GT;
  readonly gamma: mcl.PrecomputedG2;
  readonly delta: mcl.PrecomputedG2;
  readonly ic: readonly mcl.G1[];
}

function assertReady(): void {
  if (!mclReady()) throw new Error('mcl is not initialised for BN254: await initMcl() first');
}

/**
 * Checks a key as key-check.ts does (the same keys the registry refuses) and precomputes it;
 * throws InvalidKeyError for any key refused.
 */
export function prepareKey(vkBytes: Uint8Array): PreparedKey {
  assertReady();
  const k = loadKey(vkBytes);
  return {
    nPublic: k.ic.length - 1,
    alphaBeta: mcl.pairing(k.alpha, k.beta),
    gamma: new mcl.PrecomputedG2(k.gamma),
    delta: new mcl.PrecomputedG2(k.delta),
    ic: k.ic,
  };
}

/** The key's refusal code, or undefined for a key the chain accepts (no pairing, no cache). */
export function checkKey(vkBytes: Uint8Array): KeyCode | undefined {
  assertReady();
  try {
    loadKey(vkBytes);
    return undefined;
  } catch (e) {
    if (e instanceof InvalidKeyError) return e.code;
    throw e;
  }
}

const MAX_CACHED_KEYS = 256;
/** Insertion-ordered, so the first entry is the least recently used. */
const keyCache = new Map<string, PreparedKey>();

/**
 * Runs `use` on the prepared key, through a per-key-hash LRU cache (a malformed key is never
 * cached). The cache is keyed by the hash of the key bytes, so any hit is the same key; with
 * `remember` false (bytes read from a view with eth_call overrides) a key not yet cached is
 * prepared for this use only and freed after it, so no caller can fill the cache for free.
 * `use` must not await: a concurrent call's eviction frees mcl memory.
 */
export function withPreparedKey<T>(vkBytes: Uint8Array, remember: boolean, use: (key: PreparedKey) => T): T {
  const h = bytesToHex(keccak_256(vkBytes));
  const hit = keyCache.get(h);
  if (hit) {
    keyCache.delete(h);
    keyCache.set(h, hit);
    return use(hit);
  }
  const key = prepareKey(vkBytes);
  if (!remember) {
    try {
      return use(key);
    } finally {
      free(key);
    }
  }
  keyCache.set(h, key);
  if (keyCache.size > MAX_CACHED_KEYS) {
    const [oldest, evicted] = keyCache.entries().next().value as [string, PreparedKey];
    keyCache.delete(oldest);
    free(evicted);
  }
  return use(key);
}

/** Precomputed G2 lines live in mcl's heap, outside the JS garbage collector. */
function free(k: PreparedKey): void {
  k.gamma.destroy();
  k.delta.destroy();
}

export function clearKeyCache(): void {
  for (const k of keyCache.values()) free(k);
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
  return withPreparedKey(vkBytes, true, (key) => verifyPrepared(key, inputs, proofWords));
}
