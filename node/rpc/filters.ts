import { randomBytes } from 'node:crypto';
import { bytesToHex } from '@ethereumjs/util';
import type { NewBlockEvent, RewoundBlock } from '../chain/chain.ts';
import { formatBlockLogs } from './format.ts';
import { logMatches } from './logs.ts';
import type { LogCriteria } from './logs.ts';
import type { FilterParam } from './schemas.ts';

/** A filter stops buffering past this many unpolled changes (oldest dropped). */
const MAX_BUFFER = 10_000;

type Filter =
  | { kind: 'block'; changes: string[]; lastPoll: number }
  | { kind: 'pendingTx'; changes: string[]; lastPoll: number }
  | { kind: 'log'; criteria: LogCriteria; param: FilterParam; changes: Record<string, unknown>[]; lastPoll: number };

export type FilterKind = Filter['kind'];

/** Poll-style filters (eth_newFilter & co.); unpolled ones expire like geth's. */
export class FilterManager {
  private filters = new Map<string, Filter>();
  private sweeper: NodeJS.Timeout;

  constructor(private readonly timeoutMs: number) {
    this.sweeper = setInterval(() => this.sweep(), Math.min(timeoutMs, 30_000));
    this.sweeper.unref();
  }

  close(): void {
    clearInterval(this.sweeper);
    this.filters.clear();
  }

  newBlockFilter(): string {
    return this.add({ kind: 'block', changes: [], lastPoll: Date.now() });
  }

  newPendingTxFilter(): string {
    return this.add({ kind: 'pendingTx', changes: [], lastPoll: Date.now() });
  }

  newLogFilter(param: FilterParam, criteria: LogCriteria): string {
    return this.add({ kind: 'log', param, criteria, changes: [], lastPoll: Date.now() });
  }

  get(id: string): Filter | undefined {
    return this.filters.get(id.toLowerCase());
  }

  uninstall(id: string): boolean {
    return this.filters.delete(id.toLowerCase());
  }

  /** Returns and clears what accumulated since the last poll. */
  poll(id: string): unknown[] | undefined {
    const f = this.get(id);
    if (f === undefined) return undefined;
    f.lastPoll = Date.now();
    const out = f.changes;
    f.changes = [];
    return out;
  }

  onBlock(ev: NewBlockEvent): void {
    const hash = bytesToHex(ev.block.hash());
    for (const f of this.filters.values()) {
      if (f.kind === 'block') push(f.changes, hash);
      else if (f.kind === 'log') for (const log of formatBlockLogs(ev.block, ev.receipts, (l) => logMatches(l, f.criteria))) push(f.changes, log);
    }
  }

  /** Blocks that left the canonical chain, oldest first: log filters get their logs with `removed: true`. */
  onRewind(dropped: RewoundBlock[]): void {
    for (const f of this.filters.values()) {
      if (f.kind !== 'log') continue;
      for (const d of dropped) for (const log of formatBlockLogs(d.block, d.receipts, (l) => logMatches(l, f.criteria), true)) push(f.changes, log);
    }
  }

  onPendingTx(hash: string): void {
    for (const f of this.filters.values()) if (f.kind === 'pendingTx') push(f.changes, hash);
  }

  private add(f: Filter): string {
    const id = bytesToHex(randomBytes(16));
    this.filters.set(id, f);
    return id;
  }

  private sweep(): void {
    const cutoff = Date.now() - this.timeoutMs;
    for (const [id, f] of this.filters) if (f.lastPoll < cutoff) this.filters.delete(id);
  }
}

function push<T>(buf: T[], item: T): void {
  buf.push(item);
  if (buf.length > MAX_BUFFER) buf.shift();
}
