/**
 * File order for `vitest run`: vitest's own (failed first, then longest or largest first), with
 * the files that prove with snarkjs spread out over the run. Two of them side by side on the two
 * CI cores take twice as long each (the provers and the poster's aggregation share the CPU), and
 * longest-first puts exactly those side by side at the start.
 */
import { BaseSequencer } from 'vitest/node';
import type { TestSpecification } from 'vitest/node';

const PROVING = [
  'test/e2e/prover-network.test.ts',
  'test/e2e/inference-aggregation.test.ts',
  'test/e2e/prover-faults.test.ts',
  'test/e2e/prover.test.ts',
  'test/unit/batch-aggregator.test.ts',
  'test/e2e/cli-model.test.ts',
];

export class SpreadProvingSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const isProving = (f: TestSpecification) => PROVING.some((p) => f.moduleId.endsWith(p));
    const proving = sorted.filter(isProving);
    const rest = sorted.filter((f) => !isProving(f));
    if (proving.length === 0) return sorted;
    const gap = Math.max(1, Math.floor(rest.length / proving.length));
    const out: TestSpecification[] = [];
    proving.forEach((f, i) => {
      out.push(f, ...rest.slice(i * gap, i === proving.length - 1 ? rest.length : (i + 1) * gap));
    });
    return out;
  }
}
