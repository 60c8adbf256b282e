/**
 * The L1 transport's counters (node/l1/l1-transport.ts): every request the node's L1 clients
 * sent, by endpoint and method, what failed and how, what was retried, what the provider
 * rate-limited and how often the active endpoint changed. Mirrored from the transport's own
 * totals at scrape time, so the transport needs no registry.
 */
import { SEP } from '../l1/l1-rpc-stats.ts';
import type { L1RpcCounts } from '../l1/l1-rpc-stats.ts';
import type { Registry } from './registry.ts';

export function l1RpcMetrics(reg: Registry, stats: L1RpcCounts): void {
  const requests = reg.counter({
    name: 'ai_rollup_l1_requests_total',
    help: 'JSON-RPC requests sent to L1 (each attempt, retries included)',
    labels: ['endpoint', 'method'],
  });
  const errors = reg.counter({
    name: 'ai_rollup_l1_request_errors_total',
    help: 'Failed L1 request attempts, by kind (timeout, network, http, rate_limited, rpc: an error answer such as a revert)',
    labels: ['endpoint', 'method', 'kind'],
  });
  const retries = reg.counter({ name: 'ai_rollup_l1_request_retries_total', help: 'L1 request attempts after the first (transient failures)', labels: ['method'] });
  const limited = reg.counter({ name: 'ai_rollup_l1_rate_limited_total', help: 'Rate-limit answers from L1 (HTTP 429, -32005 and the like)', labels: ['endpoint'] });
  const switches = reg.counter({ name: 'ai_rollup_l1_endpoint_switches_total', help: 'Changes of the active L1 endpoint, by the endpoint switched to', labels: ['endpoint'] });
  reg.collect(() => {
    for (const [k, n] of stats.requests) {
      const [endpoint = '', method = ''] = k.split(SEP);
      requests.setTotal({ endpoint, method }, n);
    }
    for (const [k, n] of stats.errors) {
      const [endpoint = '', method = '', kind = ''] = k.split(SEP);
      errors.setTotal({ endpoint, method, kind }, n);
    }
    for (const [method, n] of stats.retries) retries.setTotal({ method }, n);
    for (const [endpoint, n] of stats.rateLimited) limited.setTotal({ endpoint }, n);
    for (const [endpoint, n] of stats.switches) switches.setTotal({ endpoint }, n);
  });
}
