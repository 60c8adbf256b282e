/**
 * Groth16 (BN254) verification with mcl-wasm, for the inference-verifier precompile.
 *
 * mcl is initialised once (async, ~50 ms); after that everything here is synchronous, so a
 * precompile never yields in the middle of a pairing. Points are checked explicitly
 * (points.ts), and keys are refused as key-check.ts says.
 *
 * The check e(A, B) = e(alpha, beta) e(vk_x, gamma) e(C, delta) runs as one multi-Miller loop
 * of e(A, B) e(-alpha, beta) e(-vk_x, gamma) e(-C, delta) and one final exponentiation, compared
 * with 1: mcl's millerLoopVec shares the loop's squarings between the pairs, so e(alpha, beta)
 * costs ~0.75 ms inside it against ~2.3 ms as a pairing of its own, and precomputed G2 lines
 * (mcl's PrecomputedG2) save nothing over it. A key is loaded and checked once and cached by
 * keccak256 of its bytes (the registry stores keys as bytes, and the same bytes always load the
 * same way); the Miller loop of (-alpha, beta) is kept from the key's second use on, when it
 * pays for itself.
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

/** The parts of mcl-wasm's emscripten module that millerLoopVec needs (the package wraps no such call). */
interface MclModule {
  stackSave(): number;
  stackRestore(at: number): void;
  salloc(a: Uint32Array): number;
  sallocArray(a: Uint32Array[]): number;
  copyFromHeap32(a: Uint32Array, at: number): void;
  _mclBn_millerLoopVec(z: number, x: number, y: number, n: number): void;
}

/** mcl values keep their limbs in `a_` (the package's own wrappers pass it to wasm the same way). */
const limbs = (v: mcl.G1 | mcl.G2 | mcl.GT): Uint32Array => (v as unknown as { a_: Uint32Array }).a_;

let wasm: MclModule | undefined;

function mclModule(): MclModule {
  if (wasm) return wasm;
  // `mod` is set by init; a CommonJS namespace import copies exports once, so read it through the module object
  const m = mcl as unknown as { mod?: MclModule; default?: { mod?: MclModule } };
  const mod = m.default?.mod ?? m.mod;
  if (typeof mod?._mclBn_millerLoopVec !== 'function') throw new Error('mcl-wasm exports no mclBn_millerLoopVec');
  wasm = mod;
  return mod;
}

/** prod e(ps[i], qs[i]) before the final exponentiation, in one loop (mcl's mclBn_millerLoopVec). */
export function millerLoopVec(ps: readonly mcl.G1[], qs: readonly mcl.G2[]): mcl.GT {
  if (ps.length !== qs.length || ps.length === 0) throw new Error('millerLoopVec: one G2 point per G1 point');
  const mod = mclModule();
  const z = new mcl.GT();
  const stack = mod.stackSave();
  try {
    const zAt = mod.salloc(limbs(z));
    const xAt = mod.sallocArray(ps.map(limbs));
    const yAt = mod.sallocArray(qs.map(limbs));
    mod._mclBn_millerLoopVec(zAt, xAt, yAt, ps.length);
    mod.copyFromHeap32(limbs(z), zAt);
    return z;
  } finally {
    mod.stackRestore(stack);
  }
}

export type VerifyResult =
  | { kind: 'ok'; valid: boolean }
  | { kind: 'count'; expected: number; given: number }
  | { kind: 'input'; index: number }
  | { kind: 'proof'; code: ProofCode };

export interface PreparedKey {
  readonly nPublic: number;
  /** -alpha: the check's pairs are all on the left-hand side. */
  readonly negAlpha: mcl.G1;
  readonly beta: mcl.G2;
  readonly gamma: mcl.G2;
  readonly delta: mcl.G2;
  readonly ic: readonly mcl.G1[];
  /** Miller loop of (-alpha, beta), set at the cached key's second use (verifyPrepared folds it into its own loop until then). */
  alphaBetaLoop?: mcl.GT;
}

function assertReady(): void {
  if (!mclReady()) throw new Error('mcl is not initialised for BN254: await initMcl() first');
}

/** Checks a key as key-check.ts does (the same keys the registry refuses); throws InvalidKeyError for any key refused. */
export function prepareKey(vkBytes: Uint8Array): PreparedKey {
  assertReady();
  const k = loadKey(vkBytes);
  return { nPublic: k.ic.length - 1, negAlpha: mcl.neg(k.alpha), beta: k.beta, gamma: k.gamma, delta: k.delta, ic: k.ic };
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
 * prepared for this use only, so no caller can fill the cache for free. Cached keys are plain
 * JS values (no mcl heap to free).
 */
export function withPreparedKey<T>(vkBytes: Uint8Array, remember: boolean, use: (key: PreparedKey) => T): T {
  const h = bytesToHex(keccak_256(vkBytes));
  const hit = keyCache.get(h);
  if (hit) {
    keyCache.delete(h);
    keyCache.set(h, hit);
    hit.alphaBetaLoop ??= mcl.millerLoop(hit.negAlpha, hit.beta);
    return use(hit);
  }
  const key = prepareKey(vkBytes);
  if (remember) {
    keyCache.set(h, key);
    if (keyCache.size > MAX_CACHED_KEYS) keyCache.delete(keyCache.keys().next().value as string);
  }
  return use(key);
}

/** Whether the key is in the prepared-key cache (no side effect on its order). */
export function isKeyCached(vkBytes: Uint8Array): boolean {
  return keyCache.has(bytesToHex(keccak_256(vkBytes)));
}

export function clearKeyCache(): void {
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
  // e(A, B) * e(-alpha, beta) * e(-vk_x, gamma) * e(-C, delta) == 1
  const ps = [a, mcl.neg(vkx), mcl.neg(c)];
  const qs = [b, key.gamma, key.delta];
  const ml = key.alphaBetaLoop ? mcl.mul(millerLoopVec(ps, qs), key.alphaBetaLoop) : millerLoopVec([...ps, key.negAlpha], [...qs, key.beta]);
  return { kind: 'ok', valid: mcl.finalExp(ml).isOne() };
}

/** One-shot convenience: key bytes in, result out (the key goes through the cache). */
export function verifyGroth16(vkBytes: Uint8Array, inputs: readonly bigint[], proofWords: readonly bigint[]): VerifyResult {
  return withPreparedKey(vkBytes, true, (key) => verifyPrepared(key, inputs, proofWords));
}
