// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import { IInferenceOracle } from "../interfaces/IInferenceOracle.sol";
import { IRollup } from "../interfaces/IRollup.sol";
import { ResultTree } from "./lib/ResultTree.sol";

/// @title ResultAttestation: the oracle bound to a batch's committed results (IInferenceOracle.attestBatch).
/// @notice Kept apart from the proof check: it only reads the oracle's records. Per result it costs
/// its calldata, two keccaks and one Merkle walk into a recorded submission (one cold SLOAD);
/// the batch adds the Rollup's header check and one slot.
abstract contract ResultAttestation is IInferenceOracle {
    mapping(uint256 batchIndex => bytes32 resultsRoot) internal _attested;

    /// @dev The Rollup whose headers are attested (the oracle's).
    function _rollupAddress() internal view virtual returns (address);

    function isLeafVerified(uint256 batchIndex, bytes32 leaf, uint256 leafIndex, bytes32[] calldata proof) public view virtual override returns (bool);

    function attestBatch(IRollup.BatchHeader calldata header, Result[] calldata results, ResultProof[] calldata proofs) external override {
        uint256 index = header.index;
        IRollup rollup_ = IRollup(_rollupAddress());
        if (address(rollup_) == address(0) || rollup_.batchCount() <= index || rollup_.getBatch(index).hash != keccak256(abi.encode(header))) {
            revert UnknownBatchHeader(index);
        }
        bytes32 committed = header.resultsRoot;
        if (committed == bytes32(0) || _attested[index] == committed) revert NothingToAttest(index);
        if (results.length != proofs.length || results.length == 0) revert AttestationLength(results.length, proofs.length);
        bytes32[] memory leaves = new bytes32[](results.length);
        for (uint256 i; i < results.length; ++i) {
            Result calldata r = results[i];
            ResultProof calldata p = proofs[i];
            if (keccak256(abi.encodePacked(p.inputSignals)) != r.inputHash) revert AttestedInputMismatch(i);
            // the oracle's leaf of the result's own proof: public signals are outputs then inputs
            bytes32 oracleLeaf = keccak256(abi.encodePacked(uint8(0), r.vkHash, r.outputs, p.inputSignals));
            if (!isLeafVerified(index, oracleLeaf, p.leafIndex, p.proof)) revert ResultNotProven(i);
            leaves[i] = keccak256(abi.encode(r));
        }
        bytes32 given = ResultTree.root(leaves);
        if (given != committed) revert ResultsRootMismatch(index, committed, given);
        _attested[index] = committed;
        emit BatchAttested(index, committed, msg.sender);
    }

    function attestedRoot(uint256 batchIndex) external view override returns (bytes32) {
        return _attested[batchIndex];
    }
}
