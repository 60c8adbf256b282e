/**
 * Request/response over libp2p streams, one stream per request, framed as in framing.ts. A
 * protocol is a `ProtocolSpec` (id and limits) plus, on the serving side, one handler. Every
 * exchange runs under a deadline; a peer that breaks the framing is penalised.
 */
import './polyfill.ts';
import { peerIdFromString } from '@libp2p/peer-id';
import type { Connection, Libp2p, PeerId, Stream } from '@libp2p/interface';
import type { Logger } from 'pino';
import { P2PError, P2PErrorCode } from './errors.ts';
import { ByteReader, FrameStatus, readBody, readRequest, readResponseHeader, writeError, writeRequest, writeResponse } from './framing.ts';
import type { Body } from './framing.ts';
import type { ReqRespOptions } from './options.ts';

export interface ProtocolSpec {
  /** libp2p protocol id, e.g. `/ai-rollup/artifacts/1`. */
  id: string;
  maxRequestBytes: number;
  /** Largest response the client reads, unless a request passes its own; default: the options'. */
  maxResponseBytes?: number;
  /** Deadline of one exchange, both sides; default: the options'. */
  timeoutMs?: number;
}

export type ServerReply =
  | { status: typeof FrameStatus.Ok; body: Body }
  | { status: typeof FrameStatus.NotFound | typeof FrameStatus.InvalidRequest | typeof FrameStatus.ServerError; reason: string };

/** Serves one request; a throw answers SERVER_ERROR (the reason is logged, not sent). */
export type RequestHandler = (request: Uint8Array, peer: string, signal: AbortSignal) => Promise<ServerReply>;

export interface RequestOptions {
  signal?: AbortSignal;
  maxResponseBytes?: number;
  timeoutMs?: number;
}

type StreamNode = Pick<Libp2p, 'handle' | 'unhandle' | 'dialProtocol'>;

const statusError: Record<number, P2PErrorCode> = {
  [FrameStatus.NotFound]: P2PErrorCode.NotFound,
  [FrameStatus.InvalidRequest]: P2PErrorCode.InvalidRequest,
  [FrameStatus.ServerError]: P2PErrorCode.ServerError,
};

export class ReqResp {
  private readonly handlers = new Map<string, { spec: ProtocolSpec; handler: RequestHandler }>();
  private node: StreamNode | undefined;

  constructor(
    private readonly opts: ReqRespOptions,
    private readonly deps: { logger: Logger; penalize(peer: string, reason: string): void },
  ) {}

  /** Serves `spec` with `handler` (from now, or from when the service starts). */
  async register(spec: ProtocolSpec, handler: RequestHandler): Promise<void> {
    if (this.handlers.has(spec.id)) throw new P2PError(P2PErrorCode.DuplicateHandler, `protocol ${spec.id} already has a handler`);
    this.handlers.set(spec.id, { spec, handler });
    if (this.node !== undefined) await this.mount(this.node, spec, handler);
  }

  async attach(node: StreamNode): Promise<void> {
    this.node = node;
    for (const { spec, handler } of this.handlers.values()) await this.mount(node, spec, handler);
  }

  detach(): void {
    this.node = undefined;
  }

  /** Reports a peer that misbehaved at the protocol level above the framing (e.g. wrong content). */
  penalize(peer: string, reason: string): void {
    this.deps.penalize(peer, reason);
  }

  /** Sends one request and reads the whole OK body; any other status throws its P2PError. */
  async request(peer: PeerId | string, spec: ProtocolSpec, payload: Uint8Array, opts: RequestOptions = {}): Promise<Uint8Array> {
    const node = this.node;
    if (node === undefined) throw new P2PError(P2PErrorCode.NotStarted, 'p2p service not started');
    const peerId = typeof peer === 'string' ? peerIdFromString(peer) : peer;
    const id = peerId.toString();
    const timeout = AbortSignal.timeout(opts.timeoutMs ?? spec.timeoutMs ?? this.opts.timeoutMs);
    const signal = opts.signal === undefined ? timeout : AbortSignal.any([opts.signal, timeout]);
    let stream: Stream;
    try {
      stream = await node.dialProtocol(peerId, spec.id, { signal });
    } catch (err) {
      throw abortError(signal, timeout, id) ?? new P2PError(P2PErrorCode.DialFailed, `${spec.id} to ${id}: ${(err as Error).message}`, id);
    }
    const onAbort = (): void => stream.abort(abortError(signal, timeout, id)!);
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      return await this.exchange(stream, id, payload, opts.maxResponseBytes ?? spec.maxResponseBytes ?? this.opts.maxResponseBytes);
    } catch (err) {
      const aborted = abortError(signal, timeout, id);
      if (aborted !== undefined) throw aborted;
      // cut the stream: an oversized body is never read, a broken one not read further
      stream.abort(err as Error);
      if (err instanceof P2PError && err.peer !== undefined) throw err;
      const code = err instanceof P2PError ? err.code : P2PErrorCode.StreamFailed;
      if (code === P2PErrorCode.ProtocolError) this.deps.penalize(id, (err as Error).message);
      throw new P2PError(code, `${spec.id} from ${id}: ${(err as Error).message}`, id);
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  private async exchange(stream: Stream, peer: string, payload: Uint8Array, maxBytes: number): Promise<Uint8Array> {
    await writeRequest(stream, payload);
    await stream.close();
    const reader = new ByteReader(stream);
    const header = await readResponseHeader(reader, maxBytes);
    const body = await readBody(reader, header.length);
    if (header.status === FrameStatus.Ok) return body;
    throw new P2PError(statusError[header.status]!, new TextDecoder().decode(body) || 'no reason given', peer);
  }

  private async mount(node: StreamNode, spec: ProtocolSpec, handler: RequestHandler): Promise<void> {
    await node.handle(spec.id, (stream, connection) => this.serve(spec, handler, stream, connection), {
      maxInboundStreams: this.opts.maxInboundStreams,
    });
  }

  private async serve(spec: ProtocolSpec, handler: RequestHandler, stream: Stream, connection: Connection): Promise<void> {
    const peer = connection.remotePeer.toString();
    const signal = AbortSignal.timeout(spec.timeoutMs ?? this.opts.timeoutMs);
    const onAbort = (): void => stream.abort(new P2PError(P2PErrorCode.Timeout, `${spec.id} for ${peer} timed out`, peer));
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      let request: Uint8Array;
      try {
        request = await readRequest(new ByteReader(stream), spec.maxRequestBytes);
      } catch (err) {
        this.deps.penalize(peer, `bad ${spec.id} request: ${(err as Error).message}`);
        await writeError(stream, FrameStatus.InvalidRequest, (err as Error).message);
        return await stream.close();
      }
      const reply = await this.answer(spec, handler, request, peer, signal);
      if (reply.status === FrameStatus.Ok) await writeResponse(stream, FrameStatus.Ok, reply.body);
      else await writeError(stream, reply.status, reply.reason);
      await stream.close();
    } catch (err) {
      // the client went away, timed out or we could not read the body we promised: drop the stream
      this.deps.logger.debug({ protocol: spec.id, peer, err: (err as Error).message }, 'request stream failed');
      stream.abort(err as Error);
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  private async answer(spec: ProtocolSpec, handler: RequestHandler, request: Uint8Array, peer: string, signal: AbortSignal): Promise<ServerReply> {
    try {
      return await handler(request, peer, signal);
    } catch (err) {
      this.deps.logger.warn({ protocol: spec.id, peer, err }, 'request handler failed');
      return { status: FrameStatus.ServerError, reason: 'internal error' };
    }
  }
}

function abortError(signal: AbortSignal, timeout: AbortSignal, peer: string): P2PError | undefined {
  if (timeout.aborted) return new P2PError(P2PErrorCode.Timeout, `request to ${peer} timed out`, peer);
  if (signal.aborted) return new P2PError(P2PErrorCode.Aborted, `request to ${peer} aborted`, peer);
  return undefined;
}
