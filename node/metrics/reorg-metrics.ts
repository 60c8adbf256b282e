/**
 * The sequencer's L1 reorgs: how often its L1 watcher saw the blocks it handed out replaced,
 * and what the reorg handler rewound on L2 because of them (sequencer/l1-reorg.ts).
 */
import type { Registry } from './registry.ts';

export interface ReorgSource {
  /** L1 reorgs the watcher saw under its handed-out tips. */
  l1Reorgs(): number;
  /** L2 rewinds done and L2 blocks dropped by them. */
  rewinds(): number;
  blocksDropped(): bigint;
}

export function reorgMetrics(reg: Registry, src: ReorgSource): void {
  const l1 = reg.counter({ name: 'ai_rollup_sequencer_l1_reorgs_total', help: "L1 reorgs the sequencer's L1 watcher saw under the L1 blocks it had taken" });
  const rewinds = reg.counter({ name: 'ai_rollup_sequencer_l2_rewinds_total', help: 'L2 rewinds the sequencer did because an L1 origin of its blocks was reorged out' });
  const dropped = reg.counter({ name: 'ai_rollup_sequencer_l2_blocks_rewound_total', help: 'L2 blocks those rewinds took off the chain (built again on the new L1 chain)' });
  reg.collect(() => {
    l1.setTotal(undefined, src.l1Reorgs());
    rewinds.setTotal(undefined, src.rewinds());
    dropped.setTotal(undefined, Number(src.blocksDropped()));
  });
}
