/**
 * Checks an ai_getInferenceProof answer against L1 alone, as contracts/l1/lib/InferenceResults.sol
 * does on chain: a consumer off L1 (a service, another chain's relayer) trusts neither the node
 * that answered nor any other, only L1's Rollup and InferenceOracle. Every value the answer
 * claims is recomputed or read from L1; what the answer says about status is ignored.
 */
import type { Hex, PublicClient } from 'viem';
import { inferenceOracleAbi } from '../../contracts/abi/oracle.ts';
import { rollupAbi } from '../../contracts/abi/rollup.ts';
import { CodedError } from '../../precompiles/errors.ts';
import { batchHash } from '../rollup/batch-codec.ts';
import { leafHash, rootFromProof } from '../rollup/oracle-merkle.ts';
import { inputHash, resultLeaf } from '../rollup/result-leaf.ts';
import type { InferenceProof } from '../rollup/result-proof.ts';

export type ResultCheckCode = 'WRONG_CHAIN' | 'INPUT_MISMATCH' | 'NOT_BATCHED' | 'UNKNOWN_HEADER' | 'NOT_IN_BATCH';

/** The answer does not prove what it claims (or not yet: NOT_BATCHED). */
export class ResultCheckError extends CodedError {
  constructor(
    override readonly code: ResultCheckCode,
    message: string,
  ) {
    super(message);
    this.name = 'ResultCheckError';
  }
}

export interface ResultCheckTarget {
  l2ChainId: bigint;
  rollup: Hex;
  /** Without it the fast path cannot be checked (fast stays false). */
  oracle?: Hex;
}

export interface ResultCheck {
  leaf: Hex;
  requestId: bigint;
  batchIndex: bigint;
  /** The oracle verified the result's proof for its batch (InferenceResults.verifyFast holds). */
  fast: boolean;
  /** The oracle attested the batch's results (InferenceResults.verifyAttested holds). */
  attested: boolean;
  /** An output over the batch or a later one is final (InferenceResults.verifyFinal holds). */
  final: boolean;
  /** Why fast, attested or final is false. */
  notes: string[];
}

/**
 * Throws ResultCheckError unless the result is in a batch the Rollup holds; then says, from L1,
 * whether the fast and final paths hold.
 */
export async function checkInferenceProof(client: PublicClient, target: ResultCheckTarget, p: InferenceProof): Promise<ResultCheck> {
  const r = p.result;
  if (r.chainId !== target.l2ChainId) throw new ResultCheckError('WRONG_CHAIN', `the result is of chain ${r.chainId}, not ${target.l2ChainId}`);
  if (inputHash(p.inputSignals) !== r.inputHash) throw new ResultCheckError('INPUT_MISMATCH', "the input signals do not hash to the result's inputHash");
  const leaf = resultLeaf(r);
  const inc = p.batch;
  if (inc === null) throw new ResultCheckError('NOT_BATCHED', `request ${r.requestId}: the answer names no batch yet`);
  const read = <T>(address: Hex, abi: typeof rollupAbi | typeof inferenceOracleAbi, functionName: string, args: unknown[]) =>
    client.readContract({ address, abi, functionName, args } as never) as Promise<T>;
  const index = inc.header.index;
  const count = await read<bigint>(target.rollup, rollupAbi, 'batchCount', []);
  if (index >= count || (await read<{ hash: Hex }>(target.rollup, rollupAbi, 'getBatch', [index])).hash !== batchHash(inc.header)) {
    throw new ResultCheckError('UNKNOWN_HEADER', `batch ${index}: the header is not the one the Rollup holds`);
  }
  const root = rootFromProof(leaf, inc.leafIndex, inc.proof);
  if (root === undefined || inc.header.resultsRoot === `0x${'00'.repeat(32)}` || root !== inc.header.resultsRoot) {
    throw new ResultCheckError('NOT_IN_BATCH', `request ${r.requestId}: the leaf is not in batch ${index}'s results root`);
  }
  const notes: string[] = [];
  let fast = false;
  if (target.oracle === undefined) notes.push('fast: no oracle address to check against');
  else if (p.oracle === null) notes.push('fast: the answer has no oracle evidence (no single-inference proof of this result verified for the batch yet)');
  else {
    const oracleLeaf = leafHash(r.vkHash, [...r.outputs, ...p.inputSignals]);
    fast = await read<boolean>(target.oracle, inferenceOracleAbi, 'isLeafVerified', [index, oracleLeaf, BigInt(p.oracle.leafIndex), p.oracle.proof]);
    if (!fast) notes.push(`fast: the oracle has no verified proof of this result for batch ${index}`);
  }
  const attested = target.oracle !== undefined && (await read<Hex>(target.oracle, inferenceOracleAbi, 'attestedRoot', [index])) === inc.header.resultsRoot;
  if (!attested) notes.push(`attested: the oracle has not attested batch ${index}'s results`);
  let final = false;
  if (p.output === null) notes.push('final: the answer names no output over the batch yet');
  else {
    const outputs = await read<bigint>(target.rollup, rollupAbi, 'outputCount', []);
    const o = p.output.index < outputs ? await read<{ batchIndex: bigint }>(target.rollup, rollupAbi, 'getOutput', [p.output.index]) : undefined;
    if (o === undefined) notes.push(`final: output ${p.output.index} is not on L1`);
    else if (BigInt(o.batchIndex) < index) notes.push(`final: output ${p.output.index} is over batch ${o.batchIndex}, before batch ${index}`);
    else {
      final = await read<boolean>(target.rollup, rollupAbi, 'isFinalized', [p.output.index]);
      if (!final) notes.push(`final: output ${p.output.index} is not final yet`);
    }
  }
  return { leaf, requestId: r.requestId, batchIndex: index, fast, attested, final, notes };
}
