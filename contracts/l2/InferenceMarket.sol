// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IInferenceMarket, IInferenceConsumer} from "../interfaces/IInferenceMarket.sol";
import {IInferenceVerifier} from "../interfaces/IInferenceVerifier.sol";

/// @title The inference market predeploy (genesis code at 0x4200000000000000000000000000000000000A03).
/// @notice Roles, flow and parameters: IInferenceMarket. No constructor runs for genesis code, so
/// parameters are defaults below that an operator overrides in the genesis allocation: slots 0..5
/// are GENESIS CONFIGURATION (layout pinned by test/unit/predeploys.test.ts, written by
/// inferenceMarketStorage in contracts/predeploys.ts). No function writes them.
/// Every state change precedes every external call (checks-effects-interactions), so a callback
/// or payee that re-enters finds the job already settled.
contract InferenceMarket is IInferenceMarket {
    IInferenceVerifier internal constant VERIFIER = IInferenceVerifier(0x0000000000000000000000000000000000000a01);

    uint256 internal constant MIN_STAKE = 1 ether;
    uint256 internal constant CLAIM_STAKE = 0.1 ether;
    /// Long enough to prove a small circuit on modest hardware, short enough that a miss delays a job little.
    uint256 internal constant CLAIM_WINDOW = 120;
    uint256 internal constant MISS_SLASH_BPS = 1000;
    /// A rejected proof is cheating or carelessness (a prover can eth_call first), so it costs more than a miss.
    uint256 internal constant REJECT_SLASH_BPS = 5000;
    uint256 internal constant MAX_CALLBACK_GAS = 500_000;
    uint64 internal constant MAX_TTL = 30 days;
    /// Gas for pushing ETH: enough for a contract wallet's receive, too little to make the caller's transaction expensive.
    uint256 internal constant PAY_GAS = 30_000;
    /// The verifier refuses an empty input list after two registry reads (~2,000 gas).
    uint256 internal constant PROBE_GAS = 20_000;
    /// Covers the CALL's own cost (cold account, memory) between the gas check and the callback.
    uint256 internal constant CALLBACK_CALL_GAS = 10_000;
    uint256 internal constant BPS = 10_000;
    /// BN254 scalar field order: the verifier refuses a public input at or above it.
    uint256 internal constant R = 21888242871839275222246405745257275088548364400416034343698204186575808495617;

    uint256 internal cfgMinStake; // slot 0
    uint256 internal cfgClaimStake; // slot 1
    uint256 internal cfgClaimWindow; // slot 2
    uint256 internal cfgMissSlashBps; // slot 3
    uint256 internal cfgRejectSlashBps; // slot 4
    uint256 internal cfgMaxCallbackGas; // slot 5

    uint256 public requestCount;
    mapping(uint256 => Request) internal requests;
    mapping(address => Prover) internal provers;
    mapping(address => uint256) public credits;

    // ---- provers ----

    function registerProver() external payable {
        if (msg.value == 0) revert ZeroValue();
        Prover storage p = provers[msg.sender];
        uint256 stake = p.stake + msg.value;
        uint256 min = _or(cfgMinStake, MIN_STAKE);
        if (stake < min) revert StakeTooLow(stake, min);
        p.stake = stake;
        emit ProverStaked(msg.sender, msg.value, stake);
    }

    function withdrawStake(uint256 amount) external {
        if (amount == 0) revert ZeroValue();
        Prover storage p = provers[msg.sender];
        uint256 free = p.stake - p.locked;
        if (amount > free) revert InsufficientFreeStake(free, amount);
        p.stake -= amount;
        emit StakeWithdrawn(msg.sender, amount, p.stake);
        (bool ok,) = msg.sender.call{value: amount}("");
        if (!ok) revert TransferFailed(msg.sender);
    }

    function claim(uint256 id) external {
        Request storage r = _open(id);
        _settleMiss(id, r);
        if (r.claimant != address(0)) revert AlreadyClaimed(id, r.claimant, r.claimedUntil);
        uint256 until = block.timestamp + _or(cfgClaimWindow, CLAIM_WINDOW);
        if (until > r.deadline) revert TooLateToClaim(id, r.deadline);
        Prover storage p = _eligible(msg.sender);
        uint256 lock = _or(cfgClaimStake, CLAIM_STAKE);
        p.locked += lock;
        r.claimant = msg.sender;
        r.claimedUntil = uint64(until);
        r.claimLock = lock;
        emit Claimed(id, msg.sender, uint64(until));
    }

    function reap(uint256 id) external returns (uint256 slashed) {
        Request storage r = _open(id);
        bool missed;
        (missed, slashed) = _settleMiss(id, r);
        if (!missed) revert NothingToReap(id);
    }

    /// Only from the live claimant: the verified signals do not name the prover, so a fulfilment
    /// copied from the pool would otherwise pay whoever copies it with a higher tip.
    function fulfill(uint256 id, uint256[] calldata outputs, uint256[8] calldata proof) external returns (bool accepted) {
        Request storage r = _open(id);
        if (block.timestamp > r.deadline) revert Expired(id, r.deadline);
        if (r.claimant != msg.sender || block.timestamp > r.claimedUntil) revert NotClaimant(id, r.claimant, r.claimedUntil);
        bytes memory reason;
        (accepted, reason) = _verify(r, outputs, proof);
        if (accepted) _accept(id, r, outputs, proof);
        else _reject(id, r, reason);
    }

    // ---- dApps ----

    function requestInference(bytes32 modelId, uint256[] calldata inputSignals, uint64 ttlSeconds, address callback, uint32 callbackGas)
        external
        payable
        returns (uint256 id)
    {
        if (msg.value == 0) revert ZeroValue();
        if (ttlSeconds == 0 || ttlSeconds > MAX_TTL) revert InvalidTtl(ttlSeconds, MAX_TTL);
        uint256 maxGas = _or(cfgMaxCallbackGas, MAX_CALLBACK_GAS);
        if (callbackGas > maxGas) revert CallbackGasTooHigh(callbackGas, maxGas);
        id = ++requestCount;
        Request storage r = requests[id];
        r.requester = msg.sender;
        r.deadline = uint64(block.timestamp) + ttlSeconds;
        r.status = Status.Open;
        r.callback = callback;
        r.callbackGas = callbackGas;
        r.outputCount = _outputCount(modelId, inputSignals);
        r.modelId = modelId;
        r.fee = msg.value;
        r.inputSignals = inputSignals;
        _announce(id, r, inputSignals);
    }

    /// From storage: the arguments would not fit the stack beside the event's.
    function _announce(uint256 id, Request storage r, uint256[] calldata inputSignals) internal {
        emit InferenceRequested(id, r.modelId, r.requester, r.fee, r.deadline, r.outputCount, r.callbackGas, inputSignals);
    }

    function refund(uint256 id) external {
        Request storage r = _open(id);
        if (block.timestamp <= r.deadline && !_modelGone(r.modelId)) revert NotExpired(id, r.deadline);
        _settleMiss(id, r);
        // only an early refund (model deprecated) can meet a claim still in its window: not the prover's fault
        if (r.claimant != address(0)) _release(r, provers[r.claimant]);
        r.status = Status.Refunded;
        emit Refunded(id, r.requester, r.fee);
        _pay(r.requester, r.fee);
    }

    function withdrawCredit(address payable to) external {
        uint256 amount = credits[msg.sender];
        if (amount == 0) revert ZeroValue();
        credits[msg.sender] = 0;
        emit CreditWithdrawn(msg.sender, to, amount);
        (bool ok,) = to.call{value: amount}("");
        if (!ok) revert TransferFailed(to);
    }

    // ---- views ----

    function getRequest(uint256 id) external view returns (Request memory) {
        if (requests[id].status == Status.None) revert UnknownRequest(id);
        return requests[id];
    }

    function result(uint256 id) external view returns (bool fulfilled, uint256[] memory outputs) {
        Request storage r = requests[id];
        if (r.status == Status.None) revert UnknownRequest(id);
        return (r.status == Status.Fulfilled, r.outputs);
    }

    function getProver(address prover) external view returns (Prover memory) {
        return provers[prover];
    }

    function freeStake(address prover) external view returns (uint256) {
        return provers[prover].stake - provers[prover].locked;
    }

    function parameters() external view returns (Parameters memory) {
        return Parameters({
            minStake: _or(cfgMinStake, MIN_STAKE),
            claimStake: _or(cfgClaimStake, CLAIM_STAKE),
            claimWindow: _or(cfgClaimWindow, CLAIM_WINDOW),
            missSlashBps: _bps(cfgMissSlashBps, MISS_SLASH_BPS),
            rejectSlashBps: _bps(cfgRejectSlashBps, REJECT_SLASH_BPS),
            maxCallbackGas: _or(cfgMaxCallbackGas, MAX_CALLBACK_GAS)
        });
    }

    // ---- internals ----

    function _open(uint256 id) internal view returns (Request storage r) {
        r = requests[id];
        if (r.status == Status.Open) return r;
        if (r.status == Status.Fulfilled) revert AlreadyFulfilled(id);
        if (r.status == Status.Refunded) revert AlreadyRefunded(id);
        revert UnknownRequest(id);
    }

    /// Registered (stake >= minStake) with a claim's worth of free stake, so a rejection is backed.
    function _eligible(address who) internal view returns (Prover storage p) {
        p = provers[who];
        uint256 min = _or(cfgMinStake, MIN_STAKE);
        if (p.stake < min) revert NotRegistered(who, p.stake, min);
        uint256 free = p.stake - p.locked;
        uint256 need = _or(cfgClaimStake, CLAIM_STAKE);
        if (free < need) revert InsufficientFreeStake(free, need);
    }

    /// A claim past its window is a miss, settled by whoever touches the job next.
    function _settleMiss(uint256 id, Request storage r) internal returns (bool missed, uint256 slashed) {
        address who = r.claimant;
        if (who == address(0) || block.timestamp <= r.claimedUntil) return (false, 0);
        Prover storage p = provers[who];
        slashed = (r.claimLock * _bps(cfgMissSlashBps, MISS_SLASH_BPS)) / BPS;
        _release(r, p);
        _slash(r, p, slashed);
        p.missed++;
        emit ClaimMissed(id, who, slashed);
        return (true, slashed);
    }

    function _release(Request storage r, Prover storage p) internal {
        p.locked -= r.claimLock;
        r.claimant = address(0);
        r.claimedUntil = 0;
        r.claimLock = 0;
    }

    /// Slashed stake is credited to the requester (pull), so settling a miss makes no external call.
    function _slash(Request storage r, Prover storage p, uint256 amount) internal {
        p.stake -= amount;
        credits[r.requester] += amount;
    }

    /// Number of outputs = the key's public inputs minus the input signals, which must all be
    /// usable: a request no proof can match would only bait provers into slashes.
    function _outputCount(bytes32 modelId, uint256[] calldata inputSignals) internal view returns (uint32) {
        (uint256 n, bytes memory reason) = _publicInputs(modelId);
        if (n == 0) revert ModelUnavailable(modelId, reason);
        if (inputSignals.length >= n) revert InputSignalCount(n, inputSignals.length);
        for (uint256 i = 0; i < inputSignals.length; i++) {
            if (inputSignals[i] >= R) revert InvalidInputSignal(i);
        }
        return uint32(n - inputSignals.length);
    }

    /// The key's number of public inputs, asked of the verifier with an empty input list: it
    /// answers PublicInputCount(n, 0) after reading the record and key length, before any pairing.
    /// n = 0 with the verifier's revert data when the model is unknown, deprecated or has no inputs.
    function _publicInputs(bytes32 modelId) internal view returns (uint256 n, bytes memory ret) {
        uint256[8] memory noProof;
        bool ok;
        (ok, ret) = address(VERIFIER).staticcall{gas: PROBE_GAS}(abi.encodeCall(IInferenceVerifier.verify, (modelId, new uint256[](0), noProof)));
        if (!ok && ret.length == 68 && bytes4(ret) == IInferenceVerifier.PublicInputCount.selector) {
            assembly {
                n := mload(add(ret, 36))
            }
        }
    }

    function _modelGone(bytes32 modelId) internal view returns (bool) {
        (uint256 n, bytes memory ret) = _publicInputs(modelId);
        return n == 0 && ret.length >= 4 && _isModelFault(bytes4(ret));
    }

    function _isModelFault(bytes4 sel) internal pure returns (bool) {
        return sel == IInferenceVerifier.UnknownModel.selector || sel == IInferenceVerifier.ModelDeprecated.selector
            || sel == IInferenceVerifier.InvalidVerifyingKey.selector;
    }

    /// Low-level staticcall: the verifier reverts on malformed proofs, and a revert here would
    /// erase the evidence. Only errors that are the prover's doing count as a rejection.
    function _verify(Request storage r, uint256[] calldata outputs, uint256[8] calldata proof) internal view returns (bool, bytes memory) {
        uint256[] storage inputs = r.inputSignals;
        uint256[] memory signals = new uint256[](outputs.length + inputs.length);
        for (uint256 i = 0; i < outputs.length; i++) signals[i] = outputs[i];
        for (uint256 i = 0; i < inputs.length; i++) signals[outputs.length + i] = inputs[i];
        (bool ok, bytes memory ret) = address(VERIFIER).staticcall(abi.encodeCall(IInferenceVerifier.verify, (r.modelId, signals, proof)));
        if (ok) {
            if (ret.length != 32) revert VerifierFailed(ret);
            return (abi.decode(ret, (bool)), "");
        }
        bytes4 sel = ret.length >= 4 ? bytes4(ret) : bytes4(0);
        if (
            sel == IInferenceVerifier.InvalidProof.selector || sel == IInferenceVerifier.InvalidPublicInput.selector
                || sel == IInferenceVerifier.PublicInputCount.selector
        ) return (false, ret);
        if (_isModelFault(sel)) revert ModelUnavailable(r.modelId, ret);
        // empty data: the verifier ran out of gas, the sender's doing but no evidence of cheating
        revert VerifierFailed(ret);
    }

    function _accept(uint256 id, Request storage r, uint256[] calldata outputs, uint256[8] calldata proof) internal {
        Prover storage p = provers[msg.sender];
        _release(r, p);
        p.fulfilled++;
        r.status = Status.Fulfilled;
        r.prover = msg.sender;
        r.outputs = outputs;
        emit InferenceFulfilled(id, r.modelId, msg.sender, r.fee, outputs, proof);
        _pay(msg.sender, r.fee);
        if (r.callback != address(0)) _callback(id, r, outputs);
    }

    function _reject(uint256 id, Request storage r, bytes memory reason) internal {
        Prover storage p = provers[msg.sender];
        uint256 slashed = (r.claimLock * _bps(cfgRejectSlashBps, REJECT_SLASH_BPS)) / BPS;
        // a claimant that proved wrong loses its exclusivity: the job is offered again at once
        _release(r, p);
        _slash(r, p, slashed);
        p.rejected++;
        emit ProofRejected(id, msg.sender, slashed, reason);
    }

    /// Gives the callback exactly callbackGas or reverts: EIP-150 forwards at most 63/64 of the
    /// gas left, so without the check a prover could starve the callback and still be paid.
    function _callback(uint256 id, Request storage r, uint256[] calldata outputs) internal {
        address cb = r.callback;
        uint256 gasLimit = r.callbackGas;
        bytes memory data = abi.encodeCall(IInferenceConsumer.onInferenceResult, (id, r.modelId, outputs));
        uint256 left = gasleft();
        if (left < CALLBACK_CALL_GAS || (left - CALLBACK_CALL_GAS) - (left - CALLBACK_CALL_GAS) / 64 < gasLimit) {
            revert InsufficientGas(gasLimit);
        }
        bool ok;
        // no return data is copied, so a callback cannot charge the prover for a huge return
        assembly {
            ok := call(gasLimit, cb, 0, add(data, 32), mload(data), 0, 0)
        }
        if (!ok) emit CallbackFailed(id, cb);
    }

    /// Push with bounded gas; a payee that refuses is credited instead, so it cannot block the job.
    function _pay(address to, uint256 amount) internal {
        bool ok;
        assembly {
            ok := call(PAY_GAS, to, amount, 0, 0, 0, 0)
        }
        if (!ok) {
            credits[to] += amount;
            emit PaymentDeferred(to, amount);
        }
    }

    function _or(uint256 configured, uint256 dflt) internal pure returns (uint256) {
        return configured == 0 ? dflt : configured;
    }

    function _bps(uint256 configured, uint256 dflt) internal pure returns (uint256) {
        uint256 v = _or(configured, dflt);
        return v > BPS ? BPS : v;
    }
}
