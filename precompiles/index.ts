/**
 * The AI precompiles, ready for `createVM({ evmOpts: { customPrecompiles } })`. The registry
 * itself is Solidity (a predeploy at REGISTRY_ADDRESS); these two read its storage natively.
 */
import type { CustomPrecompile } from '@ethereumjs/evm';
import { initMcl } from './groth16/verify.ts';
import { inferenceVerifierPrecompile } from './inference-verifier.ts';
import { modelExecPrecompile } from './model-exec.ts';
import { MODEL_EXEC_ADDRESS, VERIFIER_ADDRESS } from './abi.ts';
import { REGISTRY_ADDRESS_HEX } from './registry-layout.ts';

export const REGISTRY_ADDRESS = REGISTRY_ADDRESS_HEX;

/** Both precompiles with their addresses; resolves once mcl (BN254) is loaded. */
export async function createAiPrecompiles(): Promise<CustomPrecompile[]> {
  await initMcl();
  return [
    { address: VERIFIER_ADDRESS, function: inferenceVerifierPrecompile },
    { address: MODEL_EXEC_ADDRESS, function: modelExecPrecompile },
  ];
}

export { inferenceVerifierPrecompile } from './inference-verifier.ts';
export { modelExecPrecompile } from './model-exec.ts';
export * as gas from './gas.ts';
export { MODEL_EXEC_ADDRESS, VERIFIER_ADDRESS, verifierAbi, modelExecAbi } from './abi.ts';
export { vkToBytes, decodeVk, proofToWords, publicSignalsToWords } from './groth16/encoding.ts';
export { measureEcPairing, measurePrecompile, type GasRate } from './measure.ts';
