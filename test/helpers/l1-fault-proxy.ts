/**
 * An HTTP JSON-RPC proxy in front of a real L1 (anvil) that misbehaves the way hosted providers
 * do: dropped connections, slow answers, 429 with Retry-After, 502, JSON-RPC rate-limit errors,
 * truncated bodies, eth_getLogs ranges refused past a width, and the worst one for a sender, a
 * request forwarded to the node whose reply is lost. Rules pick requests by method, by chance
 * (a seeded PRNG, so a failing run can be replayed) or as "the next N". It also records when each
 * JSON-RPC call arrived, so a test can check a client's rate bound. (test/helpers/tcp-proxy.ts is
 * the byte-level one: a whole endpoint down or slow.)
 */
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Fault =
  /** The connection is closed before anything is forwarded. */
  | { kind: 'drop' }
  /** Forwarded after `ms`. */
  | { kind: 'delay'; ms: number }
  /** HTTP 429, plain-text body, with `Retry-After: retryAfter` (seconds) when given. */
  | { kind: 'http429'; retryAfter?: number }
  /** HTTP 502 with an HTML body, as a load balancer in front of a dead node answers. */
  | { kind: 'http502' }
  /** HTTP 200 with JSON-RPC error -32005 "limit exceeded" (Infura's and geth's rate limit). */
  | { kind: 'rpcLimit'; code?: number; message?: string }
  /** Forwarded; the answer's body is cut in half (malformed JSON). */
  | { kind: 'truncate' }
  /** eth_getLogs wider than `maxBlocks` is refused with a provider's error (default: Infura's -32005 wording). */
  | { kind: 'logRange'; maxBlocks: number; code?: number; message?: string }
  /** Forwarded and executed by the node, then the connection is closed before the reply. */
  | { kind: 'lostReply' };

export interface FaultRule {
  fault: Fault;
  /** JSON-RPC method (a batch matches when any of its calls does); absent: every method. */
  method?: string | RegExp;
  /** Chance that a matching request gets the fault (seeded PRNG); default 1. */
  probability?: number;
  /** Applies to the next `times` matching requests only; absent: no limit. */
  times?: number;
}

export interface ProxyRule extends FaultRule {
  /** Requests this rule faulted so far. */
  hits: number;
}

export interface L1FaultProxy {
  readonly url: string;
  /** Rules are tried in order; the first that matches (and wins its dice roll) applies. */
  addRule(rule: FaultRule): ProxyRule;
  clearRules(): void;
  /** Arrival time (ms) and method of every JSON-RPC call received (each call of a batch apart). */
  readonly calls: { at: number; method: string }[];
  /** Most calls received within any `windowMs` (1 s by default) since `sinceMs`. */
  maxInWindow(windowMs?: number, sinceMs?: number): number;
  /** Calls received of `method` (all methods when absent). */
  count(method?: string): number;
  stop(): Promise<void>;
}

interface RpcCall {
  id?: unknown;
  method?: string;
  params?: unknown[];
}

/** mulberry32: a tiny seeded PRNG, enough for dice rolls a test can replay. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Exchange {
  req: IncomingMessage;
  res: ServerResponse;
  list: RpcCall[];
  batch: boolean;
  blockNumber: (tag: unknown) => Promise<bigint>;
}

/** Applies the part of `f` that comes before forwarding; true when that already answered (or dropped) the request. */
async function answerInstead(f: Fault, x: Exchange): Promise<boolean> {
  const rpcError = (code: number, message: string) => {
    const errs = x.list.map((c) => ({ jsonrpc: '2.0', id: c.id ?? null, error: { code, message } }));
    x.res.writeHead(200, { 'content-type': 'application/json' });
    x.res.end(JSON.stringify(x.batch ? errs : errs[0]));
  };
  switch (f.kind) {
    case 'drop':
      x.req.socket.destroy();
      return true;
    case 'http429':
      x.res.writeHead(429, { 'content-type': 'text/plain', ...(f.retryAfter !== undefined ? { 'retry-after': String(f.retryAfter) } : {}) });
      x.res.end('Too Many Requests');
      return true;
    case 'http502':
      x.res.writeHead(502, { 'content-type': 'text/html' });
      x.res.end('<html><body><h1>502 Bad Gateway</h1></body></html>');
      return true;
    case 'rpcLimit':
      rpcError(f.code ?? -32005, f.message ?? 'limit exceeded');
      return true;
    case 'logRange': {
      const wide = x.list.find((c) => c.method === 'eth_getLogs');
      const filter = (wide?.params?.[0] ?? {}) as { fromBlock?: unknown; toBlock?: unknown; blockHash?: unknown };
      if (wide === undefined || filter.blockHash !== undefined) return false;
      const [from, to] = [await x.blockNumber(filter.fromBlock ?? 'latest'), await x.blockNumber(filter.toBlock ?? 'latest')];
      if (to - from + 1n <= BigInt(f.maxBlocks)) return false;
      const hex = (n: bigint) => `0x${n.toString(16)}`;
      rpcError(f.code ?? -32005, f.message ?? `query returned more than 10000 results. Try with this block range [${hex(from)}, ${hex(from + BigInt(f.maxBlocks) - 1n)}].`);
      return true;
    }
    case 'delay':
      await new Promise((r) => setTimeout(r, f.ms));
      return false;
    default:
      return false;
  }
}

export async function startL1FaultProxy(target: string, opts: { seed?: number } = {}): Promise<L1FaultProxy> {
  const rules: ProxyRule[] = [];
  const calls: { at: number; method: string }[] = [];
  const random = prng(opts.seed ?? 1);

  const forward = async (body: string): Promise<{ status: number; text: string }> => {
    const res = await fetch(target, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    return { status: res.status, text: await res.text() };
  };
  const blockNumber = async (tag: unknown): Promise<bigint> => {
    if (typeof tag === 'string' && tag.startsWith('0x')) return BigInt(tag);
    const { text } = await forward(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_blockNumber', params: [] }));
    return BigInt((JSON.parse(text) as { result: string }).result);
  };
  const pick = (methods: string[]): ProxyRule | undefined => {
    for (const r of rules) {
      if (r.times !== undefined && r.hits >= r.times) continue;
      if (r.method !== undefined && !methods.some((m) => (typeof r.method === 'string' ? m === r.method : r.method!.test(m)))) continue;
      if (r.probability !== undefined && random() >= r.probability) continue;
      r.hits++;
      return r;
    }
    return undefined;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse, body: string) => {
    let parsed: RpcCall | RpcCall[];
    try {
      parsed = JSON.parse(body) as RpcCall | RpcCall[];
    } catch {
      parsed = {};
    }
    const list = Array.isArray(parsed) ? parsed : [parsed];
    const now = Date.now();
    for (const c of list) calls.push({ at: now, method: c.method ?? '?' });
    const rule = pick(list.map((c) => c.method ?? '?'));
    const f = rule?.fault;
    if (f !== undefined && (await answerInstead(f, { req, res, list, batch: Array.isArray(parsed), blockNumber }))) return;
    if (f?.kind === 'logRange') rule!.hits--; // narrow enough: not a fault
    const up = await forward(body);
    if (f?.kind === 'lostReply') {
      req.socket.destroy();
      return;
    }
    const text = f?.kind === 'truncate' ? up.text.slice(0, Math.floor(up.text.length / 2)) : up.text;
    res.writeHead(up.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      handle(req, res, Buffer.concat(chunks).toString('utf8')).catch(() => req.socket.destroy());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    addRule(rule) {
      const r: ProxyRule = { ...rule, hits: 0 };
      rules.push(r);
      return r;
    },
    clearRules() {
      rules.length = 0;
    },
    maxInWindow(windowMs = 1000, sinceMs = 0) {
      const ts = calls.filter((c) => c.at >= sinceMs).map((c) => c.at);
      let best = 0;
      for (let i = 0, j = 0; j < ts.length; j++) {
        while (ts[j]! - ts[i]! >= windowMs) i++;
        best = Math.max(best, j - i + 1);
      }
      return best;
    },
    count(method) {
      return method === undefined ? calls.length : calls.filter((c) => c.method === method).length;
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
