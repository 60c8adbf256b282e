/**
 * Re-executes a stored block from its parent's state to trace its transactions: the transactions
 * before the traced one run plainly, the traced one with a tracer attached, all inside the
 * assembler's checkpoint, which is unwound at the end (a trace never writes state). Needs the
 * parent's state, which this node keeps for every block (no state pruning: an archive node).
 */
import type { Block } from '@ethereumjs/block';
import type { TypedTransaction } from '@ethereumjs/tx';
import { bytesToHex } from '@ethereumjs/util';
import type { Chain } from '../chain/chain.ts';
import { isDepositTx } from '../chain/deposit-tx.ts';
import { type ExecutionBudget, attachBudget } from '../chain/execution-budget.ts';
import { BlockAssembler, assemblyHeader } from '../rollup/block-assembler.ts';
import { type CallFrame, CallTracer, type CallTracerConfig } from './call-tracer.ts';

export interface TracedTx {
  txHash: string;
  result: CallFrame;
}

/** Traces the transactions of `block` at `indexes` (all when undefined) with geth's callTracer. */
export async function traceBlock(chain: Chain, block: Block, config: CallTracerConfig, budget?: ExecutionBudget, indexes?: ReadonlySet<number>): Promise<TracedTx[]> {
  if (block.header.number === 0n) return [];
  const parent = await chain.store.getBlockByHash(block.header.parentHash);
  if (parent === undefined) throw new Error(`parent of block ${block.header.number} is not stored`);
  const vm = await chain.vmAt(parent.header.stateRoot);
  if (budget !== undefined) attachBudget(vm, budget);
  const asm = await BlockAssembler.start(vm, assemblyHeader(block));
  const out: TracedTx[] = [];
  try {
    for (const [i, tx] of block.transactions.entries()) {
      budget?.check();
      const traced = indexes === undefined || indexes.has(i);
      const tracer = traced ? new CallTracer(config) : undefined;
      tracer?.attach(vm.evm);
      try {
        const gasUsed = await run(asm, tx);
        if (tracer !== undefined) out.push({ txHash: bytesToHex(tx.hash()), result: tracer.result(gasUsed) });
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

async function run(asm: BlockAssembler, tx: TypedTransaction): Promise<bigint> {
  // deposits travel in blocks as ethereumjs transactions (deposit-tx.ts asTyped)
  const dep: unknown = tx;
  if (isDepositTx(dep)) return (await asm.addDeposit(dep)).gasUsed;
  return (await asm.add(tx)).totalGasSpent;
}
