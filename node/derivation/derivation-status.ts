/**
 * What derivation reports of itself (Derivation.status(), onReorg): where it is on L1 and L2 and
 * what it did since start. Metrics and health read it (node/metrics/derivation-metrics.ts);
 * derivation knows nothing of them.
 */
import type { BatchOutcome } from './batch-rule.ts';
import type { DerivationErrorCode } from './errors.ts';

export interface DerivationStatus {
  /** Last L1 block processed (the checkpoint's); undefined before the first. */
  l1Block: bigint | undefined;
  /** L1's head as derivation last read it; undefined before the first read. */
  l1Head: bigint | undefined;
  safe: bigint;
  finalized: bigint;
  /** First L2 block of the refused batch in force; undefined while all is well. */
  invalidFrom: bigint | undefined;
  /** Wall-clock ms of the last time derivation had reached L1's head (nothing new to derive). */
  caughtUpAtMs: number | undefined;
  /** Set when derivation stopped for good (WRONG_L1, REORG_TOO_DEEP). */
  stopped: DerivationErrorCode | undefined;
  batchesDerived: number;
  /** Refused batches by error code. */
  batchesRefused: ReadonlyMap<DerivationErrorCode, number>;
  /** Later batches skipped because they extend a refused one. */
  batchesSkipped: number;
  reorgs: number;
  /** Failed steps (retried from the checkpoint) by error code; `other` for errors that are not derivation's (L1 unreachable). */
  stepFailures: ReadonlyMap<string, number>;
  /** Per-L1-block records deleted below L1's finalized block. */
  recordsPruned: number;
}

export interface DerivationReorg {
  /** Last L1 block processed before the reorg. */
  from: bigint;
  /** The common ancestor it unwound to (undefined: before l1Start). */
  ancestor: bigint | undefined;
  /** L1 blocks unwound. */
  depth: bigint;
}

/** The counters behind DerivationStatus. */
export class DerivationStats {
  caughtUpAtMs: number | undefined;
  stopped: DerivationErrorCode | undefined;
  reorgs = 0;
  recordsPruned = 0;
  private derived = 0;
  private skipped = 0;
  private readonly refused = new Map<DerivationErrorCode, number>();
  private readonly failures = new Map<string, number>();

  count(o: BatchOutcome): void {
    if (o.kind === 'derived') this.derived++;
    else if (o.kind === 'skipped') this.skipped++;
    else this.refused.set(o.code, (this.refused.get(o.code) ?? 0) + 1);
  }

  stepFailed(code: DerivationErrorCode | undefined): void {
    const key = code ?? 'other';
    this.failures.set(key, (this.failures.get(key) ?? 0) + 1);
  }

  snapshot(where: Pick<DerivationStatus, 'safe' | 'finalized' | 'invalidFrom'> & { l1Block: bigint | undefined; l1Head: bigint }): DerivationStatus {
    return {
      ...where,
      l1Head: where.l1Head < 0n ? undefined : where.l1Head,
      caughtUpAtMs: this.caughtUpAtMs,
      stopped: this.stopped,
      batchesDerived: this.derived,
      batchesRefused: new Map(this.refused),
      batchesSkipped: this.skipped,
      reorgs: this.reorgs,
      stepFailures: new Map(this.failures),
      recordsPruned: this.recordsPruned,
    };
  }
}
