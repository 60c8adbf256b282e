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
 * about the gas per second of the EVM's own ecPairing on the same node, so a block full of AI
 * calls takes no longer than a block full of ecPairing calls, which the chain must absorb
 * anyway. Typical calls (key and storage cached) then pay 2-3x parity. Pricing the worst case
 * below parity would make these precompiles a cheaper way than ecPairing to burn node CPU (an
 * attacker can rotate through more keys than the cache holds). EIP-1108's prices for the same
 * verification done in Solidity (181,000 + 6,150 n) would be ~3x parity even in the worst case.
 *
 * Calibration (this machine, Node 20, mcl-wasm; ethereumjs v10's default bn254 is NobleBN254):
 *
 *   operation                                  time        gas        gas/s
 *   ecPairing 0x08, 2 pairs                    49.0 ms     113,000    2.31 M
 *   ecPairing 0x08, 4 pairs                    77.2 ms     181,000    2.35 M
 *   ecMul 0x07                                  6.1 ms       6,000    0.99 M
 *   verify, prepared key cached (n = 3)        10.6 ms
 *   prepare a key (checks, e(alpha,beta))      10.5 ms
 *   + refusing forgeable keys (key-check.ts)   ~2.3 ms    (48 G2 multiples of beta, gamma, delta)
 *   checkKey n = 3, no pairing, per input      ~5-7 ms, ~10-15 us
 *   one more public input (mulVec + checks)    ~0.15 ms
 *   registry word, uncached trie / cached      ~0.2-0.3 ms / ~0.01 ms
 *   executor, dense layers                     ~5 ns per MAC (194 M MAC/s)
 *   execute 784-32-10, model cached            ~0.9 ms      56,058    ~60 M
 *
 * At 2.3 Mgas/s one gas is ~0.43 us: VERIFY_BASE ~ 19-21 ms (cold key: prepare + verify, less
 * the reads) = 45,000 (40,000 before keys were checked for relations); VERIFY_PER_INPUT =
 * 0.15 ms = 350; REGISTRY_WORD = 0.22 ms = 500 (an EVM cold SLOAD is 2,100). Measured through the
 * precompile on an uncached trie (worst case, at VERIFY_BASE = 40,000): n = 3: 54,550 gas in
 * 23-26 ms = 2.1-2.4 Mgas/s; n = 64: 2.2 Mgas/s; n = 255: 2.9 Mgas/s (noisy, shared machine).
 * checkKey through the precompile, against ecPairing timed alongside: n = 0-20 ~10 ms, the 4,097
 * IC points of n = 4,096 ~35-50 ms more, hence KEY_CHECK_BASE 24,000 and 50 per input. In the node, whose state has read caches, typical calls run 2-3x faster.
 */

/** Every call, including one that reverts at once: calldata decoding. */
export const CALL_BASE = 1_000n;
/** One 32-byte storage word of the registry, read natively (a trie read). */
export const REGISTRY_WORD = 500n;

/** Key preparation (worst case: not cached, key-check.ts included) + 3 Miller loops + final exponentiation + B's checks. */
export const VERIFY_BASE = 45_000n;
/** One G1 scalar multiplication (vk_x = IC0 + sum x_i IC_i). */
export const VERIFY_PER_INPUT = 350n;

/**
 * Verifier checkKey(bytes) (the registry calls it for every new key):
 *   CALL_BASE + KEY_CHECK_BASE + KEY_CHECK_PER_INPUT * n
 * at ecPairing parity like the rest (calibration above; nothing is cached, every call does it
 * all). The base is the fixed work: alpha and three G2 points checked (on the curve, in the
 * subgroup) and the 48 multiples of beta, gamma, delta compared (groth16/key-check.ts); per
 * input, one more IC point is decoded and checked. A key whose length and n word disagree is
 * refused for CALL_BASE, before any curve work.
 */
export const KEY_CHECK_BASE = 24_000n;
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
