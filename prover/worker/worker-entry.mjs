// Entry of a proving thread. Two things must happen before the TypeScript worker loads:
// - worker threads do not inherit the parent's tsx loader on Node 20: loadWorker registers it (or
//   loads the worker's bundled copy when the process runs the CLI bundle);
// - snarkjs (through ffjavascript) loads the `web-worker` package, which, in any thread that is
//   not the main one, assumes it is one of its own web workers and takes the thread over (it
//   reads workerData.mod and crashes). This thread only ever uses a single-threaded curve and
//   never starts web workers, so it is shown the main-thread face of that package.
import { createRequire } from 'node:module';
import { loadWorker } from '../../node/worker-load.mjs';

const threads = createRequire(import.meta.url)('node:worker_threads');
Object.defineProperty(threads, 'isMainThread', { value: true });
await loadWorker('prove', new URL('./prove-worker.ts', import.meta.url).href);
