import type { Logger } from 'pino';
import type { RpcBackend } from './backend.ts';
import { RpcCode, RpcError, toRpcError } from './errors.ts';
import type { RpcErrorBody } from './errors.ts';
import type { MethodDef } from './method.ts';
import { type RequestScope, requestScope } from './request-scope.ts';

type Id = string | number | null;
export interface RpcResponse {
  jsonrpc: '2.0';
  id: Id;
  result?: unknown;
  error?: RpcErrorBody;
}

/** Methods a transport handles itself (eth_subscribe needs the socket). */
export type LocalHandler = (method: string, params: unknown) => Promise<unknown> | undefined;

const validId = (id: unknown): boolean => id === undefined || id === null || typeof id === 'string' || typeof id === 'number';

export const errorResponse = (id: Id, code: number, message: string): RpcResponse => ({ jsonrpc: '2.0', id, error: { code, message } });

/** Turns decoded JSON-RPC bodies (single or batch) into responses. Transport-agnostic. */
export class Dispatcher {
  constructor(
    private readonly methods: Record<string, MethodDef>,
    private readonly backend: RpcBackend,
    private readonly logger: Logger,
    private readonly maxBatch: number,
    /** How long one request (a batch as a whole) may keep work waiting (geth: the HTTP write timeout, 30 s). */
    private readonly requestTimeoutMs = 30_000,
  ) {}

  /**
   * Returns undefined when nothing is to be sent back (only notifications). `client` names the
   * sender for per-client caps (server.ts); in-process callers are `internal`.
   */
  handle(body: unknown, client = 'internal', local?: LocalHandler): Promise<RpcResponse | RpcResponse[] | undefined> {
    return this.handleRequest(body, requestScope(client, this.requestTimeoutMs), local);
  }

  private async handleRequest(body: unknown, scope: RequestScope, local?: LocalHandler): Promise<RpcResponse | RpcResponse[] | undefined> {
    if (!Array.isArray(body)) return this.one(body, scope, local);
    if (body.length === 0) return errorResponse(null, RpcCode.InvalidRequest, 'empty batch');
    if (body.length > this.maxBatch) {
      // geth: one error for the whole batch, as a batch, carrying the id of the first call
      const ids = body.map((r) => (typeof r === 'object' && r !== null ? (r as { id?: unknown }).id : undefined));
      const first = ids.find((id) => id !== undefined && id !== null && validId(id)) as Id | undefined;
      return [errorResponse(first ?? null, RpcCode.InvalidRequest, `batch too large: ${body.length} calls, max ${this.maxBatch}`)];
    }
    const out = await Promise.all(body.map((r) => this.one(r, scope, local)));
    const sent = out.filter((r): r is RpcResponse => r !== undefined);
    return sent.length === 0 ? undefined : sent;
  }

  private async one(req: unknown, scope: RequestScope, local?: LocalHandler): Promise<RpcResponse | undefined> {
    if (typeof req !== 'object' || req === null || Array.isArray(req)) {
      return errorResponse(null, RpcCode.InvalidRequest, 'invalid request');
    }
    const { id, method, params, jsonrpc } = req as { id?: unknown; method?: unknown; params?: unknown; jsonrpc?: unknown };
    const rid: Id = validId(id) ? ((id as Id | undefined) ?? null) : null;
    if (jsonrpc !== '2.0' || typeof method !== 'string' || !validId(id)) {
      return errorResponse(rid, RpcCode.InvalidRequest, 'invalid request');
    }
    const isNotification = id === undefined;
    try {
      const result = await this.call(method, params, scope, local);
      return isNotification ? undefined : { jsonrpc: '2.0', id: rid, result: result ?? null };
    } catch (err) {
      const e = toRpcError(err);
      if (e.code === RpcCode.Internal) this.logger.error({ err, method }, 'internal error in RPC method');
      return isNotification ? undefined : { jsonrpc: '2.0', id: rid, error: e };
    }
  }

  private async call(method: string, params: unknown, scope: RequestScope, local?: LocalHandler): Promise<unknown> {
    const handled = local?.(method, params);
    if (handled !== undefined) return handled;
    const def = Object.hasOwn(this.methods, method) ? this.methods[method] : undefined;
    if (def === undefined) throw new RpcError(RpcCode.MethodNotFound, `the method ${method} does not exist/is not available`);
    return def.run(def.parse(params), this.backend, scope);
  }
}
