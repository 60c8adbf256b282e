/**
 * Counts of the L1 transport (requests, errors, retries, rate-limited answers, endpoint switches)
 * kept as plain numbers, so node/l1 does not depend on the metrics registry: node/metrics reads
 * them at scrape time. Labelled by endpoint (host only: provider URLs carry API keys in their
 * path) and JSON-RPC method, both small fixed sets.
 */

export type L1ErrorKind = 'timeout' | 'network' | 'http' | 'rate_limited' | 'rpc';

export interface L1RpcCounts {
  /** Requests sent (each attempt, retries included), by endpoint and method. */
  requests: Map<string, number>;
  /** Failed attempts, by endpoint, method and kind. */
  errors: Map<string, number>;
  /** Attempts after the first, by method. */
  retries: Map<string, number>;
  /** Rate-limit answers (HTTP 429, -32005 ...), by endpoint. */
  rateLimited: Map<string, number>;
  /** Switches of the active endpoint, by the endpoint switched to. */
  switches: Map<string, number>;
}

/** Map keys join label values with this (a character no host or method name has). */
export const SEP = '\u0000';

export class L1RpcStats implements L1RpcCounts {
  readonly requests = new Map<string, number>();
  readonly errors = new Map<string, number>();
  readonly retries = new Map<string, number>();
  readonly rateLimited = new Map<string, number>();
  readonly switches = new Map<string, number>();

  request(endpoint: string, method: string): void {
    bump(this.requests, `${endpoint}${SEP}${method}`);
  }

  error(endpoint: string, method: string, kind: L1ErrorKind): void {
    bump(this.errors, `${endpoint}${SEP}${method}${SEP}${kind}`);
    if (kind === 'rate_limited') bump(this.rateLimited, endpoint);
  }

  retry(method: string): void {
    bump(this.retries, method);
  }

  switched(to: string): void {
    bump(this.switches, to);
  }
}

function bump(m: Map<string, number>, key: string): void {
  m.set(key, (m.get(key) ?? 0) + 1);
}

/** The label of an endpoint URL: its host (and port), never its path, query or credentials. */
export function endpointLabel(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return 'invalid-url';
  }
}
