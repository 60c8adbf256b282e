/** ABIs of the precompiles, as contracts/interfaces declares them (errors included). */
import { parseAbi, toFunctionSelector } from 'viem';

export const VERIFIER_ADDRESS = '0x0000000000000000000000000000000000000a01' as const;
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

export const modelExecAbi = parseAbi([
  'error UnknownModel(bytes32 modelId)',
  'error ModelDeprecated(bytes32 modelId)',
  'error NoWeights(bytes32 modelId)',
  'error InputLength(uint256 expected, uint256 given)',
  'error TooExpensive(uint256 macs, uint256 cap)',
  'function execute(bytes32 modelId, bytes input) view returns (int256[] output)',
]);

export const VERIFY_SELECTOR = toFunctionSelector('verify(bytes32,uint256[],uint256[8])');
export const CHECK_KEY_SELECTOR = toFunctionSelector('checkKey(bytes)');
export const EXECUTE_SELECTOR = toFunctionSelector('execute(bytes32,bytes)');
