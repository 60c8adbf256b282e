/**
 * Reads of the rollup's batches and their oracle records on L1: which batch holds an L2 block
 * (a binary search over getBatch, log2 of the batch count in reads), a batch's full header (from
 * its submitBatch calldata, as derivation reads it; the Rollup stores only its hash) and the
 * InferenceOracle's verified submissions for a batch (BatchProofsVerified logs carry every leaf).
 */
import { decodeFunctionData, getAbiItem } from 'viem';
import type { Address, Hex, PublicClient } from 'viem';
import { inferenceOracleAbi } from '../../contracts/abi/oracle.ts';
import { rollupAbi } from '../../contracts/abi/rollup.ts';
import { CodedError } from '../../precompiles/errors.ts';
import { batchHash } from '../rollup/batch-codec.ts';
import { getLogsInRanges } from './log-range.ts';
import type { BatchHeader } from '../rollup/batch-codec.ts';

/** IRollup.Batch as stored, with its index. */
export interface L1Batch {
  index: bigint;
  hash: Hex;
  firstBlock: bigint;
  lastBlock: bigint;
  depositCount: bigint;
  l1Block: bigint;
  timestamp: bigint;
}

export interface L1BatchHeader {
  header: BatchHeader;
  l1TransactionHash: Hex;
}

/** One verified oracle submission for a batch (IInferenceOracle.BatchProofsVerified). */
export interface OracleRecord {
  submitter: Address;
  root: Hex;
  leaves: Hex[];
  l1Block: bigint;
  l1TransactionHash: Hex;
}

export class RollupBatchError extends CodedError {
  constructor(
    override readonly code: 'NO_HEADER',
    message: string,
  ) {
    super(message);
    this.name = 'RollupBatchError';
  }
}

const HEADER_CACHE = 256;
const batchProofsVerified = getAbiItem({ abi: inferenceOracleAbi, name: 'BatchProofsVerified' });

export class RollupBatches {
  /** Headers by batch hash: content-keyed, so a batch replaced after a challenge is never served stale. */
  private headers = new Map<Hex, L1BatchHeader>();

  constructor(
    private readonly client: PublicClient,
    private readonly rollup: Hex,
    private readonly oracle?: Hex,
  ) {}

  async batch(index: bigint): Promise<L1Batch> {
    const b = (await this.client.readContract({ address: this.rollup, abi: rollupAbi, functionName: 'getBatch', args: [index] })) as Omit<L1Batch, 'index'>;
    return {
      index,
      hash: b.hash,
      firstBlock: BigInt(b.firstBlock),
      lastBlock: BigInt(b.lastBlock),
      depositCount: BigInt(b.depositCount),
      l1Block: BigInt(b.l1Block),
      timestamp: BigInt(b.timestamp),
    };
  }

  /** The batch among the first `batchCount` whose blocks include `l2Block`; undefined if none does yet. */
  async batchOf(l2Block: bigint, batchCount: bigint): Promise<L1Batch | undefined> {
    let lo = 0n;
    let hi = batchCount - 1n;
    while (lo <= hi) {
      const mid = (lo + hi) / 2n;
      const b = await this.batch(mid);
      if (l2Block < b.firstBlock) hi = mid - 1n;
      else if (l2Block > b.lastBlock) lo = mid + 1n;
      else return b;
    }
    return undefined;
  }

  /** The header the Rollup accepted for `b`, from the calldata of the submitBatch that logged it. */
  async header(b: L1Batch): Promise<L1BatchHeader> {
    const cached = this.headers.get(b.hash);
    if (cached !== undefined) return cached;
    const logs = await this.client.getContractEvents({
      address: this.rollup,
      abi: rollupAbi,
      eventName: 'BatchSubmitted',
      args: { index: b.index, batchHash: b.hash },
      fromBlock: b.l1Block,
      toBlock: b.l1Block,
    });
    for (const log of logs) {
      const tx = await this.client.getTransaction({ hash: log.transactionHash });
      let header: BatchHeader;
      try {
        const call = decodeFunctionData({ abi: rollupAbi, data: tx.input });
        if (call.functionName !== 'submitBatch') continue;
        header = (call.args as unknown as [BatchHeader])[0];
      } catch {
        continue; // not a direct submitBatch call: derivation does not read it either
      }
      if (batchHash(header) !== b.hash) continue;
      const found = { header, l1TransactionHash: log.transactionHash };
      this.headers.set(b.hash, found);
      if (this.headers.size > HEADER_CACHE) this.headers.delete(this.headers.keys().next().value as Hex);
      return found;
    }
    throw new RollupBatchError('NO_HEADER', `batch ${b.index}: no direct submitBatch call in L1 block ${b.l1Block} carries its header`);
  }

  /** The results root the oracle attested for batch `index`; zero: none (or no oracle). */
  async attestedRoot(index: bigint): Promise<Hex> {
    if (this.oracle === undefined) return `0x${'00'.repeat(32)}`;
    return this.client.readContract({ address: this.oracle, abi: inferenceOracleAbi, functionName: 'attestedRoot', args: [index] });
  }

  /** Every verified oracle submission for batch `index`, oldest first (none without an oracle). */
  async oracleRecords(index: bigint, fromBlock: bigint): Promise<OracleRecord[]> {
    if (this.oracle === undefined) return [];
    // from the batch's L1 block to the head, which grows without bound: chunked, as providers cap ranges
    const head = await this.client.getBlockNumber({ cacheTime: 0 }); // uncached: a record that just landed must be found
    const logs = await getLogsInRanges(this.client, { address: this.oracle, event: batchProofsVerified, args: { batchIndex: index }, fromBlock, toBlock: head, strict: true });
    return logs.map((l) => ({
      submitter: l.args.submitter as Address,
      root: l.args.root as Hex,
      leaves: [...(l.args.leaves as readonly Hex[])],
      l1Block: l.blockNumber,
      l1TransactionHash: l.transactionHash,
    }));
  }
}
