/**
 * Posts, for every rollup batch on L1, the inference proofs its L2 blocks accepted to the L1
 * InferenceOracle, which checks them all with one randomized multi-pairing
 * (contracts/interfaces/IInferenceOracle.sol). L1 contracts can then read those results as soon
 * as the batch's proofs land, before the batch's state is final.
 *
 * Everything comes from L2 logs and state at the block of each fulfilment (InferenceFulfilled
 * carries the outputs and the proof; the request gives the input signals; the registry, at that
 * block, the key the L2 verifier used), so anyone can run this and get the same submission; the
 * oracle refuses a second submission of a batch, so two posters never pay twice. Like the
 * batcher it keeps no state: each step reads what L1 already holds.
 */
import type { Address, Hex, PublicClient } from 'viem';
import type { Logger } from 'pino';
import { MODEL_REGISTRY_ADDRESS, INFERENCE_MARKET_ADDRESS, loadArtifact } from '../contracts/predeploys.ts';
import { buildBatchSubmission } from '../prover/aggregate/batch-proof.ts';
import type { InferenceProofInput } from '../prover/aggregate/batch-proof.ts';
import { inferenceOracleAbi } from '../prover/aggregate/oracle-abi.ts';
import { marketAbi } from '../prover/daemon/market-abi.ts';
import { Listeners, ServiceLoop } from './l1-loop.ts';
import type { StepResult } from './l1-loop.ts';
import { DEFAULT_MAX_FEE_PER_GAS_CAP, L1TxError, L1TxErrorCode, L1TxSender, rpc } from './l1-tx.ts';
import type { L1Clients } from './l1-tx.ts';
import { rollupAbi } from './rollup-abi.ts';

export interface InferencePosterOptions {
  pollMs: number;
  resubmitAfterMs: number;
  stuckAfterMs: number;
  maxFeePerGasCap: bigint;
  maxBackoffMs: number;
}

export const defaultInferencePosterOptions: InferencePosterOptions = {
  pollMs: 2_000,
  resubmitAfterMs: 60_000,
  stuckAfterMs: 120_000,
  maxFeePerGasCap: DEFAULT_MAX_FEE_PER_GAS_CAP,
  maxBackoffMs: 30_000,
};

export interface InferencePosterDeps {
  l1: L1Clients;
  rollup: Address;
  oracle: Address;
  logger: Logger;
}

export interface PostedInferences {
  batchIndex: bigint;
  inferences: number;
  root: Hex;
  gasUsed: bigint;
  calldataBytes: number;
}

const registryAbi = loadArtifact('ModelRegistry').abi;

export class InferencePoster {
  readonly options: InferencePosterOptions;
  private readonly loop: ServiceLoop;
  private readonly sender: L1TxSender;
  private readonly posted: Listeners<PostedInferences>;
  /** Lowest batch index not yet known to be settled (posted, or with no inference). */
  private next = 0n;
  private l2: PublicClient | undefined;

  constructor(
    private readonly deps: InferencePosterDeps,
    options: Partial<InferencePosterOptions> = {},
  ) {
    this.options = { ...defaultInferencePosterOptions, ...options };
    this.sender = new L1TxSender(deps.l1, this.options, deps.logger);
    this.loop = new ServiceLoop(this.options, deps.logger, (signal) => this.step(signal), (err) =>
      err instanceof L1TxError && err.code === L1TxErrorCode.Unreachable ? 'warn' : 'error',
    );
    this.posted = new Listeners(deps.logger);
  }

  /** `l2`: the L2 over JSON-RPC (the node's own endpoint, or any node of the chain). */
  start(l2: PublicClient): void {
    this.l2 = l2;
    this.deps.logger.info({ oracle: this.deps.oracle, poster: this.sender.address }, 'inference poster started');
    this.loop.start();
  }

  async stop(): Promise<void> {
    await this.loop.stop();
  }

  /** Checks L1 now (wire to Batcher.onBatchConfirmed). */
  poke(): void {
    this.loop.poke();
  }

  onPosted(listener: (p: PostedInferences) => void): () => void {
    return this.posted.add(listener);
  }

  private async step(signal: AbortSignal): Promise<StepResult> {
    const l1 = this.deps.l1.public;
    const nonce = await this.sender.settle(signal);
    const batchCount = await rpc(() => l1.readContract({ address: this.deps.rollup, abi: rollupAbi, functionName: 'batchCount' }));
    while (this.next < batchCount) {
      const index = this.next;
      const record = await rpc(() => l1.readContract({ address: this.deps.oracle, abi: inferenceOracleAbi, functionName: 'getBatch', args: [index] }));
      if (BigInt(record.root) !== 0n) {
        this.next++;
        continue;
      }
      const batch = await rpc(() => l1.readContract({ address: this.deps.rollup, abi: rollupAbi, functionName: 'getBatch', args: [index] }));
      const inferences = await this.inferencesIn(batch.firstBlock, batch.lastBlock);
      if (inferences.length === 0) {
        this.next++;
        continue;
      }
      const sub = buildBatchSubmission(index, inferences);
      const receipt = await this.sender.send({ address: this.deps.oracle, abi: inferenceOracleAbi, functionName: 'submitBatchProofs', args: [index, sub.groups] }, nonce, `inference proofs of batch ${index}`, signal);
      const posted = { batchIndex: index, inferences: inferences.length, root: sub.root, gasUsed: receipt.gasUsed, calldataBytes: (sub.calldata.length - 2) / 2 };
      this.deps.logger.info({ ...posted, gasUsed: posted.gasUsed.toString(), batchIndex: index.toString(), tx: receipt.transactionHash }, 'inference proofs verified on L1');
      this.posted.emit(posted);
      this.next++;
      return 'busy';
    }
    return 'idle';
  }

  /** Every inference accepted in L2 blocks [from, to], with the key its L2 verification used. */
  private async inferencesIn(from: bigint, to: bigint): Promise<InferenceProofInput[]> {
    const l2 = this.l2!;
    const logs = await l2.getContractEvents({ address: INFERENCE_MARKET_ADDRESS, abi: marketAbi, eventName: 'InferenceFulfilled', fromBlock: from, toBlock: to });
    const keys = new Map<string, Hex>();
    const out: InferenceProofInput[] = [];
    for (const log of logs) {
      const { id, modelId, outputs, proof } = log.args;
      if (id === undefined || modelId === undefined || outputs === undefined || proof === undefined) continue;
      const at = log.blockNumber;
      const req = await l2.readContract({ address: INFERENCE_MARKET_ADDRESS, abi: marketAbi, functionName: 'getRequest', args: [id], blockNumber: at });
      const keyId = `${modelId}@${at}`;
      let vk = keys.get(keyId);
      if (vk === undefined) {
        const m = (await l2.readContract({ address: MODEL_REGISTRY_ADDRESS, abi: registryAbi, functionName: 'getModel', args: [modelId], blockNumber: at })) as { verifyingKey: Hex };
        vk = m.verifyingKey;
        keys.set(keyId, vk);
      }
      out.push({ vk, modelId, publicSignals: [...outputs, ...req.inputSignals], proofWords: [...proof] });
    }
    return out;
  }
}
