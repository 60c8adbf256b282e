/**
 * The challenger (stage 0, README "Replicas"): a replica that derives its chain from L1 checks
 * every output root the proposer posted against the output root of its own derived block, once
 * its safe head has reached that block. A mismatch is logged and reported (onMismatch); with a
 * challenger key the output, and the ones after it, are deleted with Rollup.deleteOutputs while
 * the challenge window is open. An output at or above a batch derivation refused (invalid
 * deposits or origin, or blocks that do not execute) is wrong whatever its root: no valid chain
 * has that block; it is reported with a zero local root. Nothing is kept on disk: after a restart every output is read
 * from the Rollup again, so a deletion that landed is seen as such and never sent twice.
 */
import { zeroHash } from 'viem';
import type { Address, Hex, PublicClient } from 'viem';
import type { Logger } from 'pino';
import { Listeners } from '../l1/l1-loop.ts';
import { L1Poster } from '../l1/poster.ts';
import type { StepResult } from '../l1/l1-loop.ts';
import { DEFAULT_MAX_FEE_PER_GAS_CAP, L1TxError, L1TxErrorCode, L1TxSender, rpc } from '../l1/l1-tx.ts';
import type { L1Clients } from '../l1/l1-tx.ts';
import { outputAt } from '../rollup/output-root.ts';
import type { ChainReader } from '../rollup/output-root.ts';
import { rollupAbi } from '../../contracts/abi/rollup.ts';

export interface ChallengerOptions {
  pollMs: number;
  resubmitAfterMs: number;
  stuckAfterMs: number;
  maxFeePerGasCap: bigint;
  maxBackoffMs: number;
  /** Outputs checked in one step before the loop yields (a restart re-reads them all). */
  maxPerStep: number;
}

export const defaultChallengerOptions: ChallengerOptions = {
  pollMs: 2_000,
  resubmitAfterMs: 60_000,
  stuckAfterMs: 120_000,
  maxFeePerGasCap: DEFAULT_MAX_FEE_PER_GAS_CAP,
  maxBackoffMs: 30_000,
  maxPerStep: 64,
};

export interface ChallengerDeps {
  chain: ChainReader;
  /** The derived safe head: only blocks up to it are what L1's batches say. */
  safe(): bigint;
  /** The first block of a batch derivation refused: an output at or above it has no valid chain under it. */
  invalidFrom?(): bigint | undefined;
  client: PublicClient;
  /** The Rollup's challenger account; without it mismatches are only reported. */
  wallet?: L1Clients['wallet'];
  rollup: Address;
  logger: Logger;
}

export interface OutputMismatch {
  outputIndex: bigint;
  batchIndex: bigint;
  l2Block: bigint;
  l1Root: Hex;
  localRoot: Hex;
  /** Past its challenge window: it can no longer be deleted. */
  finalized: boolean;
}

export interface ChallengerStatus {
  /** Outputs checked so far (the index of the next one). */
  checked: bigint;
  mismatches: number;
  /** Lowest output index found wrong since start. */
  firstMismatchIndex: bigint | undefined;
  deleted: number;
  lastError: string | undefined;
}

interface L1OutputRef {
  root: Hex;
  batchIndex: bigint;
  l2Block: bigint;
  timestamp: bigint;
}

const sameOutput = (a: L1OutputRef, b: L1OutputRef) => a.root === b.root && a.batchIndex === b.batchIndex && a.l2Block === b.l2Block && a.timestamp === b.timestamp;

export class Challenger extends L1Poster<L1TxSender | undefined> {
  readonly options: ChallengerOptions;
  private readonly mismatch: Listeners<OutputMismatch>;
  /** Outputs below `next` are checked; `lastChecked` is output next - 1 as it was then. */
  private next = 0n;
  private lastChecked: L1OutputRef | undefined;
  /** One report per proposed output, however often its deletion is retried. */
  private readonly reported = new Set<string>();
  private mismatches = 0;
  private firstMismatchIndex: bigint | undefined;
  private deleted = 0;
  private keyChecked: Promise<boolean> | undefined;

  constructor(
    private readonly deps: ChallengerDeps,
    options: Partial<ChallengerOptions> = {},
  ) {
    const o = { ...defaultChallengerOptions, ...options };
    super('challenger', deps.logger, o, deps.wallet === undefined ? undefined : new L1TxSender({ public: deps.client, wallet: deps.wallet }, o, deps.logger));
    this.options = o;
    this.mismatch = new Listeners(this.logger);
  }

  protected startFields(): Record<string, unknown> {
    return { rollup: this.deps.rollup, challenger: this.sender?.address ?? null };
  }

  protected override startMessage(): string {
    return this.sender === undefined ? 'checking output roots (no --challenger-key: wrong ones are reported, not deleted)' : super.startMessage();
  }

  status(): ChallengerStatus {
    return { checked: this.next, mismatches: this.mismatches, firstMismatchIndex: this.firstMismatchIndex, deleted: this.deleted, lastError: this.loop.lastError };
  }

  /** Called once per wrong output found (whether or not it could be deleted). */
  onMismatch(listener: (m: OutputMismatch) => void): () => void {
    return this.mismatch.add(listener);
  }

  private read<T>(f: () => Promise<T>): Promise<T> {
    return rpc(f);
  }

  private async outputOnL1(index: bigint, blockNumber: bigint): Promise<L1OutputRef> {
    const o = await this.read(() => this.deps.client.readContract({ address: this.deps.rollup, abi: rollupAbi, functionName: 'getOutput', args: [index], blockNumber }));
    return { root: o.root, batchIndex: o.batchIndex, l2Block: o.l2Block, timestamp: o.timestamp };
  }

  /** Whether our key is the Rollup's challenger, read once: any other key could only revert. */
  private async mayDelete(): Promise<boolean> {
    if (this.sender === undefined) return false;
    this.keyChecked ??= this.read(() => this.deps.client.readContract({ address: this.deps.rollup, abi: rollupAbi, functionName: 'challenger' }))
      .then((c) => {
        const ok = c.toLowerCase() === this.sender!.address.toLowerCase();
        if (!ok) this.logger.error({ rollupChallenger: c, key: this.sender!.address }, "--challenger-key is not the Rollup's challenger: wrong outputs are reported, not deleted");
        return ok;
      })
      .catch((err: unknown) => {
        this.keyChecked = undefined;
        throw err;
      });
    return this.keyChecked;
  }

  protected async step(signal: AbortSignal): Promise<StepResult> {
    const deleting = await this.mayDelete();
    // a deletion of ours still pending must land before the outputs are read again
    const nonce = deleting ? await this.sender!.settle(signal) : undefined;
    const latest = await this.read(() => this.deps.client.getBlockNumber({ cacheTime: 0 }));
    const count = await this.read(() => this.deps.client.readContract({ address: this.deps.rollup, abi: rollupAbi, functionName: 'outputCount', blockNumber: latest }));
    await this.rewindIfChanged(count, latest);
    for (let i = 0; i < this.options.maxPerStep; i++) {
      if (this.next >= count) return 'idle';
      const index = this.next;
      const o = await this.outputOnL1(index, latest);
      const invalid = this.deps.invalidFrom?.();
      const onInvalid = invalid !== undefined && o.l2Block >= invalid;
      if (!onInvalid && this.deps.safe() < o.l2Block) return 'idle';
      // an output over a refused batch matches no valid chain: the zero root stands for "none"
      const local = onInvalid ? { root: zeroHash } : await outputAt(this.deps.chain, o.l2Block);
      if (local.root === o.root) {
        this.logger.debug({ outputIndex: index, batchIndex: o.batchIndex, l2Block: o.l2Block, root: o.root }, 'output root matches the derived chain');
        this.advance(o);
        continue;
      }
      const finalized = await this.read(() =>
        this.deps.client.readContract({ address: this.deps.rollup, abi: rollupAbi, functionName: 'isFinalized', args: [index], blockNumber: latest }),
      );
      this.report({ outputIndex: index, batchIndex: o.batchIndex, l2Block: o.l2Block, l1Root: o.root, localRoot: local.root, finalized }, o.timestamp, deleting);
      if (finalized || nonce === undefined) {
        this.advance(o);
        continue;
      }
      return this.challenge(index, o, nonce, signal);
    }
    return 'busy';
  }

  /**
   * Deletions (ours or anyone's) and re-proposals change outputs below `next`: they always
   * remove a suffix, so when the last checked output is gone or different, checking starts
   * again from the first output (final ones are only compared, which is cheap next to a miss).
   */
  private async rewindIfChanged(count: bigint, latest: bigint): Promise<void> {
    if (this.next === 0n || this.lastChecked === undefined) return;
    const still = this.next <= count && sameOutput(await this.outputOnL1(this.next - 1n, latest), this.lastChecked);
    if (still) return;
    this.logger.info({ checked: this.next, outputCount: count }, 'outputs changed on L1 (deleted or proposed again); checking them again');
    this.next = 0n;
    this.lastChecked = undefined;
  }

  private advance(o: L1OutputRef): void {
    this.next++;
    this.lastChecked = o;
  }

  private report(m: OutputMismatch, timestamp: bigint, deleting: boolean): void {
    const key = `${m.outputIndex}:${m.l1Root}:${timestamp}`;
    if (this.reported.has(key)) return;
    this.reported.add(key);
    this.mismatches++;
    if (this.firstMismatchIndex === undefined || m.outputIndex < this.firstMismatchIndex) this.firstMismatchIndex = m.outputIndex;
    const fields = { ...m, challenging: deleting && !m.finalized };
    if (m.finalized) this.logger.fatal(fields, 'a WRONG output root is FINAL on L1 and can no longer be deleted: withdrawals proven against it would be paid');
    else this.logger.error(fields, "output root on L1 differs from the derived chain's");
    this.mismatch.emit(m);
  }

  private async challenge(index: bigint, o: L1OutputRef, nonce: number, signal: AbortSignal): Promise<StepResult> {
    try {
      const receipt = await this.sender!.send(
        { address: this.deps.rollup, abi: rollupAbi, functionName: 'deleteOutputs', args: [index] },
        nonce,
        `delete outputs from ${index}`,
        signal,
      );
      this.deleted++;
      this.logger.warn(
        { fromIndex: index, batchIndex: o.batchIndex, l2Block: o.l2Block, l1Block: receipt.blockNumber, tx: receipt.transactionHash },
        'wrong output deleted on L1 (with every output after it)',
      );
      return 'busy';
    } catch (err) {
      if (!(err instanceof L1TxError) || err.code !== L1TxErrorCode.Reverted) throw err;
      if (err.errorName === 'OutputFinalized') {
        // the window closed between the check and the transaction
        this.logger.fatal({ outputIndex: index, l2Block: o.l2Block, l1Root: o.root }, 'a WRONG output root became FINAL before it could be deleted');
        this.advance(o);
        return 'busy';
      }
      // UnknownOutput: someone deleted it first; the next step sees the new outputs
      if (err.errorName === 'UnknownOutput') return 'busy';
      throw err;
    }
  }
}
