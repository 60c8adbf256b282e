/**
 * JSON-RPC methods in-process: the Dispatcher and method table over a real chain in a temporary
 * LevelDB, without a server or a process. A failure here points at a method or the dispatcher;
 * the wire-level view (viem, ethers, cast, WebSocket) is in test/e2e/rpc-*.test.ts.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bytesToHex } from '@ethereumjs/util';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CallExecutor } from '../../node/chain/call.ts';
import type { Chain } from '../../node/chain/chain.ts';
import { openKV } from '../../node/db/kv.ts';
import type { KV } from '../../node/db/kv.ts';
import { RpcBackend } from '../../node/rpc/backend.ts';
import { Dispatcher } from '../../node/rpc/dispatch.ts';
import type { RpcResponse } from '../../node/rpc/dispatch.ts';
import { FilterManager } from '../../node/rpc/filters.ts';
import { allMethods } from '../../node/rpc/methods/index.ts';
import { defaultRpcOptions } from '../../node/rpc/options.ts';
import { Retention } from '../../node/rpc/retention.ts';
import { emptyPool } from '../../node/txpool/view.ts';
import { buildChild, openChain } from './chain-rewind-fixture.ts';

const silent = pino({ level: 'silent' });
const SENDER = '0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266';

describe('JSON-RPC dispatch (in-process)', () => {
  let dir: string;
  let kv: KV;
  let chain: Chain;
  let filters: FilterManager;
  let rpc: (method: string, params?: unknown[]) => Promise<RpcResponse>;
  let dispatcher: Dispatcher;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rpc-dispatch-'));
    kv = await openKV(join(dir, 'chaindata'));
    chain = await openChain(kv);
    for (let i = 1n; i <= 3n; i++) await buildChild(chain, i);
    filters = new FilterManager({ timeoutMs: 60_000, maxTotal: 16, maxPerClient: 16, maxBytes: 1 << 20 }, new Retention(1 << 24), () => {});
    const backend = new RpcBackend(chain, emptyPool, new CallExecutor(chain, defaultRpcOptions.gasCap), filters, defaultRpcOptions, 'test/v0', 1n);
    dispatcher = new Dispatcher(allMethods(), backend, silent, 4);
    let id = 0;
    rpc = async (method, params = []) => (await dispatcher.handle({ jsonrpc: '2.0', id: ++id, method, params })) as RpcResponse;
  });

  afterAll(async () => {
    filters.close();
    await kv.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers head, blocks and balances from the chain', async () => {
    expect((await rpc('eth_blockNumber')).result).toBe('0x3');
    const block = (await rpc('eth_getBlockByNumber', ['0x2', true])).result as { hash: string; number: string; transactions: { from: string; value: string }[] };
    expect(block.hash).toBe(bytesToHex((await chain.store.getBlockByNumber(2n))!.hash()));
    expect(block.transactions.map((t) => [t.from, t.value])).toEqual([[SENDER, '0x2']]);
    expect((await rpc('eth_getBalance', [`0x${'bb'.repeat(20)}`, 'latest'])).result).toBe('0x6');
    expect((await rpc('eth_getBalance', [`0x${'bb'.repeat(20)}`, '0x1'])).result).toBe('0x1');
    expect((await rpc('eth_getBlockByNumber', ['0x9', false])).result).toBeNull();
  });

  it('gives each receipt its block, index and status', async () => {
    const block = (await chain.store.getBlockByNumber(3n))!;
    const hash = bytesToHex(block.transactions[0]!.hash());
    const r = (await rpc('eth_getTransactionReceipt', [hash])).result as Record<string, string>;
    expect([r.blockNumber, r.transactionIndex, r.status, r.gasUsed, r.from]).toEqual(['0x3', '0x0', '0x1', '0x5208', SENDER]);
  });

  it("refuses bad input with geth's codes and messages", async () => {
    expect((await rpc('eth_nosuch')).error).toEqual({ code: -32601, message: 'the method eth_nosuch does not exist/is not available' });
    expect((await rpc('eth_getBalance', ['0x12', 'latest'])).error?.code).toBe(-32602);
    expect((await rpc('eth_getBalance', ['0x12', 'latest'])).error?.message).toMatch(/^invalid argument 0/);
    expect(await dispatcher.handle({ jsonrpc: '1.0', id: 1, method: 'eth_blockNumber' })).toEqual({ jsonrpc: '2.0', id: 1, error: { code: -32600, message: 'invalid request' } });
    const tooMany = Array.from({ length: 5 }, (_, i) => ({ jsonrpc: '2.0', id: i + 1, method: 'eth_blockNumber' }));
    expect(await dispatcher.handle(tooMany)).toEqual([{ jsonrpc: '2.0', id: 1, error: { code: -32600, message: 'batch too large: 5 calls, max 4' } }]);
    expect(await dispatcher.handle([])).toEqual({ jsonrpc: '2.0', id: null, error: { code: -32600, message: 'empty batch' } });
  });

  it('answers a batch in order and sends nothing for notifications', async () => {
    const out = (await dispatcher.handle([
      { jsonrpc: '2.0', id: 'a', method: 'eth_chainId' },
      { jsonrpc: '2.0', method: 'eth_blockNumber' },
      { jsonrpc: '2.0', id: 'b', method: 'net_version' },
    ])) as RpcResponse[];
    expect(out.map((r) => [r.id, r.result])).toEqual([
      ['a', '0x539'],
      ['b', '1337'],
    ]);
    expect(await dispatcher.handle({ jsonrpc: '2.0', method: 'eth_blockNumber' })).toBeUndefined();
  });

  it('reverts as code 3 with the revert data, and runs eth_call at a past block', async () => {
    // 0x60006000fd: PUSH1 0 PUSH1 0 REVERT; deployed through a state override
    const code = '0x60006000fd';
    const r = await rpc('eth_call', [{ to: `0x${'cc'.repeat(20)}` }, 'latest', { [`0x${'cc'.repeat(20)}`]: { code } }]);
    expect(r.error?.code).toBe(3);
    expect(r.error?.message).toBe('execution reverted');
    const past = await rpc('eth_getTransactionCount', [SENDER, '0x1']);
    expect(past.result).toBe('0x1');
  });

  it("answers pending nonces from the pool view (a replica's is empty)", async () => {
    expect((await rpc('eth_getTransactionCount', [SENDER, 'pending'])).result).toBe('0x3');
    expect((await rpc('eth_sendRawTransaction', ['0x02c0'])).error).toEqual({ code: -32000, message: 'this node keeps no transaction pool' });
  });
});
