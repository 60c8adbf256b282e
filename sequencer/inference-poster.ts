/**
 * Posts, for every rollup batch on L1, the inference proofs its L2 blocks accepted to the L1
 * InferenceOracle, which checks them all with one randomized multi-pairing
 * (contracts/interfaces/IInferenceOracle.sol). L1 contracts can then read those results as soon
 * as the batch's proofs land, before the batch's state is final.
 *
 * Everything comes from L2 logs and state at the block of each fulfilment (InferenceFulfilled
 * carries the outputs and the proof; the request gives the input signals; the registry, at that
 * block, the key the L2 verifier used), so anyone can run this and get the same submission. The
 * oracle records every verified submission of a batch under its own root and refuses only a
 * second one with the same root: a batch is done here once this poster's account has a root
 * recorded for it (`submittedRoot`, so a restart proves nothing again), or once the root this
 * poster would submit is recorded by anyone (two posters with the same proofs pay once). A
 * stranger's submission of other proofs for the batch is no reason to stop. Like the batcher it
 * keeps no state that matters: each step reads what L1 already holds. A batch posted with single
 * proofs only is then attested (result-attester.ts), best effort: a restart between the two
 * leaves it unattested, and its results go by the fast or final path.
 *
 * Aggregation (injected: the prover's prover/aggregate/batch-aggregator.ts): where the node holds a model's package
 * with a k-inference circuit (`model compile --aggregate K`) and the inputs (public signals, or
 * private inputs still held by JobInputs), the poster proves k inferences per L1 proof on its
 * own proving threads, so L1 pays one pairing per k inferences; everything else goes with its
 * L2 proof, in the same submission. Private inputs live in memory only: after a restart, the
 * batches fulfilled before it go to L1 with single proofs.
 *
 * Keys: a key the oracle does not hold travels in calldata with every submission that uses it.
 * After `storeKeysAfter` such submissions the poster stores it once with addKey (rent or buy:
 * with the threshold near addKey's cost over one submission's saving, the total is never more
 * than twice the best choice made in hindsight, whatever the future traffic of that model).
 */
import { bytesToHex, keccak256 } from 'viem';
import type { Address, Hex } from 'viem';
import type { Logger } from 'pino';
import { buildBatchSubmission, singleProofs } from '../node/rollup/oracle-submission.ts';
import type { AggregatedBatch, FulfilledInference, PlacedInference } from '../node/rollup/oracle-submission.ts';
import { attestPostedBatch } from './result-attester.ts';
import type { PostedSingles } from './result-attester.ts';
import { inferenceOracleAbi } from '../contracts/abi/oracle.ts';
import { Listeners } from '../node/l1/l1-loop.ts';
import { L1Poster } from '../node/l1/poster.ts';
import type { StepResult } from '../node/l1/l1-loop.ts';
import { DEFAULT_MAX_FEE_PER_GAS_CAP, L1TxError, L1TxErrorCode, L1TxSender, rpc } from '../node/l1/l1-tx.ts';
import type { L1Clients } from '../node/l1/l1-tx.ts';
import { rollupAbi } from '../contracts/abi/rollup.ts';

export interface InferencePosterOptions {
  pollMs: number;
  resubmitAfterMs: number;
  stuckAfterMs: number;
  maxFeePerGasCap: bigint;
  maxBackoffMs: number;
  /**
   * addKey a key once it went in calldata in this many submissions (0: before its first use;
   * Infinity: never). Default 20, the measured break-even (`bench:aggregate --live`: addKey
   * costs what 20 submissions save for the example's 4-inference key, 24 for its single key).
   */
  storeKeysAfter: number;
}

export const defaultInferencePosterOptions: InferencePosterOptions = {
  pollMs: 2_000,
  resubmitAfterMs: 60_000,
  stuckAfterMs: 120_000,
  maxFeePerGasCap: DEFAULT_MAX_FEE_PER_GAS_CAP,
  maxBackoffMs: 30_000,
  storeKeysAfter: 20,
};

export interface InferencePosterDeps {
  l1: L1Clients;
  rollup: Address;
  oracle: Address;
  logger: Logger;
  /** The inferences L2 blocks accepted, read from the node's own chain (node/ai/fulfilled-inferences.ts). */
  inferences: FulfilledSource;
  /** Proves k inferences per L1 proof where it can (the prover's BatchAggregator, injected by the node's assembly); none: single proofs. */
  aggregation?: Aggregation;
  /** Private inputs handed to the node (JobInputs); released once their batch is posted. */
  jobInputs?: { release(ids: Iterable<bigint>): void };
  /** The L2 chain id: with it, a batch posted with single proofs only is then attested (result-attester.ts). */
  chainId?: bigint;
}

/** Where the poster finds a batch's inferences. */
export interface FulfilledSource {
  /** Every inference accepted in L2 blocks [from, to], in block order, with the key its L2 verification used. */
  fulfilledIn(from: bigint, to: bigint): Promise<FulfilledInference[]>;
}

/** Aggregation as the poster uses it; `close` fails a proof in progress at once. */
export interface Aggregation {
  aggregate(inferences: FulfilledInference[]): Promise<AggregatedBatch>;
  close(): Promise<void>;
}

export interface PostedInferences {
  batchIndex: bigint;
  inferences: number;
  /** Leaves (proofs) of the submission: aggregate proofs plus single ones. */
  proofs: number;
  aggregateProofs: number;
  /** Inferences covered by aggregate proofs. */
  aggregated: number;
  /** Keys passed by hash (stored on L1) rather than in calldata. */
  storedKeys: number;
  root: Hex;
  gasUsed: bigint;
  calldataBytes: number;
  tx: Hex;
}

/** A batch's proofs, made once: a failed send is retried without proving again. */
interface Prepared {
  index: bigint;
  inferences: FulfilledInference[];
  batch: AggregatedBatch;
}

/** Oracle refusals that say nothing about the proofs sent. */
const NOT_ABOUT_PROOFS = new Set(['UnknownRollupBatch']);

export class InferencePoster extends L1Poster {
  readonly options: InferencePosterOptions;
  private readonly posted: Listeners<PostedInferences>;
  /** Lowest batch index not yet known to be settled (posted, or with no inference). */
  private next = 0n;
  private prepared: Prepared | undefined;
  /** A batch whose single proofs just landed, to attest in the next step (a failed send is retried). */
  private attestation: PostedSingles | undefined;
  /** Keys the oracle holds (hasKey is never undone). */
  private readonly storedKeys = new Set<Hex>();
  /** Submissions that carried each key in calldata, since this process started. */
  private readonly keyUses = new Map<Hex, number>();

  constructor(
    private readonly deps: InferencePosterDeps,
    options: Partial<InferencePosterOptions> = {},
  ) {
    const o = { ...defaultInferencePosterOptions, ...options };
    super('inference poster', deps.logger, o, new L1TxSender(deps.l1, o, deps.logger));
    this.options = o;
    this.posted = new Listeners(deps.logger);
  }

  protected startFields(): Record<string, unknown> {
    return { oracle: this.deps.oracle, poster: this.sender.address, aggregation: this.deps.aggregation !== undefined };
  }

  override async stop(): Promise<void> {
    const stopping = super.stop();
    // fails a proof in progress at once instead of letting the step wait for it
    await this.deps.aggregation?.close();
    await stopping;
  }

  onPosted(listener: (p: PostedInferences) => void): () => void {
    return this.posted.add(listener);
  }

  protected async step(signal: AbortSignal): Promise<StepResult> {
    const nonce = await this.sender.settle(signal);
    if (this.attestation !== undefined && this.deps.chainId !== undefined) {
      await attestPostedBatch({ ...this.deps, chainId: this.deps.chainId }, this.sender, this.attestation, nonce, signal);
      this.attestation = undefined;
      return 'busy';
    }
    const batchCount = await rpc(() => this.deps.l1.public.readContract({ address: this.deps.rollup, abi: rollupAbi, functionName: 'batchCount' }));
    while (this.next < batchCount) {
      const index = this.next;
      const prepared = await this.unposted(index);
      if (prepared === undefined) {
        this.settled(index);
        continue;
      }
      try {
        const placed = await this.post(prepared, nonce, signal);
        if (prepared.batch.aggregateProofs === 0 && this.deps.chainId !== undefined) this.attestation = { index, inferences: prepared.inferences, placed };
      } catch (err) {
        if (!(err instanceof L1TxError && err.code === L1TxErrorCode.Reverted)) throw err;
        // an identical submission landed first (found by simulation): its root is ours
        if (err.errorName === 'BatchAlreadySubmitted') {
          this.deps.logger.info({ batchIndex: index.toString() }, 'the same inference proofs are already on L1 for this batch');
          this.settled(index);
          continue;
        }
        // every aggregate proof was verified here, so this should not happen; if the oracle
        // still refuses, the next try sends the L2 proofs alone, which the L2 already accepted
        if (prepared.batch.aggregateProofs > 0 && !NOT_ABOUT_PROOFS.has(err.errorName ?? '')) {
          this.deps.logger.error({ batchIndex: index.toString(), err: err.message }, 'oracle refused a submission with aggregate proofs; retrying with single proofs');
          prepared.batch = singleProofs(prepared.inferences);
        }
        throw err;
      }
      this.settled(index);
      return 'busy';
    }
    return 'idle';
  }

  /**
   * Batch `index`'s proofs, or undefined when there is nothing to post: this account already has
   * a root recorded for it (read before proving anything), it holds no inference, or the root we
   * would submit is recorded already (another poster sent the same proofs). Roots of others for
   * the batch do not count: the oracle keeps ours beside them.
   */
  private async unposted(index: bigint): Promise<Prepared | undefined> {
    const l1 = this.deps.l1.public;
    const ours = await rpc(() => l1.readContract({ address: this.deps.oracle, abi: inferenceOracleAbi, functionName: 'submittedRoot', args: [index, this.sender.address] }));
    if (BigInt(ours) !== 0n) return undefined;
    const prepared = await this.prepare(index);
    if (prepared.inferences.length === 0) return undefined;
    const root = buildBatchSubmission(index, prepared.batch.proofs).root;
    const recorded = await rpc(() => l1.readContract({ address: this.deps.oracle, abi: inferenceOracleAbi, functionName: 'getSubmission', args: [index, root] }));
    return recorded.leafCount === 0 ? prepared : undefined;
  }

  /** Batch `index` is on L1 (or has nothing to post): its held inputs are no longer needed. */
  private settled(index: bigint): void {
    if (this.prepared?.index === index) {
      this.deps.jobInputs?.release(this.prepared.inferences.map((x) => x.requestId));
      this.prepared = undefined;
    }
    this.next++;
  }

  private async prepare(index: bigint): Promise<Prepared> {
    if (this.prepared?.index === index) return this.prepared;
    const l1 = this.deps.l1.public;
    const batch = await rpc(() => l1.readContract({ address: this.deps.rollup, abi: rollupAbi, functionName: 'getBatch', args: [index] }));
    const inferences = await this.deps.inferences.fulfilledIn(batch.firstBlock, batch.lastBlock);
    const aggregation = this.deps.aggregation;
    const aggregated = aggregation !== undefined && inferences.length > 0 ? await aggregation.aggregate(inferences) : singleProofs(inferences);
    this.prepared = { index, inferences, batch: aggregated };
    return this.prepared;
  }

  /** Sends the batch's proofs; returns where each inference's proof landed. */
  private async post(p: Prepared, nonce: number, signal: AbortSignal): Promise<PlacedInference[]> {
    const keys = new Map(p.batch.proofs.map((x) => [keccak256(x.vk), x.vk]));
    nonce = await this.storeKeys(keys, nonce, signal);
    const stored = [...keys.keys()].filter((h) => this.storedKeys.has(h));
    const sub = buildBatchSubmission(p.index, p.batch.proofs, { storedKeys: stored });
    const receipt = await this.sender.send(
      { address: this.deps.oracle, abi: inferenceOracleAbi, functionName: 'submitBatchProofs', args: [p.index, sub.groups] },
      nonce,
      `inference proofs of batch ${p.index}`,
      signal,
    );
    for (const h of keys.keys()) if (!this.storedKeys.has(h)) this.keyUses.set(h, (this.keyUses.get(h) ?? 0) + 1);
    const posted: PostedInferences = {
      batchIndex: p.index,
      inferences: p.inferences.length,
      proofs: sub.leaves.length,
      aggregateProofs: p.batch.aggregateProofs,
      aggregated: p.batch.aggregated,
      storedKeys: stored.length,
      root: sub.root,
      gasUsed: receipt.gasUsed,
      calldataBytes: (sub.calldata.length - 2) / 2,
      tx: receipt.transactionHash,
    };
    this.deps.logger.info(
      { ...posted, gasUsed: posted.gasUsed.toString(), batchIndex: p.index.toString(), gasPerInference: Number(receipt.gasUsed) / p.inferences.length },
      'inference proofs verified on L1',
    );
    this.posted.emit(posted);
    return sub.placed;
  }

  /** Stores the keys due (storeKeysAfter) with addKey; returns the nonce for the submission. */
  private async storeKeys(keys: Map<Hex, Uint8Array | Hex>, nonce: number, signal: AbortSignal): Promise<number> {
    for (const [h, vk] of keys) {
      if (this.storedKeys.has(h)) continue;
      const onL1 = await rpc(() => this.deps.l1.public.readContract({ address: this.deps.oracle, abi: inferenceOracleAbi, functionName: 'hasKey', args: [h] }));
      if (onL1) {
        this.storedKeys.add(h);
        continue;
      }
      if ((this.keyUses.get(h) ?? 0) < this.options.storeKeysAfter) continue;
      try {
        const r = await this.sender.send(
          { address: this.deps.oracle, abi: inferenceOracleAbi, functionName: 'addKey', args: [typeof vk === 'string' ? vk : bytesToHex(vk)] },
          nonce,
          `addKey ${h}`,
          signal,
        );
        this.deps.logger.info({ vkHash: h, gasUsed: r.gasUsed.toString(), tx: r.transactionHash }, 'verifying key stored on L1');
        this.storedKeys.add(h);
        nonce++;
      } catch (err) {
        // refused by simulation (nothing sent): another poster stored it meanwhile, or the key is
        // one the oracle will not store; the submission then carries it in calldata as before
        if (!(err instanceof L1TxError && err.code === L1TxErrorCode.Reverted)) throw err;
        if (err.errorName === 'KeyExists') this.storedKeys.add(h);
        else this.keyUses.delete(h);
        this.deps.logger.warn({ vkHash: h, err: err.message }, 'addKey refused; the key stays in calldata');
      }
    }
    return nonce;
  }
}
