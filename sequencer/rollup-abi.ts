/**
 * Typed ABIs of contracts/interfaces/IRollup.sol and the IBridge calls the batcher and the
 * devnet make, for viem's type inference (the committed artifacts carry an untyped `Abi`).
 * test/unit/rollup-abi.test.ts checks every entry against what solc emits.
 */
import { parseAbi } from 'viem';

export const rollupAbi = parseAbi([
  'struct BatchHeader { uint64 index; bytes32 prevBatchHash; uint64 firstBlock; uint64 lastBlock; bytes32 dataHash; uint64 depositCount; bytes32 depositHash; }',
  'struct Batch { bytes32 hash; uint64 firstBlock; uint64 lastBlock; uint64 depositCount; uint64 l1Block; uint64 timestamp; }',
  'struct Output { bytes32 root; uint64 batchIndex; uint64 l2Block; uint64 timestamp; }',
  'event BatchSubmitted(uint256 indexed index, bytes32 indexed batchHash, uint64 firstBlock, uint64 lastBlock, uint64 depositCount)',
  'event OutputProposed(uint256 indexed outputIndex, uint256 indexed batchIndex, uint64 l2Block, bytes32 outputRoot)',
  'event OutputsDeleted(uint256 fromIndex, uint256 previousCount)',
  'error NotBatcher()',
  'error NotProposer()',
  'error NotChallenger()',
  'error WrongBatchIndex(uint64 expected, uint64 given)',
  'error WrongPrevBatchHash(bytes32 expected, bytes32 given)',
  'error WrongFirstBlock(uint64 expected, uint64 given)',
  'error EmptyBlockRange()',
  'error DataHashMismatch()',
  'error DepositCountDecreased(uint64 previous, uint64 given)',
  'error UnknownDeposits(uint64 available, uint64 given)',
  'error DepositHashMismatch(bytes32 expected, bytes32 given)',
  'error DepositPastDeadline(uint64 index, uint64 deadline)',
  'error UnknownBatch(uint256 index)',
  'error OutputOutOfOrder(uint256 lastBatchIndex, uint256 given)',
  'error UnknownOutput(uint256 index)',
  'error OutputFinalized(uint256 index)',
  'function bridge() view returns (address)',
  'function batcher() view returns (address)',
  'function proposer() view returns (address)',
  'function challenger() view returns (address)',
  'function challengeWindow() view returns (uint256)',
  'function inclusionWindow() view returns (uint256)',
  'function submitBatch(BatchHeader header, bytes data)',
  'function batchCount() view returns (uint256)',
  'function nextBlock() view returns (uint64)',
  'function lastBatchHash() view returns (bytes32)',
  'function getBatch(uint256 index) view returns (Batch)',
  'function proposeOutput(uint256 batchIndex, bytes32 outputRoot)',
  'function deleteOutputs(uint256 fromIndex)',
  'function outputCount() view returns (uint256)',
  'function getOutput(uint256 index) view returns (Output)',
  'function isFinalized(uint256 outputIndex) view returns (bool)',
]);

export const bridgeAbi = parseAbi([
  'error AlreadyInitialized()',
  'error NotDeployer()',
  'function initialize(address rollup_)',
  'function rollup() view returns (address)',
  'function depositETH(address to, uint64 gasLimit, bytes data) payable',
  'function depositCount() view returns (uint64)',
  'function depositHashAt(uint64 count) view returns (bytes32)',
  'function depositTime(uint64 index) view returns (uint64)',
]);
