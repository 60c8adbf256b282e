/**
 * The inferences a range of L2 blocks accepted, read from the node's own chain: each
 * InferenceFulfilled log with its request's input signals and, as of that block, the verifying
 * key the L2 verifier used. What the inference poster puts on L1, read in-process (the same
 * answers eth_getLogs and eth_call at those blocks give, without a round trip over HTTP).
 */
import { createAddressFromString, equalsBytes, hexToBytes } from '@ethereumjs/util';
import { bytesToHex, decodeEventLog, encodeEventTopics, keccak256 } from 'viem';
import type { Hex } from 'viem';
import { marketAbi } from '../../contracts/abi/market.ts';
import { INFERENCE_MARKET_ADDRESS, MODEL_REGISTRY_ADDRESS, loadArtifact } from '../../contracts/predeploys.ts';
import type { CallExecutor } from '../chain/call.ts';
import type { Chain } from '../chain/chain.ts';
import type { IndexedEvent } from '../chain/store.ts';
import { readContractAt } from '../chain/contract-read.ts';
import type { FulfilledInference } from '../rollup/oracle-submission.ts';

const registryAbi = loadArtifact('ModelRegistry').abi;
const MARKET = createAddressFromString(INFERENCE_MARKET_ADDRESS);
const REGISTRY = createAddressFromString(MODEL_REGISTRY_ADDRESS);
const FULFILLED = hexToBytes(encodeEventTopics({ abi: marketAbi, eventName: 'InferenceFulfilled' })[0] as Hex);

/** The store's index of fulfilments by request id (ChainStore.findEvent; topic1 is the id). */
export const FULFILMENT_EVENT: IndexedEvent = { address: MARKET.bytes, topic0: FULFILLED };
/** Requests by id (topic1), for when a request was made (ai_getInferenceRequest). */
export const REQUEST_EVENT: IndexedEvent = { address: MARKET.bytes, topic0: hexToBytes(encodeEventTopics({ abi: marketAbi, eventName: 'InferenceRequested' })[0] as Hex) };
/** Provers by address (topic1), their last stake: the list of every prover (ai_listProvers). */
export const PROVER_EVENT: IndexedEvent = { address: MARKET.bytes, topic0: hexToBytes(encodeEventTopics({ abi: marketAbi, eventName: 'ProverStaked' })[0] as Hex) };

export interface FulfilledReader {
  fulfilledIn(from: bigint, to: bigint): Promise<FulfilledInference[]>;
}

export function chainFulfilledInferences(chain: Pick<Chain, 'store'>, calls: Pick<CallExecutor, 'call'>): FulfilledReader {
  return {
    async fulfilledIn(from, to) {
      const out: FulfilledInference[] = [];
      for (let n = from; n <= to; n++) {
        const block = await chain.store.getBlockByNumber(n);
        if (block === undefined) throw new Error(`L2 block ${n} is not in this node's chain`);
        const receipts = (await chain.store.getReceipts(block.hash())) ?? [];
        // one key read per model per block, as the L2 verifier saw it there
        const keys = new Map<Hex, { vk: Hex; vkHash: Hex }>();
        for (const r of receipts) {
          for (const [address, topics, data] of r.logs) {
            if (!equalsBytes(address, MARKET.bytes) || topics[0] === undefined || !equalsBytes(topics[0], FULFILLED)) continue;
            const { args } = decodeEventLog({
              abi: marketAbi,
              eventName: 'InferenceFulfilled',
              topics: topics.map((t) => bytesToHex(t)) as [Hex, ...Hex[]],
              data: bytesToHex(data),
            });
            const { id, modelId, outputs, proof, prover } = args;
            const req = (await readContractAt(calls, block, MARKET, marketAbi, 'getRequest', [id])) as { inputSignals: readonly bigint[] };
            let key = keys.get(modelId);
            if (key === undefined) {
              const vk = ((await readContractAt(calls, block, REGISTRY, registryAbi, 'getModel', [modelId])) as { verifyingKey: Hex }).verifyingKey;
              key = { vk, vkHash: keccak256(vk) };
              keys.set(modelId, key);
            }
            const { vk, vkHash } = key;
            const single = { vk, modelId, publicSignals: [...outputs, ...req.inputSignals], proofWords: [...proof] };
            out.push({ requestId: id, modelId, outputs: [...outputs], inputSignals: [...req.inputSignals], single, prover, vkHash });
          }
        }
      }
      return out;
    },
  };
}
