/**
 * The published gas schedule of the AI precompiles (README "Gas schedule").
 *
 * Inference verifier (0x..0A01):
 *   CALL_BASE + VERIFY_BASE + VERIFY_PER_INPUT * n + REGISTRY_WORD * (storage words read)
 * where the words read are the record word, the key's length word and the key's 17 + 2n words.
 * A call that reverts before the key is priced (bad calldata, unknown or deprecated model,
 * wrong input count) pays CALL_BASE plus the words read so far (2 at most).
 *
 * Model execution (0x..0A02):
 *   CALL_BASE + EXEC_BASE + REGISTRY_WORD * (storage words read) + EXEC_PER_MAC * macs
 * with macs = countMacs(model) (prover/model/executor.ts), known before running, and capped at
 * EXEC_MAX_MACS. The weight words are charged whether or not the decoded model is cached, so
 * gas never depends on a node's cache.
 *
 * Calibration (this machine, Node 20; ethereumjs v10's default bn254 is NobleBN254, pure JS):
 *
 *   operation                        time       gas        gas/s
 *   ecPairing, 2 pairs (0x08)        49.7 ms    113,000    2.27 M
 *   ecPairing, 4 pairs (0x08)        79.0 ms    181,000    2.29 M
 *   ecMul (0x07)                      6.1 ms      6,000    0.99 M
 *   verify, n = 3 (mcl)              10.6 ms     see bench/ai.ts
 *
 * The verifier is priced at parity with ecPairing's gas per second: a block full of verifier
 * calls then takes as long as a block full of ecPairing calls, which the chain already has to
 * absorb. Pricing below parity would make the verifier a cheaper way than ecPairing to spend
 * the node's CPU; pricing far above (EIP-1108's 181,000 + 6,000 n for the same verification in
 * Solidity) would charge dApps ~8x what the EVM charges for the same time. Model execution runs
 * ~200 M MACs/s, so even 1 gas per MAC is far above parity: the unit cannot go lower.
 */

/** Every call, including one that reverts at once: calldata decoding. */
export const CALL_BASE = 2_000n;
/** One 32-byte storage word of the registry, read natively (a trie read). */
export const REGISTRY_WORD = 50n;

/** 3 Miller loops + 1 final exponentiation + the G2 subgroup check of B (mcl). */
export const VERIFY_BASE = 24_000n;
/** One G1 scalar multiplication (vk_x = IC0 + sum x_i IC_i). */
export const VERIFY_PER_INPUT = 1_500n;

export const EXEC_BASE = 2_000n;
export const EXEC_PER_MAC = 1n;
/** ~10 ms of executor time: one call cannot stall a block. */
export const EXEC_MAX_MACS = 2_000_000;

/** Storage words the verifier reads for a key with n public inputs (record + length + key). */
export function verifyWords(nPublic: number): number {
  return 2 + 17 + 2 * nPublic;
}

/** Gas of a verifier call that reaches the pairing. */
export function verifyGas(nPublic: number): bigint {
  return CALL_BASE + VERIFY_BASE + VERIFY_PER_INPUT * BigInt(nPublic) + REGISTRY_WORD * BigInt(verifyWords(nPublic));
}

/** Storage words read for weights of `bytes` bytes: record + length word + data words. */
export function execWords(weightBytes: number): number {
  // Solidity keeps a value under 32 bytes in its length word
  return weightBytes < 32 ? 2 : 2 + Math.ceil(weightBytes / 32);
}

/** Gas of a model-execution call that runs. */
export function execGas(weightBytes: number, macs: number): bigint {
  return CALL_BASE + EXEC_BASE + REGISTRY_WORD * BigInt(execWords(weightBytes)) + EXEC_PER_MAC * BigInt(macs);
}
