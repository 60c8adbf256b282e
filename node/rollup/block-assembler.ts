import { Block, createBlock, createBlockHeader } from '@ethereumjs/block';
import type { HeaderData } from '@ethereumjs/block';
import type { TypedTransaction } from '@ethereumjs/tx';
import { KECCAK256_RLP } from '@ethereumjs/util';
import { Bloom, encodeReceipt, runTx } from '@ethereumjs/vm';
import type { RunTxResult, TxReceipt, VM } from '@ethereumjs/vm';
import { executeDeposit } from '../chain/deposit-exec.ts';
import type { DepositResult } from '../chain/deposit-exec.ts';
import type { DepositTx } from '../chain/deposit-tx.ts';
import { ActivityRecorder, type TxActivity } from '../chain/address-index.ts';
import { orderedTrieRoot } from '../chain/ordered-trie.ts';
import { fromVmReceipt } from '../chain/receipts.ts';
import type { StoredReceipt } from '../chain/receipts.ts';
import { InternalExecutionError, stateDepth, unwindState } from '../chain/state-layer.ts';
import { CodedError } from '../../precompiles/errors.ts';

/** The fields a block's execution starts from: its header less what execution computes. */
export function assemblyHeader(block: Block): HeaderData & { gasLimit: bigint } {
  const h = block.header;
  return {
    parentHash: h.parentHash,
    uncleHash: h.uncleHash,
    coinbase: h.coinbase,
    difficulty: h.difficulty,
    number: h.number,
    gasLimit: h.gasLimit,
    timestamp: h.timestamp,
    extraData: h.extraData,
    mixHash: h.mixHash,
    nonce: h.nonce,
    baseFeePerGas: h.baseFeePerGas,
    excessBlobGas: h.excessBlobGas,
    parentBeaconBlockRoot: h.parentBeaconBlockRoot,
  };
}

interface Executed {
  tx: TypedTransaction;
  receipt: TxReceipt;
  stored: StoredReceipt;
  bloom: Bloom;
  activity?: TxActivity;
}

/**
 * Executes transactions into a new block on top of `parent`.
 *
 * ethereumjs's BlockBuilder re-creates a Block holding every transaction so far before each
 * added transaction (quadratic: it spent seconds per block at a few hundred transactions), so
 * the sequencer uses this linear version. It runs each transaction against a header-only
 * execution context and builds the block once, when sealing. No beacon-root or request system
 * calls: the L2 hardfork leaves them off (see node/chain/common.ts).
 *
 * The whole block is built in one state checkpoint (the block's layer) above the committed state,
 * and each transaction in a layer of its own: nothing reaches the trie database before `seal`,
 * a transaction whose execution throws is unwound to exactly where it started, and a block whose
 * layers do not balance is never sealed (node/chain/state-layer.ts says how they can fail to).
 */
export class BlockAssembler {
  private readonly done: Executed[] = [];
  private readonly context: Block;
  gasUsed = 0n;

  private constructor(
    private readonly vm: VM,
    private readonly header: HeaderData & { gasLimit: bigint },
    /** The committed state's depth, below the block's layer. */
    private readonly base: number,
    private readonly recorder: ActivityRecorder | undefined,
  ) {
    this.context = createBlock({ header }, { common: vm.common, setHardfork: false });
  }

  /** `recordActivity`: note what each transaction touches, for the address index (blocks to be committed). */
  static async start(vm: VM, header: HeaderData & { gasLimit: bigint }, opts: { recordActivity?: boolean } = {}): Promise<BlockAssembler> {
    const base = stateDepth(vm);
    await vm.evm.journal.checkpoint();
    const recorder = opts.recordActivity === true ? new ActivityRecorder() : undefined;
    recorder?.attach(vm.evm);
    return new BlockAssembler(vm, header, base, recorder);
  }

  get receipts(): StoredReceipt[] {
    return this.done.map((e) => e.stored);
  }

  /** What each transaction touched, when recorded. */
  get activity(): TxActivity[] | undefined {
    return this.recorder === undefined ? undefined : this.done.map((e) => e.activity ?? { addresses: new Set(), created: [] });
  }

  /** Runs a deposit; deposits never fail to apply (a failed call still has a receipt). */
  async addDeposit(dep: DepositTx): Promise<DepositResult> {
    if (dep.gasLimit > this.header.gasLimit - this.gasUsed) throw new Error('deposit has a higher gas limit than the remaining gas in the block');
    this.expectDepth(this.base + 1);
    this.recorder?.reset();
    const r = await executeDeposit(this.vm, dep, this.context, this.gasUsed);
    const receipt: TxReceipt = { status: r.receipt.status, cumulativeBlockGasUsed: r.receipt.cumulativeGasUsed, bitvector: r.bloom.bitvector, logs: r.receipt.logs };
    this.done.push({ tx: dep.asTyped(), receipt, stored: r.receipt, bloom: r.bloom, activity: this.recorder?.take(dep.from, dep.to) });
    this.gasUsed += r.gasUsed;
    return r;
  }

  /**
   * Runs `tx`; on any error the state is as before the call and the error is thrown. An error
   * thrown from inside the execution (not a validation error) is an InternalExecutionError.
   */
  async add(tx: TypedTransaction): Promise<RunTxResult> {
    if (tx.gasLimit > this.header.gasLimit - this.gasUsed) throw new Error('tx has a higher gas limit than the remaining gas in the block');
    const layer = this.base + 1;
    this.expectDepth(layer);
    let result: RunTxResult;
    this.recorder?.reset();
    try {
      result = await runTx(this.vm, { tx, block: this.context, blockGasUsed: this.gasUsed, skipHardForkValidation: true });
    } catch (err) {
      const levels = await unwindState(this.vm, layer);
      if (levels > 0) throw new InternalExecutionError((err as Error).message, levels);
      throw err;
    }
    this.expectDepth(layer);
    this.done.push({ tx, receipt: result.receipt, stored: fromVmReceipt(result.receipt), bloom: result.bloom, activity: this.recorder?.take(tx.getSenderAddress(), tx.to) });
    this.gasUsed += result.blockGasSpent;
    return result;
  }

  /** Computes the roots, commits the state changes into the trie and returns the sealed block. */
  async seal(): Promise<Block> {
    this.expectDepth(this.base + 1);
    const bloom = new Bloom(undefined, this.vm.common);
    for (const e of this.done) bloom.or(e.bloom);
    const stateRoot = await this.vm.stateManager.getStateRoot();
    const header = createBlockHeader(
      {
        ...this.header,
        stateRoot,
        transactionsTrie: orderedTrieRoot(this.done.map((e) => e.tx.serialize())),
        receiptTrie: orderedTrieRoot(this.done.map((e) => encodeReceipt(e.receipt, e.tx.type))),
        logsBloom: bloom.bitvector,
        gasUsed: this.gasUsed,
        blobGasUsed: 0n,
        withdrawalsRoot: KECCAK256_RLP,
      },
      { common: this.vm.common, setHardfork: false },
    );
    await this.vm.evm.journal.commit();
    this.expectDepth(this.base);
    this.recorder?.detach(this.vm.evm);
    // The constructor takes the executed transaction objects as they are; createBlock would rebuild each.
    return new Block(
      header,
      this.done.map((e) => e.tx),
      [],
      [],
      { common: this.vm.common, setHardfork: false },
    );
  }

  async abort(): Promise<void> {
    this.recorder?.detach(this.vm.evm);
    await unwindState(this.vm, this.base);
  }

  /** A layer out of place means some execution escaped its checkpoints: sealing would lose state. */
  private expectDepth(want: number): void {
    const have = stateDepth(this.vm);
    if (have !== want) throw new BlockStateError(`state checkpoint depth is ${have}, expected ${want}`);
  }
}

/** The block's state layers do not balance: the block must be abandoned, never sealed. */
export class BlockStateError extends CodedError {
  override readonly code = 'BLOCK_STATE_ERROR';

  constructor(message: string) {
    super(message);
    this.name = 'BlockStateError';
  }
}
