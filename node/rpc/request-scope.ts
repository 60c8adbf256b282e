import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * The end of the JSON-RPC request being handled (an HTTP body or a WebSocket message, a whole
 * batch being one request), carried through the async chain so that work a request queued (eth_call
 * waiting for a slot) is never started after it: geth answers such calls "request timed out".
 */
const scope = new AsyncLocalStorage<{ deadline: number }>();

export const withRequestDeadline = <T>(timeoutMs: number, fn: () => T): T => scope.run({ deadline: Date.now() + timeoutMs }, fn);

/** Epoch milliseconds at which the current request ends; Infinity outside a request. */
export const requestDeadline = (): number => scope.getStore()?.deadline ?? Number.POSITIVE_INFINITY;
