/** What the pool and its proving threads send each other (structured-clone data only). */
import type { InferenceProof } from '../pipeline/prove.ts';

export interface WorkerTask {
  id: number;
  /** A compiled model directory (`ai-rollup model compile --out`). */
  modelDir: string;
  input: number[];
}

export type WorkerReply =
  | { id: number; ok: true; result: InferenceProof }
  | { id: number; ok: false; error: { name: string; message: string } };

export interface WorkerReady {
  ready: true;
}
