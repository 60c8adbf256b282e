/**
 * Transactions a `--dev` chain sends for an impersonated account (anvil_impersonateAccount): no
 * key signs them, so they carry a marker where the signature goes, r = the sender's address and
 * s = 1, which no ECDSA signer produces. The marker makes each one's hash unique to its sender (as
 * anvil's impersonated hashes are) and tells re-execution to take the sender the node stored with
 * the block, never one recovered from the marker. A marked transaction from outside is just a
 * signature that recovers to some unknown key: the marker grants nothing by itself.
 */
import type { Common } from '@ethereumjs/common';
import { type TypedTransaction, type TypedTxData, createTx, createTxFromRLP } from '@ethereumjs/tx';
import { type Address, bytesToBigInt } from '@ethereumjs/util';

const MARKER_S = 1n;

/** Builds the unsigned transaction `data` as sent by `sender`, with the impersonation marker. */
export function impersonatedTx(data: TypedTxData, sender: Address, common: Common): TypedTransaction {
  const type = Number(data.type ?? 0);
  // a legacy transaction's v carries its chain id (EIP-155); a typed one's is the y parity
  const v = type === 0 ? common.chainId() * 2n + 35n : 0n;
  const tx = createTx({ ...data, v, r: bytesToBigInt(sender.bytes), s: MARKER_S }, { common, freeze: false });
  return withSender(tx, sender);
}

/** Whether `tx` carries the impersonation marker (then only a stored sender says who sent it). */
export function isImpersonationMarked(tx: TypedTransaction): boolean {
  return tx.s === MARKER_S && tx.r !== undefined && tx.r > 0n && tx.r < 1n << 160n;
}

/** `tx` with its sender fixed to `sender` (a copy when `tx` is frozen, as decoded blocks' are). */
export function withSender(tx: TypedTransaction, sender: Address): TypedTransaction {
  const open = Object.isFrozen(tx) ? createTxFromRLP(tx.serialize(), { common: tx.common, freeze: false }) : tx;
  (open as { getSenderAddress: () => Address }).getSenderAddress = () => sender;
  return open;
}
