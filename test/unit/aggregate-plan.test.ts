import { describe, expect, it } from 'vitest';
import type { Hex } from 'viem';
import { AggregationPlanError, placements, planAggregation } from '../../prover/aggregate/plan.ts';
import type { PlanItem } from '../../prover/aggregate/plan.ts';

const A = `0x${'aa'.repeat(32)}` as Hex;
const B = `0x${'bb'.repeat(32)}` as Hex;
const C = `0x${'cc'.repeat(32)}` as Hex;
const input = (n: number) => [n, n + 1, n + 2];
const k4 = (id: Hex) => (id === A ? 4 : id === B ? 2 : undefined);

describe('aggregation planning', () => {
  it('cuts each model into runs of k in batch order; ceil(n/k) proofs cover n inferences', () => {
    const items: PlanItem[] = Array.from({ length: 9 }, (_, i) => ({ modelId: A, input: input(i) }));
    const plan = planAggregation(items, k4);
    expect(plan.aggregates.map((p) => p.items)).toEqual([[0, 1, 2, 3], [4, 5, 6, 7], [8]]);
    expect(plan.aggregates.every((p) => p.k === 4 && p.inputs.length === 4)).toBe(true);
    expect(plan.singles).toEqual([]);
    expect(plan.aggregates[1]!.inputs).toEqual([4, 5, 6, 7].map(input));
  });

  it('pads a short last run with repeats of its own last real input', () => {
    const items: PlanItem[] = [0, 1, 2, 3, 4, 5].map((i) => ({ modelId: A, input: input(i) }));
    const last = planAggregation(items, k4).aggregates[1]!;
    expect(last.items).toEqual([4, 5]);
    expect(last.inputs).toEqual([input(4), input(5), input(5), input(5)]);
    // a run of one is padded with itself
    expect(planAggregation([{ modelId: A, input: input(7) }], k4).aggregates[0]!.inputs).toEqual([input(7), input(7), input(7), input(7)]);
  });

  it('keeps single proofs for unknown inputs and for models without an aggregate circuit; models never mix', () => {
    const items: PlanItem[] = [
      { modelId: A, input: input(0) },
      { modelId: C, input: input(1) }, // no aggregate circuit
      { modelId: A }, // input unknown (a private input lost in a restart)
      { modelId: B, input: input(3) },
      { modelId: A, input: input(4) },
      { modelId: B, input: input(5) },
      { modelId: B, input: input(6) },
    ];
    const plan = planAggregation(items, k4);
    expect(plan.singles).toEqual([1, 2]);
    expect(plan.aggregates.map((p) => [p.modelId, p.items])).toEqual([
      [A, [0, 4]],
      [B, [3, 5]],
      [B, [6]],
    ]);
    expect(plan.aggregates[0]!.inputs).toEqual([input(0), input(4), input(4), input(4)]);
    expect(plan.aggregates[2]!.inputs).toEqual([input(6), input(6)]);
    // every inference is placed exactly once: aggregates first (with a slot), then singles
    expect(placements(plan, items.length)).toEqual([
      { proof: 0, slot: 0 },
      { proof: 3 },
      { proof: 4 },
      { proof: 1, slot: 0 },
      { proof: 0, slot: 1 },
      { proof: 1, slot: 1 },
      { proof: 2, slot: 0 },
    ]);
  });

  it('model ids match whatever their case; everything single when nothing aggregates; k < 2 is refused', () => {
    const upper = `0x${'AA'.repeat(32)}` as Hex;
    const plan = planAggregation(
      [
        { modelId: A, input: input(0) },
        { modelId: upper, input: input(1) },
      ],
      (id) => (id.toLowerCase() === A ? 4 : undefined),
    );
    expect(plan.aggregates.map((p) => p.items)).toEqual([[0, 1]]);
    expect(planAggregation([{ modelId: A, input: input(0) }], () => undefined)).toEqual({ aggregates: [], singles: [0] });
    expect(planAggregation([], k4)).toEqual({ aggregates: [], singles: [] });
    expect(() => planAggregation([{ modelId: A, input: input(0) }], () => 1)).toThrow(AggregationPlanError);
  });
});
