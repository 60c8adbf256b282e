/**
 * Output-root checks of an L1-deriving replica (node/derivation/challenger.ts): how many outputs
 * on L1 differ from the derived chain's, and the first one found, read from the challenger's
 * events and status() so the challenger stays free of metrics.
 */
import type { Challenger } from '../derivation/challenger.ts';
import type { Registry } from './registry.ts';

export function challengerMetrics(reg: Registry, challenger: Pick<Challenger, 'status' | 'onMismatch'>): () => void {
  const mismatches = reg.counter({
    name: 'ai_rollup_output_mismatches_total',
    help: 'Output roots on L1 that differ from the one this replica derived for the same L2 block, since start',
  });
  const first = reg.gauge({ name: 'ai_rollup_output_mismatch_first_index', help: 'Lowest Rollup output index found wrong since start; -1 while none' });
  const failing = reg.gauge({ name: 'ai_rollup_challenger_failing', help: "1 while the challenger's last L1 step failed (it retries), else 0" });
  const unsubscribe = challenger.onMismatch(() => mismatches.inc());
  reg.collect(() => {
    const s = challenger.status();
    first.set(undefined, s.firstMismatchIndex === undefined ? -1 : Number(s.firstMismatchIndex));
    failing.set(undefined, s.lastError === undefined ? 0 : 1);
  });
  return unsubscribe;
}
