/**
 * The results root of a range of L2 blocks, as a batch header commits to it: one result leaf per
 * InferenceFulfilled log, in block and log order (node/rollup/result-leaf.ts). The batcher puts it
 * in the header it posts; derivation recomputes it from the blocks it derived.
 */
import type { Hex } from 'viem';
import type { FulfilledInference } from '../rollup/oracle-submission.ts';
import { inputHash, resultLeaf, resultsRoot } from '../rollup/result-leaf.ts';
import type { InferenceResult } from '../rollup/result-leaf.ts';
import type { FulfilledReader } from './fulfilled-inferences.ts';

/** The result a fulfilment commits to (its leaf's preimage). */
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

/** The results root of blocks [from, to] of the node's chain: what the batcher and derivation need. */
export function chainResultsRoot(reader: FulfilledReader, chainId: bigint): (from: bigint, to: bigint) => Promise<Hex> {
  return async (from, to) => resultsRoot((await reader.fulfilledIn(from, to)).map((f) => resultLeaf(toResult(chainId, f))));
}
