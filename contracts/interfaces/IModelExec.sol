// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title Model execution (a precompile).
/// @notice At 0x0000000000000000000000000000000000000A02. Runs a registered model whose weights
/// were published in the ModelRegistry, on `input` (one uint8 per byte, flat, channels-last),
/// with the deterministic integer executor (precompiles/model/executor.ts): bit-identical on every
/// node. Returns the outputs (int8 logits for a last layer without activation, else uint8).
/// Gas: see README "Gas schedule" (base + per 32-byte word of the model + per multiply-accumulate);
/// models over the multiply-accumulate cap are refused.
interface IModelExec {
    error UnknownModel(bytes32 modelId);
    error ModelDeprecated(bytes32 modelId);
    error NoWeights(bytes32 modelId);
    error InputLength(uint256 expected, uint256 given);
    error TooExpensive(uint256 macs, uint256 cap);

    function execute(bytes32 modelId, bytes calldata input) external view returns (int256[] memory output);
}
