// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import { IResourceMetering } from "./IResourceMetering.sol";

/// @title Bridge (L1): deposits into L2 and withdrawals out of it.
/// @notice Deposits: every deposit gets an index and extends a rolling hash
///   h[i+1] = keccak256(abi.encode(h[i], i, from, to, mint, value, gasLimit, isCreation, keccak256(data)))
/// with h[0] = 0. `from` is msg.sender for an EOA (msg.sender == tx.origin), else the aliased
/// address msg.sender + 0x1111000000000000000000000000000000001111 (mod 2^160), as on OP Stack,
/// so an L1 contract cannot pose as the L2 account of the same address. On L2 the deposit
/// mints `mint` wei to `from`, then runs a call from `from` to `to` with `value` and `gasLimit`
/// (a creation when isCreation). The Rollup refuses batches that leave a deposit unconsumed past
/// depositTime(i) + inclusionWindow (forced inclusion).
///
/// Deposit gas: a deposit's gasLimit is L2 gas it gets without paying on L2, so it buys it on L1
/// (IResourceMetering: an EIP-1559 price per L1 block, paid by burning L1 gas), from
/// minimumGasLimit(data.length) to maxDepositGasLimit(), and the deposits of one L1 block buy at
/// most resourceConfig().maxResourceLimit (R) in all. Why that keeps forced inclusion honest, even
/// when an attacker fills every L1 block to R: the sequencer (node/rollup/l1-attributes.ts) puts into
/// every L2 block the deposits it can see, in index order, while their gas limits fit next to its
/// L1-info deposit (systemTxMaxGas), and its block gas limit is at least R + systemTxMaxGas. The
/// unconsumed deposits of the oldest L1 block then sum to at most R and always fit, so every L2
/// block takes all deposits of at least one more L1 block; L2 blocks come at least as often as
/// L1 blocks (1 s against 12 s on Ethereum; L1 timestamps rise by at least 1 s), so the deposits
/// waiting never grow beyond the L1 blocks the sequencer cannot see yet, and each lands in L2 a
/// few blocks after its L1 block, far inside the inclusion window. That holds in time as well as
/// in gas only if the node executes R + systemTxMaxGas of the worst EVM code within one L1 block
/// interval: R is sized to the L1 block time (devnet/deploy.ts, README "Deposits").
///
/// Withdrawals: L2ToL1MessagePasser (L2) stores sentMessages[withdrawalHash] = true with
///   withdrawalHash = keccak256(abi.encode(nonce, sender, target, value, gasLimit, data)).
/// finalizeWithdrawal proves that storage slot (keccak256(abi.encode(withdrawalHash, 0))) with a
/// Merkle-Patricia proof against the message passer storage root of a finalized output, once.
interface IBridge is IResourceMetering {
    struct WithdrawalTransaction {
        uint256 nonce;
        address sender;
        address target;
        uint256 value;
        uint256 gasLimit;
        bytes data;
    }

    struct OutputRootProof {
        bytes32 version;
        bytes32 stateRoot;
        bytes32 messagePasserStorageRoot;
        bytes32 blockHash;
    }

    event DepositQueued(
        uint256 indexed index,
        address indexed from,
        address indexed to,
        uint256 mint,
        uint256 value,
        uint64 gasLimit,
        bool isCreation,
        bytes data,
        bytes32 depositHash
    );
    event WithdrawalFinalized(bytes32 indexed withdrawalHash, address indexed target, uint256 value);

    error AlreadyInitialized();
    error GasLimitTooLow(uint64 minimum);
    error GasLimitTooHigh(uint64 maximum);
    error DataTooLarge(uint256 maximum);
    error CreationWithTarget();
    error OutputNotFinalized(uint256 outputIndex);
    error InvalidOutputRootProof();
    error InvalidWithdrawalProof();
    error WithdrawalAlreadyFinalized(bytes32 withdrawalHash);
    error WithdrawalCallFailed(bytes32 withdrawalHash);
    error InsufficientGas();

    function rollup() external view returns (address);

    /// @notice L1 ETH to `to` on L2 (mint = value = msg.value), optionally calling it with `data`.
    function depositETH(address to, uint64 gasLimit, bytes calldata data) external payable;
    /// @notice General L1 -> L2 message: mints msg.value to the sender's L2 account, then calls
    /// (or creates) with `value` taken from that account.
    function depositTransaction(address to, uint256 value, uint64 gasLimit, bool isCreation, bytes calldata data) external payable;

    /// @notice The least gasLimit of a deposit carrying `byteCount` bytes: 21,000 + 16 per byte.
    function minimumGasLimit(uint64 byteCount) external pure returns (uint64);
    /// @notice The most gasLimit one deposit may ask for: min(10,000,000, maxResourceLimit).
    function maxDepositGasLimit() external view returns (uint64);
    /// @notice The deposit gas market's parameters, fixed at deployment.
    function resourceConfig() external view returns (ResourceConfig memory);

    function depositCount() external view returns (uint64);
    /// @notice rolling hash after `count` deposits (0 for count 0)
    function depositHashAt(uint64 count) external view returns (bytes32);
    /// @notice L1 timestamp of deposit `index`
    function depositTime(uint64 index) external view returns (uint64);

    function finalizeWithdrawal(
        WithdrawalTransaction calldata withdrawal,
        uint256 outputIndex,
        OutputRootProof calldata outputRootProof,
        bytes[] calldata withdrawalProof
    ) external;
    function finalizedWithdrawals(bytes32 withdrawalHash) external view returns (bool);
    /// @notice the L2 sender of the withdrawal being executed (address(0) outside one)
    function l2Sender() external view returns (address);
}
