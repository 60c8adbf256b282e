/**
 * Posts L2 blocks to L1 in batches (Rollup.submitBatch). All its state lives on L1: each step
 * reads the Rollup (batch count, last hash, next block), builds the next batch from the local
 * chain and posts it, so a restarted or replaced batcher continues exactly where L1 is, with
 * no gap and no duplicate (pending transactions of a previous run are waited for first).
 */
import { equalsBytes } from '@ethereumjs/util';
import type { Address, Hex } from 'viem';
import { bytesToHex } from 'viem';
import type { Logger } from 'pino';
import { BROTLI_QUALITY, FIT_QUALITY, MAX_BATCH_RAW_BYTES, batchDataHash, batchHash, encodeBatchData, encodeBatchPayload } from '../node/rollup/batch-codec.ts';
import type { BatchHeader } from '../node/rollup/batch-codec.ts';
import { Listeners } from '../node/l1/l1-loop.ts';
import { L1Poster } from '../node/l1/poster.ts';
import type { StepResult } from '../node/l1/l1-loop.ts';
import { DEFAULT_MAX_FEE_PER_GAS_CAP, L1TxError, L1TxErrorCode, L1TxSender, rpc } from '../node/l1/l1-tx.ts';
import type { L1Clients } from '../node/l1/l1-tx.ts';
import { depositCursorAt } from '../node/rollup/output-root.ts';
import { lastHolding } from '../node/rollup/bisect.ts';
import { l1OriginOf } from '../node/rollup/l1-attributes.ts';
import type { ChainReader } from '../node/rollup/output-root.ts';
import { rollupAbi } from '../contracts/abi/rollup.ts';

export interface BatcherOptions {
  /** Most L2 blocks in one batch. */
  maxBlocksPerBatch: number;
  /** Most bytes of batch data (compressed, version byte included). L1 nodes relay transactions up to 128 KiB. */
  maxBatchBytes: number;
  /** Post a partial batch once its oldest block is this old (by the L2 block timestamp). */
  maxBatchAgeMs: number;
  /** Pause between steps when there is nothing to post. */
  pollMs: number;
  /** L1 blocks on top of a batch before it counts as confirmed (safe); 0 on a devnet. */
  l1Confirmations: number;
  /**
   * L1 blocks that must be on top of a block's L1 origin before the block is batched. The Rollup
   * chains every batch onto the one before, so a batch naming an origin that an L1 reorg then
   * removes (its transaction mined again on the new chain) is one derivation refuses for good:
   * reorgs up to this deep can never do that. 0 on a devnet (its L1 does not reorganise).
   */
  originDepth: number;
  /** Replace a transaction with higher fees when it is not mined after this long. */
  resubmitAfterMs: number;
  /** Cancel a previous run's pending transaction when it is not mined after this long. */
  stuckAfterMs: number;
  /** Highest maxFeePerGas (wei) a replacement may offer. */
  maxFeePerGasCap: bigint;
  /** Longest pause between retries while L1 fails. */
  maxBackoffMs: number;
}

export const defaultBatcherOptions: BatcherOptions = {
  maxBlocksPerBatch: 1_000,
  maxBatchBytes: 120_000,
  maxBatchAgeMs: 30_000,
  pollMs: 1_000,
  l1Confirmations: 0,
  originDepth: 0,
  resubmitAfterMs: 60_000,
  stuckAfterMs: 120_000,
  maxFeePerGasCap: DEFAULT_MAX_FEE_PER_GAS_CAP,
  maxBackoffMs: 30_000,
};

export interface BatcherDeps {
  chain: ChainReader;
  /** Public and wallet client of the L1; the wallet's account is the Rollup's batcher. */
  l1: L1Clients;
  rollup: Address;
  logger: Logger;
  /** The results root of L2 blocks [from, to] (node/ai/batch-results.ts: chainResultsRoot), which the header commits to. */
  resultsRoot(from: bigint, to: bigint): Promise<Hex>;
}

/** A batch accepted by the Rollup, with `l1Confirmations` blocks on top. */
export interface ConfirmedBatch {
  index: bigint;
  hash: Hex;
  firstBlock: bigint;
  lastBlock: bigint;
  depositCount: bigint;
  l1Block: bigint;
}

export interface BatcherStatus {
  /** Batches on L1 at its latest block, undefined until L1 was first read. */
  l1BatchCount: bigint | undefined;
  /** Batches confirmed (l1Confirmations deep). */
  confirmedBatchCount: bigint | undefined;
  /** Last L2 block of the newest confirmed batch (0: none yet). */
  safeL2Block: bigint;
  /** The last step's failure, cleared by the next success. */
  lastError: string | undefined;
}

interface RollupState {
  batchCount: bigint;
  lastBatchHash: Hex;
  nextBlock: bigint;
  /** Deposits consumed by the last batch (0 before the first). */
  depositCount: bigint;
  /** The L1 block these were read at (L1's head then). */
  l1Head: bigint;
}

interface CachedBlock {
  hash: Uint8Array;
  rlp: Uint8Array;
  timestamp: bigint;
  /** The L1 origin its system deposit records (undefined for a block without one). */
  origin: { number: bigint; hash: Hex } | undefined;
}

interface Plan {
  header: BatchHeader;
  data: Uint8Array;
  rawBytes: number;
}

/** RLP list header of the payload, at most 5 bytes for 16 MiB; brotli may add a few bytes over its input. */
const ENVELOPE_SLACK = 64;

export class Batcher extends L1Poster {
  readonly options: BatcherOptions;
  private readonly confirmed: Listeners<ConfirmedBatch>;
  private readonly originGone: Listeners<void>;
  private originGoneAt = 0;
  private l1BatchCount: bigint | undefined;
  private confirmedCount: bigint | undefined;
  private safeL2Block = 0n;
  /** compressed/raw of the last compression: skips compressing a batch that surely fits. */
  private ratio = 1;
  /** RLP and timestamp of unposted blocks by number, so a poll does not re-read and re-encode them. */
  private readonly rlpCache = new Map<bigint, CachedBlock>();

  constructor(
    private readonly deps: BatcherDeps,
    options: Partial<BatcherOptions> = {},
  ) {
    const o = { ...defaultBatcherOptions, ...options };
    super('batcher', deps.logger, o, new L1TxSender(deps.l1, o, deps.logger));
    this.options = o;
    this.confirmed = new Listeners(this.logger);
    this.originGone = new Listeners(this.logger);
  }

  get address(): Address {
    return this.sender.address;
  }

  protected startFields(): Record<string, unknown> {
    return { rollup: this.deps.rollup, batcher: this.address };
  }

  status(): BatcherStatus {
    return { l1BatchCount: this.l1BatchCount, confirmedBatchCount: this.confirmedCount, safeL2Block: this.safeL2Block, lastError: this.loop.lastError };
  }

  /**
   * Called when the blocks due for a batch sit on an L1 origin L1 no longer has (at most every
   * 10 s while that lasts): the sequencer's reorg handler then looks for them.
   */
  onOriginGone(listener: () => void): () => void {
    return this.originGone.add(listener);
  }

  /** Called once per batch that becomes confirmed while this batcher runs, in index order. */
  onBatchConfirmed(listener: (b: ConfirmedBatch) => void): () => void {
    return this.confirmed.add(listener);
  }

  protected async step(signal: AbortSignal): Promise<StepResult> {
    const nonce = await this.sender.settle(signal);
    const state = await this.readState();
    this.l1BatchCount = state.batchCount;
    await this.updateConfirmed();
    const plan = await this.plan(state);
    if (plan === undefined) return 'idle';
    const { header } = plan;
    const log = {
      index: header.index,
      firstBlock: header.firstBlock,
      lastBlock: header.lastBlock,
      bytes: plan.data.length,
      rawBytes: plan.rawBytes,
      depositCount: header.depositCount,
    };
    this.logger.debug(log, 'posting batch');
    try {
      const receipt = await this.sender.send(
        { address: this.deps.rollup, abi: rollupAbi, functionName: 'submitBatch', args: [header, bytesToHex(plan.data)] },
        nonce,
        `batch ${header.index}`,
        signal,
      );
      this.logger.info({ ...log, l1Block: receipt.blockNumber, gasUsed: receipt.gasUsed, tx: receipt.transactionHash }, 'batch posted');
    } catch (err) {
      // a revert on chain means L1 moved under us: the next step re-reads it and rebuilds
      if (err instanceof L1TxError && (err.code === L1TxErrorCode.RevertedOnChain || err.code === L1TxErrorCode.Dropped)) {
        this.logger.warn({ ...log, err: err.message }, 'batch reverted on L1; re-reading the Rollup');
        return 'busy';
      }
      throw err;
    }
    await this.updateConfirmed();
    return 'busy';
  }

  private async readState(blockNumber?: bigint): Promise<RollupState> {
    // one block for all reads, so they agree with each other
    const at = blockNumber ?? (await rpc(() => this.deps.l1.public.getBlockNumber({ cacheTime: 0 })));
    const pinned = (fn: 'batchCount' | 'lastBatchHash' | 'nextBlock') =>
      rpc(() => this.deps.l1.public.readContract({ address: this.deps.rollup, abi: rollupAbi, functionName: fn, blockNumber: at }));
    const [batchCount, lastBatchHash, nextBlock] = (await Promise.all([pinned('batchCount'), pinned('lastBatchHash'), pinned('nextBlock')])) as [bigint, Hex, bigint];
    let depositCount = 0n;
    if (batchCount > 0n) {
      const last = await rpc(() =>
        this.deps.l1.public.readContract({ address: this.deps.rollup, abi: rollupAbi, functionName: 'getBatch', args: [batchCount - 1n], blockNumber: at }),
      );
      depositCount = last.depositCount;
    }
    return { batchCount, lastBatchHash, nextBlock, depositCount, l1Head: at };
  }

  /** Reads the batches `l1Confirmations` deep and reports the newly confirmed ones. */
  private async updateConfirmed(): Promise<void> {
    const { public: l1 } = this.deps.l1;
    const latest = await rpc(() => l1.getBlockNumber({ cacheTime: 0 }));
    const depth = BigInt(this.options.l1Confirmations);
    const at = latest > depth ? latest - depth : 0n;
    const count = await rpc(() => l1.readContract({ address: this.deps.rollup, abi: rollupAbi, functionName: 'batchCount', blockNumber: at }));
    const batch = (i: bigint) => rpc(() => l1.readContract({ address: this.deps.rollup, abi: rollupAbi, functionName: 'getBatch', args: [i], blockNumber: at }));
    if (this.confirmedCount === undefined || count < this.confirmedCount) {
      // first read, or an L1 reorg removed batches: take L1's word without replaying history
      this.confirmedCount = count;
      this.safeL2Block = count === 0n ? 0n : (await batch(count - 1n)).lastBlock;
      return;
    }
    for (let index: bigint = this.confirmedCount; index < count; index++) {
      const b = await batch(index);
      this.confirmedCount = index + 1n;
      this.safeL2Block = b.lastBlock;
      const ev: ConfirmedBatch = { index, hash: b.hash, firstBlock: b.firstBlock, lastBlock: b.lastBlock, depositCount: b.depositCount, l1Block: b.l1Block };
      this.logger.debug({ index, lastBlock: b.lastBlock }, 'batch confirmed');
      this.confirmed.emit(ev);
    }
  }

  /**
   * The next batch: blocks nextBlock.. up to the size and count limits. Undefined while the
   * unposted blocks neither fill a batch nor have waited maxBatchAgeMs.
   */
  private async plan(state: RollupState): Promise<Plan | undefined> {
    const { chain } = this.deps;
    const o = this.options;
    const from = state.nextBlock;
    const head = chain.head.header.number;
    if (head < from) return undefined;
    let last = min(head, from + BigInt(o.maxBlocksPerBatch) - 1n);
    let full = last < head;
    if (o.originDepth > 0) {
      const cap = await this.lastWithOriginBelow(from, last, state.l1Head - BigInt(o.originDepth));
      if (cap < from) return undefined;
      // blocks held back for their origins' depth: no fuller batch is due until they are deep enough
      if (cap < last) full = false;
      last = cap;
    }
    for (const n of this.rlpCache.keys()) if (n < from) this.rlpCache.delete(n);
    const rlps: Uint8Array[] = [];
    let raw = 0;
    let oldest = 0;
    for (let n = from; n <= last; n++) {
      const { rlp, timestamp } = await this.blockRlp(n);
      if (rlps.length > 0 && raw + rlp.length + ENVELOPE_SLACK > MAX_BATCH_RAW_BYTES) {
        full = true;
        break;
      }
      if (rlps.length === 0) oldest = Number(timestamp) * 1000;
      rlps.push(rlp);
      raw += rlp.length;
    }
    const due = full || Date.now() - oldest >= o.maxBatchAgeMs;
    // brotli never grows its input by more than a few bytes, and the ratio rarely jumps: skip compressing
    if (!due && raw * this.ratio * 1.2 + ENVELOPE_SLACK < o.maxBatchBytes) return undefined;

    let count = rlps.length;
    let data = await this.compress(rlps);
    if (data.length > o.maxBatchBytes) {
      ({ count, data } = await this.fit(rlps, data.length));
    } else if (!due) {
      return undefined;
    }
    // sized with the fast quality; the posted batch gets the best one (smaller in practice, checked)
    const best = await encodeBatchData(rlps.slice(0, count), BROTLI_QUALITY);
    if (best.length <= data.length) data = best;
    const lastBlock = from + BigInt(count) - 1n;
    if (data.length > o.maxBatchBytes) {
      this.logger.warn({ block: lastBlock, bytes: data.length, max: o.maxBatchBytes }, 'one L2 block exceeds the batch size limit; posting it alone');
    }
    if (!(await this.originsOnL1(from, lastBlock))) return undefined;
    const deposits = await depositCursorAt(chain, lastBlock);
    if (deposits.count < state.depositCount) {
      throw new Error(`L2 block ${lastBlock} consumed ${deposits.count} deposits, fewer than the ${state.depositCount} the last batch on L1 claims`);
    }
    const header: BatchHeader = {
      index: state.batchCount,
      prevBatchHash: state.lastBatchHash,
      firstBlock: from,
      lastBlock,
      dataHash: batchDataHash(data),
      depositCount: deposits.count,
      depositHash: deposits.hash,
      resultsRoot: await this.deps.resultsRoot(from, lastBlock),
    };
    this.logger.trace({ index: header.index, batchHash: batchHash(header) }, 'built batch');
    return { header, data, rawBytes: rlps.slice(0, count).reduce((n, r) => n + r.length, 0) };
  }

  /**
   * The newest block of [from, to] whose L1 origin is at or below `deepest` (from - 1 when none).
   * Origins never go back along the chain, so a binary search.
   */
  private async lastWithOriginBelow(from: bigint, to: bigint, deepest: bigint): Promise<bigint> {
    // the origin comes with the block's cached RLP, which the batch reads next anyway
    const ok = async (n: bigint) => ((await this.blockRlp(n)).origin?.number ?? 0n) <= deepest;
    if (await ok(to)) return to;
    return lastHolding(from - 1n, to, ok);
  }

  /**
   * Whether L1 still has every L1 origin of blocks [from, to]. Right after an L1 reorg, until the
   * sequencer's reorg handler has rewound them (sequencer/l1-reorg.ts), the chain can hold blocks
   * on origins L1 replaced; a batch of them is one derivation refuses for good, so it waits.
   */
  private async originsOnL1(from: bigint, to: bigint): Promise<boolean> {
    const origins = new Map<bigint, Hex>();
    for (let n = from; n <= to; n++) {
      const o = (await this.blockRlp(n)).origin;
      if (o !== undefined) origins.set(o.number, o.hash);
    }
    for (const [number, hash] of origins) {
      const onL1 = await rpc(() =>
        this.deps.l1.public.getBlock({ blockNumber: number }).catch((err: Error) => (err.name === 'BlockNotFoundError' ? undefined : Promise.reject(err))),
      );
      if (onL1?.hash?.toLowerCase() !== hash.toLowerCase()) {
        this.logger.info({ l1Block: number, origin: hash, from, to }, 'holding the batch: L1 no longer has an origin of its blocks (an L1 reorg the sequencer has yet to rewind)');
        if (Date.now() - this.originGoneAt > 10_000) {
          this.originGoneAt = Date.now();
          this.originGone.emit();
        }
        return false;
      }
    }
    return true;
  }

  /** A canonical block's RLP, re-read only if the canonical hash at `n` changed. */
  private async blockRlp(n: bigint): Promise<CachedBlock> {
    const { store } = this.deps.chain;
    const hash = await store.getCanonicalHash(n);
    const cached = this.rlpCache.get(n);
    if (hash !== undefined && cached !== undefined && equalsBytes(cached.hash, hash)) return cached;
    const block = hash === undefined ? undefined : await store.getBlockByHash(hash);
    if (block === undefined) throw new Error(`L2 block ${n} is missing from the local chain (head ${this.deps.chain.head.header.number})`);
    const entry = { hash: block.hash(), rlp: block.serialize(), timestamp: block.header.timestamp, origin: l1OriginOf(block) };
    this.rlpCache.set(n, entry);
    return entry;
  }

  private async compress(rlps: Uint8Array[]): Promise<Uint8Array> {
    const data = await encodeBatchData(rlps, FIT_QUALITY);
    this.ratio = data.length / Math.max(encodeBatchPayload(rlps).length, 1);
    return data;
  }

  /**
   * About the most leading blocks whose batch fits maxBatchBytes. The compression ratio barely
   * changes with the cut, so the search first brackets the proportional guess (95% and 105% of
   * it), then bisects down to 1% of the count: usually 3 to 6 compressions. At least one block,
   * even one that alone does not fit.
   */
  private async fit(rlps: Uint8Array[], fullSize: number): Promise<{ count: number; data: Uint8Array }> {
    const max = this.options.maxBatchBytes;
    const guess = (rlps.length * max) / fullSize;
    const probes = [Math.floor(guess * 0.95), Math.ceil(guess * 1.05)];
    let lo = 0;
    let hi = rlps.length;
    let best: Uint8Array | undefined;
    while (hi - lo > Math.max(1, Math.floor(lo / 100))) {
      let mid = probes.shift() ?? Math.floor((lo + hi) / 2);
      if (mid <= lo || mid >= hi) mid = Math.floor((lo + hi) / 2);
      const data = await this.compress(rlps.slice(0, mid));
      if (data.length <= max) {
        lo = mid;
        best = data;
      } else {
        hi = mid;
        probes.length = 0;
      }
    }
    if (best === undefined) return { count: 1, data: await this.compress(rlps.slice(0, 1)) };
    return { count: lo, data: best };
  }
}

function min(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}
