/**
 * What JSON-RPC and metrics need of a transaction pool. The sequencer's pool
 * (sequencer/mempool.ts) implements it; a replica holds no pool (its transactions are forwarded
 * to the sequencer) and serves `emptyPool`.
 */
import type { PoolTx } from './pool-tx.ts';
import { TxPoolError, TxPoolErrorCode } from './errors.ts';

export interface TxPoolView {
  /** eth_sendRawTransaction: decode, check and admit one transaction. */
  addRaw(raw: Uint8Array): Promise<PoolTx>;
  get(hash: string): PoolTx | undefined;
  /** The next nonce of `senderHex` counting its pooled transactions, given its nonce in state. */
  pendingNonce(senderHex: string, stateNonce: bigint): bigint;
  status(): { pending: number; queued: number };
  onAdded(listener: (tx: PoolTx) => void): () => void;
}

/** A replica's pool: always empty; a transaction reaching it (only if a method forgot to forward) is refused. */
export const emptyPool: TxPoolView = {
  addRaw: async () => {
    throw new TxPoolError(TxPoolErrorCode.InvalidTx, 'this node keeps no transaction pool');
  },
  get: () => undefined,
  pendingNonce: (_sender, stateNonce) => stateNonce,
  status: () => ({ pending: 0, queued: 0 }),
  onAdded: () => () => {},
};
