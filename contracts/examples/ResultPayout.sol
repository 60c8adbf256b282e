// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import { IRollup } from "../interfaces/IRollup.sol";
import { IInferenceOracle } from "../interfaces/IInferenceOracle.sol";
import { InferenceResults } from "../l1/lib/InferenceResults.sol";

/// @title An L1 contract that acts on an L2 inference result only once it is proven.
/// @notice Example dApp (deployed on L1). It pins one L2 chain, one model and its verifying key,
/// and pays `amount` once per L2 request to the result's prover, recording the outputs: by the
/// fast path as soon as the oracle verified the batch's proofs (or attested the batch), or by the final path once an
/// output over the batch is final (see l1/lib/InferenceResults.sol for what each one proves).
/// The node's ai_getInferenceProof returns every argument.
contract ResultPayout {
    IRollup public immutable rollup;
    IInferenceOracle public immutable oracle;
    uint256 public immutable l2ChainId;
    bytes32 public immutable modelId;
    bytes32 public immutable vkHash;
    uint256 public immutable amount;

    mapping(uint256 => bool) public paid;
    mapping(uint256 => uint256[]) internal _outputs;

    event PaidOut(uint256 indexed requestId, address indexed prover, bool fast, uint256[] outputs);

    error WrongModel(bytes32 modelId, bytes32 vkHash);
    error AlreadyPaid(uint256 requestId);
    error TransferFailed();

    constructor(IRollup rollup_, IInferenceOracle oracle_, uint256 l2ChainId_, bytes32 modelId_, bytes32 vkHash_, uint256 amount_) payable {
        rollup = rollup_;
        oracle = oracle_;
        l2ChainId = l2ChainId_;
        modelId = modelId_;
        vkHash = vkHash_;
        amount = amount_;
    }

    function claimFast(
        IInferenceOracle.Result calldata r,
        InferenceResults.Inclusion calldata inc,
        IInferenceOracle.ResultProof calldata ev
    ) external {
        InferenceResults.verifyFast(rollup, oracle, l2ChainId, r, inc, ev);
        _pay(r, true);
    }

    /// @notice The fast path's strength once the oracle attested the result's whole batch.
    function claimAttested(IInferenceOracle.Result calldata r, InferenceResults.Inclusion calldata inc) external {
        InferenceResults.verifyAttested(rollup, oracle, l2ChainId, r, inc);
        _pay(r, true);
    }

    function claimFinal(IInferenceOracle.Result calldata r, InferenceResults.Inclusion calldata inc, uint256 outputIndex) external {
        InferenceResults.verifyFinal(rollup, l2ChainId, r, inc, outputIndex);
        _pay(r, false);
    }

    function outputsOf(uint256 requestId) external view returns (uint256[] memory) {
        return _outputs[requestId];
    }

    function _pay(IInferenceOracle.Result calldata r, bool fast) private {
        if (r.modelId != modelId || r.vkHash != vkHash) revert WrongModel(r.modelId, r.vkHash);
        if (paid[r.requestId]) revert AlreadyPaid(r.requestId);
        paid[r.requestId] = true;
        _outputs[r.requestId] = r.outputs;
        emit PaidOut(r.requestId, r.prover, fast, r.outputs);
        (bool ok,) = r.prover.call{ value: amount }("");
        if (!ok) revert TransferFailed();
    }
}
