/**
 * Asks L1 for its block number on a fixed schedule, so health and `ai_rollup_l1_up` say whether
 * L1 answers now, independently of which L1 service happens to be mid-retry. One request at a
 * time; a request that hangs (a blackholed endpoint) counts as a failure after `timeoutMs`.
 */
import { CodedError } from '../../precompiles/errors.ts';
export class L1ProbeError extends CodedError {
  override readonly code = 'L1_PROBE_ERROR';

  override name = 'L1ProbeError';
}

export interface L1ProbeOptions {
  url: string;
  everyMs: number;
  timeoutMs: number;
}

export class L1Probe {
  /** Failed probes since start (`ai_rollup_l1_errors_total`). */
  failures = 0;
  head: bigint | undefined;
  lastError: string | undefined;
  private failingSinceMs: number | undefined;
  private answered = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly stopper = new AbortController();

  constructor(private readonly opts: L1ProbeOptions) {}

  /** undefined before the first probe finished. */
  get reachable(): boolean | undefined {
    if (this.failingSinceMs !== undefined) return false;
    return this.answered ? true : undefined;
  }

  /** Whole seconds since L1 stopped answering; 0 while it answers. */
  downSeconds(nowMs = Date.now()): number {
    return this.failingSinceMs === undefined ? 0 : Math.floor((nowMs - this.failingSinceMs) / 1000);
  }

  start(): void {
    void this.tick();
  }

  /** Aborts a request in flight rather than waiting up to `timeoutMs` for it. */
  stop(): void {
    this.stopper.abort();
    if (this.timer !== undefined) clearTimeout(this.timer);
  }

  private async tick(): Promise<void> {
    try {
      this.head = await this.blockNumber();
      this.answered = true;
      this.failingSinceMs = undefined;
      this.lastError = undefined;
    } catch (err) {
      if (this.stopper.signal.aborted) return;
      this.failures++;
      this.failingSinceMs ??= Date.now();
      this.lastError = (err as Error).message;
    }
    if (this.stopper.signal.aborted) return;
    this.timer = setTimeout(() => void this.tick(), this.opts.everyMs);
    // the node's own servers keep the process alive; a probe must not keep a failed start alive
    this.timer.unref();
  }

  private async blockNumber(): Promise<bigint> {
    const signal = AbortSignal.any([this.stopper.signal, AbortSignal.timeout(this.opts.timeoutMs)]);
    let res: Response;
    try {
      res = await fetch(this.opts.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_blockNumber', params: [] }),
        signal,
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code;
      throw new L1ProbeError((err as Error).name === 'TimeoutError' ? `no answer within ${this.opts.timeoutMs} ms` : `${(err as Error).message}${cause ? ` (${cause})` : ''}`);
    }
    if (!res.ok) throw new L1ProbeError(`HTTP ${res.status}`);
    const body = (await res.json().catch(() => undefined)) as { result?: unknown } | undefined;
    if (typeof body?.result !== 'string' || !/^0x[0-9a-fA-F]+$/.test(body.result)) throw new L1ProbeError('eth_blockNumber answered without a quantity');
    return BigInt(body.result);
  }
}
