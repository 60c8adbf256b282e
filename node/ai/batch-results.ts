/**
 * The inference results of a range of L2 blocks, as a batch header commits to them: one result
 * leaf per InferenceFulfilled log, in block and log order (node/rollup/result-leaf.ts). The
 * batcher puts the root in the header it posts; derivation recomputes it from the blocks it
 * derived; ai_getInferenceProof proves one leaf of it.
 */
import type { Hex } from 'viem';
import type { FulfilledInference } from '../rollup/oracle-submission.ts';
import { inputHash, resultLeaf, resultsRoot } from '../rollup/result-leaf.ts';
import type { InferenceResult } from '../rollup/result-leaf.ts';
import type { FulfilledReader } from './fulfilled-inferences.ts';

export interface BatchResults {
  /** In block and log order, with what the oracle needs to find each one's proof. */
  results: { result: InferenceResult; fulfilled: FulfilledInference }[];
  leaves: Hex[];
  root: Hex;
}

export function toResult(chainId: bigint, f: FulfilledInference): InferenceResult {
  return {
    chainId,
    requestId: f.requestId,
    modelId: f.modelId,
    vkHash: f.vkHash,
    inputHash: inputHash(f.inputSignals),
    prover: f.prover,
    outputs: [...f.outputs],
  };
}

export async function batchResults(reader: FulfilledReader, chainId: bigint, from: bigint, to: bigint): Promise<BatchResults> {
  const fulfilled = await reader.fulfilledIn(from, to);
  const results = fulfilled.map((f) => ({ result: toResult(chainId, f), fulfilled: f }));
  const leaves = results.map((r) => resultLeaf(r.result));
  return { results, leaves, root: resultsRoot(leaves) };
}

/** The results root of blocks [from, to] of the node's chain: what the batcher and derivation need. */
export function chainResultsRoot(reader: FulfilledReader, chainId: bigint): (from: bigint, to: bigint) => Promise<Hex> {
  return async (from, to) => (await batchResults(reader, chainId, from, to)).root;
}
