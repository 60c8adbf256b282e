/**
 * Typed ABIs and addresses of the AI precompiles (IInferenceVerifier and IModelExec), for viem
 * users outside the node (the SDK, tools, tests): the same definitions the precompiles decode
 * calls with (precompiles/abi.ts), under the names the SDK publishes.
 */
export {
  VERIFIER_ADDRESS as INFERENCE_VERIFIER_ADDRESS,
  MODEL_EXEC_ADDRESS,
  modelExecAbi as execAbi,
  verifierAbi,
} from '../../precompiles/abi.ts';
