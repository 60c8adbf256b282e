/**
 * The published gas schedule of the AI precompiles (README "Gas schedule").
 *
 * Inference verifier (0x..0A01):
 *   CALL_BASE + VERIFY_BASE + VERIFY_PER_INPUT * n + REGISTRY_WORD * (storage words read)
 * where the words read are the record word, the key's length word and the key's 17 + 2n words.
 * A call that reverts before the key is priced (bad calldata, unknown or deprecated model,
 * wrong input count) pays CALL_BASE plus the words read so far (2 at most).
 *
 * Model execution (0x..0A02): precompiles/exec-gas.ts, which charges every step of the run
 * (exec-gas.ts WORK) and the weight words. The weight words are charged whether or not the
 * decoded model is cached, so gas never depends on a node's cache. They cost less than a key word:
 * the decoded model is cached (16 MB of encodings, filled only from state transactions wrote, see
 * model-exec.ts), and defeating that cache means publishing over 16 MB of weights at ~22,100 gas
 * per word written (~11 billion gas), so a cold read of a model's words (~0.2 ms each) happens about
 * once per model per node start, not per call.
 *
 * Policy: the WORST case of each precompile (cold prepared-key cache, cold storage trie) costs
 * at least the gas per second of the EVM's own ecPairing on the same node, so a block full of AI
 * calls takes no longer than a block full of ecPairing calls, which the chain must absorb anyway.
 * Typical calls (key and storage cached) then pay 2-3x parity. Pricing the worst case below
 * parity would make these precompiles a cheaper way than ecPairing to burn node CPU (an attacker
 * can rotate through more keys than the cache holds, and a block starts on cold state caches).
 * EIP-1108's prices for the same verification done in Solidity (181,000 + 6,150 n) would be ~3x
 * parity even in the worst case.
 *
 * Calibration (2026-12-06, this machine, Node 20, mcl-wasm 2.4.1; ethereumjs v10's ecPairing is
 * NobleBN254). bench/ai-worst.ts times each worst case with ecPairing (4 pairs, 181,000 gas) in
 * between, in the same process, so machine load and heap size slow both: a time is given as
 * "pairing units", the worst case's median over the 4-pair ecPairing's median beside it, which
 * holds across loads (ecPairing took 30-60 ms in these runs, 3.0-6.1 Mgas/s).
 *
 *   step, ms (bench/verify-steps.ts, round robin, quiet machine)   before   after
 *   check a key (decode, 3 G2 subgroup checks, 48 multiples)        2.76     1.36-1.43
 *     one G2 subgroup check: mcl's [r]P / the endomorphism test     0.70     0.29
 *   e(alpha, beta): a pairing of its own / inside the Miller loop   2.37     ~0.7
 *   PrecomputedG2 of gamma and delta                                0.56     -
 *   verify, key prepared: B's checks, Miller loops, final exp       4.77     5.0-5.1 first use, 4.4 later
 *   uncached key, prepare + verify (n = 3)                          10.64    6.47-6.69
 *   millerLoop 1 pair; millerLoopVec 3 / 4 pairs; finalExp                   1.07; 2.54 / 3.25; 1.29
 *
 *   through the precompile (bench/ai-worst.ts)        pairing units    gas at parity
 *   verify n = 3, cold key and trie, before           0.35-0.51        63,000-92,000 (charged 59,550: 0.65-0.94x)
 *   verify n = 3, cold key and trie, after            0.24-0.33        43,000-60,000 (most runs 0.26-0.30)
 *   verify, each further input (2 words + its work)   0.0075-0.0089    1,350-1,610
 *     of which one word read through a cold trie (a registry of 20,000-200,000 words)  ~400-720
 *     of which the input's curve work (decode, check, mulVec)                         ~100-175
 *   checkKey n = 0 / n = 4,096 (nothing is cached)     0.039-0.056 / 0.79-0.87   7,100-10,100 / 143,000-157,000
 *   execute 784-32-10, model cached                    ~0.9 ms      56,058 gas, ~60 Mgas/s
 *
 * Hence, with ~1.2x margin for the noise of a shared machine: REGISTRY_WORD = 800 (an EVM cold
 * SLOAD is 2,100); VERIFY_PER_INPUT = 250; VERIFY_BASE = 45,000, n = 3 then 66,750 gas (with the
 * verifier as it was, the same margin would have needed a base of ~75,000); KEY_CHECK_BASE =
 * 12,000 and 50 per input. Measured with these prices over four runs: verify n = 3, 16, 64, 255,
 * 1,024 at 1.12-1.42x parity, checkKey n = 0-4,096 at 1.50-1.66x. Quiet, an uncached key (n = 3)
 * takes ~6.5 ms of curve work; its 25 words read through a cold trie (ethereumjs's walk from the
 * root per word) add ~2-3 ms, so the precompile's worst case is ~9-10 ms.
 */

/** Every call, including one that reverts at once: calldata decoding. */
export const CALL_BASE = 1_000n;
/** One 32-byte storage word of the registry, read natively (a trie read: priced as a cold one). */
export const REGISTRY_WORD = 800n;

/** Key check (worst case: not cached, key-check.ts), B's checks, a 4-pair Miller loop and the final exponentiation. */
export const VERIFY_BASE = 45_000n;
/** One more IC point decoded and checked, and its share of mulVec (vk_x = IC0 + sum x_i IC_i). */
export const VERIFY_PER_INPUT = 250n;

/**
 * Verifier checkKey(bytes) (the registry calls it for every new key):
 *   CALL_BASE + KEY_CHECK_BASE + KEY_CHECK_PER_INPUT * n
 * at ecPairing parity like the rest (calibration above; nothing is cached, every call does it
 * all). The base is the fixed work: alpha and three G2 points checked (on the curve, in the
 * subgroup) and the 48 multiples of beta, gamma, delta compared (groth16/key-check.ts); per
 * input, one more IC point is decoded and checked. A key whose length and n word disagree is
 * refused for CALL_BASE, before any curve work.
 */
export const KEY_CHECK_BASE = 12_000n;
export const KEY_CHECK_PER_INPUT = 50n;

/** Storage words the verifier reads for a key with n public inputs (record + length + key). */
export function verifyWords(nPublic: number): number {
  return 2 + 17 + 2 * nPublic;
}

/** Gas of a verifier call that reaches the pairing. */
export function verifyGas(nPublic: number): bigint {
  return CALL_BASE + VERIFY_BASE + VERIFY_PER_INPUT * BigInt(nPublic) + REGISTRY_WORD * BigInt(verifyWords(nPublic));
}

/** Gas of a checkKey call on a key with n public inputs that reaches the curve checks. */
export function keyCheckGas(nPublic: number): bigint {
  return CALL_BASE + KEY_CHECK_BASE + KEY_CHECK_PER_INPUT * BigInt(nPublic);
}

/** Data words of a weights value of `bytes` bytes (Solidity keeps one under 32 bytes in its length word). */
export function weightWords(weightBytes: number): number {
  return weightBytes < 32 ? 0 : Math.ceil(weightBytes / 32);
}
