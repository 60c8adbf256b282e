/**
 * What a method needs to know of the JSON-RPC request it serves, passed to it by the dispatcher:
 * who sent it, for per-client caps (`ws:<n>` for a WebSocket connection, `http:<ip>` for HTTP,
 * `internal` for in-process callers), and when it ends (an HTTP body or a WebSocket message, a
 * whole batch being one request), so that work it queued (eth_call waiting for a slot) is never
 * started after it: geth answers such calls "request timed out".
 *
 * Passed explicitly rather than through AsyncLocalStorage: once any AsyncLocalStorage is in use,
 * Node runs a hook on every promise the process creates, and the EVM creates several per opcode
 * (measured: ERC-20 block execution 20-50% slower with one active).
 */
export interface RequestScope {
  readonly client: string;
  /** Epoch milliseconds at which the request ends. */
  readonly deadline: number;
}

export function requestScope(client: string, timeoutMs: number): RequestScope {
  return { client, deadline: Date.now() + timeoutMs };
}
