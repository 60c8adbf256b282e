/**
 * The AI precompiles, ready for `createVM({ evmOpts: { customPrecompiles } })`. The registry
 * itself is Solidity (a predeploy at REGISTRY_ADDRESS); these two read its storage natively.
 */
import type { CustomPrecompile } from '@ethereumjs/evm';
import { initMcl } from './groth16/verify.ts';
import { inferenceVerifierPrecompile } from './inference-verifier.ts';
import { modelExecPrecompile } from './model-exec.ts';
import { REGISTRY_ADDRESS_HEX } from './registry-layout.ts';

export const REGISTRY_ADDRESS = REGISTRY_ADDRESS_HEX;
export const VERIFIER_ADDRESS = '0x0000000000000000000000000000000000000a01' as const;
export const MODEL_EXEC_ADDRESS = '0x0000000000000000000000000000000000000a02' as const;

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
export { verifierAbi, modelExecAbi } from './abi.ts';
export { vkToBytes, decodeVk, proofToWords, publicSignalsToWords } from './groth16/encoding.ts';
export { measureEcPairing, measurePrecompile, type GasRate } from './measure.ts';
