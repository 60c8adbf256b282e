/**
 * The result leaf of one fulfilment and a batch's results root, exactly as
 * contracts/l1/lib/InferenceResults.sol defines them (IRollup.BatchHeader.resultsRoot):
 *   leaf = keccak256(abi.encode(Result)), Result = (chainId, requestId, modelId, vkHash,
 *          inputHash, prover, outputs), inputHash = keccak256(abi.encodePacked(inputSignals))
 *   resultsRoot = the oracle's tree (oracle-merkle.ts) over the batch's leaves in block and log
 *   order; zero for a batch without fulfilments.
 */
import { encodeAbiParameters, encodePacked, keccak256, zeroHash } from 'viem';
import type { Address, Hex } from 'viem';
import { merkleRoot } from './oracle-merkle.ts';

export interface InferenceResult {
  chainId: bigint;
  requestId: bigint;
  modelId: Hex;
  vkHash: Hex;
  inputHash: Hex;
  prover: Address;
  outputs: bigint[];
}

export const RESULT_ABI = {
  type: 'tuple',
  components: [
    { name: 'chainId', type: 'uint256' },
    { name: 'requestId', type: 'uint256' },
    { name: 'modelId', type: 'bytes32' },
    { name: 'vkHash', type: 'bytes32' },
    { name: 'inputHash', type: 'bytes32' },
    { name: 'prover', type: 'address' },
    { name: 'outputs', type: 'uint256[]' },
  ],
} as const;

/** The results root of a batch with no fulfilments. */
export const EMPTY_RESULTS_ROOT: Hex = zeroHash;

export function inputHash(inputSignals: readonly bigint[]): Hex {
  return keccak256(encodePacked(['uint256[]'], [inputSignals]));
}

export function resultLeaf(r: InferenceResult): Hex {
  return keccak256(encodeAbiParameters([RESULT_ABI], [r]));
}

export function resultsRoot(leaves: readonly Hex[]): Hex {
  return leaves.length === 0 ? EMPTY_RESULTS_ROOT : merkleRoot(leaves);
}
