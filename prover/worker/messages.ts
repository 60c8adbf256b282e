/** What the pool and its proving threads send each other (structured-clone data only). */
import type { AggregateProof } from '../aggregate/aggregate-circuit.ts';
import type { InferenceProof } from '../pipeline/prove.ts';

/** One inference with the model's single-inference circuit. */
export interface SingleTask {
  kind: 'single';
  id: number;
  /** A compiled model directory (`ai-rollup model compile --out`). */
  modelDir: string;
  input: number[];
}

/** k inferences of one model in one proof, with the directory's agg<k> circuit (`--aggregate K`). */
export interface AggregateTask {
  kind: 'aggregate';
  id: number;
  modelDir: string;
  k: number;
  inputs: number[][];
}

export type WorkerTask = SingleTask | AggregateTask;

/** What each task kind resolves to. */
export interface TaskResults {
  single: InferenceProof;
  aggregate: AggregateProof;
}

export type WorkerReply = { id: number; ok: true; result: TaskResults[WorkerTask['kind']] } | { id: number; ok: false; error: { name: string; message: string } };

export interface WorkerReady {
  ready: true;
}
