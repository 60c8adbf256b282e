// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import { IRollup } from "../interfaces/IRollup.sol";
import { IBridge } from "../interfaces/IBridge.sol";

/// @title Rollup (L1): the chain of batches, output roots and their finality (see IRollup).
/// @notice Roles are fixed at deployment (stage 0: no upgrade, no role rotation).
contract Rollup is IRollup {
    /// @dev A batch in two slots: firstBlock is not stored (batch 0 starts at block 1, every
    /// other batch right after the previous one's lastBlock), so the rest packs into one word.
    struct StoredBatch {
        bytes32 hash;
        uint64 lastBlock;
        uint64 depositCount;
        uint64 l1Block;
        uint64 timestamp;
    }

    address public immutable override bridge;
    address public immutable override batcher;
    address public immutable override proposer;
    address public immutable override challenger;
    uint256 public immutable override challengeWindow;
    uint256 public immutable override inclusionWindow;

    StoredBatch[] private _batches;
    Output[] private _outputs;

    constructor(
        address bridge_,
        address batcher_,
        address proposer_,
        address challenger_,
        uint256 challengeWindow_,
        uint256 inclusionWindow_
    ) {
        bridge = bridge_;
        batcher = batcher_;
        proposer = proposer_;
        challenger = challenger_;
        challengeWindow = challengeWindow_;
        inclusionWindow = inclusionWindow_;
    }

    // ---------------------------------------------------------------------------------- batches

    function submitBatch(BatchHeader calldata header, bytes calldata data) external override {
        if (msg.sender != batcher) revert NotBatcher();
        uint256 count = _batches.length;
        if (header.index != count) revert WrongBatchIndex(uint64(count), header.index);

        bytes32 prevHash;
        uint64 expectedFirst = 1;
        uint64 prevDeposits;
        if (count > 0) {
            StoredBatch storage prev = _batches[count - 1];
            prevHash = prev.hash;
            expectedFirst = prev.lastBlock + 1;
            prevDeposits = prev.depositCount;
        }
        if (header.prevBatchHash != prevHash) revert WrongPrevBatchHash(prevHash, header.prevBatchHash);
        if (header.firstBlock != expectedFirst) revert WrongFirstBlock(expectedFirst, header.firstBlock);
        if (header.lastBlock < header.firstBlock) revert EmptyBlockRange();
        if (keccak256(data) != header.dataHash) revert DataHashMismatch();
        _checkDeposits(header.depositCount, header.depositHash, prevDeposits);

        bytes32 batchHash = keccak256(abi.encode(header));
        _batches.push(
            StoredBatch({
                hash: batchHash,
                lastBlock: header.lastBlock,
                depositCount: header.depositCount,
                l1Block: uint64(block.number),
                timestamp: uint64(block.timestamp)
            })
        );
        emit BatchSubmitted(count, batchHash, header.firstBlock, header.lastBlock, header.depositCount);
    }

    /// @dev The batch must commit to a prefix of the Bridge's deposits (count and rolling hash)
    /// that never shrinks and that leaves no deposit older than the inclusion window. Checking
    /// the oldest unconsumed deposit suffices: deposit times never decrease with the index.
    function _checkDeposits(uint64 given, bytes32 givenHash, uint64 previous) private view {
        if (given < previous) revert DepositCountDecreased(previous, given);
        IBridge b = IBridge(bridge);
        uint64 available = b.depositCount();
        if (given > available) revert UnknownDeposits(available, given);
        bytes32 expected = b.depositHashAt(given);
        if (givenHash != expected) revert DepositHashMismatch(expected, givenHash);
        if (given < available) {
            uint256 deadline = uint256(b.depositTime(given)) + inclusionWindow;
            if (block.timestamp >= deadline) revert DepositPastDeadline(given, uint64(deadline));
        }
    }

    function batchCount() external view override returns (uint256) {
        return _batches.length;
    }

    function nextBlock() external view override returns (uint64) {
        uint256 count = _batches.length;
        return count == 0 ? 1 : _batches[count - 1].lastBlock + 1;
    }

    function lastBatchHash() external view override returns (bytes32) {
        uint256 count = _batches.length;
        return count == 0 ? bytes32(0) : _batches[count - 1].hash;
    }

    function getBatch(uint256 index) external view override returns (Batch memory) {
        if (index >= _batches.length) revert UnknownBatch(index);
        StoredBatch storage s = _batches[index];
        return Batch({
            hash: s.hash,
            firstBlock: index == 0 ? 1 : _batches[index - 1].lastBlock + 1,
            lastBlock: s.lastBlock,
            depositCount: s.depositCount,
            l1Block: s.l1Block,
            timestamp: s.timestamp
        });
    }

    // ---------------------------------------------------------------------------------- outputs

    /// @notice Proposes the output root of `batchIndex`'s last L2 block. Outputs go forward:
    /// each names a later batch than the one before, but may skip batches.
    function proposeOutput(uint256 batchIndex, bytes32 outputRoot) external override {
        if (msg.sender != proposer) revert NotProposer();
        if (batchIndex >= _batches.length) revert UnknownBatch(batchIndex);
        uint256 count = _outputs.length;
        if (count > 0) {
            uint256 lastIndex = _outputs[count - 1].batchIndex;
            if (batchIndex <= lastIndex) revert OutputOutOfOrder(lastIndex, batchIndex);
        }
        uint64 l2Block = _batches[batchIndex].lastBlock;
        _outputs.push(
            Output({ root: outputRoot, batchIndex: uint64(batchIndex), l2Block: l2Block, timestamp: uint64(block.timestamp) })
        );
        emit OutputProposed(count, batchIndex, l2Block, outputRoot);
    }

    /// @notice Deletes outputs fromIndex.. (stage 0: the challenger's judgement, no proof). A
    /// final output cannot be deleted; later outputs are never older, so none of them is final.
    function deleteOutputs(uint256 fromIndex) external override {
        if (msg.sender != challenger) revert NotChallenger();
        uint256 count = _outputs.length;
        if (fromIndex >= count) revert UnknownOutput(fromIndex);
        if (_final(_outputs[fromIndex])) revert OutputFinalized(fromIndex);
        for (uint256 i = count; i > fromIndex; i--) _outputs.pop();
        emit OutputsDeleted(fromIndex, count);
    }

    function outputCount() external view override returns (uint256) {
        return _outputs.length;
    }

    function getOutput(uint256 index) external view override returns (Output memory) {
        if (index >= _outputs.length) revert UnknownOutput(index);
        return _outputs[index];
    }

    function isFinalized(uint256 outputIndex) external view override returns (bool) {
        return outputIndex < _outputs.length && _final(_outputs[outputIndex]);
    }

    function _final(Output storage o) private view returns (bool) {
        return block.timestamp >= uint256(o.timestamp) + challengeWindow;
    }
}
