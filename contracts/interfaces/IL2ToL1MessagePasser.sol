// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title Withdrawals out of L2 (predeploy at 0x4200000000000000000000000000000000000016).
/// @notice initiateWithdrawal records sentMessages[withdrawalHash] = true (storage slot 0 is the
/// mapping: a protocol constant, proven on L1 against the output root's storage root) with
///   withdrawalHash = keccak256(abi.encode(nonce, msg.sender, target, msg.value, gasLimit, data)).
/// The ETH sent stays locked in this contract: it leaves L2 supply and is paid out on L1.
interface IL2ToL1MessagePasser {
    event MessagePassed(
        uint256 indexed nonce,
        address indexed sender,
        address indexed target,
        uint256 value,
        uint256 gasLimit,
        bytes data,
        bytes32 withdrawalHash
    );

    function sentMessages(bytes32 withdrawalHash) external view returns (bool);
    function messageNonce() external view returns (uint256);
    function initiateWithdrawal(address target, uint256 gasLimit, bytes calldata data) external payable;
}
