// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IInferenceMarket, IInferenceConsumer} from "../interfaces/IInferenceMarket.sol";

/// @title Asks the inference market for inferences of one model and keeps the results.
/// @notice Example dApp. `ask` posts a paid request naming this contract as the callback; a
/// prover's valid proof makes the market call `onInferenceResult`, which stores the outputs.
/// Refunds of expired requests come back to this contract (receive), slashed stake of provers
/// that missed its jobs is credited to it in the market; the owner sweeps both.
contract InferenceConsumer is IInferenceConsumer {
    IInferenceMarket public constant MARKET = IInferenceMarket(0x4200000000000000000000000000000000000A03);
    /// Storing four outputs and an event stays well under this.
    uint32 public constant CALLBACK_GAS = 200_000;

    address public immutable owner;
    bytes32 public immutable modelId;

    /// Requests this contract made: the market calls back whatever callback a request names, so a
    /// request someone else made could name this contract.
    mapping(uint256 => bool) public asked;
    mapping(uint256 => uint256[]) internal results;
    mapping(uint256 => bool) public delivered;

    event Asked(uint256 indexed id, address indexed by);
    event ResultReceived(uint256 indexed id, uint256[] outputs);

    error OnlyMarket(address caller);
    error OnlyOwner(address caller);
    error NotAsked(uint256 id);
    error WrongModel(bytes32 modelId);
    error TransferFailed();

    constructor(bytes32 modelId_) {
        owner = msg.sender;
        modelId = modelId_;
    }

    /// Pays msg.value as the fee. inputSignals: see IInferenceMarket (input values, or the input's hash).
    function ask(uint256[] calldata inputSignals, uint64 ttlSeconds) external payable returns (uint256 id) {
        id = MARKET.requestInference{value: msg.value}(modelId, inputSignals, ttlSeconds, address(this), CALLBACK_GAS);
        asked[id] = true;
        emit Asked(id, msg.sender);
    }

    function onInferenceResult(uint256 id, bytes32 modelId_, uint256[] calldata outputs) external {
        if (msg.sender != address(MARKET)) revert OnlyMarket(msg.sender);
        if (!asked[id]) revert NotAsked(id);
        if (modelId_ != modelId) revert WrongModel(modelId_);
        results[id] = outputs;
        delivered[id] = true;
        emit ResultReceived(id, outputs);
    }

    function resultOf(uint256 id) external view returns (bool ready, uint256[] memory outputs) {
        return (delivered[id], results[id]);
    }

    /// Index of the largest output (the predicted class); ready = false until delivered.
    function label(uint256 id) external view returns (bool ready, uint256 index) {
        uint256[] storage out = results[id];
        for (uint256 i = 1; i < out.length; i++) if (out[i] > out[index]) index = i;
        return (delivered[id], index);
    }

    /// Sends refunds held here and slashed stake credited in the market to `to`.
    function sweep(address payable to) external {
        if (msg.sender != owner) revert OnlyOwner(msg.sender);
        if (MARKET.credits(address(this)) > 0) MARKET.withdrawCredit(to);
        (bool ok,) = to.call{value: address(this).balance}("");
        if (!ok) revert TransferFailed();
    }

    receive() external payable {}
}
