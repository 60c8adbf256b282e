/**
 * Rollup-mode metrics: what L1 holds (safe and finalized heads, batches, outputs), what this
 * node's batcher, proposer and inference poster got accepted, and whether L1 answers. Read from
 * RollupStatus.snapshot, the services' status() and their events.
 */
import type { RollupStatus } from '../l1/rollup-status.ts';
import type { L1Health } from './health.ts';
import type { L1Probe } from './l1-probe.ts';
import type { Registry } from './registry.ts';

/** What metrics read of an L1 poster (the sequencer's batcher and proposer): the last step's error. */
export interface PosterStatus {
  lastError: string | undefined;
}

/** The L1 side as metrics see it; the sequencer's posters are present only on a sequencer with their keys. */
export interface L1MetricsDeps {
  status: Pick<RollupStatus, 'snapshot'>;
  probe: L1Probe;
  batcher?: { status(): PosterStatus; onBatchConfirmed(l: () => void): () => void };
  proposer?: { status(): PosterStatus; onProposed(l: () => void): () => void };
  poster?: { onPosted(l: (p: { proofs: number }) => void): () => void };
  /** Bridge deposits consumed as of the head (the L1Block predeploy's count). */
  depositsConsumed(): Promise<bigint>;
}

export interface L1Watch {
  health(): L1Health;
  stop(): void;
}

export function l1Metrics(reg: Registry, deps: L1MetricsDeps): L1Watch {
  const g = (name: string, help: string) => reg.gauge({ name, help });
  const up = g('ai_rollup_l1_up', '1 when the last eth_blockNumber probe of L1 answered, else 0');
  const l1Head = g('ai_rollup_l1_head_number', 'Latest L1 block number the probe saw');
  const errors = reg.counter({ name: 'ai_rollup_l1_errors_total', help: 'Failed L1 probes (unreachable, timed out, or a malformed answer) since start' });
  const failing = reg.gauge({ name: 'ai_rollup_l1_service_failing', help: "1 while the L1 service's last step failed (it retries), else 0", labels: ['service'] });
  const safe = g('ai_rollup_safe_head_number', 'Newest L2 block in a batch accepted on L1 (the safe tag)');
  const finalized = g('ai_rollup_finalized_head_number', 'Newest L2 block covered by an output past its challenge window (the finalized tag)');
  const batches = g('ai_rollup_l1_batches', 'Batches the Rollup contract holds');
  const outputs = g('ai_rollup_l1_outputs', 'Output roots the Rollup contract holds');
  const consumed = g('ai_rollup_deposits_consumed', 'Bridge deposits consumed by the L2 chain as of the head');
  const posted = reg.counter({ name: 'ai_rollup_batches_posted_total', help: "Batches confirmed on L1 while this node's batcher ran" });
  const proposed = reg.counter({ name: 'ai_rollup_outputs_proposed_total', help: "Output roots this node's proposer got accepted on L1" });
  const inferenceBatches = reg.counter({
    name: 'ai_rollup_inference_batches_posted_total',
    help: "Batches whose inference proofs this node's inference poster submitted to the InferenceOracle",
  });
  const inferenceProofs = reg.counter({ name: 'ai_rollup_inference_proofs_posted_total', help: 'Proofs (leaves) in those submissions' });

  const unsubscribe = [
    deps.batcher?.onBatchConfirmed(() => posted.inc()),
    deps.proposer?.onProposed(() => proposed.inc()),
    deps.poster?.onPosted((p) => {
      inferenceBatches.inc();
      inferenceProofs.inc(undefined, p.proofs);
    }),
  ];
  reg.collect(async () => {
    const s = deps.status.snapshot;
    up.set(undefined, deps.probe.reachable === true ? 1 : 0);
    l1Head.set(undefined, Number(deps.probe.head ?? s.l1Head));
    errors.setTotal(undefined, deps.probe.failures);
    safe.set(undefined, Number(s.safeBlock));
    finalized.set(undefined, Number(s.finalizedBlock));
    batches.set(undefined, Number(s.batchCount));
    outputs.set(undefined, s.outputs.length);
    if (deps.batcher !== undefined) failing.set({ service: 'batcher' }, deps.batcher.status().lastError === undefined ? 0 : 1);
    if (deps.proposer !== undefined) failing.set({ service: 'proposer' }, deps.proposer.status().lastError === undefined ? 0 : 1);
    consumed.set(undefined, Number(await deps.depositsConsumed()));
  });
  return {
    health() {
      const s = deps.status.snapshot;
      return {
        reachable: deps.probe.reachable,
        downSeconds: deps.probe.downSeconds(),
        ...(deps.probe.lastError !== undefined ? { lastError: deps.probe.lastError } : {}),
        ...(deps.probe.head !== undefined ? { head: Number(deps.probe.head) } : {}),
        safe: Number(s.safeBlock),
        finalized: Number(s.finalizedBlock),
        batches: Number(s.batchCount),
        outputs: s.outputs.length,
        ...optional('batcherError', deps.batcher?.status().lastError),
        ...optional('proposerError', deps.proposer?.status().lastError),
      };
    },
    stop() {
      for (const u of unsubscribe) u?.();
    },
  };
}

const optional = <K extends string>(key: K, v: string | undefined): Partial<Record<K, string>> => (v === undefined ? {} : ({ [key]: v } as Record<K, string>));
