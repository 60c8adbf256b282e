// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IModelExec} from "../interfaces/IModelExec.sol";

/// @title Runs a registered model synchronously from a contract.
/// @notice Example dApp: classifies an input with the model-execution precompile in the same
/// transaction and acts on the answer (here: records the label and emits it).
contract OnChainClassifier {
    IModelExec public constant EXEC = IModelExec(0x0000000000000000000000000000000000000a02);
    bytes32 public immutable modelId;
    mapping(address => uint256) public lastLabel;

    event Classified(address indexed who, uint256 label, int256 score);

    constructor(bytes32 modelId_) {
        modelId = modelId_;
    }

    /// Index of the highest output (first one on ties).
    function classify(bytes calldata input) external returns (uint256 label) {
        int256[] memory out = EXEC.execute(modelId, input);
        int256 best = type(int256).min;
        for (uint256 i = 0; i < out.length; i++) {
            if (out[i] > best) (best, label) = (out[i], i);
        }
        lastLabel[msg.sender] = label;
        emit Classified(msg.sender, label, best);
    }

    function peek(bytes calldata input) external view returns (int256[] memory) {
        return EXEC.execute(modelId, input);
    }
}
