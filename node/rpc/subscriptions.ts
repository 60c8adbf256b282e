import { randomBytes } from 'node:crypto';
import { bytesToHex } from '@ethereumjs/util';
import type { NewBlockEvent, RewoundBlock } from '../chain/chain.ts';
import { RpcCode, RpcError, invalidParams } from './errors.ts';
import { formatBlock } from './format.ts';
import { DeliveryQueue } from './delivery.ts';
import { bloomMatcher, blockLogRefs, criteriaBytes, criteriaOf, logMatches, logRefJson } from './logs.ts';
import type { LogCriteria, LogRef } from './logs.ts';
import type { Holder, Retention, Shared } from './retention.ts';
import { zFilter } from './schemas.ts';

export interface SubscriptionLimits {
  /** Subscriptions of all connections together. */
  maxTotal: number;
  /** Subscriptions of one WebSocket connection. */
  maxPerConnection: number;
  /** Bytes (JSON estimate) of notifications a connection may have waiting; past it the socket is closed. */
  maxQueuedBytes: number;
  /** Most addresses, or alternatives at one topic position, in a logs subscription (geth's --rpc.logquerylimit). */
  logQueryLimit: number;
}

/** What a Connection writes to: the server's WebSocket. */
export interface Sink {
  /** `done` runs once ws has handed the frame to the kernel (or failed to). */
  send(text: string, done?: () => void): void;
  /** Bytes given to the socket and not yet written to the kernel (ws' bufferedAmount). */
  readonly bufferedAmount: number;
  close(code: number, reason: string): void;
}

/** A notification's result already as JSON (a header, a hash), shared by every connection. */
interface SharedJson extends Shared {
  readonly json: string;
}
type Sub = { kind: 'newHeads' } | { kind: 'logs'; criteria: LogCriteria; held: Shared; mayMatch: (bloom: Uint8Array) => boolean } | { kind: 'newPendingTransactions' };
interface Notice {
  sub: string;
  item: LogRef | SharedJson;
}

/**
 * Notifications are formatted as the socket takes them, not when the block arrives: a queue of
 * references costs a pointer per notification, so a block of 8,000 logs does not become 8,000
 * strings per subscriber at once. Past this many bytes waiting in ws, the queue waits for them.
 */
const SOCKET_HIGH_WATER = 1024 * 1024;
/** WebSocket close code for a client that reads too slowly (1008: policy violation). */
export const CLOSE_TOO_SLOW = 1008;

const sharedJson = (value: unknown): SharedJson => {
  const json = JSON.stringify(value);
  return { json, size: json.length + 100, holders: 0 };
};

/** eth_subscribe over WebSocket: one Connection per socket, fed by the node's block and pool events. */
export class SubscriptionHub {
  private conns = new Set<Connection>();
  /** Subscriptions of all connections. */
  total = 0;

  private readonly delivery: DeliveryQueue;

  constructor(
    readonly limits: SubscriptionLimits,
    readonly retention: Retention,
    onError: (err: unknown) => void = () => undefined,
  ) {
    this.delivery = new DeliveryQueue(onError);
  }

  /** Resolves once every chain event so far has been queued for the connections. */
  settled(): Promise<void> {
    return this.delivery.drained();
  }

  get connections(): number {
    return this.conns.size;
  }

  /** `client` names the connection in the node-wide accounting (the same id its filters carry). */
  connect(client: string, sink: Sink): Connection {
    const c = new Connection(client, sink, this, () => this.conns.delete(c));
    this.conns.add(c);
    this.retention.register(c);
    return c;
  }

  /** Delivered in order, off the commit's stack, yielding between connections (delivery.ts). */
  onBlock(ev: NewBlockEvent): void {
    let head: SharedJson | undefined;
    let refs: LogRef[] | undefined;
    const block = {
      bloom: ev.block.header.logsBloom,
      head: () => (head ??= sharedJson(headerJson(ev))),
      logs: () => (refs ??= blockLogRefs(ev.block, ev.receipts)),
    };
    this.delivery.push(
      () => this.conns,
      (c) => c.onBlock(block),
      () => this.retention.enforce(),
    );
  }

  onRewind(dropped: RewoundBlock[]): void {
    let refs: LogRef[] | undefined;
    const logs = () => (refs ??= dropped.flatMap((d) => blockLogRefs(d.block, d.receipts, true)));
    this.delivery.push(
      () => this.conns,
      (c) => c.onRewind(logs),
      () => this.retention.enforce(),
    );
  }

  onPendingTx(hash: string): void {
    const item = sharedJson(hash);
    this.delivery.push(
      () => this.conns,
      (c) => c.onPendingTx(item),
      () => this.retention.enforce(),
    );
  }
}

function headerJson(ev: NewBlockEvent): Record<string, unknown> {
  const { transactions: _t, ...header } = formatBlock(ev.block, [], false);
  return header;
}

export class Connection implements Holder {
  bytes = 0;
  /** Part of `bytes` that is its subscriptions' criteria rather than waiting notifications. */
  private criteriaBytes = 0;
  private subs = new Map<string, Sub>();
  private queue: (Notice | undefined)[] = [];
  private next = 0;
  /** A send's callback will resume the queue once ws has written it. */
  private waiting = false;
  private closed = false;

  constructor(
    readonly client: string,
    private readonly sink: Sink,
    private readonly hub: SubscriptionHub,
    private readonly detach: () => void,
  ) {}

  /** The socket closed (or is being closed): subscriptions and queued notifications go. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.hub.total -= this.subs.size;
    const criteria = [...this.subs.values()].flatMap((s) => (s.kind === 'logs' ? [s.held] : []));
    this.subs.clear();
    this.hub.retention.release(this, [...this.queue.slice(this.next).map((n) => n!.item), ...criteria]);
    this.criteriaBytes = 0;
    this.queue = [];
    this.next = 0;
    this.hub.retention.unregister(this);
    this.detach();
  }

  /** Closes the socket with the reason (a client that reads too slowly, or the node-wide budget). */
  evict(reason: string): void {
    if (this.closed) return;
    this.close();
    this.sink.close(CLOSE_TOO_SLOW, `dropped: ${reason}`.slice(0, 123));
  }

  /** The socket-local methods; returns undefined for anything else. */
  handle(method: string, params: unknown): Promise<unknown> | undefined {
    if (method === 'eth_subscribe') return Promise.resolve().then(() => this.subscribe(params));
    if (method === 'eth_unsubscribe') {
      return Promise.resolve().then(() => {
        const id = Array.isArray(params) ? params[0] : undefined;
        if (typeof id !== 'string') throw invalidParams('invalid argument 0: expected subscription id');
        const sub = this.subs.get(id.toLowerCase());
        if (sub === undefined) return false;
        this.subs.delete(id.toLowerCase());
        this.hub.total--;
        if (sub.kind === 'logs') this.forget(sub.held);
        return true;
      });
    }
    return undefined;
  }

  private subscribe(params: unknown): string {
    if (!Array.isArray(params) || typeof params[0] !== 'string') throw invalidParams('invalid argument 0: expected subscription name');
    const sub = parseSub(params[0], params[1], this.hub.limits.logQueryLimit);
    const { maxPerConnection, maxTotal } = this.hub.limits;
    if (this.subs.size >= maxPerConnection) throw new RpcError(RpcCode.LimitExceeded, `too many subscriptions: max ${maxPerConnection} per connection`);
    if (this.hub.total >= maxTotal) throw new RpcError(RpcCode.LimitExceeded, `too many subscriptions: the node holds its maximum of ${maxTotal}`);
    if (this.closed) throw new RpcError(RpcCode.Server, 'connection closed');
    const id = bytesToHex(randomBytes(16));
    this.subs.set(id, sub);
    this.hub.total++;
    if (sub.kind === 'logs') {
      this.criteriaBytes += sub.held.size;
      this.hub.retention.hold(this, sub.held);
      this.hub.retention.enforce();
    }
    return id;
  }

  private forget(held: Shared): void {
    this.criteriaBytes -= held.size;
    this.hub.retention.release(this, [held]);
  }

  onBlock(block: { bloom: Uint8Array; head(): SharedJson; logs(): LogRef[] }): void {
    for (const [id, s] of this.subs) {
      if (s.kind === 'newHeads') this.enqueue(id, block.head());
      else if (s.kind === 'logs' && s.mayMatch(block.bloom)) this.enqueueLogs(id, s.criteria, block.logs());
    }
    this.pump();
  }

  /** Blocks that left the canonical chain, oldest first: their logs again, as geth sends them, with `removed: true`. */
  onRewind(logs: () => LogRef[]): void {
    for (const [id, s] of this.subs) if (s.kind === 'logs') this.enqueueLogs(id, s.criteria, logs());
    this.pump();
  }

  onPendingTx(item: SharedJson): void {
    for (const [id, s] of this.subs) if (s.kind === 'newPendingTransactions') this.enqueue(id, item);
    this.pump();
  }

  private enqueueLogs(sub: string, criteria: LogCriteria, refs: LogRef[]): void {
    for (const ref of refs) if (logMatches(ref.raw, criteria) && !this.enqueue(sub, ref)) return;
  }

  /** False once the connection is closed, here or before, for having too much waiting. */
  private enqueue(sub: string, item: LogRef | SharedJson): boolean {
    if (this.closed) return false;
    const max = this.hub.limits.maxQueuedBytes;
    if (this.bytes - this.criteriaBytes + item.size > max) {
      this.evict(`more than ${max} bytes of notifications waiting`);
      return false;
    }
    this.queue.push({ sub, item });
    this.hub.retention.hold(this, item);
    return true;
  }

  /** Sends queued notifications while ws has room; the send that fills it resumes the queue once written. */
  private pump(): void {
    if (this.waiting) return;
    while (!this.closed && this.next < this.queue.length) {
      if (this.sink.bufferedAmount >= SOCKET_HIGH_WATER) {
        // nothing of ours in flight to call back (an RPC answer filled it): poll again shortly
        this.waiting = true;
        setTimeout(() => this.resume(), 10).unref();
        return;
      }
      const n = this.queue[this.next]!;
      this.queue[this.next++] = undefined;
      this.hub.retention.release(this, [n.item]);
      const result = 'raw' in n.item ? JSON.stringify(logRefJson(n.item)) : n.item.json;
      const text = `{"jsonrpc":"2.0","method":"eth_subscription","params":{"subscription":"${n.sub}","result":${result}}}`;
      const full = this.sink.bufferedAmount + text.length >= SOCKET_HIGH_WATER;
      this.waiting = full;
      this.sink.send(text, full ? () => this.resume() : undefined);
      if (full) break;
    }
    if (this.next === this.queue.length || (this.next > 4096 && this.next * 2 > this.queue.length)) {
      this.queue = this.queue.slice(this.next);
      this.next = 0;
    }
  }

  private resume(): void {
    this.waiting = false;
    this.pump();
  }
}

function parseSub(name: string, filter: unknown, limit: number): Sub {
  switch (name) {
    case 'newHeads':
    case 'newPendingTransactions':
      return { kind: name };
    case 'logs': {
      const f = zFilter.optional().safeParse(filter);
      if (!f.success) throw invalidParams(`invalid argument 1: ${f.error.issues[0]?.message ?? 'invalid filter'}`);
      const criteria = criteriaOf(f.data ?? {}, limit);
      return { kind: 'logs', criteria, held: { size: criteriaBytes(criteria), holders: 0 }, mayMatch: bloomMatcher(criteria) };
    }
    default:
      throw new RpcError(RpcCode.MethodNotFound, `no "${name}" subscription in eth namespace`);
  }
}
