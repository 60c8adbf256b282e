// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title L1 block info (L2 predeploy at 0x4200000000000000000000000000000000000015).
/// @notice The first transaction of every L2 block of a rollup is a system deposit from
/// 0xDeaDDEaDDeAdDeAdDEAdDEaddeAddEAdDEAd0001 calling setL1BlockValues: the block's L1 origin,
/// its position in the origin's epoch, and the Bridge deposits consumed by L2 up to and
/// including this block (count and rolling hash), which the batcher commits to on L1.
/// Storage layout (a protocol constant: the node reads it natively): slot 0 number, 1 timestamp,
/// 2 basefee, 3 hash, 4 sequenceNumber, 5 depositCount, 6 depositHash.
interface IL1Block {
    error OnlyDepositor();

    function number() external view returns (uint256);
    function timestamp() external view returns (uint256);
    function basefee() external view returns (uint256);
    function hash() external view returns (bytes32);
    function sequenceNumber() external view returns (uint256);
    function depositCount() external view returns (uint256);
    function depositHash() external view returns (bytes32);

    function setL1BlockValues(
        uint256 number,
        uint256 timestamp,
        uint256 basefee,
        bytes32 hash,
        uint256 sequenceNumber,
        uint256 depositCount,
        bytes32 depositHash
    ) external;
}
