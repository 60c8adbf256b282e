import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clients, removeDir, rpc, startDevNode } from '../helpers/dev-node.ts';
import type { DevNode } from '../helpers/dev-node.ts';

const ADDR = '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266';

/** POSTs a body as is; returns status, raw text and the parsed JSON (if any). */
async function post(url: string, body: string, contentType = 'application/json'): Promise<{ status: number; text: string; json: any }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': contentType }, body });
  const text = await res.text();
  let json: unknown;
  try {
    json = text.length > 0 ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, text, json };
}

const req = (method: string, params: unknown[] = [], id: unknown = 1) => ({ jsonrpc: '2.0', id, method, params });

describe('JSON-RPC: malformed and hostile requests (--rpc.max-batch 10)', () => {
  let node: DevNode;
  let url: string;
  const errorOf = async (body: unknown) => (await rpc(url, body)).json.error as { code: number; message: string };

  const expectParamErrors = async (cases: [string, unknown[], RegExp][]) => {
    for (const [method, params, message] of cases) {
      const e = await errorOf({ jsonrpc: '2.0', id: 9, method, params });
      expect(e?.code, `${method} ${JSON.stringify(params)}`).toBe(-32602);
      expect(e.message, `${method} ${JSON.stringify(params)}`).toMatch(message);
    }
  };

  beforeAll(async () => {
    node = await startDevNode({ args: ['--rpc.max-batch', '10'] });
    url = node.url;
  });
  afterAll(async () => {
    await node?.stop();
    if (node !== undefined) await removeDir(node.datadir);
  });

  it('invalid JSON: -32700 "parse error" with a null id', async () => {
    for (const body of ['{"jsonrpc":"2.0","id":1,"method":', 'not json', '{"id":1}}', '[{"jsonrpc":"2.0"},', '']) {
      const r = await post(url, body);
      expect(r.status, body).toBe(200);
      expect(r.json, body).toEqual({ jsonrpc: '2.0', id: null, error: { code: -32700, message: 'parse error' } });
    }
    // the content type does not matter, as with geth's lenient clients
    expect((await post(url, 'nope', 'text/plain')).json.error.code).toBe(-32700);
  });

  it("unknown method: -32601 with geth's message, echoing the id", async () => {
    const r = await rpc(url, req('foo_bar', [], 'abc'));
    expect(r.json).toEqual({ jsonrpc: '2.0', id: 'abc', error: { code: -32601, message: 'the method foo_bar does not exist/is not available' } });
    // inherited object properties are not methods
    for (const m of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
      expect((await errorOf(req(m))).code, m).toBe(-32601);
    }
  });

  it('bad params: -32602 with a message saying what is wrong', async () => {
    const cases: [string, unknown[], RegExp][] = [
      ['eth_getBalance', [], /^missing value for required argument 0$/],
      ['eth_getBlockByNumber', ['0x1'], /^missing value for required argument 1$/],
      ['eth_blockNumber', [1], /^too many arguments, want at most 0$/],
      ['eth_getBalance', [ADDR, 'latest', 3], /^too many arguments, want at most 2$/],
      ['eth_getBalance', ['0x1234', 'latest'], /^invalid argument 0: .*length/],
      ['eth_getBalance', [`${ADDR}00`, 'latest'], /^invalid argument 0: .*length/],
      ['eth_getBalance', [ADDR.slice(2), 'latest'], /^invalid argument 0: .*0x/],
      ['eth_getTransactionByHash', ['0x1234'], /^invalid argument 0: .*length/],
      ['eth_sendRawTransaction', ['0xabc'], /^invalid argument 0: .*odd length/],
      ['eth_sendRawTransaction', ['0xzz'], /^invalid argument 0: .*(hex|digit)/],
      ['eth_getBlockByNumber', ['0x1', 'yes'], /^invalid argument 1: .*bool/i],
      ['eth_getBalance', { address: ADDR } as unknown as unknown[], /^non-array args$/],
      ['ai_getInferenceProof', [], /^missing value for required argument 0$/],
      ['ai_getInferenceProof', ['0x'], /^invalid argument 0: /],
      ['ai_getInferenceProof', [-1], /^invalid argument 0: /],
      ['ai_getInferenceProof', [`0x1${'0'.repeat(64)}`], /^invalid argument 0: .*256 bits/],
      ['ai_getInferenceProof', ['0x1', 'latest'], /^too many arguments, want at most 1$/],
    ];
    await expectParamErrors(cases);
    // a well-formed id nobody fulfilled: null, as eth_getTransactionByHash for an unknown hash
    expect((await rpc(url, req('ai_getInferenceProof', [`0x${'f'.repeat(64)}`]))).json.result).toBeNull();
  });

  it('bad block numbers and tags: -32602 saying what is wrong (not just "Invalid input")', async () => {
    await expectParamErrors([
      ['eth_getBalance', [ADDR, 'latestt'], /^invalid argument 1: .*(hex|0x|tag|block)/i],
      ['eth_getBalance', [ADDR, '0xzz'], /^invalid argument 1: .*(hex|digit)/i],
      ['eth_getBlockByNumber', ['0x01', false], /^invalid argument 0: .*(leading zero|hex)/i],
      ['eth_getBlockByNumber', [1, false], /^invalid argument 0: .*(string|hex|number)/i],
      ['eth_getLogs', [{ fromBlock: 'x' }], /^invalid argument 0: .*(hex|0x|tag|block)/i],
    ]);
  });

  it('not a request object, or not JSON-RPC 2.0: -32600 "invalid request"', async () => {
    const bodies: [unknown, unknown][] = [
      [42, null],
      ['eth_chainId', null],
      [null, null],
      [true, null],
      [{ id: 3, method: 'eth_chainId' }, 3], // no jsonrpc
      [{ jsonrpc: '1.0', id: 4, method: 'eth_chainId' }, 4],
      [{ jsonrpc: '2.0', id: 5 }, 5], // no method
      [{ jsonrpc: '2.0', id: 6, method: 7 }, 6],
      [{ jsonrpc: '2.0', id: { x: 1 }, method: 'eth_chainId' }, null], // ids are strings, numbers or null
    ];
    for (const [body, id] of bodies) {
      const r = await rpc(url, body);
      expect(r.json, JSON.stringify(body)).toEqual({ jsonrpc: '2.0', id, error: { code: -32600, message: 'invalid request' } });
    }
  });

  it('a mixed batch is answered entry by entry, in order, with each id; notifications get no entry', async () => {
    const r = await rpc(url, [
      req('eth_chainId', [], 1),
      req('foo_bar', [], 'two'),
      { jsonrpc: '2.0', method: 'eth_chainId', params: [] }, // notification
      req('eth_getBalance', ['0x12'], 3),
      42,
      { jsonrpc: '2.0', method: 'foo_bar' }, // a failing notification is silent too
      { id: 4, method: 'eth_chainId' },
      req('eth_getBalance', [ADDR, 'latest'], 5),
      req('eth_blockNumber', [], null),
    ]);
    expect(r.status).toBe(200);
    const out = r.json as any[];
    expect(out.map((x) => x.id)).toEqual([1, 'two', 3, null, 4, 5, null]);
    expect(out[0].result).toBe('0x539');
    expect(out[1].error.code).toBe(-32601);
    expect(out[2].error.code).toBe(-32602);
    expect(out[3].error.code).toBe(-32600);
    expect(out[4].error.code).toBe(-32600);
    expect(BigInt(out[5].result)).toBe(10_000n * 10n ** 18n);
    expect(out[6].result).toMatch(/^0x[0-9a-f]+$/);
    for (const i of [0, 5, 6]) expect(out[i].error).toBeUndefined();
  });

  it('an empty batch is one -32600 "empty batch" error', async () => {
    expect((await rpc(url, [])).json).toEqual({ jsonrpc: '2.0', id: null, error: { code: -32600, message: 'empty batch' } });
  });

  it('notifications alone get nothing back', async () => {
    for (const body of [
      { jsonrpc: '2.0', method: 'eth_chainId' },
      [
        { jsonrpc: '2.0', method: 'eth_chainId' },
        { jsonrpc: '2.0', method: 'foo_bar' },
      ],
    ]) {
      const r = await post(url, JSON.stringify(body));
      expect(r.status).toBe(200);
      expect(r.text).toBe('');
    }
  });

  it('a batch over --rpc.max-batch is refused as a whole (geth: one "batch too large" error); at the limit it is served', async () => {
    const calls = (n: number) => Array.from({ length: n }, (_, i) => req('eth_chainId', [], i + 100));
    const over = await rpc(url, calls(11));
    expect(over.status).toBe(200);
    expect(over.json).toHaveLength(1);
    expect(over.json[0].id).toBe(100);
    expect(over.json[0].error.code).toBe(-32600);
    expect(over.json[0].error.message).toMatch(/^batch too large/);
    const at = await rpc(url, calls(10));
    expect((at.json as any[]).map((x) => x.result)).toEqual(Array(10).fill('0x539'));
  });

  it('a body over 5 MiB is refused with 413 and a JSON-RPC error; just under it is served', async () => {
    const pad = (bytes: number) => JSON.stringify(req('web3_sha3', [`0x${'00'.repeat(bytes)}`]));
    const big = pad(3 * 1024 * 1024); // 6 MiB of hex
    expect(big.length).toBeGreaterThan(5 * 1024 * 1024);
    const r = await post(url, big);
    expect(r.status).toBe(413);
    expect(r.json.jsonrpc).toBe('2.0');
    expect(r.json.error.code).toBe(-32600);
    expect(r.json.error.message).toMatch(/too large/);
    const ok = await post(url, pad(2 * 1024 * 1024 + 511 * 1024)); // 5 MiB of hex minus 2 KiB
    expect(ok.status).toBe(200);
    expect(ok.json.result).toMatch(/^0x[0-9a-f]{64}$/);
  });

  it('over WebSocket: invalid JSON gets -32700, a bad subscription -32601/-32602, and the socket keeps serving', async () => {
    const socket = new WebSocket(node.wsUrl);
    await new Promise<void>((res, rej) => {
      socket.once('open', () => res());
      socket.once('error', rej);
    });
    const replies: any[] = [];
    socket.on('message', (d) => replies.push(JSON.parse(d.toString())));
    const reply = async (n: number) => {
      for (let i = 0; i < 200 && replies.length < n; i++) await new Promise((r) => setTimeout(r, 25));
      return replies[n - 1];
    };
    try {
      socket.send('{"jsonrpc":"2.0","id":1,"method":');
      expect(await reply(1)).toEqual({ jsonrpc: '2.0', id: null, error: { code: -32700, message: 'parse error' } });
      socket.send(JSON.stringify(req('eth_subscribe', ['noSuchThing'], 2)));
      expect((await reply(2)).error.code).toBe(-32601);
      socket.send(JSON.stringify(req('eth_subscribe', ['logs', { address: '0x1234' }], 3)));
      expect((await reply(3)).error).toMatchObject({ code: -32602 });
      socket.send(JSON.stringify(req('eth_chainId', [], 4)));
      expect(await reply(4)).toEqual({ jsonrpc: '2.0', id: 4, result: '0x539' });
    } finally {
      socket.close();
    }
  });

  it('still serves normally after all of the above', async () => {
    const { publicClient } = clients(node);
    expect(await publicClient.getChainId()).toBe(1337);
    const first = await publicClient.getBlockNumber();
    await new Promise<void>((resolve, reject) => {
      const stop = publicClient.watchBlockNumber({
        onBlockNumber: (n) => {
          if (n > first) {
            stop();
            resolve();
          }
        },
        onError: reject,
      });
    });
    expect(await publicClient.getBalance({ address: ADDR })).toBe(10_000n * 10n ** 18n);
    expect(node.proc.exitCode).toBeNull();
  });
});
