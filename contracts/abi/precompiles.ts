/**
 * Typed ABIs and addresses of the AI precompiles (precompiles/inference-verifier.ts,
 * precompiles/model-exec.ts), for viem: IInferenceVerifier and IModelExec.
 */
import { parseAbi } from 'viem';

export const INFERENCE_VERIFIER_ADDRESS = '0x0000000000000000000000000000000000000a01' as const;
export const MODEL_EXEC_ADDRESS = '0x0000000000000000000000000000000000000a02' as const;

export const verifierAbi = parseAbi([
  'error UnknownModel(bytes32 modelId)',
  'error ModelDeprecated(bytes32 modelId)',
  'error PublicInputCount(uint256 expected, uint256 given)',
  'error InvalidPublicInput(uint256 index)',
  'error InvalidProof(uint8 code)',
  'error InvalidVerifyingKey(bytes32 modelId)',
  'error KeyRefused(uint8 code)',
  'function verify(bytes32 modelId, uint256[] publicInputs, uint256[8] proof) view returns (bool)',
  'function checkKey(bytes verifyingKey) view returns (bool)',
]);

export const execAbi = parseAbi([
  'error UnknownModel(bytes32 modelId)',
  'error ModelDeprecated(bytes32 modelId)',
  'error NoWeights(bytes32 modelId)',
  'error InputLength(uint256 expected, uint256 given)',
  'error TooExpensive(uint256 macs, uint256 cap)',
  'function execute(bytes32 modelId, bytes input) view returns (int256[] output)',
]);
