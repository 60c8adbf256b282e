// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title Inference market of the AI rollup (an L2 predeploy).
/// @notice Lives at 0x4200000000000000000000000000000000000A03 on every chain of this rollup.
/// dApps pay a fee for running a registered model on an input; staked provers prove the
/// inference off chain and are paid only for a proof the inference verifier (0x..0A01) accepts.
///
/// Public signals. A request names the circuit's INPUT public signals, `inputSignals`: the input
/// values of a public-input model, or [Poseidon hash of the packed input] of a private-input one.
/// The number of outputs is fixed when the request is made: the model key's number of public
/// inputs n minus inputSignals.length. A proof is checked with
///     verify(modelId, outputs ++ inputSignals, proof)
/// i.e. snarkjs order, outputs first (see IInferenceVerifier for the proof word order).
///
/// Flow.
///  1. A prover stakes with registerProver() (>= minStake; calling again tops up).
///  2. A dApp calls requestInference(); InferenceRequested carries what a prover needs.
///  3. A prover claims the job, claim(id): claimStake of its free stake is locked and it alone
///     may fulfil, for claimWindow seconds. A claim must end by the deadline, so late jobs are
///     not claimable. A claim whose window passed unfulfilled is a miss: the next claim, refund
///     or reap(id) of that job slashes missSlashBps of the lock, missed++, and offers the job again.
///  4. fulfill(id, outputs, proof): by the claimant, during its window, and by no one else
///     (NotClaimant). Why a claim is required: a proof does not name its prover (the verified
///     signals are outputs and inputs only), so a fulfilment seen in the pool could be sent again
///     by anyone with a higher tip and be paid. Binding the prover into the proof would change
///     every circuit and key (and the L1 oracle's batches); a commit-reveal fulfilment would add a
///     transaction and a block of delay to every job. The claim already exists, locks stake and is
///     exclusive, and a prover sends it while proving, so it costs no latency. A copied
///     fulfilment reverts and pays the copier nothing; a copied claim makes the copier the one
///     who must prove, or be slashed for the miss (the job is offered again when the window ends).
///     A valid proof pays the whole fee to the prover, stores the outputs and calls the
///     requester's callback with at most callbackGas; a failing callback is logged
///     (CallbackFailed) and does not undo the payment. A proof the verifier rejects (false, or
///     InvalidProof / InvalidPublicInput / PublicInputCount) does NOT revert: it is recorded
///     (ProofRejected with the verifier's revert data), rejected++, rejectSlashBps of the
///     claim's lock is slashed and the claimant loses its claim, so cheating leaves a trace and
///     a cost. Failures that are not the prover's fault revert instead and
///     cost nothing: the model became unusable (ModelUnavailable) or the verifier ran out of gas.
///  5. refund(id) after the deadline of an unfulfilled job (or at any time once its model is
///     deprecated) returns the fee to the requester, once. Anyone may call it.
///
/// Slashed stake goes to the job's requester (credited: withdrawCredit), who bore the delay.
/// Stake withdrawal: any stake not locked by a live claim, at any time. No cooldown is needed:
/// a rejection is slashed in the transaction that submits the proof, and a miss is slashed from
/// the stake its claim locked, so free stake never backs a pending penalty.
/// Payments (fee, refund) are pushed with at most 30,000 gas; if the recipient refuses, the
/// amount is credited to it instead (PaymentDeferred), so no recipient can block a job.
///
/// Parameters (parameters() returns the values in force). Each is a genesis storage slot of
/// the predeploy, which no function writes; an empty slot means the default:
///   slot 0 minStake        1 ether    stake needed to claim
///   slot 1 claimStake      0.1 ether  stake locked per claim; the unit slashes are taken from
///   slot 2 claimWindow     120 s      exclusivity of a claim
///   slot 3 missSlashBps    1000       10% of claimStake for a missed claim
///   slot 4 rejectSlashBps  5000       50% of claimStake for a rejected proof
///   slot 5 maxCallbackGas  500,000    most gas a request may ask for its callback
/// (basis points above 10,000 count as 10,000). Fixed: ttlSeconds in [1, 30 days].
interface IInferenceMarket {
    enum Status {
        None, // no such request
        Open,
        Fulfilled,
        Refunded
    }

    struct Request {
        address requester;
        uint64 deadline; // unix seconds; fulfil up to and including it
        Status status;
        address callback; // address(0): none
        uint32 callbackGas;
        uint32 outputCount; // outputs a proof must carry
        address claimant; // address(0): unclaimed
        uint64 claimedUntil; // last second of the claim's exclusivity
        address prover; // who fulfilled it
        bytes32 modelId;
        uint256 fee;
        uint256 claimLock; // stake the live claim locked
        uint256[] inputSignals;
        uint256[] outputs; // set when fulfilled
    }

    struct Prover {
        uint256 stake; // total, locked included
        uint256 locked; // by live claims
        uint32 fulfilled;
        uint32 missed;
        uint32 rejected;
    }

    struct Parameters {
        uint256 minStake;
        uint256 claimStake;
        uint256 claimWindow;
        uint256 missSlashBps;
        uint256 rejectSlashBps;
        uint256 maxCallbackGas;
    }

    event ProverStaked(address indexed prover, uint256 amount, uint256 stake);
    event StakeWithdrawn(address indexed prover, uint256 amount, uint256 stake);
    event InferenceRequested(
        uint256 indexed id,
        bytes32 indexed modelId,
        address indexed requester,
        uint256 fee,
        uint64 deadline,
        uint32 outputCount,
        uint32 callbackGas,
        uint256[] inputSignals
    );
    event Claimed(uint256 indexed id, address indexed prover, uint64 until);
    event ClaimMissed(uint256 indexed id, address indexed prover, uint256 slashed);
    /// `reason`: the verifier's revert data (an IInferenceVerifier error), empty when it returned false.
    event ProofRejected(uint256 indexed id, address indexed prover, uint256 slashed, bytes reason);
    /// `proof` is the accepted proof, so that the batch's proofs can be re-checked on L1
    /// (InferenceOracle) from logs alone, whoever called fulfill (an EOA or a contract).
    event InferenceFulfilled(uint256 indexed id, bytes32 indexed modelId, address indexed prover, uint256 fee, uint256[] outputs, uint256[8] proof);
    event CallbackFailed(uint256 indexed id, address indexed callback);
    event Refunded(uint256 indexed id, address indexed requester, uint256 fee);
    event PaymentDeferred(address indexed to, uint256 amount);
    event CreditWithdrawn(address indexed account, address indexed to, uint256 amount);

    error ZeroValue();
    error InvalidTtl(uint64 ttlSeconds, uint64 max);
    error CallbackGasTooHigh(uint32 given, uint256 max);
    /// The verifier refuses the model (its revert data: UnknownModel, ModelDeprecated, InvalidVerifyingKey).
    error ModelUnavailable(bytes32 modelId, bytes reason);
    /// inputSignals.length must be below the key's number of public inputs (at least one output).
    error InputSignalCount(uint256 publicInputs, uint256 given);
    /// An input signal >= the BN254 scalar field order (no proof could ever match it).
    error InvalidInputSignal(uint256 index);
    error UnknownRequest(uint256 id);
    error AlreadyFulfilled(uint256 id);
    error AlreadyRefunded(uint256 id);
    error Expired(uint256 id, uint64 deadline);
    error NotExpired(uint256 id, uint64 deadline);
    error NotRegistered(address prover, uint256 stake, uint256 minStake);
    error InsufficientFreeStake(uint256 free, uint256 needed);
    error StakeTooLow(uint256 stake, uint256 minStake);
    error AlreadyClaimed(uint256 id, address claimant, uint64 until);
    /// fulfill from someone who does not hold the request's live claim (claimant: the holder,
    /// address(0) if none; until: the end of its window, possibly past).
    error NotClaimant(uint256 id, address claimant, uint64 until);
    /// A claim taken now would outlast the request's deadline.
    error TooLateToClaim(uint256 id, uint64 deadline);
    error NothingToReap(uint256 id);
    /// The transaction's gas cannot give the callback its full callbackGas.
    error InsufficientGas(uint256 callbackGas);
    /// The verifier failed without an IInferenceVerifier error (out of gas): nothing is recorded.
    error VerifierFailed(bytes reason);
    error TransferFailed(address to);

    // provers
    function registerProver() external payable;
    /// Pays `amount` of free stake (stake - locked) to the caller.
    function withdrawStake(uint256 amount) external;
    function claim(uint256 id) external;
    /// Only from the live claimant (NotClaimant otherwise). true: paid; false: rejected and
    /// slashed (the transaction still succeeds).
    function fulfill(uint256 id, uint256[] calldata outputs, uint256[8] calldata proof) external returns (bool accepted);
    /// Settles an expired claim as a miss; returns the stake slashed.
    function reap(uint256 id) external returns (uint256 slashed);

    // dApps
    function requestInference(bytes32 modelId, uint256[] calldata inputSignals, uint64 ttlSeconds, address callback, uint32 callbackGas)
        external
        payable
        returns (uint256 id);
    function refund(uint256 id) external;
    /// Pays the caller's credit (deferred payments, slashed stake of its jobs) to `to`.
    function withdrawCredit(address payable to) external;

    // views
    function getRequest(uint256 id) external view returns (Request memory);
    function result(uint256 id) external view returns (bool fulfilled, uint256[] memory outputs);
    function requestCount() external view returns (uint256);
    function getProver(address prover) external view returns (Prover memory);
    function freeStake(address prover) external view returns (uint256);
    function credits(address account) external view returns (uint256);
    function parameters() external view returns (Parameters memory);
}

/// @notice What a requester's callback implements. Check msg.sender == the market: anyone can
/// call this function, and any request may name any callback.
interface IInferenceConsumer {
    function onInferenceResult(uint256 id, bytes32 modelId, uint256[] calldata outputs) external;
}
