// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import { IL1Block } from "../interfaces/IL1Block.sol";

/// @title L1 block info (L2 predeploy at 0x4200000000000000000000000000000000000015).
/// @notice Written by the first (system) transaction of every L2 block. The node reads these
/// slots natively, so THE STORAGE LAYOUT IS A PROTOCOL CONSTANT: seven full slots,
/// 0 number, 1 timestamp, 2 basefee, 3 hash, 4 sequenceNumber, 5 depositCount, 6 depositHash
/// (checked against solc's storageLayout by test/unit/predeploys.test.ts).
contract L1Block is IL1Block {
    /// @notice the system account that sends the L1-info transaction (as on OP Stack)
    address public constant DEPOSITOR = 0xDeaDDEaDDeAdDeAdDEAdDEaddeAddEAdDEAd0001;

    uint256 public override number;
    uint256 public override timestamp;
    uint256 public override basefee;
    bytes32 public override hash;
    uint256 public override sequenceNumber;
    uint256 public override depositCount;
    bytes32 public override depositHash;

    function setL1BlockValues(
        uint256 number_,
        uint256 timestamp_,
        uint256 basefee_,
        bytes32 hash_,
        uint256 sequenceNumber_,
        uint256 depositCount_,
        bytes32 depositHash_
    ) external override {
        if (msg.sender != DEPOSITOR) revert OnlyDepositor();
        number = number_;
        timestamp = timestamp_;
        basefee = basefee_;
        hash = hash_;
        sequenceNumber = sequenceNumber_;
        depositCount = depositCount_;
        depositHash = depositHash_;
    }
}
