/**
 * A second HTTP listener for `/metrics` and `/health` only (`--metrics.port`, like geth's
 * `--metrics.addr/port`), so an operator can let a scraper or load balancer in without exposing
 * JSON-RPC. node:http is enough for two GET routes.
 */
import { createServer } from 'node:http';
import type { HttpRoute } from '../rpc/server.ts';

export interface RouteListener {
  url: string;
  close(): Promise<void>;
}

export async function listenRoutes(host: string, port: number, routes: HttpRoute[]): Promise<RouteListener> {
  const byPath = new Map(routes.map((r) => [r.path, r]));
  const server = createServer((req, res) => {
    const route = byPath.get(new URL(req.url ?? '/', 'http://x').pathname);
    if (route === undefined) return void res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    if (req.method !== 'GET' && req.method !== 'HEAD') return void res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('method not allowed\n');
    route.get().then(
      (r) => res.writeHead(r.status, { 'content-type': r.contentType }).end(req.method === 'HEAD' ? undefined : r.body),
      (err: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${err.message}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  // the JSON-RPC server keeps the process alive; this one must not keep a failed start alive
  server.unref();
  const addr = server.address();
  const actual = typeof addr === 'object' && addr !== null ? addr.port : port;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${actual}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
