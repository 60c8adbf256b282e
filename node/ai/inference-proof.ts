/**
 * ai_getInferenceProof's answer, from the node's own data: the fulfilment (the store's index by
 * request id, then the block's logs), its result leaf, and, once L1 has them, the batch holding
 * the block (header from its submitBatch calldata), the leaf's Merkle proof in the batch's
 * results root, the oracle's record of its proof and the first output over the batch. A sequencer
 * and a replica that derived the same chain from L1 give the same answer.
 */
import { bytesToHex, hexToBytes, numberToHex } from 'viem';
import type { Hex } from 'viem';
import { CodedError } from '../../precompiles/errors.ts';
import type { ChainStore } from '../chain/store.ts';
import type { L1Batch, RollupBatches } from '../l1/rollup-batches.ts';
import type { RollupStatusSnapshot } from '../l1/rollup-status.ts';
import { leafHash, merkleLevels, merkleProof, proofFromLevels } from '../rollup/oracle-merkle.ts';
import type { FulfilledInference } from '../rollup/oracle-submission.ts';
import { outputAt } from '../rollup/output-root.ts';
import type { ChainReader } from '../rollup/output-root.ts';
import { resultLeaf, resultsRoot } from '../rollup/result-leaf.ts';
import type { InferenceProof, ResultInclusion, ResultOracleEvidence, ResultOutput } from '../rollup/result-proof.ts';
import { toResult } from './batch-results.ts';
import { FULFILMENT_EVENT } from './fulfilled-inferences.ts';
import type { FulfilledReader } from './fulfilled-inferences.ts';

export class InferenceProofError extends CodedError {
  constructor(
    override readonly code: 'ROOT_MISMATCH',
    message: string,
  ) {
    super(message);
    this.name = 'InferenceProofError';
  }
}

export interface InferenceProofDeps {
  chain: ChainReader & { readonly store: Pick<ChainStore, 'findEvent'> };
  fulfilled: FulfilledReader;
  chainId: bigint;
  /** Rollup mode: L1's batches and the Rollup's status (without them, answers stop at the leaf). */
  l1?: { batches: RollupBatches; status: () => RollupStatusSnapshot };
}

interface BatchLeaves {
  requestIds: bigint[];
  levels: Hex[][];
}

const LEAF_CACHE = 64;

export class InferenceProofs {
  /** A batch's leaves by its hash on L1 (content-keyed: a replaced batch is a new entry). */
  private leaves = new Map<Hex, BatchLeaves>();

  constructor(private readonly deps: InferenceProofDeps) {}

  /** null when no block of this node's canonical chain fulfilled `requestId`. */
  async get(requestId: bigint): Promise<InferenceProof | null> {
    const { chain, fulfilled, chainId, l1 } = this.deps;
    const at = await chain.store.findEvent(FULFILMENT_EVENT.address, FULFILMENT_EVENT.topic0, hexToBytes(numberToHex(requestId, { size: 32 })));
    if (at === undefined) return null;
    const f = (await fulfilled.fulfilledIn(at.number, at.number)).find((x) => x.requestId === requestId);
    if (f === undefined) return null;
    const result = toResult(chainId, f);
    const proof: InferenceProof = {
      requestId,
      l2Block: { number: at.number, hash: bytesToHex(at.blockHash) },
      result,
      inputSignals: [...f.inputSignals],
      leaf: resultLeaf(result),
      batch: null,
      oracle: null,
      attested: false,
      output: null,
      final: false,
    };
    if (l1 === undefined) return proof;
    const status = l1.status();
    if (status.safeBlock < at.number) return proof;
    const batch = await l1.batches.batchOf(at.number, status.batchCount);
    if (batch === undefined) return proof;
    proof.batch = await this.inclusion(batch, requestId);
    proof.oracle = await this.oracleEvidence(batch, f);
    proof.attested = (await l1.batches.attestedRoot(batch.index)) === proof.batch.header.resultsRoot;
    proof.output = await this.output(status, batch.index);
    proof.final = proof.output?.finalized ?? false;
    return proof;
  }

  private async inclusion(batch: L1Batch, requestId: bigint): Promise<ResultInclusion> {
    const { header, l1TransactionHash } = await this.deps.l1!.batches.header(batch);
    const tree = await this.batchLeaves(batch);
    const root = tree.levels.length === 0 ? resultsRoot([]) : tree.levels[tree.levels.length - 1]![0]!;
    if (root !== header.resultsRoot) {
      throw new InferenceProofError(
        'ROOT_MISMATCH',
        `batch ${batch.index} on L1 commits to results root ${header.resultsRoot}, this node's blocks ${header.firstBlock}..${header.lastBlock} give ${root}`,
      );
    }
    const leafIndex = tree.requestIds.indexOf(requestId);
    return {
      index: batch.index,
      l1Block: batch.l1Block,
      l1TransactionHash,
      header,
      leafIndex,
      leafCount: tree.requestIds.length,
      proof: proofFromLevels(tree.levels, leafIndex),
    };
  }

  private async batchLeaves(batch: L1Batch): Promise<BatchLeaves> {
    const cached = this.leaves.get(batch.hash);
    if (cached !== undefined) return cached;
    const all = await this.deps.fulfilled.fulfilledIn(batch.firstBlock, batch.lastBlock);
    const leaves = all.map((f) => resultLeaf(toResult(this.deps.chainId, f)));
    const entry = { requestIds: all.map((f) => f.requestId), levels: leaves.length === 0 ? [] : merkleLevels(leaves) };
    this.leaves.set(batch.hash, entry);
    if (this.leaves.size > LEAF_CACHE) this.leaves.delete(this.leaves.keys().next().value as Hex);
    return entry;
  }

  /** The oldest verified submission for the batch holding this result's own proof. */
  private async oracleEvidence(batch: L1Batch, f: FulfilledInference): Promise<ResultOracleEvidence | null> {
    const leaf = leafHash(f.vkHash, [...f.outputs, ...f.inputSignals]);
    for (const rec of await this.deps.l1!.batches.oracleRecords(batch.index, batch.l1Block)) {
      const leafIndex = rec.leaves.indexOf(leaf);
      if (leafIndex < 0) continue;
      const { submitter, root, l1Block, l1TransactionHash } = rec;
      return { submitter, root, l1Block, l1TransactionHash, leaf, leafIndex, leafCount: rec.leaves.length, proof: merkleProof(rec.leaves, leafIndex) };
    }
    return null;
  }

  /** The first output over the batch or a later one (outputs finalize in order). */
  private async output(status: RollupStatusSnapshot, batchIndex: bigint): Promise<ResultOutput | null> {
    const o = status.outputs.find((x) => x.batchIndex >= batchIndex);
    if (o === undefined) return null;
    const { parts } = await outputAt(this.deps.chain, o.l2Block);
    return { index: o.index, batchIndex: o.batchIndex, l2Block: o.l2Block, root: o.root, outputRootProof: parts, finalized: o.finalized };
  }
}
