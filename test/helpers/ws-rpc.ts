import WebSocket from 'ws';

export interface RpcErrorObject {
  code: number;
  message: string;
  data?: unknown;
}

/** A minimal raw JSON-RPC WebSocket client: requests by id, subscription notifications queued per id. */
export class WsRpc {
  private nextId = 1;
  private pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  private queues = new Map<string, unknown[]>();
  private waiters = new Map<string, () => void>();

  private constructor(private readonly socket: WebSocket) {
    socket.on('message', (data) => this.onMessage(JSON.parse(data.toString())));
  }

  static async connect(url: string): Promise<WsRpc> {
    const socket = new WebSocket(url);
    await new Promise<void>((res, rej) => {
      socket.once('open', () => res());
      socket.once('error', rej);
    });
    return new WsRpc(socket);
  }

  /** Resolves with the result; rejects with the JSON-RPC error object. */
  request<T = unknown>(method: string, params: unknown[] = []): Promise<T> {
    const id = this.nextId++;
    const p = new Promise<T>((resolve, reject) => this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject }));
    this.socket.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
    return p;
  }

  /** The next notification of a subscription, waiting for it if none is queued. */
  async next<T = unknown>(subscription: string, timeoutMs = 20_000): Promise<T> {
    const key = subscription.toLowerCase();
    for (;;) {
      const q = this.queues.get(key);
      if (q !== undefined && q.length > 0) return q.shift() as T;
      await new Promise<void>((res, rej) => {
        const timer = setTimeout(() => rej(new Error(`no notification for ${subscription} in ${timeoutMs} ms`)), timeoutMs);
        this.waiters.set(key, () => {
          clearTimeout(timer);
          res();
        });
      });
    }
  }

  /** Notifications received so far and not yet taken. */
  queued(subscription: string): unknown[] {
    return this.queues.get(subscription.toLowerCase()) ?? [];
  }

  async close(): Promise<void> {
    if (this.socket.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((res) => {
      this.socket.once('close', () => res());
      this.socket.close();
    });
  }

  private onMessage(msg: { id?: number; result?: unknown; error?: RpcErrorObject; method?: string; params?: { subscription: string; result: unknown } }) {
    if (msg.method === 'eth_subscription' && msg.params !== undefined) {
      const key = msg.params.subscription.toLowerCase();
      const q = this.queues.get(key) ?? [];
      q.push(msg.params.result);
      this.queues.set(key, q);
      this.waiters.get(key)?.();
      this.waiters.delete(key);
      return;
    }
    if (typeof msg.id !== 'number') return;
    const p = this.pending.get(msg.id);
    if (p === undefined) return;
    this.pending.delete(msg.id);
    if (msg.error !== undefined) p.reject(msg.error);
    else p.resolve(msg.result);
  }
}
