/**
 * The one transport of every L1 client of the node (public and wallet): viem's HTTP transport
 * wrapped with a per-request timeout, retries with exponential backoff and full jitter for
 * transient failures only (a revert or a bad nonce answers the same however often it is asked),
 * Retry-After honoured, fallback endpoints, and a requests-per-second bound shared by all clients.
 * A resent eth_sendRawTransaction whose first reply was lost is recognised by its hash, so a lost
 * reply never makes a caller sign a second transaction for the same nonce.
 */
import type { Logger } from 'pino';
import { HttpRequestError, RpcRequestError, TimeoutError, custom, keccak256 } from 'viem';
import type { Hex, Transport } from 'viem';
import { Endpoints, L1EndpointError } from './l1-endpoints.ts';
import { L1RpcStats } from './l1-rpc-stats.ts';
import type { L1ErrorKind } from './l1-rpc-stats.ts';
import { errorChain, errorText, httpStatus, isRateLimited, isTransient, retryAfterMs } from './rpc-errors.ts';
import { TokenBucket } from './token-bucket.ts';

export interface L1TransportOptions {
  /** Endpoints tried in order when the primary keeps failing. */
  fallbacks: string[];
  /** One attempt's limit (ms). */
  timeoutMs: number;
  /** Attempts after the first for a transient failure (0: none). */
  retries: number;
  /** Requests per second over all L1 clients of the node, retries included; 0: unbounded. */
  maxRps: number;
  /** First backoff ceiling (ms); it doubles per attempt, the wait is uniform below it (full jitter). */
  backoffMs: number;
  maxBackoffMs: number;
  /** A longer Retry-After is cut to this (ms): the caller's own loop takes over. */
  maxRetryAfterMs: number;
  /** Failed attempts in a row before the next endpoint takes over. */
  failoverAfter: number;
  /** Time on a fallback before the primary is tried again (ms). */
  primaryRetryMs: number;
}

/**
 * maxRps 0: a node's own L1 node or anvil has no limit, and a provider's 429s are retried
 * after their Retry-After anyway; operators of a metered endpoint set it to their plan.
 */
export const defaultL1TransportOptions: L1TransportOptions = {
  fallbacks: [],
  timeoutMs: 10_000,
  retries: 3,
  maxRps: 0,
  backoffMs: 250,
  maxBackoffMs: 8_000,
  maxRetryAfterMs: 30_000,
  failoverAfter: 3,
  primaryRetryMs: 60_000,
};

const ALREADY_SENT = /already known|known transaction|already exists|already_exists|already imported|already in (the )?(tx|transaction)? ?pool/i;
const NONCE_USED = /nonce too low|nonce is too low|nonce has already been used|oldnonce/i;
/** Sent on ambiguous failures, these could act twice (the node signs and picks the nonce). */
const NOT_IDEMPOTENT = new Set(['eth_sendTransaction', 'eth_signTransaction']);

type RequestArgs = { method: string; params?: unknown };

export class L1Rpc {
  readonly stats = new L1RpcStats();
  readonly options: L1TransportOptions;
  private readonly bucket: TokenBucket;
  private readonly endpoints: Endpoints;

  /** `chainId`: what fallbacks must serve (each is checked before its first use). */
  constructor(
    url: string,
    options: Partial<L1TransportOptions> & { chainId?: bigint } = {},
    private readonly logger?: Logger,
  ) {
    this.options = { ...defaultL1TransportOptions, ...stripUndefined(options) };
    const o = this.options;
    this.bucket = new TokenBucket(o.maxRps);
    this.endpoints = new Endpoints(
      [url, ...o.fallbacks],
      { timeoutMs: o.timeoutMs, failoverAfter: o.failoverAfter, primaryRetryMs: o.primaryRetryMs, chainId: options.chainId },
      this.stats,
      this.bucket,
      logger,
    );
  }

  /** A viem transport for createPublicClient/createWalletClient; every client shares this one's bound and endpoints. */
  transport(): Transport {
    // viem's own retries off: ours know which failures are transient
    return custom({ request: (args: RequestArgs) => this.request(args) }, { key: 'l1', name: 'L1 JSON-RPC', retryCount: 0 });
  }

  async request({ method, params }: RequestArgs): Promise<unknown> {
    if (method === 'eth_sendRawTransaction') return this.sendRaw(params as [Hex]);
    return this.call(method, params);
  }

  /**
   * Sends a signed transaction. "Already known", or "nonce too low" when the chain has the
   * transaction itself, means an earlier attempt got through: that is success, with its hash.
   */
  private async sendRaw(params: [Hex]): Promise<Hex> {
    const hash = keccak256(params[0]);
    try {
      return (await this.call('eth_sendRawTransaction', params)) as Hex;
    } catch (err) {
      const text = errorText(err);
      if (ALREADY_SENT.test(text)) {
        this.logger?.debug({ hash }, 'L1 already has this transaction (an earlier attempt got through)');
        return hash;
      }
      if (NONCE_USED.test(text)) {
        const tx = await this.call('eth_getTransactionByHash', [hash]).catch(() => null);
        if (tx !== null && tx !== undefined) {
          this.logger?.debug({ hash }, 'nonce used by this very transaction (an earlier attempt got through)');
          return hash;
        }
      }
      throw err;
    }
  }

  private async call(method: string, params: unknown): Promise<unknown> {
    const o = this.options;
    for (let attempt = 0; ; attempt++) {
      if (attempt > 0) this.stats.retry(method);
      const e = this.endpoints.pick();
      try {
        if (!(await this.endpoints.ready(e))) {
          attempt--; // a fallback of another chain: never used, so no attempt spent
          continue;
        }
        await waitUntil(e.notBefore);
        await this.bucket.take();
        this.stats.request(e.label, method);
        const result = await e.request({ method, params } as never);
        this.endpoints.succeeded(e);
        return result;
      } catch (err) {
        if (err instanceof L1EndpointError) throw err;
        this.stats.error(e.label, method, errorKind(err));
        if (!isTransient(err)) throw err;
        this.endpoints.failed(e);
        const limited = isRateLimited(err);
        if (limited) {
          const after = retryAfterMs(err);
          if (after !== undefined) e.notBefore = Math.max(e.notBefore, Date.now() + Math.min(after, o.maxRetryAfterMs));
        }
        if (attempt >= o.retries || (NOT_IDEMPOTENT.has(method) && !limited)) throw err;
        const waitMs = Math.random() * Math.min(o.maxBackoffMs, o.backoffMs * 2 ** attempt);
        this.logger?.debug({ method, endpoint: e.label, attempt: attempt + 1, waitMs: Math.round(waitMs), err: errorText(err).slice(0, 200) }, 'L1 request failed; retrying');
        await sleep(waitMs);
      }
    }
  }
}

/** Which counter label an attempt's failure gets. */
function errorKind(err: unknown): L1ErrorKind {
  if (isRateLimited(err)) return 'rate_limited';
  const chain = errorChain(err);
  if (chain.some((e) => e instanceof TimeoutError)) return 'timeout';
  if (chain.some((e) => e instanceof RpcRequestError)) return 'rpc';
  if (chain.some((e) => e instanceof HttpRequestError)) return httpStatus(err) === undefined ? 'network' : 'http';
  return 'rpc';
}

function sleep(ms: number): Promise<void> {
  return ms <= 0 ? Promise.resolve() : new Promise((resolve) => setTimeout(resolve, ms));
}

function waitUntil(at: number): Promise<void> {
  return sleep(at - Date.now());
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
