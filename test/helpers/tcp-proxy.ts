/**
 * A real TCP proxy (node:net) between a client and a server (anvil), so a test can take the
 * "L1 RPC" down and bring it back without touching the server: the client sees exactly what it
 * would see from a dead endpoint (connection reset, or a silent hang).
 */
import { Socket, createServer } from 'node:net';
import type { Server } from 'node:net';

/** How a paused proxy treats connections: `reset` closes them at once, `blackhole` accepts and never answers. */
export type PauseMode = 'reset' | 'blackhole';

export interface TcpProxy {
  /** `http://127.0.0.1:<port>` of the proxy. */
  readonly url: string;
  readonly port: number;
  /** Drops every open connection and treats new ones per `mode` until resume(). */
  pause(mode?: PauseMode): void;
  resume(): void;
  readonly paused: boolean;
  /** Connections accepted since start (paused ones included). */
  readonly connections: number;
  close(): Promise<void>;
}

/**
 * Forwards `from` to `to`, each chunk `delayMs` later (a link's one-way latency; order is kept,
 * since timers of equal delay fire in the order they were set). No delay: a plain pipe.
 */
function forward(from: Socket, to: Socket, delayMs: number): void {
  if (delayMs <= 0) {
    from.pipe(to);
    return;
  }
  from.on('data', (chunk: Buffer) => setTimeout(() => to.writable && to.write(chunk), delayMs));
  from.once('end', () => setTimeout(() => to.end(), delayMs));
}

/** `delayMs`: one-way latency added to each direction (an RPC round trip then takes 2 x delayMs more). */
export async function startTcpProxy(target: { host?: string; port: number; delayMs?: number }): Promise<TcpProxy> {
  const host = target.host ?? '127.0.0.1';
  const delayMs = target.delayMs ?? 0;
  const open = new Set<Socket>();
  let mode: PauseMode | undefined;
  let accepted = 0;

  const server: Server = createServer((client) => {
    accepted++;
    open.add(client);
    client.once('close', () => open.delete(client));
    client.on('error', () => undefined);
    if (mode === 'reset') {
      client.resetAndDestroy();
      return;
    }
    if (mode === 'blackhole') return; // read nothing, answer nothing: the client times out
    const upstream = new Socket();
    open.add(upstream);
    upstream.once('close', () => {
      open.delete(upstream);
      client.destroy();
    });
    upstream.on('error', () => client.destroy());
    client.once('close', () => upstream.destroy());
    upstream.connect(target.port, host, () => {
      forward(client, upstream, delayMs);
      forward(upstream, client, delayMs);
    });
  });
  await new Promise<void>((res, rej) => {
    server.once('error', rej);
    server.listen(0, '127.0.0.1', () => res());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : 0;

  const dropAll = () => {
    for (const s of open) s.destroy();
    open.clear();
  };

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    pause(m: PauseMode = 'reset') {
      mode = m;
      dropAll();
    },
    resume() {
      // blackholed sockets were never answered: drop them so their clients retry on fresh connections
      dropAll();
      mode = undefined;
    },
    get paused() {
      return mode !== undefined;
    },
    get connections() {
      return accepted;
    },
    async close() {
      dropAll();
      await new Promise<void>((res) => server.close(() => res()));
    },
  };
}
