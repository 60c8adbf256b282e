/** JSON-RPC request counts by method and outcome, and answer times, from the server's observer hook. */
import type { RpcResponse } from '../rpc/dispatch.ts';
import type { RpcObserver } from '../rpc/server.ts';
import type { Registry } from './registry.ts';

/** Seconds; JSON-RPC answers range from sub-millisecond reads to multi-second eth_getLogs and eth_call. */
const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export interface CallOutcome {
  method: string;
  /** `ok`, the JSON-RPC error code, or `notification` (no answer is sent, so its outcome is unknown). */
  code: string;
}

/**
 * One outcome per call of a message. Method names outside `known` become `unknown` (and
 * requests without a method `invalid`), so a client cannot grow the label set without bound.
 */
export function callOutcomes(body: unknown, response: RpcResponse | RpcResponse[] | undefined, known: ReadonlySet<string>): CallOutcome[] {
  const method = (req: unknown): string => {
    const m = typeof req === 'object' && req !== null && !Array.isArray(req) ? (req as { method?: unknown }).method : undefined;
    if (typeof m !== 'string') return 'invalid';
    return known.has(m) ? m : 'unknown';
  };
  const code = (r: RpcResponse | undefined): string => (r?.error === undefined ? 'ok' : String(r.error.code));
  // a single message goes unanswered only when it is a notification
  if (!Array.isArray(body)) return [{ method: method(body), code: response === undefined ? 'notification' : code(response as RpcResponse) }];
  // the dispatcher answers every call that has an id (or is malformed), in order, and nothing
  // else: when the count differs it refused the batch as a whole (empty, or over --rpc.max-batch)
  const answered = (req: unknown) => !(typeof req === 'object' && req !== null && !Array.isArray(req) && (req as { id?: unknown }).id === undefined);
  const responses = Array.isArray(response) ? response : response === undefined ? [] : [response];
  if (responses.length !== body.filter(answered).length) return [{ method: 'batch', code: code(responses[0]) }];
  let next = 0;
  return body.map((req) => ({ method: method(req), code: answered(req) ? code(responses[next++]) : 'notification' }));
}

export function rpcMetrics(reg: Registry, known: ReadonlySet<string>): RpcObserver {
  const requests = reg.counter({
    name: 'ai_rollup_rpc_requests_total',
    help: 'JSON-RPC calls by method and outcome (code: ok, the JSON-RPC error code, or notification); calls in a batch count one each',
    labels: ['method', 'code'],
  });
  const duration = reg.histogram({
    name: 'ai_rollup_rpc_request_duration_seconds',
    help: 'Seconds from receiving a JSON-RPC message to its answer, by method (method="batch" for a batch as a whole)',
    labels: ['method'],
    buckets: BUCKETS,
  });
  return {
    onMessage(body, response, seconds) {
      const calls = callOutcomes(body, response, known);
      for (const c of calls) requests.inc({ method: c.method, code: c.code });
      duration.observe({ method: Array.isArray(body) ? 'batch' : calls[0]!.method }, seconds);
    },
  };
}

/** What RPC clients hold open right now. */
export interface RpcLoad {
  filters: number;
  subscriptions: number;
  webSockets: number;
  /** Bytes of logs and hashes kept for filters and WebSocket queues (the --rpc.max-held-bytes budget). */
  heldBytes: number;
}

/** Gauges of the capped RPC resources, read at each scrape. */
export function rpcLoadMetrics(reg: Registry, load: () => RpcLoad): void {
  const gauge = (name: string, help: string) => reg.gauge({ name, help });
  const filters = gauge('ai_rollup_rpc_filters', 'Installed eth_newFilter/eth_newBlockFilter/eth_newPendingTransactionFilter filters');
  const subs = gauge('ai_rollup_rpc_subscriptions', 'Active eth_subscribe subscriptions');
  const sockets = gauge('ai_rollup_rpc_websocket_connections', 'Open JSON-RPC WebSocket connections');
  const held = gauge('ai_rollup_rpc_held_bytes', 'Bytes (estimate) of logs and hashes kept for unpolled filters and unsent WebSocket notifications');
  reg.collect(() => {
    const l = load();
    filters.set(undefined, l.filters);
    subs.set(undefined, l.subscriptions);
    sockets.set(undefined, l.webSockets);
    held.set(undefined, l.heldBytes);
  });
}
