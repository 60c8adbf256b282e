/**
 * Proposes output roots to L1 (Rollup.proposeOutput): for every batch after the one the last
 * output names, in order, the output root of the batch's last L2 block. Like the batcher it
 * keeps no state of its own: each step reads the Rollup, so outputs deleted by the challenger
 * are proposed again from wherever L1 now stands, and a restart resumes exactly.
 */
import type { Address, Hex } from 'viem';
import type { Logger } from 'pino';
import { Listeners } from '../node/l1/l1-loop.ts';
import { L1Poster } from '../node/l1/poster.ts';
import type { StepResult } from '../node/l1/l1-loop.ts';
import { DEFAULT_MAX_FEE_PER_GAS_CAP, L1TxError, L1TxErrorCode, L1TxSender, rpc } from '../node/l1/l1-tx.ts';
import type { L1Clients } from '../node/l1/l1-tx.ts';
import { outputAt } from '../node/rollup/output-root.ts';
import type { ChainReader } from '../node/rollup/output-root.ts';
import { rollupAbi } from '../contracts/abi/rollup.ts';

export interface ProposerOptions {
  /** Pause between steps when there is nothing to propose (poke() cuts it short). */
  pollMs: number;
  /** Only batches this many L1 blocks deep get an output; 0 on a devnet. */
  l1Confirmations: number;
  resubmitAfterMs: number;
  stuckAfterMs: number;
  /** Highest maxFeePerGas (wei) a replacement may offer. */
  maxFeePerGasCap: bigint;
  maxBackoffMs: number;
}

export const defaultProposerOptions: ProposerOptions = {
  pollMs: 2_000,
  l1Confirmations: 0,
  resubmitAfterMs: 60_000,
  stuckAfterMs: 120_000,
  maxFeePerGasCap: DEFAULT_MAX_FEE_PER_GAS_CAP,
  maxBackoffMs: 30_000,
};

export interface ProposerDeps {
  chain: ChainReader;
  /** The wallet's account is the Rollup's proposer. */
  l1: L1Clients;
  rollup: Address;
  logger: Logger;
}

export interface ProposerStatus {
  /** Outputs on L1 at its latest block. */
  l1OutputCount: bigint | undefined;
  /** Batch index of the newest output (undefined: none yet). */
  lastProposedBatch: bigint | undefined;
  lastError: string | undefined;
}

export interface ProposedOutput {
  outputIndex: bigint;
  batchIndex: bigint;
  l2Block: bigint;
  root: Hex;
}

export class Proposer extends L1Poster {
  readonly options: ProposerOptions;
  private readonly proposed: Listeners<ProposedOutput>;
  private l1OutputCount: bigint | undefined;
  private lastProposedBatch: bigint | undefined;

  constructor(
    private readonly deps: ProposerDeps,
    options: Partial<ProposerOptions> = {},
  ) {
    const o = { ...defaultProposerOptions, ...options };
    super('proposer', deps.logger, o, new L1TxSender(deps.l1, o, deps.logger));
    this.options = o;
    this.proposed = new Listeners(this.logger);
  }

  get address(): Address {
    return this.sender.address;
  }

  protected startFields(): Record<string, unknown> {
    return { rollup: this.deps.rollup, proposer: this.address };
  }

  status(): ProposerStatus {
    return { l1OutputCount: this.l1OutputCount, lastProposedBatch: this.lastProposedBatch, lastError: this.loop.lastError };
  }

  /** Called after each output this proposer got accepted. */
  onProposed(listener: (o: ProposedOutput) => void): () => void {
    return this.proposed.add(listener);
  }

  protected async step(signal: AbortSignal): Promise<StepResult> {
    const { public: l1 } = this.deps.l1;
    const rollup = this.deps.rollup;
    const nonce = await this.sender.settle(signal);
    const latest = await rpc(() => l1.getBlockNumber({ cacheTime: 0 }));
    const depth = BigInt(this.options.l1Confirmations);
    const confirmedAt = latest > depth ? latest - depth : 0n;
    const [outputCount, batchCount] = await Promise.all([
      rpc(() => l1.readContract({ address: rollup, abi: rollupAbi, functionName: 'outputCount', blockNumber: latest })),
      rpc(() => l1.readContract({ address: rollup, abi: rollupAbi, functionName: 'batchCount', blockNumber: confirmedAt })),
    ]);
    if (this.l1OutputCount !== undefined && outputCount < this.l1OutputCount) {
      this.logger.warn({ before: this.l1OutputCount, now: outputCount }, 'outputs were deleted on L1; proposing again from the Rollup state');
    }
    this.l1OutputCount = outputCount;
    const lastBatch =
      outputCount === 0n
        ? undefined
        : (await rpc(() => l1.readContract({ address: rollup, abi: rollupAbi, functionName: 'getOutput', args: [outputCount - 1n], blockNumber: latest }))).batchIndex;
    this.lastProposedBatch = lastBatch;
    const next = lastBatch === undefined ? 0n : lastBatch + 1n;
    if (next >= batchCount) return 'idle';

    const batch = await rpc(() => l1.readContract({ address: rollup, abi: rollupAbi, functionName: 'getBatch', args: [next], blockNumber: confirmedAt }));
    if (this.deps.chain.head.header.number < batch.lastBlock) {
      this.logger.debug({ batch: next, lastBlock: batch.lastBlock, head: this.deps.chain.head.header.number }, 'local chain is behind the batch; waiting');
      return 'idle';
    }
    const output = await outputAt(this.deps.chain, batch.lastBlock);
    const receipt = await this.sender.send({ address: rollup, abi: rollupAbi, functionName: 'proposeOutput', args: [next, output.root] }, nonce, `output of batch ${next}`, signal);
    const ev: ProposedOutput = { outputIndex: outputCount, batchIndex: next, l2Block: batch.lastBlock, root: output.root };
    this.logger.info({ ...ev, l1Block: receipt.blockNumber, gasUsed: receipt.gasUsed }, 'output proposed');
    this.l1OutputCount = outputCount + 1n;
    this.lastProposedBatch = next;
    this.proposed.emit(ev);
    return 'busy';
  }
}
