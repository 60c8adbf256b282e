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
/// input >= the scalar field order.
interface IInferenceVerifier {
    error UnknownModel(bytes32 modelId);
    error ModelDeprecated(bytes32 modelId);
    error PublicInputCount(uint256 expected, uint256 given);
    error InvalidPublicInput(uint256 index);
    error InvalidProof(uint8 code); // 1 coordinate >= p, 2 not on curve, 3 not in subgroup
    error InvalidVerifyingKey(bytes32 modelId);

    function verify(bytes32 modelId, uint256[] calldata publicInputs, uint256[8] calldata proof) external view returns (bool);
}
