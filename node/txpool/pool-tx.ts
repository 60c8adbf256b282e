import type { TypedTransaction } from '@ethereumjs/tx';
import { Capability } from '@ethereumjs/tx';
import type { Address } from '@ethereumjs/util';

/** A transaction as the pool holds it: decoded once, sender recovered once. */
export interface PoolTx {
  tx: TypedTransaction;
  sender: Address;
  senderHex: string;
  hash: string;
  nonce: bigint;
  maxFee: bigint;
  maxTip: bigint;
  size: number;
  seq: number;
  /**
   * Submitted to this node over its JSON-RPC: the sequencer journals such transactions so they
   * survive a restart (sequencer/local-journal.ts). Gives no other privilege: every rule applies.
   */
  local?: boolean;
}

export function feeCaps(tx: TypedTransaction): { maxFee: bigint; maxTip: bigint } {
  if (tx.supports(Capability.EIP1559FeeMarket)) {
    const t = tx as TypedTransaction & { maxFeePerGas: bigint; maxPriorityFeePerGas: bigint };
    return { maxFee: t.maxFeePerGas, maxTip: t.maxPriorityFeePerGas };
  }
  const t = tx as TypedTransaction & { gasPrice: bigint };
  return { maxFee: t.gasPrice, maxTip: t.gasPrice };
}

/** The tip the sequencer actually earns per gas at `baseFee`; negative if the tx cannot pay it. */
export function effectiveTip(p: Pick<PoolTx, 'maxFee' | 'maxTip'>, baseFee: bigint): bigint {
  const room = p.maxFee - baseFee;
  return room < p.maxTip ? room : p.maxTip;
}
