import type { RecoveryItem, SenderRecovery } from '../sync/sender-recovery.ts';
import { keyAt } from '../sync/sender-recovery.ts';

/**
 * Sender recovery for transactions arriving over JSON-RPC, on the sender-recovery thread
 * (node/sync/sender-recovery.ts), so that the main thread, which also executes blocks, spends
 * none of its time on the curve: libsecp256k1 takes ~70 us per transaction, a third of admitting
 * one. Arrivals are gathered until the current task ends (a JSON-RPC batch of 100 raw transactions
 * goes as one message) and each gets the key the thread recovered from its own bytes.
 *
 * The key is trusted as the replica's import trusts it: the thread decodes the same bytes with
 * the same Common and libsecp256k1, so it computes what the main thread would. Whatever it could
 * not recover (a bad signature), or any failure of the thread, gives undefined, and the pool then
 * recovers on the main thread, which raises the proper error.
 */
export class IngestRecovery {
  private batch: { raws: Uint8Array[]; waiters: ((key: Uint8Array | undefined) => void)[] } | undefined;

  constructor(private readonly recovery: SenderRecovery) {}

  /** The sender's public key recovered from `raw` (a signed transaction's encoding), or undefined. */
  key(raw: Uint8Array): Promise<Uint8Array | undefined> {
    if (!this.recovery.available) return Promise.resolve(undefined);
    let batch = this.batch;
    if (batch === undefined) {
      const fresh = { raws: [] as Uint8Array[], waiters: [] as ((key: Uint8Array | undefined) => void)[] };
      this.batch = batch = fresh;
      queueMicrotask(() => void this.flush(fresh));
    }
    batch.raws.push(raw);
    return new Promise((resolve) => batch.waiters.push(resolve));
  }

  private async flush(batch: NonNullable<IngestRecovery['batch']>): Promise<void> {
    if (this.batch === batch) this.batch = undefined;
    const item: RecoveryItem = { number: 0n, txs: batch.raws, root: false };
    this.recovery.prime([item]);
    const got = await this.recovery.ready(item);
    batch.waiters.forEach((resolve, i) => resolve(got === undefined ? undefined : keyAt(got.keys, i)));
  }
}
