import { randomBytes } from 'node:crypto';
import { bytesToHex } from '@ethereumjs/util';
import type { NewBlockEvent, RewoundBlock } from '../chain/chain.ts';
import { RpcCode, RpcError, invalidParams } from './errors.ts';
import { formatBlock, formatBlockLogs } from './format.ts';
import { criteriaOf, logMatches } from './logs.ts';
import type { LogCriteria } from './logs.ts';
import { zFilter } from './schemas.ts';

type Send = (msg: unknown) => void;
type Sub = { kind: 'newHeads' } | { kind: 'logs'; criteria: LogCriteria } | { kind: 'newPendingTransactions' };

/** eth_subscribe over WebSocket: one Connection per socket, fed by the node's block and pool events. */
export class SubscriptionHub {
  private conns = new Set<Connection>();

  connect(send: Send): Connection {
    const c = new Connection(send, () => this.conns.delete(c));
    this.conns.add(c);
    return c;
  }

  onBlock(ev: NewBlockEvent): void {
    for (const c of this.conns) c.onBlock(ev);
  }

  onRewind(dropped: RewoundBlock[]): void {
    for (const c of this.conns) c.onRewind(dropped);
  }

  onPendingTx(hash: string): void {
    for (const c of this.conns) c.onPendingTx(hash);
  }
}

/** Most subscriptions one socket may hold. */
const MAX_SUBS = 256;

export class Connection {
  private subs = new Map<string, Sub>();

  constructor(
    private readonly send: Send,
    readonly close: () => void,
  ) {}

  /** The socket-local methods; returns undefined for anything else. */
  handle(method: string, params: unknown): Promise<unknown> | undefined {
    if (method === 'eth_subscribe') return Promise.resolve().then(() => this.subscribe(params));
    if (method === 'eth_unsubscribe') {
      return Promise.resolve().then(() => {
        const id = Array.isArray(params) ? params[0] : undefined;
        if (typeof id !== 'string') throw invalidParams('invalid argument 0: expected subscription id');
        return this.subs.delete(id.toLowerCase());
      });
    }
    return undefined;
  }

  private subscribe(params: unknown): string {
    if (!Array.isArray(params) || typeof params[0] !== 'string') throw invalidParams('invalid argument 0: expected subscription name');
    if (this.subs.size >= MAX_SUBS) throw new RpcError(RpcCode.LimitExceeded, `too many subscriptions, max ${MAX_SUBS}`);
    const id = bytesToHex(randomBytes(16));
    switch (params[0]) {
      case 'newHeads':
      case 'newPendingTransactions':
        this.subs.set(id, { kind: params[0] });
        break;
      case 'logs': {
        const f = zFilter.optional().safeParse(params[1]);
        if (!f.success) throw invalidParams(`invalid argument 1: ${f.error.issues[0]?.message ?? 'invalid filter'}`);
        this.subs.set(id, { kind: 'logs', criteria: criteriaOf(f.data ?? {}) });
        break;
      }
      default:
        throw new RpcError(RpcCode.MethodNotFound, `no "${String(params[0])}" subscription in eth namespace`);
    }
    return id;
  }

  onBlock(ev: NewBlockEvent): void {
    for (const [id, s] of this.subs) {
      if (s.kind === 'newHeads') {
        const { transactions: _t, ...header } = formatBlock(ev.block, [], false);
        this.notify(id, header);
      } else if (s.kind === 'logs') {
        for (const log of formatBlockLogs(ev.block, ev.receipts, (l) => logMatches(l, s.criteria))) this.notify(id, log);
      }
    }
  }

  /** Blocks that left the canonical chain, oldest first: their logs again, as geth sends them, with `removed: true`. */
  onRewind(dropped: RewoundBlock[]): void {
    for (const [id, s] of this.subs) {
      if (s.kind !== 'logs') continue;
      for (const d of dropped) for (const log of formatBlockLogs(d.block, d.receipts, (l) => logMatches(l, s.criteria), true)) this.notify(id, log);
    }
  }

  onPendingTx(hash: string): void {
    for (const [id, s] of this.subs) if (s.kind === 'newPendingTransactions') this.notify(id, hash);
  }

  private notify(subscription: string, result: unknown): void {
    this.send({ jsonrpc: '2.0', method: 'eth_subscription', params: { subscription, result } });
  }
}

