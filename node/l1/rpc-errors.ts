/**
 * What an L1 JSON-RPC failure means, read from viem's error chain: worth retrying (the network,
 * an overloaded or rate-limiting provider), a refused eth_getLogs range (retry narrower), or a
 * deterministic answer (a revert, bad params, a nonce or funds problem) that no retry changes.
 * Providers word these differently (geth, erigon, Infura, Alchemy, QuickNode, Ankr), so the
 * patterns are wide and the deterministic ones are checked first.
 */
import { HttpRequestError, RpcRequestError, TimeoutError } from 'viem';

interface ChainLink {
  code?: unknown;
  status?: unknown;
  details?: unknown;
  shortMessage?: unknown;
  message?: unknown;
  cause?: unknown;
  headers?: unknown;
}

/** Every error in `err`'s cause chain, `err` first (bounded: a cyclic cause must not hang us). */
export function errorChain(err: unknown): unknown[] {
  const out: unknown[] = [];
  let e = err;
  while (e !== undefined && e !== null && out.length < 12 && !out.includes(e)) {
    out.push(e);
    e = (e as ChainLink).cause;
  }
  return out;
}

/** The JSON-RPC error code of the answer, when the node answered with one. */
export function rpcCode(err: unknown): number | undefined {
  for (const e of errorChain(err)) {
    const code = (e as ChainLink).code;
    if (typeof code === 'number') return code;
  }
  return undefined;
}

/** The HTTP status of the answer (undefined: no answer, or a 200 with a JSON-RPC error). */
export function httpStatus(err: unknown): number | undefined {
  for (const e of errorChain(err)) {
    if (!(e instanceof HttpRequestError || e instanceof RpcRequestError)) continue;
    if (typeof e.status === 'number') return e.status;
  }
  return undefined;
}

/** The node's own words, not viem's wrapping ("HTTP request failed." says nothing). */
export function errorText(err: unknown): string {
  const parts: string[] = [];
  for (const e of errorChain(err)) {
    const l = e as ChainLink;
    for (const s of [l.details, l.shortMessage, l.message]) if (typeof s === 'string' && s !== '' && !parts.includes(s)) parts.push(s);
  }
  return parts.join(' | ');
}

/** Seconds or an HTTP date in a Retry-After header, as milliseconds (undefined when absent). */
export function retryAfterMs(err: unknown, now = Date.now()): number | undefined {
  for (const e of errorChain(err)) {
    const headers = (e as ChainLink).headers;
    if (!(headers instanceof Headers)) continue;
    const v = headers.get('retry-after');
    if (v === null) continue;
    const secs = Number(v);
    if (Number.isFinite(secs)) return Math.max(0, secs * 1000);
    const at = Date.parse(v);
    if (Number.isFinite(at)) return Math.max(0, at - now);
  }
  return undefined;
}

const RANGE_REFUSED =
  /query returned more than|more than [\d,]+ (results|logs)|block range|range (is )?too (wide|large|big)|too (many|large|wide) (a )?(blocks|block range|results|logs)|exceeds? (the )?max(imum)? (block )?range|range limit|log response size|response size (exceeded|is larger|should not)|limited to (a )?[\d,]+.{0,12}range|query timeout exceeded|try with this block range/i;

/** The provider refused an eth_getLogs range as too wide or too heavy: a narrower one may pass. */
export function isRangeRefusal(err: unknown): boolean {
  return RANGE_REFUSED.test(errorText(err));
}

/** Answers that are the chain's verdict, not the provider's state: retrying returns the same. */
const DETERMINISTIC =
  /revert|invalid (argument|params|opcode|signature|sender|transaction|block)|nonce too (low|high)|insufficient funds|intrinsic gas|gas (limit|required) exceeds|exceeds block gas limit|underpriced|fee cap|max fee per gas less|already known|known transaction|already exists|method not (found|supported|available)|does not exist|unsupported|not whitelisted|unauthori[sz]ed|forbidden/i;

const RATE_LIMIT = /rate.?limit|too many requests|exceeded .{0,40}capacity|capacity exceeded|request limit|throttl|quota|limit exceeded|compute units/i;

const TRANSIENT =
  /timed? ?out|timeout|econnrefused|econnreset|socket hang up|other side closed|fetch failed|bad gateway|service unavailable|temporarily unavailable|upstream|try again|header not found|overload|busy/i;

/** Provider codes for "slow down": Infura/geth -32005, Alchemy/others -32016 and -32090, some 429. */
const RATE_LIMIT_CODES = new Set([-32005, -32016, -32090, 429]);

/** The provider is asking for fewer requests (HTTP 429, a limit code or wording). */
export function isRateLimited(err: unknown): boolean {
  if (httpStatus(err) === 429) return true;
  const text = errorText(err);
  if (DETERMINISTIC.test(text) || RANGE_REFUSED.test(text)) return false;
  const code = rpcCode(err);
  return (code !== undefined && RATE_LIMIT_CODES.has(code)) || RATE_LIMIT.test(text);
}

/**
 * Whether the same request may succeed if sent again: no answer (refused, reset, timed out,
 * unreadable), a 5xx or 429, or a provider's overload error. Never a deterministic answer.
 */
export function isTransient(err: unknown): boolean {
  if (isRateLimited(err)) return true;
  const text = errorText(err);
  if (DETERMINISTIC.test(text)) return false;
  const status = httpStatus(err);
  if (status !== undefined && (status >= 500 || status === 408)) return true;
  const chain = errorChain(err);
  if (chain.some((e) => e instanceof TimeoutError)) return true;
  // an HTTP failure with no JSON-RPC answer: no connection, a dropped one, or a body that is not JSON
  const http = chain.find((e) => e instanceof HttpRequestError) as HttpRequestError | undefined;
  if (http !== undefined && (http.status === undefined || http.status >= 500)) return true;
  if (chain.some((e) => e instanceof SyntaxError)) return true;
  if (chain.some((e) => e instanceof RpcRequestError)) return TRANSIENT.test(text) && !RANGE_REFUSED.test(text);
  return TRANSIENT.test(text);
}

/** A timeout, which on eth_getLogs usually means the range was too heavy for the provider. */
export function isTimeout(err: unknown): boolean {
  return errorChain(err).some((e) => e instanceof TimeoutError) || /timed? ?out|timeout/i.test(errorText(err));
}
