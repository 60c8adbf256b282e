/**
 * Stage 2, batch retrieval: the batches an L1 block carries. The Rollup's BatchSubmitted logs
 * say which transactions were accepted; each one's calldata (a direct submitBatch(header, data)
 * call) gives the batch, whose header must be the one the log names and whose data must hash to
 * the header's dataHash, as the contract checked. Logs are read by block hash, so they belong to
 * exactly the block the traversal checked. Stateless: its position is the traversal's.
 */
import type { Block } from '@ethereumjs/block';
import type { Common } from '@ethereumjs/common';
import type { Logger } from 'pino';
import { decodeFunctionData, hexToBytes } from 'viem';
import type { Hex, PublicClient } from 'viem';
import { batchDataHash, batchHash, decodeBatchBlocks } from '../rollup/batch-codec.ts';
import type { BatchHeader } from '../rollup/batch-codec.ts';
import { rollupAbi } from '../../contracts/abi/rollup.ts';
import { DerivationError, DerivationErrorCode } from './errors.ts';
import type { L1BlockRef } from './l1-traversal.ts';

const batchSubmitted = rollupAbi.find((x) => x.type === 'event' && x.name === 'BatchSubmitted')!;

export interface DerivedBatch {
  header: BatchHeader;
  blocks: Block[];
  l1Block: bigint;
}

export interface BatchRetrievalDeps {
  client: PublicClient;
  common: Common;
  logger: Logger;
}

/** Blocks whose batches may be read ahead of their turn. */
const WARM_MAX = 32;

export class BatchRetrieval {
  /** Reads started ahead (warm), by L1 block hash: the answer for a hash never changes. */
  private readonly warmed = new Map<Hex, Promise<DerivedBatch[]>>();

  constructor(
    private readonly rollup: Hex,
    private readonly deps: BatchRetrievalDeps,
  ) {}

  /** Starts reading the batches of blocks whose turn is coming (a remote L1 costs a round trip per read). */
  warm(blocks: L1BlockRef[]): void {
    for (const b of blocks) {
      if (this.warmed.has(b.hash)) continue;
      // reads of blocks a reorg took away are never asked for: the oldest make room
      if (this.warmed.size >= WARM_MAX) this.warmed.delete(this.warmed.keys().next().value!);
      const p = this.read(b);
      p.catch(() => undefined); // seen, and retried, when the block's turn comes
      this.warmed.set(b.hash, p);
    }
  }

  /** Forgets reads started ahead (after a failed step, so nothing stale or failed is reused). */
  cool(): void {
    this.warmed.clear();
  }

  /** The batches accepted in `l1`, in log order. */
  async batchesIn(l1: L1BlockRef): Promise<DerivedBatch[]> {
    const p = this.warmed.get(l1.hash) ?? this.read(l1);
    this.warmed.delete(l1.hash);
    return p;
  }

  private async read(l1: L1BlockRef): Promise<DerivedBatch[]> {
    const logs = await this.deps.client.getLogs({ address: this.rollup, event: batchSubmitted as never, blockHash: l1.hash });
    const out: DerivedBatch[] = [];
    for (const log of logs as unknown as { transactionHash: Hex; args: { index: bigint; batchHash: Hex } }[]) {
      out.push(await this.batchOf(log.transactionHash, log.args, l1.number));
    }
    return out;
  }

  private async batchOf(txHash: Hex, named: { index: bigint; batchHash: Hex }, l1Block: bigint): Promise<DerivedBatch> {
    let tx;
    try {
      tx = await this.deps.client.getTransaction({ hash: txHash });
    } catch (err) {
      throw new DerivationError(DerivationErrorCode.L1Moved, `batch transaction ${txHash} not found: ${(err as Error).message}`);
    }
    if (tx.to?.toLowerCase() !== this.rollup.toLowerCase())
      throw new DerivationError(DerivationErrorCode.NotDirect, `batch ${named.index} came from transaction ${txHash} to ${tx.to}, not a direct call to the Rollup`);
    let header: BatchHeader;
    let data: Hex;
    try {
      const call = decodeFunctionData({ abi: rollupAbi, data: tx.input });
      if (call.functionName !== 'submitBatch') throw new Error(`it calls ${call.functionName}`);
      [header, data] = call.args as unknown as [BatchHeader, Hex];
    } catch (err) {
      throw new DerivationError(DerivationErrorCode.NotDirect, `batch ${named.index}: transaction ${txHash} is not a submitBatch call: ${(err as Error).message}`);
    }
    if (header.index !== named.index || batchHash(header) !== named.batchHash)
      throw new DerivationError(DerivationErrorCode.BadBatch, `batch ${named.index}: the calldata's header is not the one the log names`);
    const bytes = hexToBytes(data);
    if (batchDataHash(bytes) !== header.dataHash) throw new DerivationError(DerivationErrorCode.BadBatch, `batch ${named.index}: keccak256(data) is not the header's dataHash`);
    const blocks = await decodeBatchBlocks(bytes, this.deps.common);
    if (BigInt(blocks.length) !== header.lastBlock - header.firstBlock + 1n) {
      throw new DerivationError(DerivationErrorCode.BadBatch, `batch ${named.index} holds ${blocks.length} blocks, its header says ${header.firstBlock}..${header.lastBlock}`);
    }
    this.deps.logger.debug({ batch: named.index, l1Block, first: header.firstBlock, last: header.lastBlock }, 'batch retrieved');
    return { header, blocks, l1Block };
  }
}
