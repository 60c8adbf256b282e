/**
 * Typed ABI of contracts/interfaces/IInferenceOracle.sol, for viem's type inference (the
 * committed artifact carries an untyped `Abi`). test/unit/aggregate.test.ts checks that it and
 * the compiled contract (contracts/artifacts/InferenceOracle.json) have the same entries.
 */
import { parseAbi } from 'viem';

export const inferenceOracleAbi = parseAbi([
  'struct ProofGroup { bytes32 vkHash; bytes vk; uint256[] publicInputs; uint256[8][] proofs; }',
  'struct Submission { uint32 leafCount; uint64 l1Block; uint64 timestamp; }',
  'event KeyAdded(bytes32 indexed vkHash, uint256 publicInputs, address data)',
  'event BatchProofsVerified(uint256 indexed batchIndex, address indexed submitter, bytes32 root, bytes32[] leaves)',
  'error BatchAlreadySubmitted(uint256 batchIndex, bytes32 root)',
  'error UnknownRollupBatch(uint256 batchIndex, uint256 batchCount)',
  'error EmptySubmission()',
  'error TooManyProofs(uint256 given, uint256 max)',
  'error EmptyGroup(uint256 group)',
  'error KeyHashMismatch(uint256 group, bytes32 given, bytes32 actual)',
  'error UnknownKey(bytes32 vkHash)',
  'error KeyExists(bytes32 vkHash)',
  'error KeyTooLarge(uint256 publicInputs, uint256 max)',
  'error KeyStoreFailed(bytes32 vkHash)',
  'error InvalidVerifyingKey(bytes32 vkHash, uint8 code)',
  'error PublicInputCount(uint256 group, uint256 expected, uint256 given)',
  'error InvalidPublicInput(uint256 proof, uint256 index)',
  'error InvalidProof(uint256 proof, uint8 code)',
  'error PairingInputRejected()',
  'error BatchProofInvalid()',
  'error PrecompileFailed()',
  'function rollup() view returns (address)',
  'function addKey(bytes vk) returns (bytes32 vkHash)',
  'function hasKey(bytes32 vkHash) view returns (bool)',
  'function getKey(bytes32 vkHash) view returns (bytes)',
  'function submitBatchProofs(uint256 batchIndex, ProofGroup[] groups) returns (bytes32 root)',
  'function getSubmission(uint256 batchIndex, bytes32 root) view returns (Submission)',
  'function submittedRoot(uint256 batchIndex, address submitter) view returns (bytes32)',
  'function leafHash(bytes32 vkHash, uint256[] publicSignals) pure returns (bytes32)',
  'function isVerified(uint256 batchIndex, bytes32 vkHash, uint256[] publicSignals, uint256 leafIndex, bytes32[] proof) view returns (bool)',
  'function isLeafVerified(uint256 batchIndex, bytes32 leaf, uint256 leafIndex, bytes32[] proof) view returns (bool)',
]);
