// Entry of the sender-recovery thread: worker threads do not inherit the parent's tsx loader on
// Node 20, so it is registered here before the TypeScript worker loads.
import { register } from 'tsx/esm/api';

register();
await import('./sender-recovery-worker.ts');
