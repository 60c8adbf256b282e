// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import { IRollup } from "../../interfaces/IRollup.sol";
import { IInferenceOracle } from "../../interfaces/IInferenceOracle.sol";
import { ResultTree } from "./ResultTree.sol";

/// @title InferenceResults: an L2 inference result proven to an L1 contract, in two strengths (three ways).
/// @notice The result leaf of one fulfilment (what IRollup.BatchHeader.resultsRoot commits to):
///   leaf = keccak256(abi.encode(Result))
/// with the fields of IInferenceOracle.Result. chainId keeps another rollup's leaves out; requestId and modelId say
/// which request and model; vkHash (keccak256 of the key the L2 verifier used) lets a consumer pin
/// the circuit, as modelId alone would trust the model's owner; inputHash commits to the input
/// (keccak256(abi.encodePacked(inputSignals)) of the request: the input values, or for a
/// private-input request the Poseidon hash it carried); outputs are the outputs as fulfilled;
/// prover is who was paid, so a consumer can reward or blame it. The preimage is at least 256
/// bytes, so a leaf is never an inner node (64 bytes). The tree is the oracle's
/// (lib/ResultTree.sol) over the batch's leaves in block and log order; a batch without
/// fulfilments has resultsRoot zero.
///
/// Three ways to consume a leaf:
/// - `verifyFast`: the batch header is the Rollup's (its hash is the one stored), the leaf is in
///   its resultsRoot, and the oracle verified a proof of exactly these public signals under
///   result.vkHash for that batch. The inference is true by ZK as soon as the oracle has it, but
///   the batch is canonical L2 history only once no output over it can be challenged: until the
///   window closes a faulty sequencer's batch could still be refused by derivation (its outputs
///   deleted) while its proven statement stays true. Only leaves of single (one-inference) oracle
///   proofs: a k-inference proof packs its outputs and commits to the input by a Poseidon hash,
///   which L1 does not compute.
/// - `verifyAttested`: as verifyFast, with the oracle's attestation of the whole batch
///   (IInferenceOracle.attestBatch) instead of this result's own evidence.
/// - `verifyFinal`: the header is the Rollup's, the leaf is in its resultsRoot, and an output
///   over this batch or a later one is final. Output roots are unchanged: an output is the state
///   derived from every batch up to it, derivation refuses a batch whose resultsRoot is not its
///   blocks' (so no honest output exists over or after it), and the challenger deletes outputs
///   derivation disagrees with. So a final output at or after the batch is L1's word that the
///   batch, and the leaf in it, are canonical; it needs no oracle record and no storage proof.
library InferenceResults {
    /// @notice Where the leaf is: its batch's header and its place in the batch's result tree.
    struct Inclusion {
        IRollup.BatchHeader header;
        uint256 leafIndex;
        bytes32[] proof;
    }

    error WrongChain(uint256 expected, uint256 given);
    error UnknownHeader(uint256 batchIndex);
    error NotInBatch(uint256 batchIndex);
    error InputMismatch();
    error NotVerified(uint256 batchIndex);
    error NotAttested(uint256 batchIndex);
    error OutputBeforeBatch(uint256 outputIndex, uint256 outputBatch, uint256 batchIndex);
    error NotFinal(uint256 outputIndex);

    function leaf(IInferenceOracle.Result calldata r) internal pure returns (bytes32) {
        return keccak256(abi.encode(r));
    }

    /// @notice Reverts unless `r` is in a batch the Rollup holds and the oracle verified its proof
    /// for that batch. Canonical once an output over the batch is final (see above).
    function verifyFast(IRollup rollup, IInferenceOracle oracle, uint256 chainId, IInferenceOracle.Result calldata r, Inclusion calldata inc, IInferenceOracle.ResultProof calldata ev)
        internal
        view
    {
        _included(rollup, chainId, r, inc);
        if (keccak256(abi.encodePacked(ev.inputSignals)) != r.inputHash) revert InputMismatch();
        uint256[] memory signals = new uint256[](r.outputs.length + ev.inputSignals.length);
        for (uint256 i; i < r.outputs.length; ++i) signals[i] = r.outputs[i];
        for (uint256 i; i < ev.inputSignals.length; ++i) signals[r.outputs.length + i] = ev.inputSignals[i];
        bytes32 oracleLeaf = keccak256(abi.encodePacked(uint8(0), r.vkHash, signals));
        if (!oracle.isLeafVerified(inc.header.index, oracleLeaf, ev.leafIndex, ev.proof)) revert NotVerified(inc.header.index);
    }

    /// @notice Reverts unless `r` is in a batch the Rollup holds whose results the oracle attested
    /// (IInferenceOracle.attestBatch: every result of the batch proven). The fast path's strength,
    /// for less: no evidence of the result's own proof, one oracle slot read.
    function verifyAttested(IRollup rollup, IInferenceOracle oracle, uint256 chainId, IInferenceOracle.Result calldata r, Inclusion calldata inc) internal view {
        _included(rollup, chainId, r, inc);
        if (oracle.attestedRoot(inc.header.index) != inc.header.resultsRoot) revert NotAttested(inc.header.index);
    }

    /// @notice Reverts unless `r` is in a batch the Rollup holds and output `outputIndex`, over
    /// that batch or a later one, is final.
    function verifyFinal(IRollup rollup, uint256 chainId, IInferenceOracle.Result calldata r, Inclusion calldata inc, uint256 outputIndex) internal view {
        _included(rollup, chainId, r, inc);
        IRollup.Output memory o = rollup.getOutput(outputIndex);
        if (o.batchIndex < inc.header.index) revert OutputBeforeBatch(outputIndex, o.batchIndex, inc.header.index);
        if (!rollup.isFinalized(outputIndex)) revert NotFinal(outputIndex);
    }

    function _included(IRollup rollup, uint256 chainId, IInferenceOracle.Result calldata r, Inclusion calldata inc) private view {
        if (r.chainId != chainId) revert WrongChain(chainId, r.chainId);
        uint256 index = inc.header.index;
        if (rollup.batchCount() <= index || rollup.getBatch(index).hash != keccak256(abi.encode(inc.header))) revert UnknownHeader(index);
        bytes32 root = ResultTree.rootFromProof(leaf(r), inc.leafIndex, inc.proof);
        if (root == bytes32(0) || root != inc.header.resultsRoot) revert NotInBatch(index);
    }
}
