/**
 * viem actions for an AI rollup: `client.extend(aiRollupActions())` on a public or wallet client
 * (wallet actions need the client's account and chain). Reads go through the node's `ai_` methods
 * and the predeploys; every revert comes back as AiRollupContractError.
 */
import { parseEventLogs } from 'viem';
import type { Account, Address, Chain, Client, Hex, Transport, WatchContractEventReturnType } from 'viem';
import { readContract, simulateContract, waitForTransactionReceipt, watchContractEvent, writeContract } from 'viem/actions';
import { RequestStatus, marketAbi } from '../contracts/abi/market.ts';
import { INFERENCE_VERIFIER_ADDRESS, MODEL_EXEC_ADDRESS, execAbi, verifierAbi } from '../contracts/abi/precompiles.ts';
import { INFERENCE_MARKET_ADDRESS } from '../contracts/predeploys.ts';
import { parseInferenceProof } from '../node/rollup/result-proof.ts';
import type { InferenceProof } from '../node/rollup/result-proof.ts';
import { inputHash } from '../precompiles/model/input-hash.ts';
import { l2BridgeActions } from './bridge.ts';
import { AiRollupContractError, InferenceWaitError, decodeRevert } from './errors.ts';

type AnyClient = Client<Transport, Chain | undefined, Account | undefined>;

/** ai_getModel's answer, numbers as numbers and bigints. */
export interface ModelInfo {
  modelId: Hex;
  owner: Address;
  version: number;
  deprecated: boolean;
  hasWeights: boolean;
  registeredAt: bigint;
  parent: Hex;
  latest: Hex;
  metadataURI: string;
  publicInputs: number;
  verifyingKeyHash: Hex;
}

export interface RequestInferenceParameters {
  modelId: Hex;
  /** uint8 input values. */
  input: readonly number[] | Uint8Array;
  /** A private-input model: only the input's Poseidon hash goes on chain; the input goes to the node (ai_submitJobInput). */
  private?: boolean;
  /** wei paid to the prover. */
  fee: bigint;
  ttlSeconds?: bigint;
  /** A contract called with onInferenceResult(id, modelId, outputs). */
  callback?: Address;
  callbackGas?: number;
}

export interface InferenceResult {
  id: bigint;
  modelId: Hex;
  outputs: bigint[];
  prover: Address;
  /** The L2 block that fulfilled it. */
  blockNumber: bigint;
}

const ZERO_ADDRESS: Address = '0x0000000000000000000000000000000000000000';
const q = (n: bigint) => `0x${n.toString(16)}`;

async function rpc<T>(client: AnyClient, method: string, params: unknown[]): Promise<T> {
  return (await client.request({ method: method as never, params: params as never })) as T;
}

function toModel(m: Record<string, unknown> | null): ModelInfo | null {
  if (m === null) return null;
  return {
    ...(m as unknown as ModelInfo),
    version: Number(m.version),
    registeredAt: BigInt(m.registeredAt as string),
    publicInputs: Number(m.publicInputs),
  };
}

export function aiRollupActions() {
  return (client: AnyClient) => ({
    ...l2BridgeActions(client),

    getModel: async ({ modelId, blockTag = 'latest' }: { modelId: Hex; blockTag?: string }) => toModel(await rpc(client, 'ai_getModel', [modelId, blockTag])),

    listModels: async ({ offset = 0, limit = 100 }: { offset?: number; limit?: number } = {}) => {
      const r = await rpc<{ total: string; offset: string; models: Record<string, unknown>[]; nextOffset: string | null }>(client, 'ai_listModels', [
        q(BigInt(offset)),
        q(BigInt(limit)),
      ]);
      return { total: Number(r.total), models: r.models.map((m) => toModel(m)!), nextOffset: r.nextOffset === null ? null : Number(r.nextOffset) };
    },

    /** The compiled model package a node serves (manifest, artifact URLs), or null. */
    modelArtifacts: ({ modelId }: { modelId: Hex }) => rpc<Record<string, unknown> | null>(client, 'ai_modelArtifacts', [modelId]),

    getInferenceRequest: ({ id }: { id: bigint }) =>
      readContract(client, { address: INFERENCE_MARKET_ADDRESS, abi: marketAbi, functionName: 'getRequest', args: [id] }).catch(decodeRevert),

    /** Runs a model with published weights on `input` (the exec precompile, by eth_call). */
    executeModel: async ({ modelId, input }: { modelId: Hex; input: readonly number[] | Uint8Array }) => [
      ...(await readContract(client, { address: MODEL_EXEC_ADDRESS, abi: execAbi, functionName: 'execute', args: [modelId, toHex(input)] }).catch(decodeRevert)),
    ],

    /** Whether `proof` proves `publicInputs` (outputs, then inputs) under the model's registered key. */
    verifyInference: ({ modelId, publicInputs, proof }: { modelId: Hex; publicInputs: readonly bigint[]; proof: readonly bigint[] }) =>
      readContract(client, { address: INFERENCE_VERIFIER_ADDRESS, abi: verifierAbi, functionName: 'verify', args: [modelId, [...publicInputs], proof as never] }).catch(
        decodeRevert,
      ),

    /** ai_getInferenceProof, parsed: the result's L1 proof path (docs/dapps/results-on-l1.md), or null. */
    getInferenceProof: async ({ id }: { id: bigint }): Promise<InferenceProof | null> => {
      const answer = await rpc<unknown>(client, 'ai_getInferenceProof', [q(id)]);
      return answer === null ? null : parseInferenceProof(answer);
    },

    /** Resolves with the result once a prover fulfilled request `id`; throws if it is refunded or the time runs out. */
    waitForInferenceResult: async ({
      id,
      timeoutMs = 300_000,
      pollingIntervalMs = 1_000,
    }: {
      id: bigint;
      timeoutMs?: number;
      pollingIntervalMs?: number;
    }): Promise<InferenceResult> => {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const r = await readContract(client, { address: INFERENCE_MARKET_ADDRESS, abi: marketAbi, functionName: 'getRequest', args: [id] })
          .catch(decodeRevert)
          .catch((err: unknown) => {
            if (err instanceof AiRollupContractError && err.errorName === 'UnknownRequest') throw new InferenceWaitError('UNKNOWN_REQUEST', `request ${id} does not exist`);
            throw err;
          });
        if (r.status === RequestStatus.Fulfilled) {
          const at = await rpc<{ l2Block: { number: string } } | null>(client, 'ai_getInferenceProof', [q(id)]);
          return { id, modelId: r.modelId, outputs: [...r.outputs], prover: r.prover, blockNumber: at === null ? 0n : BigInt(at.l2Block.number) };
        }
        if (r.status === RequestStatus.Refunded) throw new InferenceWaitError('REFUNDED', `request ${id} was refunded without a result`);
        if (r.status === RequestStatus.None) throw new InferenceWaitError('UNKNOWN_REQUEST', `request ${id} does not exist`);
        if (Date.now() + pollingIntervalMs > end) throw new InferenceWaitError('TIMEOUT', `request ${id}: no result within ${timeoutMs} ms`);
        await new Promise((res) => setTimeout(res, pollingIntervalMs));
      }
    },

    /** Calls `onResult` for every fulfilment from now on (of one model, or all); returns the unwatch function. */
    watchInferenceResults: ({
      modelId,
      onResult,
      onError,
    }: {
      modelId?: Hex;
      onResult: (r: InferenceResult) => void;
      onError?: (err: Error) => void;
    }): WatchContractEventReturnType =>
      watchContractEvent(client, {
        address: INFERENCE_MARKET_ADDRESS,
        abi: marketAbi,
        eventName: 'InferenceFulfilled',
        args: modelId === undefined ? undefined : { modelId },
        onError,
        onLogs: (logs) => {
          for (const l of logs) onResult({ id: l.args.id!, modelId: l.args.modelId!, outputs: [...l.args.outputs!], prover: l.args.prover!, blockNumber: l.blockNumber });
        },
      }),

    /**
     * Asks the market for an inference (wallet clients). For a private-input model the request
     * carries the input's Poseidon hash and the input goes to the node, which announces it to provers.
     */
    requestInference: async (p: RequestInferenceParameters): Promise<{ id: bigint; transactionHash: Hex; inputSignals: bigint[] }> => {
      if (client.account === undefined) throw new Error('requestInference needs a client with an account');
      const inputSignals = p.private === true ? [inputHash(p.input)] : [...p.input].map(BigInt);
      const { request } = await simulateContract(client, {
        account: client.account,
        chain: client.chain,
        address: INFERENCE_MARKET_ADDRESS,
        abi: marketAbi,
        functionName: 'requestInference',
        args: [p.modelId, inputSignals, p.ttlSeconds ?? 3_600n, p.callback ?? ZERO_ADDRESS, p.callbackGas ?? 0],
        value: p.fee,
      }).catch(decodeRevert);
      const transactionHash = await writeContract(client, request as never);
      const receipt = await waitForTransactionReceipt(client, { hash: transactionHash });
      if (receipt.status !== 'success') throw new Error(`requestInference ${transactionHash} reverted`);
      const id = parseEventLogs({ abi: marketAbi, logs: receipt.logs, eventName: 'InferenceRequested' })[0]!.args.id;
      if (p.private === true) await rpc(client, 'ai_submitJobInput', [q(id), [...p.input]]);
      return { id, transactionHash, inputSignals };
    },
  });
}

function toHex(input: readonly number[] | Uint8Array): Hex {
  return `0x${Buffer.from(Uint8Array.from(input)).toString('hex')}`;
}
