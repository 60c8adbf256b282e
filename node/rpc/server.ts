import type { IncomingMessage } from 'node:http';
import fastifyWebsocket from '@fastify/websocket';
import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { WebSocket } from 'ws';
import type { Dispatcher, RpcResponse } from './dispatch.ts';
import { errorResponse } from './dispatch.ts';
import { RpcCode } from './errors.ts';
import type { RpcOptions } from './options.ts';
import type { Sink, SubscriptionHub } from './subscriptions.ts';
import type { ArtifactStore } from '../ai/artifact-store.ts';

/** A plain GET endpoint the assembly adds beside JSON-RPC (`/metrics`, `/health`), so this server needs no knowledge of them. */
export interface HttpRoute {
  path: string;
  get(): Promise<{ status: number; contentType: string; body: string }>;
}

/** Told about every JSON-RPC message (an HTTP body or a WebSocket frame) once it is answered. */
export interface RpcObserver {
  /** `body` is undefined when the text was not JSON. */
  onMessage(body: unknown, response: RpcResponse | RpcResponse[] | undefined, seconds: number): void;
}

export interface RpcServerDeps {
  dispatcher: Dispatcher;
  subscriptions: SubscriptionHub;
  logger: Logger;
  artifacts?: ArtifactStore;
  routes?: HttpRoute[];
  observer?: RpcObserver;
  /** A WebSocket client went away: what it held (its filters) can go too. */
  onClientGone?(client: string): void;
  /** Whole route trees beside JSON-RPC under their own prefix (the explorer at /explorer), each encapsulated in its fastify plugin. */
  plugins?: HttpPlugin[];
}

export interface HttpPlugin {
  prefix: string;
  register(app: FastifyInstance): Promise<void>;
}

/** WebSocket close code when the server is at its connection limit (1013: try again later). */
const CLOSE_TRY_LATER = 1013;

/** JSON-RPC over HTTP POST and WebSocket on the same port, as geth and anvil serve it. */
export class RpcServer {
  private app: FastifyInstance | undefined;
  private sockets = 0;
  private socketsPerIp = new Map<string, number>();
  private nextSocket = 0;

  constructor(
    private readonly opts: RpcOptions,
    private readonly deps: RpcServerDeps,
  ) {}

  async start(): Promise<string> {
    const app = Fastify({ bodyLimit: this.opts.maxBodyBytes, logger: false });
    // Bodies are parsed here rather than by fastify so a syntax error becomes JSON-RPC -32700.
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));
    app.setErrorHandler(async (err: { statusCode?: number; message: string }, req, reply) => {
      const status = err.statusCode ?? 500;
      if (status !== 413) return reply.status(status).send(errorResponse(null, RpcCode.InvalidRequest, err.message));
      // Answer once the client has sent its body (discarded, within bounds): closing the socket
      // while it still uploads resets the connection and the client never sees the 413.
      await drain(req.raw, 4 * this.opts.maxBodyBytes, 10_000);
      const msg = `request body too large: limit ${this.opts.maxBodyBytes} bytes`;
      return reply.status(413).send(errorResponse(null, RpcCode.InvalidRequest, msg));
    });
    await app.register(fastifyWebsocket, { options: { maxPayload: this.opts.maxBodyBytes } });
    app.route({
      method: 'GET',
      url: '/',
      // refused before the upgrade, so the client gets an HTTP status and a JSON-RPC error body
      preValidation: async (req, reply) => {
        const refusal = req.ws ? this.wsRefusal(req.ip) : undefined;
        if (refusal !== undefined) await reply.status(refusal.status).send(errorResponse(null, RpcCode.LimitExceeded, refusal.message));
      },
      handler: async (_req, reply) => reply.send({ status: 'ok', jsonrpc: 'POST / or WebSocket /' }),
      wsHandler: (socket, req) => this.onSocket(socket, req.ip),
    });
    // model artifacts by content hash (ai_modelArtifacts lists them); clients check the hash
    app.get<{ Params: { sha256: string } }>('/artifacts/:sha256', async (req, reply) => {
      const hash = req.params.sha256.toLowerCase();
      const entry = /^[0-9a-f]{64}$/.test(hash) ? await this.deps.artifacts?.file(hash) : undefined;
      if (entry === undefined) return reply.status(404).send({ error: 'no artifact with this sha256' });
      return reply.header('content-type', 'application/octet-stream').header('content-length', entry.size).send(this.deps.artifacts!.open(entry));
    });
    for (const route of this.deps.routes ?? []) {
      app.get(route.path, async (_req, reply) => {
        const res = await route.get();
        return reply.status(res.status).header('content-type', res.contentType).send(res.body);
      });
    }
    for (const p of this.deps.plugins ?? []) await app.register(async (scope) => p.register(scope), { prefix: p.prefix });
    app.post('/', async (req, reply) => {
      const res = await this.handleText(req.body as string, `http:${req.ip}`);
      if (res === undefined) return reply.status(200).send('');
      return reply.header('content-type', 'application/json').send(JSON.stringify(res));
    });
    await app.listen({ host: this.opts.host, port: this.opts.port });
    this.app = app;
    const addr = app.server.address();
    const port = typeof addr === 'object' && addr !== null ? addr.port : this.opts.port;
    return `http://${this.opts.host}:${port}`;
  }

  async stop(): Promise<void> {
    await this.app?.close();
    this.app = undefined;
  }

  private async handleText(text: string, client: string, local?: Parameters<Dispatcher['handle']>[2]) {
    const started = performance.now();
    let body: unknown;
    let res: RpcResponse | RpcResponse[] | undefined;
    try {
      body = JSON.parse(text);
    } catch {
      res = errorResponse(null, RpcCode.ParseError, 'parse error');
    }
    res ??= await this.deps.dispatcher.handle(body, client, local);
    this.deps.observer?.onMessage(body, res, (performance.now() - started) / 1000);
    return res;
  }

  /** Open WebSocket connections (for metrics). */
  get webSockets(): number {
    return this.sockets;
  }

  private wsRefusal(ip: string): { status: number; message: string } | undefined {
    if (this.sockets >= this.opts.wsMaxConnections) {
      return { status: 503, message: `too many WebSocket connections: the node serves its maximum of ${this.opts.wsMaxConnections}` };
    }
    if ((this.socketsPerIp.get(ip) ?? 0) >= this.opts.wsMaxConnectionsPerIp) {
      return { status: 429, message: `too many WebSocket connections: max ${this.opts.wsMaxConnectionsPerIp} per IP` };
    }
    return undefined;
  }

  private onSocket(socket: WebSocket, ip: string): void {
    // checked again: upgrades that passed preValidation together may complete past the limit
    const refusal = this.wsRefusal(ip);
    if (refusal !== undefined) return socket.close(CLOSE_TRY_LATER, refusal.message);
    this.sockets++;
    this.socketsPerIp.set(ip, (this.socketsPerIp.get(ip) ?? 0) + 1);
    const client = `ws:${++this.nextSocket}`;
    const maxQueued = this.opts.wsMaxQueuedBytes;
    const sink: Sink = {
      send: (text, done) => {
        if (socket.readyState === socket.OPEN) socket.send(text, done === undefined ? undefined : () => done());
      },
      get bufferedAmount() {
        return socket.bufferedAmount;
      },
      close: (code, reason) => socket.close(code, reason),
    };
    const conn = this.deps.subscriptions.connect(client, sink);
    socket.on('message', (data) => {
      void this.handleText(data.toString(), client, (m, p) => conn.handle(m, p)).then((res) => {
        if (res === undefined || socket.readyState !== socket.OPEN) return;
        const text = JSON.stringify(res);
        // a client that sends requests but does not read the answers: same bound as notifications
        if (socket.bufferedAmount + text.length > maxQueued) return conn.evict(`more than ${maxQueued} bytes of answers waiting`);
        socket.send(text);
      });
    });
    socket.on('close', () => {
      conn.close();
      this.deps.onClientGone?.(client);
      this.sockets--;
      const left = (this.socketsPerIp.get(ip) ?? 1) - 1;
      if (left === 0) this.socketsPerIp.delete(ip);
      else this.socketsPerIp.set(ip, left);
    });
    socket.on('error', (err) => this.deps.logger.debug({ err }, 'websocket error'));
  }
}

/** Reads and discards the rest of a request body until it ends, `cap` more bytes arrived, or `ms` passed. */
function drain(req: IncomingMessage, cap: number, ms: number): Promise<void> {
  if (req.complete || req.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    let seen = 0;
    const finish = () => {
      clearTimeout(timer);
      req.off('data', onData).off('end', finish).off('error', finish).off('close', finish);
      resolve();
    };
    const onData = (chunk: Buffer) => {
      seen += chunk.length;
      if (seen > cap) finish();
    };
    const timer = setTimeout(finish, ms);
    req.on('data', onData).on('end', finish).on('error', finish).on('close', finish);
    req.resume();
  });
}
