/**
 * Which inferences of a batch go into which k-inference proof. Pure, so the rules are tested on
 * their own (test/unit/aggregate-plan.test.ts):
 *  - per model, in batch order, the inferences whose input is known are cut into runs of k;
 *    ceil(n / k) proofs cover n of them;
 *  - the last run, when short, is padded with repeats of its own last real input;
 *  - everything else (a model without an aggregate circuit, an input the poster does not know)
 *    keeps its own L2 proof.
 *
 * Why padding is sound: a padding slot is a second, independent proof-of-computation of an
 * inference that is already in the run, with the same input, so the circuit forces the same
 * packed outputs and input hash: the leaf then states one true fact twice, never a new one.
 * Nothing on L1 counts slots as inferences (the oracle stores one leaf per proof and states
 * "this key maps these signals"), and a consumer looks for the slot holding its own input hash,
 * so a repeat can neither forge nor hide a result. Padding with a fixed dummy input instead
 * would need a well-known input whose "result" then sits on L1 looking like a real inference.
 */
import type { Hex } from 'viem';
import { CodedError } from '../../precompiles/errors.ts';

export class AggregationPlanError extends CodedError {
  override readonly code = 'AGGREGATION_PLAN_ERROR';

  override name = 'AggregationPlanError';
}

export interface PlanItem {
  modelId: Hex;
  /** The inference's input when the poster knows it (uint8 values), else undefined. */
  input?: readonly number[];
}

export interface PlannedProof {
  modelId: Hex;
  k: number;
  /** Positions (in the planned list) of the real inferences, in slot order: slot s proves items[s]. */
  items: number[];
  /** Exactly k inputs: the items' inputs, then repeats of the last one. */
  inputs: number[][];
}

export interface AggregationPlan {
  aggregates: PlannedProof[];
  /** Positions that keep their single L2 proof, in input order. */
  singles: number[];
}

/** `kOf(modelId)`: the model's aggregate k (>= 2), or undefined when it has no aggregate circuit. */
export function planAggregation(items: readonly PlanItem[], kOf: (modelId: Hex) => number | undefined): AggregationPlan {
  const runs = new Map<string, { modelId: Hex; k: number; items: number[] }>();
  const singles: number[] = [];
  items.forEach((item, i) => {
    const k = kOf(item.modelId);
    if (k === undefined || item.input === undefined) {
      singles.push(i);
      return;
    }
    if (!Number.isInteger(k) || k < 2) throw new AggregationPlanError(`model ${item.modelId}: k = ${k}, an aggregate proof holds at least 2 inferences`);
    const key = item.modelId.toLowerCase();
    const run = runs.get(key) ?? { modelId: item.modelId, k, items: [] };
    run.items.push(i);
    runs.set(key, run);
  });
  const aggregates: PlannedProof[] = [];
  for (const run of runs.values()) {
    for (let at = 0; at < run.items.length; at += run.k) {
      const chunk = run.items.slice(at, at + run.k);
      const inputs = chunk.map((i) => [...items[i]!.input!]);
      while (inputs.length < run.k) inputs.push([...inputs[inputs.length - 1]!]);
      aggregates.push({ modelId: run.modelId, k: run.k, items: chunk, inputs });
    }
  }
  return { aggregates, singles };
}

/** Where each inference ended up: the proof (index into aggregates ++ singles) and, in an aggregate, its slot. */
export function placements(plan: AggregationPlan, count: number): { proof: number; slot?: number }[] {
  const out: { proof: number; slot?: number }[] = new Array(count);
  plan.aggregates.forEach((a, p) => a.items.forEach((item, slot) => (out[item] = { proof: p, slot })));
  plan.singles.forEach((item, j) => (out[item] = { proof: plan.aggregates.length + j }));
  return out;
}
