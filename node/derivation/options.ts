/** Derivation settings (node/derivation); the node passes the defaults. */
import type { L1TraversalOptions } from './l1-traversal.ts';

export interface DerivationOptions {
  /** Milliseconds between looks at L1 once derivation has caught up with its head. */
  pollMs: number;
  /** Milliseconds before a step that failed on a temporary error (L1 unreachable, L1 moved) is retried. */
  retryMs: number;
  /** L1 blocks below L1's finalized block whose records are kept anyway (pruning starts below them). */
  pruneMargin: bigint;
  /** On an L1 without a finalized block: records kept below the current L1 block (a deeper reorg is REORG_TOO_DEEP). */
  keepWithoutFinality: bigint;
  /** Read-ahead and range sizes of the L1 traversal. */
  traversal?: Partial<L1TraversalOptions>;
}

export const defaultDerivationOptions: DerivationOptions = {
  pollMs: 1_000,
  retryMs: 2_000,
  pruneMargin: 64n,
  // about a week of 12 s L1 blocks, ~4 MB of records
  keepWithoutFinality: 50_000n,
};
