// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IInferenceVerifier} from "../interfaces/IInferenceVerifier.sol";

/// @title Pays for an inference only once it is proven.
/// @notice Example dApp. Anyone posts a bounty for running `modelId` on an input, named by its
/// public signals (the input values for a public-input circuit, or the input's Poseidon hash for
/// a private-input one). The first caller who submits the output and a Groth16 proof that the
/// inference verifier precompile accepts gets the bounty; the result is stored for everyone.
/// After the deadline an unclaimed bounty goes back to its poster.
contract InferenceBounty {
    IInferenceVerifier public constant VERIFIER = IInferenceVerifier(0x0000000000000000000000000000000000000a01);

    struct Bounty {
        address poster;
        uint64 deadline;
        bool settled;
        bytes32 modelId;
        uint256 reward;
        uint256[] input;
        uint256[] output;
    }

    Bounty[] internal bounties;

    event BountyPosted(uint256 indexed id, bytes32 indexed modelId, uint256 reward, uint64 deadline);
    event InferenceProven(uint256 indexed id, address indexed prover, uint256[] output);
    event BountyRefunded(uint256 indexed id);

    error NoReward();
    error Settled(uint256 id);
    error Expired(uint256 id);
    error NotExpired(uint256 id);
    error ProofRejected(uint256 id);

    function post(bytes32 modelId, uint256[] calldata input, uint64 ttlSeconds) external payable returns (uint256 id) {
        if (msg.value == 0) revert NoReward();
        id = bounties.length;
        Bounty storage b = bounties.push();
        b.poster = msg.sender;
        b.deadline = uint64(block.timestamp) + ttlSeconds;
        b.modelId = modelId;
        b.reward = msg.value;
        b.input = input;
        emit BountyPosted(id, modelId, msg.value, b.deadline);
    }

    function fulfill(uint256 id, uint256[] calldata output, uint256[8] calldata proof) external {
        Bounty storage b = bounties[id];
        if (b.settled) revert Settled(id);
        if (block.timestamp > b.deadline) revert Expired(id);
        // public signals in snarkjs order: outputs, then the input's signals
        uint256[] memory signals = new uint256[](output.length + b.input.length);
        for (uint256 i = 0; i < output.length; i++) signals[i] = output[i];
        for (uint256 i = 0; i < b.input.length; i++) signals[output.length + i] = b.input[i];
        if (!VERIFIER.verify(b.modelId, signals, proof)) revert ProofRejected(id);
        b.settled = true;
        b.output = output;
        emit InferenceProven(id, msg.sender, output);
        (bool ok,) = msg.sender.call{value: b.reward}("");
        require(ok, "payout failed");
    }

    function refund(uint256 id) external {
        Bounty storage b = bounties[id];
        if (b.settled) revert Settled(id);
        if (block.timestamp <= b.deadline) revert NotExpired(id);
        b.settled = true;
        emit BountyRefunded(id);
        (bool ok,) = b.poster.call{value: b.reward}("");
        require(ok, "refund failed");
    }

    function result(uint256 id) external view returns (bool settled, uint256[] memory output) {
        Bounty storage b = bounties[id];
        return (b.settled && b.output.length > 0, b.output);
    }
}
