// Entry of the sender-recovery thread: the TypeScript worker through tsx, or its bundled copy.
import { loadWorker } from '../worker-load.mjs';

await loadWorker('sender-recovery', new URL('./sender-recovery-worker.ts', import.meta.url).href);
