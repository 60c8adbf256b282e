/**
 * A replica's only way to add a block: re-execute it on its parent's state by rebuilding it with
 * the sequencer's own BlockAssembler (the received header's fields, deposits through addDeposit,
 * every other transaction through add), and commit it through chain.commit (one atomic batch,
 * as the sequencer does) only when the rebuilt block has the received hash. The hash covers the
 * state root, receipts root, logs bloom and gas used, so a block that executes to anything else
 * is refused before a byte of it is written. Imports run one at a time: this is the single writer.
 */
import type { Block } from '@ethereumjs/block';
import type { Address } from '@ethereumjs/util';
import { bytesToHex, equalsBytes } from '@ethereumjs/util';
import type { VM } from '@ethereumjs/vm';
import type { Logger } from 'pino';
import { BlockAssembler, assemblyHeader } from '../rollup/block-assembler.ts';
import type { Chain } from '../chain/chain.ts';
import { isDepositTx } from '../chain/deposit-tx.ts';
import type { TxActivity } from '../chain/address-index.ts';
import type { StoredReceipt } from '../chain/receipts.ts';
import { SyncError, SyncErrorCode } from './errors.ts';

export interface ImporterDeps {
  chain: Chain;
  logger: Logger;
  /** A verified block could not be written: the node must stop rather than diverge. */
  onFatal(err: Error): void;
}

interface Executed {
  block: Block;
  senders: Address[];
  receipts: StoredReceipt[];
  activity: TxActivity[] | undefined;
}

/** Header fields that re-execution cannot change and must therefore be taken as received. */
/** Which executed fields differ, for the log and the error (the hash alone says nothing). */
function differences(got: Block, want: Block): string {
  const a = got.header;
  const b = want.header;
  const fields: [string, unknown, unknown][] = [
    ['stateRoot', bytesToHex(a.stateRoot), bytesToHex(b.stateRoot)],
    ['receiptsRoot', bytesToHex(a.receiptTrie), bytesToHex(b.receiptTrie)],
    ['gasUsed', a.gasUsed, b.gasUsed],
    ['logsBloom', bytesToHex(a.logsBloom), bytesToHex(b.logsBloom)],
    ['transactionsRoot', bytesToHex(a.transactionsTrie), bytesToHex(b.transactionsTrie)],
    ['withdrawalsRoot', a.withdrawalsRoot && bytesToHex(a.withdrawalsRoot), b.withdrawalsRoot && bytesToHex(b.withdrawalsRoot)],
    ['blobGasUsed', a.blobGasUsed, b.blobGasUsed],
  ];
  const diff = fields.filter(([, x, y]) => x !== y).map(([name, x, y]) => `${name} ${String(x)} (block says ${String(y)})`);
  return diff.length > 0 ? diff.join(', ') : 'other header fields';
}

export class BlockImporter {
  private vm: VM | undefined;
  private vmHead: Uint8Array | undefined;
  private tail: Promise<unknown> = Promise.resolve();
  private stopped = false;

  /**
   * Blocks at or below this number are final as far as gossip goes (derived from L1, which wins):
   * rewindTo never goes below it. Derivation sets it; without L1 it stays at genesis.
   */
  safeFloor: () => bigint = () => 0n;

  constructor(private readonly deps: ImporterDeps) {}

  /**
   * Moves the head back to canonical block `n` (an unsafe-chain reorg: the block signer's chain
   * forks at `n`), after the imports queued before it; REORG_TOO_DEEP below safeFloor.
   */
  rewindTo(n: bigint): Promise<void> {
    const next = this.tail.then(async () => {
      if (this.stopped) throw new SyncError(SyncErrorCode.Stopped, 'importer stopped');
      const floor = this.safeFloor();
      if (n < floor) throw new SyncError(SyncErrorCode.ReorgTooDeep, `cannot rewind to block ${n}: blocks up to ${floor} are derived from L1`);
      await this.deps.chain.rewind(n);
    });
    this.tail = next.catch(() => undefined);
    return next;
  }

  /**
   * Imports `block` on top of the head once the imports queued before it are done. Throws a
   * SyncError: KNOWN, CONFLICT or UNKNOWN_PARENT (nothing is wrong with the block as such), or
   * BAD_HEADER, INVALID_TX, EXECUTION_MISMATCH (the block is invalid; nothing was written).
   */
  import(block: Block): Promise<void> {
    const next = this.tail.then(() => this.importNow(block));
    this.tail = next.catch(() => undefined);
    return next;
  }

  /** Lets the import under way finish, then refuses every other one. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.tail;
  }

  private async importNow(block: Block): Promise<void> {
    if (this.stopped) throw new SyncError(SyncErrorCode.Stopped, 'importer stopped');
    const { chain, logger } = this.deps;
    const head = chain.head;
    if (!equalsBytes(block.header.parentHash, head.hash())) return this.placeElsewhere(block, head);
    checkHeader(block, head);
    const started = Date.now();
    const done = await this.execute(block, head);
    try {
      await chain.commit(done.block, done.senders, done.receipts, done.activity);
    } catch (err) {
      this.deps.onFatal(err as Error);
      throw err;
    }
    this.vmHead = done.block.hash();
    logger.debug({ number: block.header.number, txs: block.transactions.length, ms: Date.now() - started }, 'imported block');
  }

  /** The block does not extend the head: say where it stands. */
  private async placeElsewhere(block: Block, head: Block): Promise<never> {
    const n = block.header.number;
    if (n <= head.header.number) {
      const canonical = await this.deps.chain.store.getCanonicalHash(n);
      if (canonical !== undefined && equalsBytes(canonical, block.hash())) throw new SyncError(SyncErrorCode.Known, `block ${n} is known`);
      throw new SyncError(SyncErrorCode.Conflict, `block ${n} ${bytesToHex(block.hash())} conflicts with ours ${canonical === undefined ? '?' : bytesToHex(canonical)}`);
    }
    if (n === head.header.number + 1n)
      throw new SyncError(SyncErrorCode.Conflict, `block ${n} builds on ${bytesToHex(block.header.parentHash)}, not on our head ${bytesToHex(head.hash())}`);
    throw new SyncError(SyncErrorCode.UnknownParent, `block ${n}: parent ${bytesToHex(block.header.parentHash)} unknown (head ${head.header.number})`);
  }

  private async execute(block: Block, parent: Block): Promise<Executed> {
    const vm = await this.vmAt(parent);
    const asm = await BlockAssembler.start(vm, assemblyHeader(block), { recordActivity: true });
    const senders: Address[] = [];
    let rebuilt: Block;
    try {
      for (const [i, tx] of block.transactions.entries()) {
        try {
          // deposits travel in blocks as ethereumjs transactions (deposit-tx.ts asTyped)
          const dep: unknown = tx;
          if (isDepositTx(dep)) {
            await asm.addDeposit(dep);
            senders.push(dep.from);
          } else {
            await asm.add(tx);
            senders.push(tx.getSenderAddress());
          }
        } catch (err) {
          throw new SyncError(SyncErrorCode.InvalidTx, `block ${block.header.number} transaction ${i} (${bytesToHex(tx.hash())}): ${(err as Error).message}`);
        }
      }
      rebuilt = await asm.seal();
    } catch (err) {
      await asm.abort().catch(() => undefined);
      this.discard();
      throw err;
    }
    if (!equalsBytes(rebuilt.hash(), block.hash())) {
      this.discard();
      throw new SyncError(
        SyncErrorCode.ExecutionMismatch,
        `block ${block.header.number} ${bytesToHex(block.hash())} re-executes to ${bytesToHex(rebuilt.hash())}: ${differences(rebuilt, block)}`,
      );
    }
    return { block: rebuilt, senders, receipts: asm.receipts, activity: asm.activity };
  }

  /** The state writes of a refused block must never reach the next commit, nor its caches the next block. */
  private discard(): void {
    this.deps.chain.abandonPending();
    this.vm = undefined;
    this.vmHead = undefined;
  }

  /** One VM with warm caches follows the head from block to block, as the sequencer's does. */
  private async vmAt(parent: Block): Promise<VM> {
    if (this.vm === undefined || this.vmHead === undefined || !equalsBytes(this.vmHead, parent.hash())) {
      this.vm = await this.deps.chain.builderVm(parent.header.stateRoot);
      this.vmHead = parent.hash();
    }
    return this.vm;
  }
}

/** What the parent fixes: the next number and a later timestamp (the sequencer never repeats one). */
function checkHeader(block: Block, parent: Block): void {
  const h = block.header;
  if (h.number !== parent.header.number + 1n) throw new SyncError(SyncErrorCode.BadHeader, `block number ${h.number} does not follow its parent's ${parent.header.number}`);
  if (h.timestamp <= parent.header.timestamp)
    throw new SyncError(SyncErrorCode.BadHeader, `block ${h.number} timestamp ${h.timestamp} is not after its parent's ${parent.header.timestamp}`);
  if (h.baseFeePerGas === undefined) throw new SyncError(SyncErrorCode.BadHeader, `block ${h.number} has no base fee`);
}
