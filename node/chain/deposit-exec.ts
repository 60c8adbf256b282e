import type { Block } from '@ethereumjs/block';
import { Account, bytesToUnprefixedHex, createAddressFromString } from '@ethereumjs/util';
import { Bloom } from '@ethereumjs/vm';
import type { VM } from '@ethereumjs/vm';
import type { RawLog, StoredReceipt } from './receipts.ts';
import type { DepositTx } from './deposit-tx.ts';
import { stateDepth, unwindState } from './state-layer.ts';

export interface DepositResult {
  receipt: StoredReceipt;
  /** Gas the deposit used, counted against the block's gas limit. */
  gasUsed: bigint;
  bloom: Bloom;
  /** The sender's nonce before the deposit (the creation address of a deposit that deploys). */
  nonce: bigint;
  /** The call threw instead of ending (see state-layer.ts); it counts as a failed call. */
  internalError?: string;
}

const MAX_INITCODE = 49_152;

/** Intrinsic gas as for a normal transaction: deposits pay for their calldata like everyone (EIP-2028, EIP-3860). */
export function depositIntrinsicGas(dep: DepositTx): bigint {
  let gas = 21_000n;
  for (const b of dep.data) gas += b === 0 ? 4n : 16n;
  if (dep.to === undefined) gas += 32_000n + 2n * BigInt(Math.ceil(dep.data.length / 32));
  return gas;
}

/**
 * Executes a deposit as OP Stack does: mint `mint` to `from` (kept even if the call fails), bump
 * `from`'s nonce, then run the call with no fee (gas was bought on L1). A failed call leaves
 * the mint and the nonce and uses all its gas. Deposits cannot be refused: whatever the
 * contents, the outcome is a receipt, so every node derives the same block from L1. That holds
 * for a call that throws out of the EVM too: it is unwound and ends as a failed call, since a
 * deposit that could not be applied would stop the chain at the block that must include it.
 */
export async function executeDeposit(vm: VM, dep: DepositTx, block: Block, cumulativeGasUsed: bigint): Promise<DepositResult> {
  const journal = vm.evm.journal;
  await journal.cleanup();
  const layer = stateDepth(vm) + 1;
  await journal.checkpoint();
  const from = dep.from;
  const account = (await vm.stateManager.getAccount(from)) ?? new Account();
  const nonce = account.nonce;
  account.balance += dep.mint;
  await journal.putAccount(from, account);

  const intrinsic = depositIntrinsicGas(dep);
  let status: 0 | 1 = 0;
  let gasUsed = dep.gasLimit;
  let logs: RawLog[] = [];
  let internalError: string | undefined;
  if (intrinsic > dep.gasLimit || (dep.to === undefined && dep.data.length > MAX_INITCODE)) {
    account.nonce += 1n;
    await journal.putAccount(from, account);
  } else {
    for (const [addr] of vm.evm.precompiles.entries()) journal.addAlwaysWarmAddress(addr);
    journal.addAlwaysWarmAddress(from.toString());
    if (dep.to !== undefined) journal.addAlwaysWarmAddress(bytesToUnprefixedHex(dep.to.bytes));
    journal.addAlwaysWarmAddress(bytesToUnprefixedHex(block.header.coinbase.bytes));
    const r = await vm.evm
      .runCall({
        caller: from,
        origin: from,
        to: dep.to,
        value: dep.value,
        data: dep.data,
        gasLimit: dep.gasLimit - intrinsic,
        gasPrice: 0n,
        block,
      })
      .catch(async (err: unknown) => {
        internalError = err instanceof Error ? err.message : String(err);
        await unwindState(vm, layer);
        // as a failed call: the mint stays, the nonce moves on, the gas is gone
        account.nonce = nonce + 1n;
        await journal.putAccount(from, account);
        return undefined;
      });
    const exec = r?.execResult;
    if (exec !== undefined && exec.exceptionError === undefined) {
      status = 1;
      const used = intrinsic + exec.executionGasUsed;
      const refund = exec.gasRefund ?? 0n;
      gasUsed = used - (refund < used / 5n ? refund : used / 5n);
      logs = (exec.logs ?? []) as RawLog[];
      for (const addr of exec.selfdestruct?.keys() ?? []) {
        // EIP-6780: only a contract created by this same deposit is removed
        if (exec.createdAddresses?.has(addr) === true) await vm.stateManager.deleteAccount(createAddressFromString(addr));
      }
    }
  }
  await journal.commit();
  await journal.cleanup();
  const bloom = new Bloom(undefined, vm.common);
  for (const [address, topics] of logs) {
    bloom.add(address);
    for (const t of topics) bloom.add(t);
  }
  return { receipt: { status, cumulativeGasUsed: cumulativeGasUsed + gasUsed, logs, depositNonce: nonce }, gasUsed, bloom, nonce, internalError };
}
