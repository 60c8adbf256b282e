// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title Rollup (L1): batches of L2 blocks, output roots, finality.
/// @notice Stage 0: a single batcher posts batches, a single proposer posts output roots and a
/// challenger role may delete outputs that are not final yet. Nothing on L1 re-executes L2
/// blocks; replicas deriving from L1 check the proposer (see README "L1 and finality").
///
/// Batch data (calldata of submitBatch): one version byte 0x00, then brotli(RLP list of the full
/// RLP of every L2 block firstBlock..lastBlock, in order). `dataHash` = keccak256(data).
///
/// Output root = keccak256(abi.encode(bytes32 version (0), bytes32 l2StateRoot,
/// bytes32 messagePasserStorageRoot, bytes32 l2BlockHash)) of the last L2 block of a batch.
///
/// Inference results: `resultsRoot` is the root of the batch's result tree, one leaf per
/// InferenceFulfilled log of its blocks in block and log order, with the leaf formula and the
/// tree of l1/lib/InferenceResults.sol (zero for a batch without fulfilments). The Rollup does
/// not check it (it cannot execute L2 blocks); derivation recomputes it from the blocks and
/// refuses the batch when it differs, so the challenger deletes every output over it.
interface IRollup {
    struct BatchHeader {
        uint64 index; // 0, 1, 2, ...
        bytes32 prevBatchHash; // batchHash of index - 1, zero for the first batch
        uint64 firstBlock; // L2 block numbers, inclusive; the first batch starts at block 1
        uint64 lastBlock;
        bytes32 dataHash; // keccak256 of the batch data
        uint64 depositCount; // deposits (Bridge indexes) consumed by L2 blocks up to lastBlock
        bytes32 depositHash; // the Bridge's rolling deposit hash after depositCount deposits
        bytes32 resultsRoot; // root of the batch's inference result leaves; zero: none
    }

    struct Batch {
        bytes32 hash; // keccak256(abi.encode(BatchHeader))
        uint64 firstBlock;
        uint64 lastBlock;
        uint64 depositCount;
        uint64 l1Block; // L1 block that accepted it
        uint64 timestamp;
    }

    struct Output {
        bytes32 root;
        uint64 batchIndex;
        uint64 l2Block; // the batch's lastBlock
        uint64 timestamp; // L1 time of the proposal; final at timestamp + challengeWindow
    }

    event BatchSubmitted(uint256 indexed index, bytes32 indexed batchHash, uint64 firstBlock, uint64 lastBlock, uint64 depositCount);
    event OutputProposed(uint256 indexed outputIndex, uint256 indexed batchIndex, uint64 l2Block, bytes32 outputRoot);
    event OutputsDeleted(uint256 fromIndex, uint256 previousCount);

    error NotBatcher();
    error NotProposer();
    error NotChallenger();
    error WrongBatchIndex(uint64 expected, uint64 given);
    error WrongPrevBatchHash(bytes32 expected, bytes32 given);
    error WrongFirstBlock(uint64 expected, uint64 given);
    error EmptyBlockRange();
    error DataHashMismatch();
    error DepositCountDecreased(uint64 previous, uint64 given);
    error UnknownDeposits(uint64 available, uint64 given);
    error DepositHashMismatch(bytes32 expected, bytes32 given);
    /// @notice the batch leaves deposit `index` unconsumed past its inclusion deadline
    error DepositPastDeadline(uint64 index, uint64 deadline);
    error UnknownBatch(uint256 index);
    error OutputOutOfOrder(uint256 lastBatchIndex, uint256 given);
    error UnknownOutput(uint256 index);
    error OutputFinalized(uint256 index);

    function bridge() external view returns (address);
    function batcher() external view returns (address);
    function proposer() external view returns (address);
    function challenger() external view returns (address);
    /// @notice seconds after its proposal that an output becomes final
    function challengeWindow() external view returns (uint256);
    /// @notice seconds after a deposit that every batch must have consumed it
    function inclusionWindow() external view returns (uint256);

    function submitBatch(BatchHeader calldata header, bytes calldata data) external;
    function batchCount() external view returns (uint256);
    function nextBlock() external view returns (uint64);
    function lastBatchHash() external view returns (bytes32);
    function getBatch(uint256 index) external view returns (Batch memory);

    function proposeOutput(uint256 batchIndex, bytes32 outputRoot) external;
    function deleteOutputs(uint256 fromIndex) external;
    function outputCount() external view returns (uint256);
    function getOutput(uint256 index) external view returns (Output memory);
    function isFinalized(uint256 outputIndex) external view returns (bool);
}
