// SPDX-License-Identifier: MIT
// Vendored from npm @eth-optimism/contracts-bedrock 0.17.3, src/libraries/rlp/RLPErrors.sol (MIT, Copyright (c) 2022 Optimism);
// changed: the pinned `pragma solidity 0.8.15` is now `^0.8.15` (we compile with solc 0.8.37).
pragma solidity ^0.8.15;

/// @notice The length of an RLP item must be greater than zero to be decodable
error EmptyItem();

/// @notice The decoded item type for list is not a list item
error UnexpectedString();

/// @notice The RLP item has an invalid data remainder
error InvalidDataRemainder();

/// @notice Decoded item type for bytes is not a string item
error UnexpectedList();

/// @notice The length of the content must be greater than the RLP item length
error ContentLengthMismatch();

/// @notice Invalid RLP header for RLP item
error InvalidHeader();
