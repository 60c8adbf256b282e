/**
 * ai-rollup/client: a TypeScript SDK for dApps on an AI rollup, built on viem.
 *
 *   const l2 = createPublicClient({ chain: devnetChain(), transport: http() }).extend(aiRollupActions());
 *   const wallet = createWalletClient({ chain: devnetChain(), transport: http(), account }).extend(aiRollupActions());
 *   const { id } = await wallet.requestInference({ modelId, input, fee: parseEther('0.001') });
 *   const { outputs } = await l2.waitForInferenceResult({ id });
 *   const l1 = createWalletClient({ chain: l1Chain, transport: http(l1Url), account }).extend(aiRollupL1Actions({ l2 }));
 *   const { deposit } = await l1.depositETH({ value: parseEther('1') });
 *
 * See docs/dapps/sdk.md.
 */
export { aiRollupActions } from './actions.ts';
export type { InferenceResult, ModelInfo, RequestInferenceParameters } from './actions.ts';
export { aiRollupChain, chainFromRollupConfig, devnetChain } from './chains.ts';
export { aiRollupL1Actions, depositTransactionHash, withdrawalHash } from './bridge.ts';
export type { Deposit, Withdrawal, WithdrawalStatus } from './bridge.ts';
export { AiRollupContractError, BridgeWaitError, InferenceWaitError } from './errors.ts';
export { marketAbi, RequestStatus } from '../contracts/abi/market.ts';
export { execAbi, verifierAbi, INFERENCE_VERIFIER_ADDRESS, MODEL_EXEC_ADDRESS } from '../contracts/abi/precompiles.ts';
export { INFERENCE_MARKET_ADDRESS, MODEL_REGISTRY_ADDRESS, MESSAGE_PASSER_ADDRESS } from '../contracts/predeploys.ts';
export { bridgeAbi, messagePasserAbi } from '../contracts/abi/rollup.ts';
export { inputHash } from '../precompiles/model/input-hash.ts';
export { checkInferenceProof } from '../node/l1/result-check.ts';
export type { InferenceProof } from '../node/rollup/result-proof.ts';
