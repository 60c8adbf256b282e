/**
 * A replica's rollup status when it derives from L1: batch and output counts as the Rollup
 * contract reports them (rollup_syncStatus), but safe and finalized from its own derivation, so
 * a tag never names a block this node has not derived from L1 data itself.
 */
import type { Logger } from 'pino';
import type { Hex, PublicClient } from 'viem';
import { RollupStatus } from '../l1/rollup-status.ts';
import type { RollupStatusSnapshot } from '../l1/rollup-status.ts';

export interface DerivedHeads {
  readonly safe: { number: bigint };
  readonly finalized: bigint;
}

export class DerivedRollupStatus extends RollupStatus {
  constructor(
    client: PublicClient,
    rollup: Hex,
    pollMs: number,
    logger: Logger,
    private readonly heads: DerivedHeads,
  ) {
    super(client, rollup, pollMs, logger);
  }

  /** The last L2 block L1 holds in a batch, derived or not yet (eth_syncing's highestBlock). */
  get batchedOnL1(): bigint {
    return super.snapshot.safeBlock;
  }

  override get snapshot(): RollupStatusSnapshot {
    return { ...super.snapshot, safeBlock: this.heads.safe.number, finalizedBlock: this.heads.finalized };
  }
}
