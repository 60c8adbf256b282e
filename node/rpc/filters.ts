import { randomBytes } from 'node:crypto';
import { bytesToHex } from '@ethereumjs/util';
import type { NewBlockEvent, RewoundBlock } from '../chain/chain.ts';
import { RpcCode, RpcError } from './errors.ts';
import { DeliveryQueue } from './delivery.ts';
import { bloomMatcher, blockLogRefs, criteriaBytes, logMatches, logRefJson } from './logs.ts';
import type { LogCriteria, LogRef } from './logs.ts';
import { sharedHash } from './retention.ts';
import type { Holder, Retention, Shared, SharedHash } from './retention.ts';
import type { FilterParam } from './schemas.ts';

export interface FilterLimits {
  /** An unpolled filter is removed after this long (geth: 5 minutes). */
  timeoutMs: number;
  /** Installed filters, all clients together. */
  maxTotal: number;
  /** Installed filters of one client (a WebSocket connection, or an HTTP client's IP). */
  maxPerClient: number;
  /** Bytes (JSON estimate) of changes one filter may buffer between polls; past it the filter is dropped. */
  maxBytes: number;
}

interface Base extends Holder {
  id: string;
  lastPoll: number;
  /** Its decoded criteria, charged to it for as long as it is installed (not to its change buffer's bound). */
  criteria?: LogCriteria;
  fixed?: Shared;
}
type Filter =
  | (Base & { kind: 'block' | 'pendingTx'; items: SharedHash[] })
  | (Base & { kind: 'log'; criteria: LogCriteria; param: FilterParam; items: LogRef[]; mayMatch: (bloom: Uint8Array) => boolean });

export type FilterKind = Filter['kind'];

/** geth's answer for an unknown id; a dropped filter's answer starts the same so clients treat it alike. */
export const FILTER_NOT_FOUND = 'filter not found';

/** Ids of recently dropped filters, kept so their next poll says why. */
const MAX_TOMBSTONES = 10_000;

/**
 * Poll-style filters (eth_newFilter & co.). They buffer references to logs and hashes shared
 * with every other filter (see retention.ts), are capped in number per client and in total,
 * expire unpolled like geth's, and are dropped when their unpolled changes outgrow `maxBytes`
 * or the node-wide budget evicts them; the next poll of a dropped one answers -32000
 * "filter not found: <why>", on which viem installs a new filter.
 */
export class FilterManager {
  /** Entries deleted while iterated (a drop, an eviction) are skipped, as Maps guarantee. */
  private filters = new Map<string, Filter>();
  private perClient = new Map<string, number>();
  private tombstones = new Map<string, string>();
  private sweeper: NodeJS.Timeout;
  private readonly delivery: DeliveryQueue;

  constructor(
    private readonly limits: FilterLimits,
    private readonly retention: Retention,
    onError: (err: unknown) => void = () => undefined,
  ) {
    this.delivery = new DeliveryQueue(onError);
    this.sweeper = setInterval(() => this.sweep(), Math.min(limits.timeoutMs, 30_000));
    this.sweeper.unref();
  }

  get size(): number {
    return this.filters.size;
  }

  close(): void {
    clearInterval(this.sweeper);
    for (const f of this.filters.values()) this.remove(f);
  }

  newBlockFilter(client: string): string {
    return this.add(client, { kind: 'block', items: [] });
  }

  newPendingTxFilter(client: string): string {
    return this.add(client, { kind: 'pendingTx', items: [] });
  }

  newLogFilter(client: string, param: FilterParam, criteria: LogCriteria): string {
    return this.add(client, { kind: 'log', param, criteria, items: [], mayMatch: bloomMatcher(criteria) });
  }

  /** Resolves once every chain event so far has reached the filters (tests, shutdown). */
  settled(): Promise<void> {
    return this.delivery.drained();
  }

  get(id: string): Filter | undefined {
    return this.filters.get(id.toLowerCase());
  }

  uninstall(id: string): boolean {
    const f = this.get(id);
    if (f !== undefined) this.remove(f);
    return f !== undefined;
  }

  /** A WebSocket connection closed: its filters go with it (its client id is never seen again). */
  dropClient(client: string): void {
    for (const f of this.filters.values()) if (f.client === client) this.remove(f);
  }

  /** Returns and clears what accumulated since the last poll; throws "filter not found" for an unknown or dropped id. */
  poll(id: string): unknown[] {
    const f = this.get(id);
    if (f === undefined) throw this.notFound(id);
    f.lastPoll = Date.now();
    const items = f.items;
    f.items = [];
    this.retention.release(f, items);
    return f.kind === 'log' ? (items as LogRef[]).map(logRefJson) : (items as SharedHash[]).map((h) => h.hash);
  }

  /** The -32000 error for an id that is not (or no longer) installed. */
  notFound(id: string): RpcError {
    const key = id.toLowerCase();
    const why = this.tombstones.get(key);
    this.tombstones.delete(key);
    return new RpcError(RpcCode.Server, why === undefined ? FILTER_NOT_FOUND : `${FILTER_NOT_FOUND}: ${why}`);
  }

  /** Delivered in order, off the commit's stack, yielding between filters (delivery.ts). */
  onBlock(ev: NewBlockEvent): void {
    const hash = sharedHash(bytesToHex(ev.block.hash()));
    const bloom = ev.block.header.logsBloom;
    let refs: LogRef[] | undefined;
    this.delivery.push(
      () => this.filters.values(),
      (f) => {
        if (!this.filters.has(f.id)) return;
        if (f.kind === 'block') this.hold(f, hash);
        // the block's bloom first: most filters skip most blocks without looking at a log
        else if (f.kind === 'log' && f.mayMatch(bloom)) this.holdLogs(f, (refs ??= blockLogRefs(ev.block, ev.receipts)));
      },
      () => this.retention.enforce(),
    );
  }

  /** Blocks that left the canonical chain, oldest first: log filters get their logs with `removed: true`. */
  onRewind(dropped: RewoundBlock[]): void {
    let refs: LogRef[] | undefined;
    this.delivery.push(
      () => this.filters.values(),
      (f) => {
        if (this.filters.has(f.id) && f.kind === 'log') this.holdLogs(f, (refs ??= dropped.flatMap((d) => blockLogRefs(d.block, d.receipts, true))));
      },
    );
  }

  onPendingTx(hash: string): void {
    const item = sharedHash(hash);
    this.delivery.push(
      () => this.filters.values(),
      (f) => {
        if (this.filters.has(f.id) && f.kind === 'pendingTx') this.hold(f, item);
      },
      () => this.retention.enforce(),
    );
  }

  private holdLogs(f: Filter & { kind: 'log' }, refs: LogRef[]): void {
    for (const ref of refs) if (logMatches(ref.raw, f.criteria) && !this.hold(f, ref)) return;
    // once per filter rather than per log: the budget is exceeded by at most one filter's bound
    this.retention.enforce();
  }

  /** False when the filter is gone, or the item would take it past its bound (it is dropped instead). */
  private hold(f: Filter, item: LogRef | SharedHash): boolean {
    if (this.filters.get(f.id) !== f) return false; // evicted earlier in the same event
    if (f.bytes - (f.fixed?.size ?? 0) + item.size > this.limits.maxBytes) {
      this.drop(f, `more than ${this.limits.maxBytes} bytes of changes were left unpolled`);
      return false;
    }
    (f.items as (LogRef | SharedHash)[]).push(item);
    this.retention.hold(f, item);
    return true;
  }

  private add(client: string, init: { kind: FilterKind; items: never[]; param?: FilterParam; criteria?: LogCriteria; mayMatch?: (bloom: Uint8Array) => boolean }): string {
    if (this.filters.size >= this.limits.maxTotal) {
      throw new RpcError(RpcCode.LimitExceeded, `too many filters: the node holds its maximum of ${this.limits.maxTotal}`);
    }
    const mine = this.perClient.get(client) ?? 0;
    if (mine >= this.limits.maxPerClient) {
      throw new RpcError(RpcCode.LimitExceeded, `too many filters: max ${this.limits.maxPerClient} per client, uninstall some or let them expire`);
    }
    const id = bytesToHex(randomBytes(16));
    const f = { ...init, id, client, bytes: 0, lastPoll: Date.now(), evict: (why: string) => this.drop(f, why) } as Filter;
    this.filters.set(id, f);
    this.perClient.set(client, mine + 1);
    this.retention.register(f);
    if (f.criteria !== undefined) {
      f.fixed = { size: criteriaBytes(f.criteria), holders: 0 };
      this.retention.hold(f, f.fixed);
      this.retention.enforce(); // many filters of 1,000 addresses each add up
    }
    return id;
  }

  private drop(f: Filter, why: string): void {
    this.remove(f);
    this.tombstones.set(f.id, `dropped, ${why}`);
    if (this.tombstones.size > MAX_TOMBSTONES) this.tombstones.delete(this.tombstones.keys().next().value!);
  }

  private remove(f: Filter): void {
    if (!this.filters.delete(f.id)) return;
    this.retention.release(f, f.fixed === undefined ? f.items : [...f.items, f.fixed]);
    f.items = [];
    this.retention.unregister(f);
    const left = (this.perClient.get(f.client) ?? 1) - 1;
    if (left === 0) this.perClient.delete(f.client);
    else this.perClient.set(f.client, left);
  }

  private sweep(): void {
    const cutoff = Date.now() - this.limits.timeoutMs;
    for (const f of this.filters.values()) {
      if (f.lastPoll < cutoff) this.drop(f, `not polled for ${Math.round(this.limits.timeoutMs / 1000)} s`);
    }
  }
}
