/** Where a sealing node's block time goes: execution, sealing (roots, receipts), the atomic write. */
import type { Registry } from './registry.ts';

/** One sealed block's phases, in milliseconds. */
export interface SealTimes {
  execMs: number;
  sealMs: number;
  commitMs: number;
}

export interface SealSource {
  onSealed(f: (t: SealTimes) => void): () => void;
}

const BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5];

export function producerMetrics(reg: Registry, producer: SealSource): () => void {
  const phase = reg.histogram({
    name: 'ai_rollup_block_phase_seconds',
    help: 'Seconds each sealed block spent per phase: execute (transactions through the EVM), seal (state, transaction and receipt roots, the header), commit (the atomic LevelDB write)',
    labels: ['phase'],
    buckets: BUCKETS,
  });
  return producer.onSealed((t) => {
    phase.observe({ phase: 'execute' }, t.execMs / 1000);
    phase.observe({ phase: 'seal' }, t.sealMs / 1000);
    phase.observe({ phase: 'commit' }, t.commitMs / 1000);
  });
}
