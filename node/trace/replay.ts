/**
 * Re-executes a stored block from its parent's state to trace its transactions: the transactions
 * before the traced one run plainly, the traced one with a tracer attached, all inside the
 * assembler's checkpoint, which is unwound at the end (a trace never writes state). Needs the
 * parent's state, which this node keeps for every block (no state pruning: an archive node).
 */
import type { Block } from '@ethereumjs/block';
import type { TypedTransaction } from '@ethereumjs/tx';
import { bytesToHex } from '@ethereumjs/util';
import type { TxObserver, TxStart } from '../chain/call.ts';
import type { Chain } from '../chain/chain.ts';
import { isDepositTx } from '../chain/deposit-tx.ts';
import { isImpersonationMarked, withSender } from '../chain/impersonation.ts';
import { type ExecutionBudget, attachBudget } from '../chain/execution-budget.ts';
import { BlockAssembler, assemblyHeader } from '../rollup/block-assembler.ts';

/** How one transaction ended, for a tracer's result. */
export interface TxOutcome {
  gasUsed: bigint;
  failed: boolean;
  returnValue: Uint8Array;
}

export interface Tracer<R> extends TxObserver {
  result(outcome: TxOutcome): R;
}

export interface TracedTx<R> {
  txHash: string;
  result: R;
}

/** Traces the transactions of `block` at `indexes` (all when undefined), each with a fresh tracer. */
export async function traceBlock<R>(chain: Chain, block: Block, makeTracer: () => Tracer<R>, budget?: ExecutionBudget, indexes?: ReadonlySet<number>): Promise<TracedTx<R>[]> {
  if (block.header.number === 0n) return [];
  const parent = await chain.store.getBlockByHash(block.header.parentHash);
  if (parent === undefined) throw new Error(`parent of block ${block.header.number} is not stored`);
  const vm = await chain.vmAt(parent.header.stateRoot);
  if (budget !== undefined) attachBudget(vm, budget);
  const asm = await BlockAssembler.start(vm, assemblyHeader(block));
  const out: TracedTx<R>[] = [];
  // a dev chain's impersonated transactions carry no signature: their senders are the stored ones
  const marked = block.transactions.some(isImpersonationMarked);
  const senders = marked ? await chain.store.getSenders(block.hash()) : [];
  try {
    for (const [i, stored] of block.transactions.entries()) {
      const tx = marked && isImpersonationMarked(stored) ? withSender(stored, senders[i]!) : stored;
      budget?.check();
      const tracer = indexes === undefined || indexes.has(i) ? makeTracer() : undefined;
      tracer?.attach(vm.evm);
      try {
        await tracer?.start?.(txStart(tx, block));
        const outcome = await run(asm, tx);
        await tracer?.end?.();
        if (tracer !== undefined) out.push({ txHash: bytesToHex(tx.hash()), result: tracer.result(outcome) });
      } catch (err) {
        // the time budget ran out inside the EVM, which the assembler reports as an internal error: say so as eth_call does
        budget?.check();
        throw err;
      } finally {
        tracer?.detach(vm.evm);
      }
      if (indexes !== undefined && out.length === indexes.size) break;
    }
  } finally {
    await asm.abort();
  }
  return out;
}

function txStart(tx: TypedTransaction, block: Block): TxStart {
  const dep: unknown = tx;
  const coinbase = block.header.coinbase;
  if (isDepositTx(dep)) return { from: dep.from, to: dep.to, coinbase };
  const authorizations = 'authorizationList' in tx ? tx.authorizationList : undefined;
  return { from: tx.getSenderAddress(), to: tx.to, coinbase, authorizations };
}

async function run(asm: BlockAssembler, tx: TypedTransaction): Promise<TxOutcome> {
  // deposits travel in blocks as ethereumjs transactions (deposit-tx.ts asTyped)
  const dep: unknown = tx;
  if (isDepositTx(dep)) {
    const r = await asm.addDeposit(dep);
    return { gasUsed: r.gasUsed, failed: r.receipt.status === 0, returnValue: new Uint8Array() };
  }
  const r = await asm.add(tx);
  return { gasUsed: r.totalGasSpent, failed: r.execResult.exceptionError !== undefined, returnValue: r.execResult.returnValue };
}
