// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import { IL2ToL1MessagePasser } from "../interfaces/IL2ToL1MessagePasser.sol";

/// @title Withdrawals out of L2 (predeploy at 0x4200000000000000000000000000000000000016).
/// @notice THE STORAGE LAYOUT IS A PROTOCOL CONSTANT: the L1 Bridge verifies a storage proof of
/// slot keccak256(abi.encode(withdrawalHash, 0)) holding 1, so slot 0 is sentMessages and slot 1
/// messageNonce (checked against solc's storageLayout by test/unit/predeploys.test.ts).
contract L2ToL1MessagePasser is IL2ToL1MessagePasser {
    /// @notice gas limit of the withdrawal made by plain ETH transfers to this contract
    uint256 public constant RECEIVE_GAS_LIMIT = 100_000;

    mapping(bytes32 => bool) public override sentMessages;
    uint256 public override messageNonce;

    /// @notice Sending ETH here withdraws it to the same address on L1.
    receive() external payable {
        _initiateWithdrawal(msg.sender, RECEIVE_GAS_LIMIT, "");
    }

    function initiateWithdrawal(address target, uint256 gasLimit, bytes calldata data) external payable override {
        _initiateWithdrawal(target, gasLimit, data);
    }

    function _initiateWithdrawal(address target, uint256 gasLimit, bytes memory data) private {
        uint256 nonce = messageNonce;
        bytes32 withdrawalHash = keccak256(abi.encode(nonce, msg.sender, target, msg.value, gasLimit, data));
        sentMessages[withdrawalHash] = true;
        messageNonce = nonce + 1;
        emit MessagePassed(nonce, msg.sender, target, msg.value, gasLimit, data, withdrawalHash);
    }
}
