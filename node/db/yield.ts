/**
 * A cooperative yield for long chains of in-memory work. Reads that hit a cache resolve as
 * microtasks, which never let timers or sockets in: an eth_getProof of a thousand cached slots, or
 * a read-heavy call, would otherwise hold the event loop from its first read to its last. After
 * SLICE_MS of such work, the next caller waits one macrotask.
 */
const SLICE_MS = 5;
let sliceStart = Date.now();

/** A promise to await when the current slice is used up; undefined (no wait) otherwise. */
export function maybeYield(): Promise<void> | undefined {
  const now = Date.now();
  if (now - sliceStart < SLICE_MS) return undefined;
  return new Promise<void>((resolve) =>
    setImmediate(() => {
      sliceStart = Date.now();
      resolve();
    }),
  );
}
