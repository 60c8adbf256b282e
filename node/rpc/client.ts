import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Who sent the request being handled, for per-client caps: `ws:<n>` for a WebSocket connection,
 * `http:<ip>` for HTTP. Carried through the async call chain so the dispatcher and method
 * signatures stay as they are.
 */
const current = new AsyncLocalStorage<string>();

export const withClient = <T>(client: string, fn: () => T): T => current.run(client, fn);

/** The current request's client; `internal` outside a request (in-process callers). */
export const currentClient = (): string => current.getStore() ?? 'internal';
