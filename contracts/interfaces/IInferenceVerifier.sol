// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title Inference-proof verifier (a precompile).
/// @notice At 0x0000000000000000000000000000000000000A01. Verifies a Groth16 (BN254) proof of a
/// model inference against the verifying key registered for `modelId` in the ModelRegistry.
///
/// Public inputs are the circuit's public signals in snarkjs order: the model outputs (each a
/// field element 0..255; a last layer without activation gives int8 logit + 128), then either
/// the input values (public-input circuits) or one Poseidon hash of the packed input
/// (private-input circuits). Every public input must be < the BN254 scalar field order.
///
/// Proof: uint256[8] = [A.x, A.y, B.x.c1, B.x.c0, B.y.c1, B.y.c0, C.x, C.y] (EIP-197 order, as
/// snarkjs's Solidity verifier takes it, with B's coordinates imaginary part first).
///
/// Verifying key bytes (as stored in the registry), all big-endian 32-byte words:
///   alpha G1 (2 words) | beta G2 (4) | gamma G2 (4) | delta G2 (4) | n (1 word: number of public
///   inputs) | IC[0..n] G1 (2 words each)   => (15 + 2(n+1)) words.
///
/// Returns false when the proof is well-formed but does not verify. Reverts (never returns true)
/// on malformed data: unknown or deprecated model, wrong number of public inputs, a coordinate
/// >= the field modulus, a point off its curve or outside the prime-order subgroup, a public
/// input >= the scalar field order, or a stored key that checkKey refuses (InvalidVerifyingKey).
///
/// Keys. checkKey refuses keys under which anyone, without the setup's trapdoor, can prove any
/// statement; the registry calls it for every new key and verify applies the same checks to a
/// stored key, so a key stored before a check existed cannot verify either. KeyRefused codes:
///   1 a coordinate >= p, 2 a point off its curve, 3 a G2 point outside the prime-order subgroup,
///   4 layout (not 17 + 2n words, or n > 4096), 5 a point is the identity (alpha, beta, gamma,
///   delta or any IC[i]), 6 two of beta, gamma, delta related by a small known ratio
///   (a X = +-b Y, 1 <= a, b <= 16), 7 IC[i] = +-IC[j] for i != j >= 1 (interchangeable inputs).
/// Why (e(A, B) = e(alpha, beta) e(vk_x, gamma) e(C, delta), vk_x = IC[0] + sum x_i IC[i]): with
/// gamma = delta, A = alpha, B = beta, C = -vk_x verifies every input; a known ratio between any
/// two of beta, gamma, delta, or an identity alpha or beta, is as bad (precompiles/groth16/
/// key-check.ts gives each forgery); an identity IC[i] or IC[i] = +-IC[j] lets a proof of one
/// output vector verify for others. A key whose trapdoor its owner knows is not detectable:
/// a proof is as trustworthy as the model owner's setup.
/// Gas of checkKey: 1,000 + 24,000 + 50 n (precompiles/gas.ts); a key whose length and n word
/// disagree is refused (code 4) for 1,000.
interface IInferenceVerifier {
    error UnknownModel(bytes32 modelId);
    error ModelDeprecated(bytes32 modelId);
    error PublicInputCount(uint256 expected, uint256 given);
    error InvalidPublicInput(uint256 index);
    error InvalidProof(uint8 code); // 1 coordinate >= p, 2 not on curve, 3 not in subgroup
    error InvalidVerifyingKey(bytes32 modelId);
    error KeyRefused(uint8 code);

    function verify(bytes32 modelId, uint256[] calldata publicInputs, uint256[8] calldata proof) external view returns (bool);

    /// true for a key the registry may store, else reverts KeyRefused(code). Returns a value so
    /// that Solidity can call it directly: a call that expects no return data first checks the
    /// target's code size, which is 0 for a precompile.
    function checkKey(bytes calldata verifyingKey) external view returns (bool);
}
