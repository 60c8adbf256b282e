/**
 * One proving thread of the pool (started through worker-entry.mjs, which loads tsx first).
 * It proves one task at a time with a single-threaded BN254 curve, so the pool's concurrency is
 * exactly the number of cores it takes.
 */
import { parentPort } from 'node:worker_threads';
import { proveModelAggregate } from '../aggregate/aggregate-circuit.ts';
import { loadModelDir, proveInference } from '../pipeline/prove.ts';
import type { LoadedModel } from '../pipeline/prove.ts';
import { pinSingleThreadCurve } from '../setup/snarkjs-curve.ts';
import type { WorkerReply, WorkerTask } from './messages.ts';

if (parentPort === null) throw new Error('prove-worker.ts runs only as a worker thread');
const port = parentPort;

// a prover fulfils many jobs of the same few models: parse each model directory once
const models = new Map<string, LoadedModel>();

async function handle(task: WorkerTask): Promise<WorkerReply> {
  try {
    let m = models.get(task.modelDir);
    if (m === undefined) {
      m = loadModelDir(task.modelDir);
      models.set(task.modelDir, m);
    }
    const result = task.kind === 'aggregate' ? await proveModelAggregate(m, task.k, task.inputs) : await proveInference(m, task.input);
    return { id: task.id, ok: true, result };
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    return { id: task.id, ok: false, error: { name: e.name, message: e.message } };
  }
}

await pinSingleThreadCurve();
port.on('message', (task: WorkerTask) => {
  void handle(task).then((reply) => port.postMessage(reply));
});
port.postMessage({ ready: true });
