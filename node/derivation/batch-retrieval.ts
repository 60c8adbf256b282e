/**
 * Stage 2, batch retrieval: the batches an L1 block carries. The Rollup's BatchSubmitted logs
 * say which transactions were accepted; each one's calldata (a direct submitBatch(header, data)
 * call) gives the batch, whose header must be the one the log names and whose data must hash to
 * the header's dataHash, as the contract checked. Near L1's head logs are read by block hash, so
 * they belong to exactly the block the traversal checked; over a range of finalized blocks they
 * are read by number in a few eth_getLogs (node/l1/log-range.ts), each log naming its block.
 * Data that does not decode into the header's blocks is an invalid batch, handed on as refused
 * (the Rollup checked only its hash). Stateless: its position is the traversal's.
 */
import type { Block } from '@ethereumjs/block';
import type { Common } from '@ethereumjs/common';
import type { Logger } from 'pino';
import { decodeFunctionData, hexToBytes } from 'viem';
import type { Hex, PublicClient } from 'viem';
import { BatchCodecError, batchDataHash, batchHash, decodeBatchBlocks } from '../rollup/batch-codec.ts';
import type { BatchHeader } from '../rollup/batch-codec.ts';
import { rollupAbi } from '../../contracts/abi/rollup.ts';
import { getLogsInRanges } from '../l1/log-range.ts';
import { DerivationError, DerivationErrorCode } from './errors.ts';
import type { L1Ref } from './l1-traversal.ts';

const batchSubmitted = rollupAbi.find((x) => x.type === 'event' && x.name === 'BatchSubmitted')!;

export interface DerivedBatch {
  header: BatchHeader;
  blocks: Block[];
  l1Block: bigint;
  /** Set when its data is not the header's blocks (BAD_BATCH): an invalid batch, `blocks` empty. */
  refused?: DerivationError;
}

/** What a BatchSubmitted log says, and where. */
export interface BatchLog {
  transactionHash: Hex;
  args: { index: bigint; batchHash: Hex };
}

/** An L1 block and, when already read (over a range), its BatchSubmitted logs. */
export interface BatchSource {
  l1: L1Ref;
  logs?: BatchLog[];
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
  warm(sources: BatchSource[]): void {
    for (const s of sources) {
      if (this.warmed.has(s.l1.hash)) continue;
      // reads of blocks a reorg took away are never asked for: the oldest make room
      if (this.warmed.size >= WARM_MAX) this.warmed.delete(this.warmed.keys().next().value!);
      const p = this.read(s);
      p.catch(() => undefined); // seen, and retried, when the block's turn comes
      this.warmed.set(s.l1.hash, p);
    }
  }

  /** The L1 blocks of [from, to] that carry BatchSubmitted logs, oldest first, with their logs (the range must be finalized). */
  async carriersIn(from: bigint, to: bigint, signal?: AbortSignal): Promise<BatchSource[]> {
    const logs = await getLogsInRanges(this.deps.client, { address: this.rollup, event: batchSubmitted as never, fromBlock: from, toBlock: to, strict: true }, { signal });
    const out: BatchSource[] = [];
    for (const log of logs as unknown as (BatchLog & { blockNumber: bigint; blockHash: Hex })[]) {
      const last = out.at(-1);
      if (last !== undefined && last.l1.hash === log.blockHash) last.logs!.push(log);
      else out.push({ l1: { number: log.blockNumber, hash: log.blockHash }, logs: [log] });
    }
    return out;
  }

  /** Forgets reads started ahead (after a failed step, so nothing stale or failed is reused). */
  cool(): void {
    this.warmed.clear();
  }

  /** The batches accepted in `source`'s block, in log order. */
  async batchesIn(source: BatchSource): Promise<DerivedBatch[]> {
    const p = this.warmed.get(source.l1.hash) ?? this.read(source);
    this.warmed.delete(source.l1.hash);
    return p;
  }

  private async read({ l1, logs }: BatchSource): Promise<DerivedBatch[]> {
    const got = logs ?? ((await this.deps.client.getLogs({ address: this.rollup, event: batchSubmitted as never, blockHash: l1.hash })) as unknown as BatchLog[]);
    const out: DerivedBatch[] = [];
    for (const log of got) out.push(await this.batchOf(log.transactionHash, log.args, l1.number));
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
    let blocks: Block[];
    try {
      blocks = await decodeBatchBlocks(bytes, this.deps.common);
    } catch (err) {
      if (!(err instanceof BatchCodecError)) throw err;
      return refused(header, l1Block, `batch ${named.index}: its data is not blocks: ${err.message}`);
    }
    if (BigInt(blocks.length) !== header.lastBlock - header.firstBlock + 1n) {
      return refused(header, l1Block, `batch ${named.index} holds ${blocks.length} blocks, its header says ${header.firstBlock}..${header.lastBlock}`);
    }
    this.deps.logger.debug({ batch: named.index, l1Block, first: header.firstBlock, last: header.lastBlock }, 'batch retrieved');
    return { header, blocks, l1Block };
  }
}

function refused(header: BatchHeader, l1Block: bigint, message: string): DerivedBatch {
  return { header, blocks: [], l1Block, refused: new DerivationError(DerivationErrorCode.BadBatch, message) };
}
