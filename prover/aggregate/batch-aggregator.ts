/**
 * Turns the inferences a rollup batch accepted (each with its own L2 proof) into what the
 * inference poster submits to the L1 oracle: k-inference proofs (aggregate-circuit.ts) where the
 * model's package has an aggregate circuit and the inputs are known, each verified here before
 * anything is sent, and the L2 proofs of everything else. Any failure on the aggregate path
 * (no package, an unknown input, a prover error, a proof that does not verify) only sends the
 * affected inferences back to their L2 proofs, which always verify: aggregation saves gas, it is
 * never needed for a batch to be posted.
 *
 * An aggregate slot must state exactly what L2 accepted, so an inference is aggregated only when
 * the native executor, run on its input, gives the outputs the L2 proof showed (a registry key
 * is the owner's: nothing else ties it to the model's circuit).
 */
import type { Hex } from 'viem';
import type { Logger } from 'pino';
import { initMcl, verifyGroth16 } from '../../precompiles/groth16/verify.ts';
import { encodeOutputs } from '../circuit/generate.ts';
import { inputHash } from '../../precompiles/model/input-hash.ts';
import { runModel } from '../../precompiles/model/executor.ts';
import { shapeSize } from '../../precompiles/model/format.ts';
import { type LoadedModel, loadModelDir } from '../pipeline/prove.ts';
import { ProverPoolError } from '../worker/pool.ts';
import type { ProverPool } from '../worker/pool.ts';
import { readAggregateVk } from './aggregate-circuit.ts';
import type { AggregateManifest } from '../pipeline/manifest.ts';
import type { AggregatedBatch, FulfilledInference, InferenceProofInput } from '../../node/rollup/oracle-submission.ts';

import { type AggregationPlan, type PlannedProof, placements, planAggregation } from './plan.ts';

export interface BatchAggregatorDeps {
  /** The compiled model directory the node holds for a model id (its ArtifactStore). */
  modelDir(modelId: Hex): Promise<string | undefined>;
  /** A private input handed to the node (JobInputs), when still held. */
  jobInput(requestId: bigint): readonly number[] | undefined;
  prover: Pick<ProverPool, 'proveAggregate'>;
  logger: Logger;
}

interface AggregateModel {
  dir: string;
  loaded: LoadedModel;
  agg: AggregateManifest;
  vk: Uint8Array;
}

/** The input of `x` when it can be proved again: public signals, or a held private input matching its hash. */
export function knownInput(x: FulfilledInference, m: LoadedModel, jobInput: BatchAggregatorDeps['jobInput']): number[] | undefined {
  const n = shapeSize(m.model.inputShape);
  let input: number[] | undefined;
  const held = x.inputSignals.length === 1 ? jobInput(x.requestId) : undefined;
  if (held !== undefined && held.length === n && held.every((v) => Number.isInteger(v) && v >= 0 && v <= 255) && inputHash(held) === x.inputSignals[0]) input = [...held];
  else if (x.inputSignals.length === n && x.inputSignals.every((v) => v >= 0n && v <= 255n)) input = x.inputSignals.map(Number);
  if (input === undefined) return undefined;
  const out = encodeOutputs(m.model, Array.from(runModel(m.model, input).output));
  return out.length === x.outputs.length && out.every((v, i) => v === x.outputs[i]) ? input : undefined;
}

export class BatchAggregator {
  constructor(private readonly deps: BatchAggregatorDeps) {}

  async aggregate(items: readonly FulfilledInference[]): Promise<AggregatedBatch> {
    const models = await this.models(items);
    const plan = planAggregation(
      items.map((x) => {
        const m = models.get(x.modelId.toLowerCase());
        return { modelId: x.modelId, input: m === undefined ? undefined : knownInput(x, m.loaded, this.deps.jobInput) };
      }),
      (id) => models.get(id.toLowerCase())?.agg.k,
    );
    const proved = await Promise.all(plan.aggregates.map((p) => this.prove(p, models.get(p.modelId.toLowerCase())!)));
    // a run that failed goes back to its L2 proofs
    const kept: AggregationPlan = { aggregates: [], singles: [...plan.singles] };
    const proofs: InferenceProofInput[] = [];
    plan.aggregates.forEach((p, i) => {
      const proof = proved[i];
      if (proof === undefined) kept.singles.push(...p.items);
      else {
        kept.aggregates.push(p);
        proofs.push(proof);
      }
    });
    kept.singles.sort((a, b) => a - b);
    proofs.push(...kept.singles.map((i) => items[i]!.single));
    const placement = placements(kept, items.length);
    const aggregated = kept.aggregates.reduce((n, a) => n + a.items.length, 0);
    return { proofs, placement, aggregateProofs: kept.aggregates.length, aggregated };
  }

  /** The batch's models whose packages hold a usable aggregate circuit, by lowercase id. */
  private async models(items: readonly FulfilledInference[]): Promise<Map<string, AggregateModel>> {
    const out = new Map<string, AggregateModel>();
    for (const id of new Set(items.map((x) => x.modelId.toLowerCase()))) {
      const dir = await this.deps.modelDir(id as Hex);
      if (dir === undefined) continue;
      try {
        const loaded = loadModelDir(dir);
        const agg = loaded.manifest.aggregate;
        if (agg === undefined || loaded.manifest.modelId.toLowerCase() !== id) continue;
        out.set(id, { dir, loaded, agg, vk: readAggregateVk(dir, agg) });
      } catch (err) {
        this.deps.logger.warn({ modelId: id, dir, err: (err as Error).message }, 'model package unusable for aggregate proofs; its inferences keep their own proofs');
      }
    }
    return out;
  }

  /** The proof of one planned run, verified; undefined when it could not be made or does not verify. */
  private async prove(p: PlannedProof, m: AggregateModel): Promise<InferenceProofInput | undefined> {
    try {
      const proof = await this.deps.prover.proveAggregate(m.dir, p.k, p.inputs);
      await initMcl();
      const r = verifyGroth16(
        m.vk,
        proof.publicSignals.map(BigInt),
        proof.proofWords.map((w) => BigInt(w)),
      );
      if (r.kind !== 'ok' || !r.valid) {
        this.deps.logger.error({ modelId: p.modelId, result: r }, 'aggregate proof does not verify against the package key; its inferences keep their own proofs');
        return undefined;
      }
      return { vk: m.vk, modelId: p.modelId, publicSignals: proof.publicSignals, proofWords: proof.proofWords };
    } catch (err) {
      // a closing pool means the poster is stopping: the step ends, nothing is sent
      if (err instanceof ProverPoolError && err.code === 'POOL_CLOSED') throw err;
      this.deps.logger.warn({ modelId: p.modelId, err: (err as Error).message }, 'aggregate proof failed; its inferences keep their own proofs');
      return undefined;
    }
  }
}

/**
 * The aggregation a node's inference poster gets injected: a BatchAggregator on its own proving
 * threads. The threads start on the first aggregate proof, so a node whose models have none pays
 * nothing; `close` fails a proof in progress at once.
 */
export function posterAggregation(deps: Omit<BatchAggregatorDeps, 'prover'> & { threads: number }): { aggregate: BatchAggregator['aggregate']; close(): Promise<void> } {
  let pool: ProverPool | undefined;
  const provingPool = async () => {
    const { ProverPool: Pool } = await import('../worker/pool.ts');
    pool ??= new Pool({ concurrency: deps.threads }, { logger: deps.logger.child({ module: 'inference-poster:prover' }) });
    return pool;
  };
  const aggregator = new BatchAggregator({ ...deps, prover: { proveAggregate: async (dir, k, inputs) => (await provingPool()).proveAggregate(dir, k, inputs) } });
  return {
    aggregate: (items) => aggregator.aggregate(items),
    close: async () => {
      await pool?.close();
    },
  };
}
