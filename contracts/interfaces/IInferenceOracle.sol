// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import { IRollup } from "./IRollup.sol";

/// @title Inference oracle (L1): every inference proof of a rollup batch, checked once on L1.
/// @notice A valid Groth16 (BN254) proof is a self-standing statement: "the circuit with verifying
/// key K maps these public signals" (outputs, then the input or its Poseidon hash; see
/// IInferenceVerifier for the signal order, the proof word order and the key byte layout). So the
/// oracle needs no L2 state: keys are content-addressed by `vkHash = keccak256(key bytes)`, and a
/// consumer pins the vkHash it trusts (the L2 ModelRegistry maps a model id to its key, and
/// `ai_getModel` returns that keccak). `modelId` is deliberately not part of a leaf: the oracle
/// cannot check it, so a submitter could attach any label to a valid proof.
///
/// `submitBatchProofs` checks all proofs of a batch with ONE randomized multi-pairing (Groth16
/// batch verification). Random coefficients r_t come from keccak256 of the whole calldata (the
/// Fiat-Shamir transform: a submitter cannot pick them after choosing the proofs), r_0 = 1.
/// Per key group g with proofs t and public inputs x_tj:
///   prod_t e(-r_t A_t, B_t) * e(S alpha, beta) * e(sum_j c_j IC_j, gamma) * e(sum_t r_t C_t, delta) == 1
/// with S = c_0 = sum_t r_t and c_j = sum_t r_t x_tj (mod r): inputs cost a mulmod each, the IC
/// points one ecMul per group. Group pairs with the same G2 point are merged by adding their G1
/// points (snarkjs keys made from one ptau share beta and gamma), so a further group of such keys
/// costs one pairing, not three. One wrong proof, input or output anywhere fails the whole
/// submission (except with probability 1/r ~ 2^-254 per keccak query the submitter makes).
///
/// Point checks: every coordinate must be < p and every public input < r (else x and x + r would
/// both "verify", giving two leaves for one statement). A and C are checked on the curve here (G1
/// has cofactor 1, so that is also subgroup membership). G2 points (B, and beta, gamma, delta of a
/// key passed in calldata) are checked by ecPairing itself: EIP-197 makes the call fail for any
/// input that is not an element of its group, which for G2 means on the twist AND in the order-r
/// subgroup; geth, revm (anvil, forge) and the execution specs all do that check. The batch check
/// needs it: its soundness argument takes every point in a group of prime order r, and a B with a
/// small-order component could cancel against random coefficients with non-negligible
/// probability. Nothing cheaper exists on L1 (a G2 scalar multiplication in Solidity costs
/// hundreds of thousands of gas), and the precompile's check comes with the pairing. That failure is
/// reported as PairingInputRejected (the precompile does not say which point), and the pairing
/// call consumes the gas given to it. `addKey` checks a key's G2 points the same way once, with a
/// pairing against the point at infinity (EIP-197 validates both points of every pair).
///
/// Degenerate keys are refused, stored or in calldata (InvalidVerifyingKey code 5): an identity
/// point, two of beta, gamma, delta equal up to sign, or two IC points (inputs) equal up to sign.
/// Under such a key anybody can prove any statement (the algebra is in l1/lib/Groth16Key.sol), so
/// its vkHash would stand for nothing. A key whose maker knows its trapdoor lets the maker prove
/// anything under it too, and no check can tell: a result means what the consumer's pinned vkHash
/// means, never more.
///
/// Result leaves, one per proof (a multi-inference proof is one leaf with all its slots):
///   leaf = keccak256(abi.encodePacked(uint8(0), vkHash, publicSignals))
/// The leading zero byte keeps a leaf preimage (33 + 32n bytes) from ever being 64 bytes, the
/// size of an inner node's preimage keccak256(left || right). Leaves are in submission order
/// (groups in order, proofs in order); the tree pairs neighbours level by level and carries an
/// odd last node up unchanged, so a proof for leaf i of N has one sibling per level where i has
/// one (at most ceil(log2 N)). Stored per submission: N under (batch index, root), and the root
/// under (batch index, submitter): two slots, never one per inference.
///
/// Submission: anyone may submit (the proofs verify themselves), for a batch the Rollup already
/// has (when the oracle was deployed with a Rollup address). The oracle cannot tell which
/// inferences belong to an L2 batch (that needs the Rollup's batch header to commit to them), so
/// it records EVERY verified submission of a batch, each under its own root: a stranger who
/// submits other proofs (made-up keys and signals included) for batch N first adds a record of
/// his own and takes nothing from the honest poster's, which lands after it all the same. Only a
/// submission with the same root as one recorded for that batch is refused (BatchAlreadySubmitted),
/// before its pairing: it would record nothing new. `isVerified` / `isLeafVerified` rebuild the
/// root from the Merkle proof (its length and the leaf index fix which levels have a sibling, see
/// l1/lib/ResultTree.sol), look that root up among the batch's records, and check the proof has
/// the shape of that tree's N leaves. So a stranger's leaves read as verified too, as what they
/// are: statements proven under the stranger's keys, which a consumer pinning its own vkHash never
/// asks about. `submittedRoot(batch, submitter)` is how a poster tells it has posted a batch, and
/// how a consumer that trusts one poster picks that poster's root (`getSubmission`).
interface IInferenceOracle {
    /// @notice The proofs of one verifying key. `vk` holds the key bytes, or is empty to use a
    /// key stored with addKey. `publicInputs` is proof-major: proof i's n signals at [i*n, i*n+n).
    struct ProofGroup {
        bytes32 vkHash;
        bytes vk;
        uint256[] publicInputs;
        uint256[8][] proofs;
    }

    /// @notice One verified submission of a batch, found by its root (one slot).
    struct Submission {
        uint32 leafCount; // zero: no submission with this root for this batch
        uint64 l1Block;
        uint64 timestamp;
    }

    /// @notice One L2 inference result, as a batch header's resultsRoot commits to it:
    /// leaf = keccak256(abi.encode(Result)) (see l1/lib/InferenceResults.sol for each field).
    struct Result {
        uint256 chainId;
        uint256 requestId;
        bytes32 modelId;
        bytes32 vkHash;
        bytes32 inputHash;
        address prover;
        uint256[] outputs;
    }

    /// @notice Where a result's own (single-inference) proof is among the submissions verified for
    /// its batch: the request's input signals (its public signals are outputs then inputs), the
    /// leaf index and the Merkle proof of that proof's leaf.
    struct ResultProof {
        uint256[] inputSignals;
        uint256 leafIndex;
        bytes32[] proof;
    }

    event KeyAdded(bytes32 indexed vkHash, uint256 publicInputs, address data);
    /// @notice Every result batch `batchIndex` commits to (`resultsRoot`) is proven here.
    event BatchAttested(uint256 indexed batchIndex, bytes32 resultsRoot, address attester);
    /// @notice `leaves` in leaf-index order, so an indexer rebuilds the tree from the log alone.
    event BatchProofsVerified(uint256 indexed batchIndex, address indexed submitter, bytes32 root, bytes32[] leaves);

    /// @notice a submission with this root is already recorded for this batch
    error BatchAlreadySubmitted(uint256 batchIndex, bytes32 root);
    error UnknownRollupBatch(uint256 batchIndex, uint256 batchCount);
    error EmptySubmission();
    error TooManyProofs(uint256 given, uint256 max);
    error EmptyGroup(uint256 group);
    error KeyHashMismatch(uint256 group, bytes32 given, bytes32 actual);
    error UnknownKey(bytes32 vkHash);
    error KeyExists(bytes32 vkHash);
    error KeyTooLarge(uint256 publicInputs, uint256 max);
    /// @notice CREATE of the key's code failed (out of gas for the code deposit)
    error KeyStoreFailed(bytes32 vkHash);
    /// @notice code 1: length does not match n, 2: a coordinate >= p, 3: a G1 point off the curve,
    /// 4: a G2 point off the twist or outside the subgroup (addKey only; see PairingInputRejected),
    /// 5: degenerate (an identity point, or two of beta, gamma, delta or of IC[1..n] equal up to sign)
    error InvalidVerifyingKey(bytes32 vkHash, uint8 code);
    error PublicInputCount(uint256 group, uint256 expected, uint256 given);
    /// @notice `proof` is the leaf index of the proof, `index` the signal's position in it
    error InvalidPublicInput(uint256 proof, uint256 index);
    /// @notice code 1: a coordinate >= p, 2: A or C not on the curve
    error InvalidProof(uint256 proof, uint8 code);
    /// @notice ecPairing refused its input: a B (or a calldata key's G2 point) is off the twist
    /// or outside the order-r subgroup
    error PairingInputRejected();
    /// @notice the batch equation does not hold: at least one proof does not verify
    error BatchProofInvalid();
    /// @notice an ecAdd or ecMul call failed; its inputs were checked, so only for lack of gas
    error PrecompileFailed();
    /// @notice attestBatch: the header is not the one the Rollup holds for its index
    error UnknownBatchHeader(uint256 batchIndex);
    /// @notice attestBatch: the batch commits to no result, or is attested already
    error NothingToAttest(uint256 batchIndex);
    error AttestationLength(uint256 results, uint256 proofs);
    /// @notice attestBatch: result `index`'s input signals do not hash to its inputHash
    error AttestedInputMismatch(uint256 index);
    /// @notice attestBatch: no submission verified for the batch holds result `index`'s proof
    error ResultNotProven(uint256 index);
    /// @notice attestBatch: the results given are not all of the batch's, in order
    error ResultsRootMismatch(uint256 batchIndex, bytes32 committed, bytes32 given);

    function rollup() external view returns (address);

    /// @notice Validates a key (layout, every coordinate < p, G1 points on the curve, G2 points in
    /// their group, not degenerate) and stores it as contract code (one EXTCODECOPY per use instead of a calldata
    /// copy per batch). Returns keccak256(vk).
    function addKey(bytes calldata vk) external returns (bytes32 vkHash);

    function hasKey(bytes32 vkHash) external view returns (bool);

    function getKey(bytes32 vkHash) external view returns (bytes memory);

    /// @notice Verifies every proof of the submission at once, then records its root for the batch
    /// (beside any other submission's root for it).
    function submitBatchProofs(uint256 batchIndex, ProofGroup[] calldata groups) external returns (bytes32 root);

    /// @notice The submission recorded for the batch under `root` (leafCount zero: none).
    function getSubmission(uint256 batchIndex, bytes32 root) external view returns (Submission memory);

    /// @notice The root of `submitter`'s last recorded submission for the batch; zero: none.
    function submittedRoot(uint256 batchIndex, address submitter) external view returns (bytes32);

    function leafHash(bytes32 vkHash, uint256[] calldata publicSignals) external pure returns (bytes32);

    /// @notice True when leaf `leafIndex` of a submission recorded for batch `batchIndex` is
    /// `leafHash(vkHash, publicSignals)` (the submission is the one `proof` leads to).
    function isVerified(
        uint256 batchIndex,
        bytes32 vkHash,
        uint256[] calldata publicSignals,
        uint256 leafIndex,
        bytes32[] calldata proof
    ) external view returns (bool);

    /// @notice True when leaf `leafIndex` of a submission recorded for batch `batchIndex` is `leaf`.
    function isLeafVerified(uint256 batchIndex, bytes32 leaf, uint256 leafIndex, bytes32[] calldata proof) external view returns (bool);

    /// @notice Binds the oracle to a batch's results: records `header.resultsRoot` for the batch
    /// once `results` are exactly the leaves it commits to (all of them, in order) and each has
    /// its own proof among the submissions verified for the batch. The header must be the Rollup's.
    /// Anyone may call it; only the batch's own root can ever be recorded, so nobody can take or
    /// block it. A batch proven by k-inference proofs cannot be attested (their leaves commit to
    /// inputs by Poseidon hashes): its results go by the final path.
    function attestBatch(IRollup.BatchHeader calldata header, Result[] calldata results, ResultProof[] calldata proofs) external;

    /// @notice The results root attested for the batch; zero: none.
    function attestedRoot(uint256 batchIndex) external view returns (bytes32);
}
