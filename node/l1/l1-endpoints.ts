/**
 * The L1 endpoints a node may use: the primary (--l1-rpc) and its fallbacks (--l1.fallback-rpc),
 * one active at a time. Repeated failures of the active one move every request to the next; after
 * a while the primary is tried again (it is the one the operator trusts and pays for). A fallback
 * must serve the same chain: one pointing at another network would feed the node a wrong L1, so
 * each fallback's eth_chainId is checked before its first use and a mismatch disables it (the
 * primary is checked by the node at start, which refuses to run on a wrong one).
 */
import type { Logger } from 'pino';
import { http } from 'viem';
import type { EIP1193RequestFn } from 'viem';
import { CodedError } from '../../precompiles/errors.ts';
import { endpointLabel } from './l1-rpc-stats.ts';
import type { L1RpcStats } from './l1-rpc-stats.ts';
import type { TokenBucket } from './token-bucket.ts';

export class L1EndpointError extends CodedError {
  constructor(
    override readonly code: 'WRONG_CHAIN' | 'NO_ENDPOINT',
    message: string,
  ) {
    super(message);
    this.name = 'L1EndpointError';
  }
}

export interface Endpoint {
  readonly url: string;
  readonly label: string;
  /** viem's HTTP request function for this URL, without viem's retries (ours wrap it). */
  readonly request: EIP1193RequestFn;
  /** Failed attempts in a row (reset by a success). */
  failures: number;
  /** A Retry-After from this endpoint: nothing is sent to it before this time (ms). */
  notBefore: number;
  /** Its eth_chainId check: pending, passed, or failed (the endpoint is never used). */
  check?: Promise<void>;
  wrongChain: boolean;
}

export interface EndpointOptions {
  timeoutMs: number;
  /** Failed attempts in a row on the active endpoint before the next one takes over. */
  failoverAfter: number;
  /** After this long on a fallback, the primary is tried again. */
  primaryRetryMs: number;
  /** The L1 chain id every endpoint must serve (unchecked when absent). */
  chainId?: bigint;
}

export class Endpoints {
  readonly all: Endpoint[];
  private activeIndex = 0;
  private switchedAt = 0;

  constructor(
    urls: string[],
    private readonly opts: EndpointOptions,
    private readonly stats: L1RpcStats,
    private readonly bucket: TokenBucket,
    private readonly logger?: Logger,
  ) {
    if (urls.length === 0) throw new L1EndpointError('NO_ENDPOINT', 'no L1 endpoint given');
    const labels = urls.map(endpointLabel);
    this.all = urls.map((url, i) => ({
      url,
      // two endpoints on one host (a provider's two keys) stay apart in metrics
      label: labels.indexOf(labels[i]!) === i ? labels[i]! : `${labels[i]}#${i}`,
      request: http(url, { retryCount: 0, timeout: opts.timeoutMs })({}).config.request,
      failures: 0,
      notBefore: 0,
      wrongChain: false,
    }));
  }

  /** The endpoint to send to now (the primary again once a fallback has served long enough). */
  pick(): Endpoint {
    if (this.activeIndex !== 0 && Date.now() - this.switchedAt > this.opts.primaryRetryMs && !this.all[0]!.wrongChain) {
      this.logger?.info({ from: this.all[this.activeIndex]!.label, to: this.all[0]!.label }, 'trying the primary L1 endpoint again');
      this.switchTo(0);
    }
    const e = this.all[this.activeIndex]!;
    if (e.wrongChain) throw new L1EndpointError('WRONG_CHAIN', `no L1 endpoint serves chain ${this.opts.chainId}`);
    return e;
  }

  /**
   * Checks `e`'s chain id before its first use: false when it serves another chain (it is never
   * used again and the next endpoint is active). An unreachable endpoint throws, as a request would.
   */
  async ready(e: Endpoint): Promise<boolean> {
    const want = this.opts.chainId;
    if (want === undefined || e === this.all[0]) return true;
    e.check ??= this.checkChain(e, want);
    try {
      await e.check;
      return true;
    } catch (err) {
      if (!(err instanceof L1EndpointError)) {
        e.check = undefined;
        throw err;
      }
      if (e === this.all[this.activeIndex]) this.next(e);
      return false;
    }
  }

  succeeded(e: Endpoint): void {
    e.failures = 0;
  }

  failed(e: Endpoint): void {
    e.failures++;
    if (e === this.all[this.activeIndex] && e.failures >= this.opts.failoverAfter) this.next(e);
  }

  private next(from: Endpoint): void {
    const n = this.all.length;
    const start = this.all.indexOf(from);
    for (let k = 1; k < n; k++) {
      const i = (start + k) % n;
      if (this.all[i]!.wrongChain) continue;
      this.logger?.warn({ from: from.label, to: this.all[i]!.label, failures: from.failures }, 'L1 endpoint failing; switching');
      from.failures = 0;
      this.switchTo(i);
      return;
    }
  }

  private switchTo(i: number): void {
    this.activeIndex = i;
    this.switchedAt = Date.now();
    this.all[i]!.failures = 0;
    this.stats.switched(this.all[i]!.label);
  }

  private async checkChain(e: Endpoint, want: bigint): Promise<void> {
    await this.bucket.take();
    this.stats.request(e.label, 'eth_chainId');
    const id = BigInt((await e.request({ method: 'eth_chainId' })) as string);
    if (id === want) return;
    e.wrongChain = true;
    this.logger?.error({ endpoint: e.label, chainId: id.toString(), expected: want.toString() }, 'L1 endpoint serves another chain; never using it');
    throw new L1EndpointError('WRONG_CHAIN', `L1 endpoint ${e.label} serves chain ${id}, not ${want}`);
  }
}
