/**
 * A deriving replica's derivation from L1 (node/derivation): where it is on L1 and how far
 * behind L1's head, the safe and finalized heads it derived, batches derived, refused and
 * skipped, L1 reorgs unwound and their depth, failed steps. Read from Derivation.status() and its
 * onReorg event, so derivation stays free of metrics; health() feeds the DERIVATION_* rules.
 */
import type { DerivationReorg, DerivationStatus } from '../derivation/derivation-status.ts';
import type { DerivationHealth } from './health.ts';
import type { Registry } from './registry.ts';

export interface DerivationSource {
  status(): DerivationStatus;
  onReorg(listener: (r: DerivationReorg) => void): () => void;
}

export interface DerivationWatch {
  health(): DerivationHealth;
  stop(): void;
}

const DEPTH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128];

const num = (v: bigint | undefined): number => (v === undefined ? -1 : Number(v));

export function derivationMetrics(reg: Registry, src: DerivationSource): DerivationWatch {
  const g = (name: string, help: string) => reg.gauge({ name: `ai_rollup_derivation_${name}`, help });
  const c = (name: string, help: string) => reg.counter({ name: `ai_rollup_derivation_${name}`, help });
  const l1Block = g('l1_block', 'Last L1 block derivation processed (its checkpoint); -1 before the first');
  const l1Head = g('l1_head', "L1's head as derivation last read it; -1 before the first read");
  const lag = g('l1_lag_blocks', "L1 blocks between L1's head and the last one derivation processed");
  const safe = g('safe_head_number', 'Last L2 block derived from L1 (the safe tag)');
  const finalized = g('finalized_head_number', "Last L2 block derived from L1 blocks at or below L1's finalized block (the finalized tag)");
  const invalidFrom = g('invalid_from', 'First L2 block of a batch derivation refused, while no valid batch took its place (outputs at or above it are wrong); -1 while none');
  const stopped = g('stopped', '1 when derivation stopped for good (WRONG_L1, REORG_TOO_DEEP), else 0');
  const derived = c('batches_derived_total', 'Batches derived from L1 since start');
  const invalid = reg.counter({ name: 'ai_rollup_derivation_batches_invalid_total', help: 'Batches refused as invalid since start, by reason', labels: ['code'] });
  const skipped = c('batches_skipped_total', 'Batches skipped since start because they extend a refused one');
  const reorgs = c('l1_reorgs_total', 'L1 reorgs derivation unwound since start');
  const depth = reg.histogram({ name: 'ai_rollup_derivation_l1_reorg_depth_blocks', help: 'L1 blocks each unwound L1 reorg took back', buckets: DEPTH_BUCKETS });
  const failures = reg.counter({
    name: 'ai_rollup_derivation_step_failures_total',
    help: 'Derivation steps that failed and were retried from the checkpoint, by error code (other: not a derivation error, e.g. L1 unreachable)',
    labels: ['code'],
  });
  const pruned = c('records_pruned_total', "Per-L1-block checkpoint records deleted below L1's finalized block since start");
  const unsubscribe = src.onReorg((r) => depth.observe(undefined, Number(r.depth)));
  reg.collect(() => {
    const s = src.status();
    l1Block.set(undefined, num(s.l1Block));
    l1Head.set(undefined, num(s.l1Head));
    lag.set(undefined, lagOf(s));
    safe.set(undefined, Number(s.safe));
    finalized.set(undefined, Number(s.finalized));
    invalidFrom.set(undefined, num(s.invalidFrom));
    stopped.set(undefined, s.stopped === undefined ? 0 : 1);
    derived.setTotal(undefined, s.batchesDerived);
    for (const [code, n] of s.batchesRefused) invalid.setTotal({ code }, n);
    skipped.setTotal(undefined, s.batchesSkipped);
    reorgs.setTotal(undefined, s.reorgs);
    for (const [code, n] of s.stepFailures) failures.setTotal({ code }, n);
    pruned.setTotal(undefined, s.recordsPruned);
  });
  return {
    health() {
      const s = src.status();
      return {
        l1Block: num(s.l1Block),
        l1Head: num(s.l1Head),
        lagBlocks: lagOf(s),
        ...(s.caughtUpAtMs !== undefined ? { caughtUpAtMs: s.caughtUpAtMs } : {}),
        safe: Number(s.safe),
        finalized: Number(s.finalized),
        ...(s.invalidFrom !== undefined ? { invalidFrom: Number(s.invalidFrom) } : {}),
        ...(s.stopped !== undefined ? { stopped: s.stopped } : {}),
      };
    },
    stop: unsubscribe,
  };
}

function lagOf(s: DerivationStatus): number {
  if (s.l1Head === undefined) return 0;
  const done = s.l1Block ?? -1n;
  return s.l1Head > done ? Number(s.l1Head - done) : 0;
}
