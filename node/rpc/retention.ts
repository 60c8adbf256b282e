/**
 * Memory that RPC clients make the node keep: unpolled filter changes and unsent WebSocket
 * notifications. Logs and hashes are created once per block (or pool event) and shared; a
 * filter or a socket queue holds references to them. This counts what those references keep
 * alive (each shared item once, plus a pointer per reference) and, past the node-wide budget,
 * evicts holders of the client that holds the most, largest first, so one client flooding the
 * node loses its own filters before anyone else's.
 */

/** An item shared by every holder that references it: a log of a block, a block or transaction hash. */
export interface Shared {
  /** What the item costs in a JSON-RPC answer, bytes (an estimate); holders are charged this. */
  readonly size: number;
  /** Holders referencing it now (so the node-wide count includes it once). */
  holders: number;
}

export interface SharedHash extends Shared {
  readonly hash: string;
}

/** A filter's buffer or a socket's send queue. */
export interface Holder {
  readonly client: string;
  /** Sum of the sizes of the items it references. */
  bytes: number;
  /** Called when the node-wide budget evicts it; it must then `release` everything. */
  evict(reason: string): void;
}

/** One array slot plus headroom for the array's growth, per reference (64-bit pointers). */
const POINTER_BYTES = 16;

export const sharedHash = (hash: string): SharedHash => ({ hash, size: hash.length + 3, holders: 0 });

export class Retention {
  /** Bytes kept alive: every referenced item once, plus the references themselves. */
  private retained = 0;
  private clients = new Map<string, { bytes: number; holders: Set<Holder> }>();

  constructor(readonly maxBytes: number) {}

  get bytes(): number {
    return this.retained;
  }

  register(h: Holder): void {
    let c = this.clients.get(h.client);
    if (c === undefined) this.clients.set(h.client, (c = { bytes: 0, holders: new Set() }));
    c.holders.add(h);
  }

  /** Forgets a holder; its items must have been released. */
  unregister(h: Holder): void {
    const c = this.clients.get(h.client);
    if (c === undefined) return;
    c.holders.delete(h);
    if (c.holders.size === 0) this.clients.delete(h.client);
  }

  hold(h: Holder, item: Shared): void {
    h.bytes += item.size;
    this.retained += POINTER_BYTES + (item.holders++ === 0 ? item.size : 0);
    const c = this.clients.get(h.client);
    if (c !== undefined) c.bytes += item.size;
  }

  release(h: Holder, items: Iterable<Shared>): void {
    let freed = 0;
    for (const item of items) {
      freed += item.size;
      this.retained -= POINTER_BYTES + (--item.holders === 0 ? item.size : 0);
    }
    h.bytes -= freed;
    const c = this.clients.get(h.client);
    if (c !== undefined) c.bytes -= freed;
  }

  /**
   * Past the budget, evicts down to three quarters of it (so a flood does not evict on every
   * item): the largest holder of the client holding the most bytes, repeatedly.
   */
  enforce(): void {
    if (this.retained <= this.maxBytes) return;
    const target = (this.maxBytes * 3) / 4;
    while (this.retained > target) {
      const victim = this.largest();
      if (victim === undefined || victim.bytes === 0) return;
      victim.evict(`the node holds more than ${this.maxBytes} bytes of unsent changes for clients`);
      this.unregister(victim);
      if (victim.bytes > 0) return; // it kept its items (a bug): stop rather than spin
    }
  }

  private largest(): Holder | undefined {
    let top: { bytes: number; holders: Set<Holder> } | undefined;
    for (const c of this.clients.values()) if (c.holders.size > 0 && (top === undefined || c.bytes > top.bytes)) top = c;
    let victim: Holder | undefined;
    for (const h of top?.holders ?? []) if (victim === undefined || h.bytes > victim.bytes) victim = h;
    return victim;
  }
}
