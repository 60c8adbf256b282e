/**
 * After the inference poster's submission for a batch lands with single proofs only, binds the
 * oracle to the batch's results (IInferenceOracle.attestBatch): the batch's result leaves, all
 * of them in order, each with the place of its proof in that submission. Then any L1 contract
 * can consume a result of the batch with InferenceResults.verifyAttested. A batch proven with
 * k-inference proofs cannot be attested (docs/dapps/results-on-l1.md says why).
 */
import type { Hex } from 'viem';
import type { Logger } from 'pino';
import { inferenceOracleAbi } from '../contracts/abi/oracle.ts';
import { toResult } from '../node/ai/batch-results.ts';
import { L1TxError, L1TxErrorCode, rpc } from '../node/l1/l1-tx.ts';
import type { L1Clients, L1TxSender } from '../node/l1/l1-tx.ts';
import { RollupBatchError, RollupBatches } from '../node/l1/rollup-batches.ts';
import type { BatchHeader } from '../node/rollup/batch-codec.ts';
import type { FulfilledInference, PlacedInference } from '../node/rollup/oracle-submission.ts';

/** What attestation needs of a posted batch: its inferences and where their proofs landed. */
export interface PostedSingles {
  index: bigint;
  inferences: readonly FulfilledInference[];
  /** Per inference (batch order), its proof's place in the poster's submission. */
  placed: readonly PlacedInference[];
}

export interface AttesterDeps {
  l1: L1Clients;
  rollup: Hex;
  oracle: Hex;
  chainId: bigint;
  logger: Logger;
}

/** Sends attestBatch unless the batch is attested already; a revert is logged, not retried. */
export async function attestPostedBatch(deps: AttesterDeps, sender: L1TxSender, p: PostedSingles, nonce: number, signal: AbortSignal): Promise<void> {
  const batches = new RollupBatches(deps.l1.public, deps.rollup);
  let header: BatchHeader;
  try {
    header = (await batches.header(await rpc(() => batches.batch(p.index)))).header;
  } catch (err) {
    if (!(err instanceof RollupBatchError)) throw err;
    deps.logger.error({ batchIndex: p.index.toString(), err: err.message }, 'cannot attest a batch whose header is not in direct submitBatch calldata');
    return;
  }
  const attested = await rpc(() => deps.l1.public.readContract({ address: deps.oracle, abi: inferenceOracleAbi, functionName: 'attestedRoot', args: [p.index] }));
  if (attested === header.resultsRoot) return;
  const results = p.inferences.map((f) => toResult(deps.chainId, f));
  const proofs = p.inferences.map((f, i) => ({ inputSignals: [...f.inputSignals], leafIndex: BigInt(p.placed[i]!.leafIndex), proof: p.placed[i]!.merkleProof }));
  try {
    const receipt = await sender.send(
      { address: deps.oracle, abi: inferenceOracleAbi, functionName: 'attestBatch', args: [header, results, proofs] },
      nonce,
      `attestation of batch ${p.index}`,
      signal,
    );
    deps.logger.info({ batchIndex: p.index.toString(), results: results.length, gasUsed: receipt.gasUsed.toString(), tx: receipt.transactionHash }, 'batch results attested on L1');
  } catch (err) {
    if (!(err instanceof L1TxError && err.code === L1TxErrorCode.Reverted)) throw err;
    // NothingToAttest: someone attested it meanwhile; anything else would be a bug to look at
    const level = err.errorName === 'NothingToAttest' ? 'info' : 'error';
    deps.logger[level]({ batchIndex: p.index.toString(), err: err.message }, 'the oracle refused the attestation of a batch');
  }
}
