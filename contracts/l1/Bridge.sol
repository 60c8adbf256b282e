// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import { IBridge } from "../interfaces/IBridge.sol";
import { IRollup } from "../interfaces/IRollup.sol";
import { ResourceMetering } from "./lib/ResourceMetering.sol";
import { SecureMerkleTrie } from "./lib/trie/SecureMerkleTrie.sol";

/// @title Bridge (L1): deposits into L2 and withdrawals out of it (see IBridge).
/// @notice Holds the ETH of every deposit; pays withdrawals proven against a final output root.
/// Every deposit pays for its L2 gas on L1 (ResourceMetering, as OP Stack's OptimismPortal).
contract Bridge is IBridge, ResourceMetering {
    /// @notice gas an L2 deposit may ask for at most, whatever the resource config
    uint64 public constant MAX_GAS_LIMIT = 10_000_000;
    /// @notice longest deposit calldata, in bytes
    uint256 public constant MAX_DATA_LENGTH = 120_000;
    /// @notice gas limit of the deposit made by plain ETH transfers to the bridge
    uint64 public constant RECEIVE_GAS_LIMIT = 100_000;
    /// @notice added to an L1 contract's address to form its L2 sender (as on OP Stack)
    uint160 public constant ALIAS_OFFSET = uint160(0x1111000000000000000000000000000000001111);
    /// @dev Gas kept back for the CALL itself (cold account, value transfer, new account: at most
    /// 2,600 + 9,000 + 25,000) and the work after it; OP's SafeCall reserves the same 40,000.
    uint256 private constant CALL_RESERVE = 40_000;
    /// @dev transient slot of the L2 sender of the withdrawal being executed
    bytes32 private constant L2_SENDER_SLOT = keccak256("ai-rollup.bridge.l2Sender");

    error NotDeployer();
    /// @notice depositHashAt asked for more deposits than there are
    error UnknownDepositCount(uint64 available, uint64 given);
    error UnknownDeposit(uint64 index);
    /// @notice the constructor's resource config breaks the rule named
    error InvalidResourceConfig(string rule);

    address private immutable _deployer;
    // the resource config, fixed at deployment (immutables: no storage read per deposit)
    uint32 private immutable _maxResourceLimit;
    uint8 private immutable _elasticityMultiplier;
    uint8 private immutable _baseFeeMaxChangeDenominator;
    uint32 private immutable _minimumBaseFee;
    uint32 private immutable _systemTxMaxGas;
    uint128 private immutable _maximumBaseFee;
    uint64 public immutable override maxDepositGasLimit;
    address public override rollup;
    /// @dev _depositHashes[n] = rolling hash after n deposits (n = 0 is never written: 0)
    mapping(uint256 => bytes32) private _depositHashes;
    /// @dev L1 timestamp of each deposit by index; its length is the deposit count
    uint64[] private _depositTimes;
    mapping(bytes32 => bool) public override finalizedWithdrawals;

    /// @param config the deposit gas market (OP Stack's defaults: 20M, 10, 8, 1 gwei, 1M,
    /// type(uint128).max). maxResourceLimit is what one L1 block's deposits may buy in all, so an
    /// honest sequencer must be able to include that much in one L2 block next to its L1-info
    /// deposit: its block gas limit must be at least maxResourceLimit + systemTxMaxGas (the
    /// sequencer refuses to start otherwise; why this meets every inclusion deadline: IBridge).
    constructor(ResourceConfig memory config) {
        _deployer = msg.sender;
        // OP Stack's SystemConfig rules, plus two that keep the market usable here
        if (config.minimumBaseFee > config.maximumBaseFee) revert InvalidResourceConfig("minimumBaseFee > maximumBaseFee");
        if (config.baseFeeMaxChangeDenominator <= 1) revert InvalidResourceConfig("baseFeeMaxChangeDenominator <= 1");
        if (config.elasticityMultiplier == 0) revert InvalidResourceConfig("elasticityMultiplier == 0");
        if (config.maxResourceLimit % config.elasticityMultiplier != 0) {
            revert InvalidResourceConfig("maxResourceLimit not a multiple of elasticityMultiplier");
        }
        // a price of 0 never rises again (every change is proportional to it): deposits would be free
        if (config.minimumBaseFee == 0) revert InvalidResourceConfig("minimumBaseFee == 0");
        // plain ETH transfers to the Bridge deposit RECEIVE_GAS_LIMIT and must fit
        if (config.maxResourceLimit < RECEIVE_GAS_LIMIT) revert InvalidResourceConfig("maxResourceLimit < RECEIVE_GAS_LIMIT");
        _maxResourceLimit = config.maxResourceLimit;
        _elasticityMultiplier = config.elasticityMultiplier;
        _baseFeeMaxChangeDenominator = config.baseFeeMaxChangeDenominator;
        _minimumBaseFee = config.minimumBaseFee;
        _systemTxMaxGas = config.systemTxMaxGas;
        _maximumBaseFee = config.maximumBaseFee;
        maxDepositGasLimit = config.maxResourceLimit < MAX_GAS_LIMIT ? config.maxResourceLimit : MAX_GAS_LIMIT;
    }

    /// @notice Sets the Rollup once. The Rollup's constructor takes the Bridge's address, so the
    /// Bridge is deployed first and told the Rollup's afterwards, by its deployer only.
    function initialize(address rollup_) external {
        if (msg.sender != _deployer) revert NotDeployer();
        if (rollup != address(0)) revert AlreadyInitialized();
        rollup = rollup_;
    }

    // --------------------------------------------------------------------------------- deposits

    receive() external payable {
        _deposit(msg.sender, msg.value, RECEIVE_GAS_LIMIT, false, "");
    }

    function depositETH(address to, uint64 gasLimit, bytes calldata data) external payable override {
        _deposit(to, msg.value, gasLimit, false, data);
    }

    function depositTransaction(address to, uint256 value, uint64 gasLimit, bool isCreation, bytes calldata data)
        external
        payable
        override
    {
        _deposit(to, value, gasLimit, isCreation, data);
    }

    /// @dev metered: after the body, buys gasLimit of L2 gas in this L1 block's market (burning
    /// L1 gas) or reverts with OutOfGas past maxResourceLimit.
    function _deposit(address to, uint256 value, uint64 gasLimit, bool isCreation, bytes memory data)
        private
        metered(gasLimit)
    {
        if (isCreation && to != address(0)) revert CreationWithTarget();
        if (data.length > MAX_DATA_LENGTH) revert DataTooLarge(MAX_DATA_LENGTH);
        uint64 minimum = minimumGasLimit(uint64(data.length));
        if (gasLimit < minimum) revert GasLimitTooLow(minimum);
        uint64 maximum = maxDepositGasLimit;
        if (gasLimit > maximum) revert GasLimitTooHigh(maximum);

        address from = msg.sender;
        // A contract's L2 account is its aliased address, so that an L1 contract cannot act as
        // the L2 account of the same address (which may belong to someone else).
        if (from != tx.origin) {
            unchecked {
                from = address(uint160(from) + ALIAS_OFFSET);
            }
        }
        uint256 index = _depositTimes.length;
        bytes32 depositHash = keccak256(
            abi.encode(_depositHashes[index], index, from, to, msg.value, value, gasLimit, isCreation, keccak256(data))
        );
        _depositHashes[index + 1] = depositHash;
        _depositTimes.push(uint64(block.timestamp));
        emit DepositQueued(index, from, to, msg.value, value, gasLimit, isCreation, data, depositHash);
    }

    /// @notice The least gas limit a deposit with `byteCount` bytes of data may ask for: the L2
    /// intrinsic gas of its calldata at 16 per byte (OP Stack's minimumGasLimit), so even the
    /// smallest deposit pays for the L2 work of carrying its data.
    function minimumGasLimit(uint64 byteCount) public pure override returns (uint64) {
        return byteCount * 16 + 21_000;
    }

    function resourceConfig() external view override returns (ResourceConfig memory) {
        return _resourceConfig();
    }

    function _resourceConfig() internal view override returns (ResourceConfig memory) {
        return ResourceConfig({
            maxResourceLimit: _maxResourceLimit,
            elasticityMultiplier: _elasticityMultiplier,
            baseFeeMaxChangeDenominator: _baseFeeMaxChangeDenominator,
            minimumBaseFee: _minimumBaseFee,
            systemTxMaxGas: _systemTxMaxGas,
            maximumBaseFee: _maximumBaseFee
        });
    }

    function depositCount() external view override returns (uint64) {
        return uint64(_depositTimes.length);
    }

    function depositHashAt(uint64 count) external view override returns (bytes32) {
        uint64 available = uint64(_depositTimes.length);
        if (count > available) revert UnknownDepositCount(available, count);
        return _depositHashes[count];
    }

    function depositTime(uint64 index) external view override returns (uint64) {
        if (index >= _depositTimes.length) revert UnknownDeposit(index);
        return _depositTimes[index];
    }

    // ------------------------------------------------------------------------------ withdrawals

    /// @notice Pays out a withdrawal recorded by L2ToL1MessagePasser, proven against a final
    /// output. Anyone may finalize anyone's withdrawal; each is paid once.
    /// @dev Unlike OP Stack, whose portal marks a withdrawal finalized even when its call fails
    /// (the ETH is then lost), a failing call reverts everything here, so the withdrawal stays
    /// unfinalized and can be finalized again later (when the target accepts it).
    function finalizeWithdrawal(
        WithdrawalTransaction calldata withdrawal,
        uint256 outputIndex,
        OutputRootProof calldata outputRootProof,
        bytes[] calldata withdrawalProof
    ) external override {
        IRollup r = IRollup(rollup);
        if (!r.isFinalized(outputIndex)) revert OutputNotFinalized(outputIndex);
        if (keccak256(abi.encode(outputRootProof)) != r.getOutput(outputIndex).root) revert InvalidOutputRootProof();

        bytes32 withdrawalHash = hashWithdrawal(withdrawal);
        if (finalizedWithdrawals[withdrawalHash]) revert WithdrawalAlreadyFinalized(withdrawalHash);
        // The trie library reverts (with its own messages) on malformed proofs: call it through
        // an external view so that every failure becomes InvalidWithdrawalProof.
        try this.provesWithdrawal(outputRootProof.messagePasserStorageRoot, withdrawalHash, withdrawalProof) returns (
            bool ok
        ) {
            if (!ok) revert InvalidWithdrawalProof();
        } catch {
            revert InvalidWithdrawalProof();
        }

        // marked before the call: a re-entering target finds it finalized
        finalizedWithdrawals[withdrawalHash] = true;
        address previousSender = _l2Sender();
        _setL2Sender(withdrawal.sender);
        // The call gets exactly gasLimit, and the check makes sure it can: CALL forwards at most
        // 63/64 of what is left (EIP-150), so a finalizer cannot starve the target.
        uint256 available = gasleft();
        if (withdrawal.gasLimit > available || available * 63 < withdrawal.gasLimit * 64 + CALL_RESERVE * 63) {
            revert InsufficientGas();
        }
        (bool success,) = withdrawal.target.call{ gas: withdrawal.gasLimit, value: withdrawal.value }(withdrawal.data);
        _setL2Sender(previousSender);
        if (!success) revert WithdrawalCallFailed(withdrawalHash);
        emit WithdrawalFinalized(withdrawalHash, withdrawal.target, withdrawal.value);
    }

    /// @notice keccak256(abi.encode(nonce, sender, target, value, gasLimit, data)), the key that
    /// L2ToL1MessagePasser records.
    function hashWithdrawal(WithdrawalTransaction calldata w) public pure returns (bytes32) {
        return keccak256(abi.encode(w.nonce, w.sender, w.target, w.value, w.gasLimit, w.data));
    }

    /// @notice Whether `proof` shows sentMessages[withdrawalHash] == true (storage slot
    /// keccak256(abi.encode(withdrawalHash, 0)) holding RLP(1)) in the message passer's storage
    /// trie with root `storageRoot`. Reverts on a malformed proof.
    function provesWithdrawal(bytes32 storageRoot, bytes32 withdrawalHash, bytes[] calldata proof)
        external
        pure
        returns (bool)
    {
        bytes32 slot = keccak256(abi.encode(withdrawalHash, uint256(0)));
        return SecureMerkleTrie.verifyInclusionProof(abi.encode(slot), hex"01", proof, storageRoot);
    }

    function l2Sender() external view override returns (address) {
        return _l2Sender();
    }

    /// @dev Transient (EIP-1153): the value lives for the transaction only, costs 100 gas per
    /// access and is restored after the call, so nested withdrawals each see their own sender.
    function _l2Sender() private view returns (address sender) {
        bytes32 slot = L2_SENDER_SLOT;
        assembly {
            sender := tload(slot)
        }
    }

    function _setL2Sender(address sender) private {
        bytes32 slot = L2_SENDER_SLOT;
        assembly {
            tstore(slot, sender)
        }
    }
}
