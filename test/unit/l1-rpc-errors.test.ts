/**
 * What the L1 transport retries and what it does not, read from the errors viem throws for real
 * providers' answers (node/l1/rpc-errors.ts); the token bucket's spacing; and getLogsInRanges'
 * chunk sizes against a fake provider with a fixed range cap (no network).
 */
import { HttpRequestError, RpcRequestError, TimeoutError, createPublicClient, custom } from 'viem';
import type { PublicClient } from 'viem';
import { describe, expect, it } from 'vitest';
import { getLogsInRanges } from '../../node/l1/log-range.ts';
import { isRangeRefusal, isRateLimited, isTransient, retryAfterMs } from '../../node/l1/rpc-errors.ts';
import { TokenBucket } from '../../node/l1/token-bucket.ts';

const url = 'http://l1.invalid';
const rpc = (code: number, message: string, status?: number, headers?: Headers) => new RpcRequestError({ body: { method: 'x' }, error: { code, message }, url, status, headers });
const http = (status: number | undefined, details = '', headers?: Headers) =>
  new HttpRequestError({ url, status, details, headers, cause: status === undefined ? new TypeError('fetch failed') : undefined });

describe('L1 error classification', () => {
  it.each([
    ['HTTP 502', http(502, 'Bad Gateway')],
    ['HTTP 503', http(503)],
    ['HTTP 429', http(429, 'Too Many Requests')],
    ['no connection', http(undefined)],
    ['a malformed body', new HttpRequestError({ url, cause: new SyntaxError('Unexpected end of JSON input') })],
    ['a timeout', new TimeoutError({ body: {}, url })],
    ['-32005 limit exceeded', rpc(-32005, 'limit exceeded')],
    ['-32016 over capacity', rpc(-32016, 'Your app has exceeded its compute units per second capacity')],
    ['-32090 too many requests', rpc(-32090, 'Too Many Requests')],
    ['a rate-limit message under another code', rpc(-32000, 'daily request count exceeded, request rate limited')],
    ['an upstream failure', rpc(-32603, 'upstream connect error or disconnect/reset before headers')],
    ['a node behind its load balancer', rpc(-32000, 'header not found')],
  ])('%s is transient', (_, err) => {
    expect(isTransient(err)).toBe(true);
  });

  it.each([
    ['a revert', rpc(3, 'execution reverted: NotBatcher()')],
    ['invalid params', rpc(-32602, 'invalid argument 0: hex string without 0x prefix')],
    ['nonce too low', rpc(-32000, 'nonce too low: next nonce 5, tx nonce 4')],
    ['insufficient funds', rpc(-32000, 'insufficient funds for gas * price + value')],
    ['already known', rpc(-32000, 'already known')],
    ['an underpriced replacement', rpc(-32000, 'replacement transaction underpriced')],
    ['a method the provider lacks', rpc(-32601, 'the method debug_x does not exist/is not available')],
    ['HTTP 401', http(401, 'Unauthorized')],
    ['Infura refusing a log range (-32005)', rpc(-32005, 'query returned more than 10000 results. Try with this block range [0x1, 0x2].')],
  ])('%s is not retried', (_, err) => {
    expect(isTransient(err)).toBe(false);
  });

  it('tells a rate limit from a refused log range under the same code', () => {
    expect(isRateLimited(rpc(-32005, 'limit exceeded'))).toBe(true);
    expect(isRateLimited(rpc(-32005, 'query returned more than 10000 results'))).toBe(false);
    expect(isRangeRefusal(rpc(-32005, 'query returned more than 10000 results'))).toBe(true);
    for (const m of ['block range is too wide', 'exceed maximum block range: 5000', 'Log response size exceeded. You can make eth_getLogs requests with up to a 2K block range'])
      expect(isRangeRefusal(rpc(-32602, m))).toBe(true);
    expect(isRangeRefusal(rpc(3, 'execution reverted'))).toBe(false);
  });

  it('reads Retry-After in seconds or as a date', () => {
    expect(retryAfterMs(http(429, '', new Headers({ 'retry-after': '2' })))).toBe(2000);
    expect(retryAfterMs(http(429, '', new Headers({ 'retry-after': new Date(10_000).toUTCString() })), 4_000)).toBe(6000);
    expect(retryAfterMs(http(429))).toBeUndefined();
  });
});

describe('TokenBucket', () => {
  it('spaces takers 1/rate apart in arrival order, and an unbounded one never waits', async () => {
    const bucket = new TokenBucket(50);
    const t0 = Date.now();
    const done: number[] = [];
    await Promise.all(Array.from({ length: 6 }, (_, i) => bucket.take().then(() => done.push(i))));
    // one saved token, then 20 ms each
    expect(Date.now() - t0).toBeGreaterThanOrEqual(95);
    expect(done).toEqual([0, 1, 2, 3, 4, 5]);
    const free = new TokenBucket(0);
    const t1 = Date.now();
    await Promise.all(Array.from({ length: 100 }, () => free.take()));
    expect(Date.now() - t1).toBeLessThan(50);
  });
});

describe('getLogsInRanges chunk sizes', () => {
  it('halves past a fixed cap, then grows back only after a few successes', async () => {
    const widths: number[] = [];
    const provider = {
      async request({ method, params }: { method: string; params: [{ fromBlock: string; toBlock: string }] }) {
        if (method !== 'eth_getLogs') throw new Error(method);
        const width = Number(BigInt(params[0].toBlock) - BigInt(params[0].fromBlock)) + 1;
        widths.push(width);
        if (width > 500) throw new RpcRequestError({ body: {}, error: { code: -32602, message: 'block range is too wide' }, url });
        return [];
      },
    };
    const client = createPublicClient({ transport: custom(provider, { retryCount: 0 }) }) as PublicClient;
    await getLogsInRanges(client, { address: '0x0000000000000000000000000000000000000001', fromBlock: 0n, toBlock: 4_999n });
    // 2000, 1000 refused; 500 five times (four successes earn one doubling), refused again, and so on
    expect(widths.slice(0, 8)).toEqual([2000, 1000, 500, 500, 500, 500, 1000, 500]);
    const refused = widths.filter((w) => w > 500).length;
    expect(refused).toBeLessThanOrEqual(widths.length / 3);
    expect(widths.filter((w) => w <= 500).reduce((a, b) => a + b, 0)).toBe(5_000);
  });
});
