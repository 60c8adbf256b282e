/**
 * Filters, subscriptions and WebSockets against a real node under attack: capped counts with
 * -32005 errors, logs shared instead of copied per filter (a transaction with 8,000 logs and
 * hundreds of filters must not exhaust the node's memory), bounded buffers, and honest clients
 * still served correctly afterwards.
 */
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPublicClient, getAbiItem, http, toEventSelector, toHex } from 'viem';
import type { Address, Hash } from 'viem';
import WebSocket from 'ws';
import { clients, removeDir, rpc, startDevNode } from '../helpers/dev-node.ts';
import type { DevNode } from '../helpers/dev-node.ts';
import { deploy, eventsAbi, loadTestContracts } from '../helpers/contracts.ts';
import { waitFor } from '../helpers/wait.ts';
import { WsRpc } from '../helpers/ws-rpc.ts';

type RpcReply = { result?: any; error?: { code: number; message: string } };
const MiB = 1024 * 1024;
const pingTopic = toEventSelector(getAbiItem({ abi: eventsAbi, name: 'Ping' }));

async function rssBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024;
}

async function gauge(node: DevNode, name: string): Promise<number> {
  const text = await (await fetch(`${node.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  if (line === undefined) throw new Error(`no ${name} in /metrics`);
  return Number(line.split(' ')[1]);
}

/** A node with deployed Events contracts and helpers to call it. */
function harness(node: () => DevNode) {
  const call = async (method: string, params: unknown[] = []): Promise<RpcReply> => (await rpc(node().url, { jsonrpc: '2.0', id: 1, method, params })).json as RpcReply;
  const batch = async (method: string, params: unknown[], n: number): Promise<RpcReply[]> =>
    (
      await rpc(
        node().url,
        Array.from({ length: n }, (_, id) => ({ jsonrpc: '2.0', id, method, params })),
      )
    ).json as RpcReply[];
  const c = () => clients(node());
  /** emitMany(n) in one transaction; gas set by hand (n logs with abi.encode grow memory quadratically). */
  const emit = async (events: Address, n: number) => {
    const { walletClient, publicClient, account } = c();
    const hash = await walletClient.writeContract({
      address: events,
      abi: eventsAbi,
      functionName: 'emitMany',
      args: [BigInt(n)],
      chain: node().chain,
      account,
      gas: BigInt(n) * 4_000n + 8_000_000n,
    });
    // a node killed by the flood (heap out of memory) fails here at once rather than at the timeout
    let onExit: (code: number | null, signal: string | null) => void = () => {};
    const died = new Promise<never>((_, rej) => (onExit = (code, signal) => rej(new Error(`node exited (code ${code}, signal ${signal})`))));
    node().proc.once('exit', onExit);
    try {
      const r = await Promise.race([publicClient.waitForTransactionReceipt({ hash, timeout: 120_000 }), died]);
      expect(r.status).toBe('success');
      return r;
    } finally {
      node().proc.off('exit', onExit);
    }
  };
  const setValue = async (events: Address, v: bigint) => {
    const { walletClient, publicClient, account } = c();
    const hash = await walletClient.writeContract({ address: events, abi: eventsAbi, functionName: 'setValue', args: [v], chain: node().chain, account });
    return publicClient.waitForTransactionReceipt({ hash });
  };
  const deployEvents = async () => {
    const { Events } = await loadTestContracts();
    return (await deploy(c().walletClient, c().publicClient, Events)).address;
  };
  return { call, batch, emit, setValue, deployEvents };
}

/** Opens a raw WebSocket; rejects with the HTTP status and JSON body when the upgrade is refused. */
function openWs(url: string, localAddress?: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { localAddress });
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => reject({ status: res.statusCode, body: JSON.parse(body) }));
    });
    ws.once('error', reject);
  });
}

const closeWs = (ws: WebSocket) =>
  new Promise<void>((res) => {
    if (ws.readyState === WebSocket.CLOSED) return res();
    ws.once('close', () => res());
    ws.close();
  });

describe('RPC limits with default caps, under a log flood', () => {
  let node: DevNode;
  const h = harness(() => node);
  let spam: Address;
  let other: Address;

  beforeAll(async () => {
    // a lower heap makes the old per-filter copies die fast instead of swapping the machine;
    // the shared references need a small fraction of it
    node = await startDevNode({ blockTime: 0, args: ['--gas-limit', '100000000'], env: { NODE_OPTIONS: '--max-old-space-size=1536' } });
    spam = await h.deployEvents();
    other = await h.deployEvents();
  }, 120_000);
  afterAll(async () => {
    await node.stop();
    await removeDir(node.datadir);
  });

  it('1,000 eth_newFilter calls from one client: 128 installed, the rest refused with -32005, nothing else changes', async () => {
    const replies = (await Promise.all(Array.from({ length: 10 }, () => h.batch('eth_newFilter', [{ address: spam }], 100)))).flat();
    const ok = replies.filter((r) => r.result !== undefined);
    const refused = replies.filter((r) => r.error !== undefined);
    expect(ok).toHaveLength(128);
    expect(refused).toHaveLength(872);
    for (const r of refused) expect(r.error).toEqual({ code: -32005, message: 'too many filters: max 128 per client, uninstall some or let them expire' });
    expect(await gauge(node, 'ai_rollup_rpc_filters')).toBe(128);
    // the installed ones still work, and an uninstalled one frees a slot for this client
    expect((await h.call('eth_getFilterChanges', [ok[0]!.result])).result).toEqual([]);
    expect((await h.call('eth_uninstallFilter', [ok[0]!.result])).result).toBe(true);
    const again = await h.call('eth_newBlockFilter');
    expect(again.result).toMatch(/^0x[0-9a-f]{32}$/);
    expect((await h.call('eth_newPendingTransactionFilter')).error?.code).toBe(-32005);
    // another client (a WebSocket connection is one) is not affected by this one's cap
    const ws = await WsRpc.connect(node.wsUrl);
    try {
      const id = await ws.request<string>('eth_newFilter', [{ address: other }]);
      expect(await ws.request('eth_uninstallFilter', [id])).toBe(true);
    } finally {
      await ws.close();
    }
  });

  it('hundreds of filters from several clients and a transaction with 8,000 logs: RSS bounded, honest filters and subscriptions get every log', async () => {
    const baseline = await rssBytes(node.proc.pid!);
    // four more clients each install as many filters as they may (and try for more)
    const attackers = await Promise.all(Array.from({ length: 4 }, () => WsRpc.connect(node.wsUrl)));
    const honest = await WsRpc.connect(node.wsUrl);
    const subscriber = await WsRpc.connect(node.wsUrl);
    try {
      const criteria = [{}, { address: spam }, { topics: [pingTopic] }, { address: spam, topics: [pingTopic] }];
      const outcomes = await Promise.all(
        attackers.flatMap((ws) =>
          Array.from({ length: 200 }, (_, i) =>
            ws.request('eth_newFilter', [criteria[i % 4]]).then(
              () => 'ok',
              (e: { code: number }) => e.code,
            ),
          ),
        ),
      );

      const spamFilter = await honest.request<string>('eth_newFilter', [{ address: spam }]);
      const valueFilter = await honest.request<string>('eth_newFilter', [{ address: other, topics: [toEventSelector(getAbiItem({ abi: eventsAbi, name: 'ValueSet' }))] }]);
      const blockFilter = await honest.request<string>('eth_newBlockFilter');
      const sub = await subscriber.request<string>('eth_subscribe', ['logs', { address: spam, topics: [pingTopic] }]);

      const flood = await h.emit(spam, 8000);
      const value = await h.setValue(other, 42n);

      // the node is up and a new client can connect and install a filter
      expect(node.proc.exitCode).toBeNull();
      // checked after the flood, so that without the caps the flood is what fails
      expect(outcomes.filter((o) => o === 'ok')).toHaveLength(4 * 128);
      expect(outcomes.filter((o) => o === -32005)).toHaveLength(4 * 72);
      const late = await WsRpc.connect(node.wsUrl);
      expect(await late.request('eth_newBlockFilter')).toMatch(/^0x/);
      await late.close();

      const expected = (await h.call('eth_getLogs', [{ blockHash: flood.blockHash, address: spam }])).result as Record<string, string>[];
      expect(expected).toHaveLength(8000);
      // filters hear of blocks after the commit, in order (node/rpc/delivery.ts), as geth's do:
      // polls gather the changes until the last block's have arrived
      const valueLogs = (await h.call('eth_getLogs', [{ blockHash: value.blockHash }])).result as unknown[];
      const gather = async <T>(id: string, until: (all: T[]) => boolean): Promise<T[]> => {
        const all: T[] = [];
        await waitFor(
          `filter ${id}`,
          async () => {
            all.push(...(await honest.request<T[]>('eth_getFilterChanges', [id])));
            return until(all);
          },
          60_000,
          200,
        );
        return all;
      };
      expect(await gather(spamFilter, (all) => all.length >= 8000)).toEqual(expected);
      expect(await gather(valueFilter, (all) => all.length >= valueLogs.length)).toEqual(valueLogs);
      expect(await gather<Hash>(blockFilter, (all) => all.includes(value.blockHash))).toEqual([flood.blockHash, value.blockHash]);
      const notified: unknown[] = [];
      while (notified.length < 8000) notified.push(await subscriber.next(sub));
      expect(notified).toEqual(expected);

      const after = await rssBytes(node.proc.pid!);
      const held = await gauge(node, 'ai_rollup_rpc_held_bytes');
      console.log(`RSS before the attack ${(baseline / MiB).toFixed(0)} MiB, after ${(after / MiB).toFixed(0)} MiB; held for clients ${(held / MiB).toFixed(1)} MiB`);
      // 645 filters each holding the 8,000 logs: ~80 MiB of references to one shared copy
      // (formatted copies per filter were ~5 GiB); the bound leaves room for GC slack
      expect(after - baseline).toBeLessThan(768 * MiB);
      expect(held).toBeLessThan(256 * MiB);
    } finally {
      for (const ws of [...attackers, honest, subscriber]) await ws.close();
    }
    // a closed connection's filters go with it: only the HTTP client's can remain (the node-wide
    // budget may have evicted some of those too: that client held as much as each attacker)
    await waitFor('filters of closed sockets removed', async () => (await gauge(node, 'ai_rollup_rpc_filters')) <= 128);
  }, 300_000);

  it('a WebSocket subscriber that never reads is dropped (1008) and the node carries on', async () => {
    const ws = await openWs(node.wsUrl);
    const reply = new Promise<{ result: string }>((res) => ws.once('message', (d) => res(JSON.parse(d.toString()))));
    ws.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_subscribe', params: ['logs', { address: spam }] }));
    expect((await reply).result).toMatch(/^0x/);
    ws.pause(); // reads nothing more: the kernel buffers fill, then ws', then the node's queue
    // ~55 MB of notifications: more than the 16 MiB queue plus every socket buffer on the way
    const floods = 8;
    // stop flooding once the node has dropped the subscriber (its gauge says so): more is only time
    for (let i = 0; i < floods; i++) {
      await h.emit(spam, 8000);
      if ((await gauge(node, 'ai_rollup_rpc_subscriptions')) === 0) break;
    }
    // reading again, the client gets what was already in the socket, then the close
    const outcome = new Promise<unknown>((res) => {
      let received = 0;
      ws.on('message', () => {
        if (++received === floods * 8000) res('every notification arrived');
      });
      ws.once('close', (code, reason) => res({ code, reason: reason.toString() }));
    });
    ws.resume();
    expect(await outcome).toEqual({ code: 1008, reason: `dropped: more than ${16 * MiB} bytes of notifications waiting` });
    expect(await gauge(node, 'ai_rollup_rpc_subscriptions')).toBe(0);
    expect(node.proc.exitCode).toBeNull();
    expect((await h.call('eth_chainId')).result).toBe('0x539');
  }, 300_000);
});

describe('RPC limits set low by flags', () => {
  let node: DevNode;
  const h = harness(() => node);
  let spam: Address;
  let other: Address;

  beforeAll(async () => {
    const flags = {
      '--rpc.max-filters': 10,
      '--rpc.max-filters-per-client': 4,
      '--rpc.filter-max-bytes': 4 * MiB,
      '--rpc.max-held-bytes': 2 * MiB,
      '--rpc.max-subscriptions': 6,
      '--rpc.max-subscriptions-per-connection': 4,
      '--rpc.ws-max-connections': 5,
      '--rpc.ws-max-connections-per-ip': 3,
    };
    node = await startDevNode({ blockTime: 0, args: ['--gas-limit', '100000000', ...Object.entries(flags).flatMap(([k, v]) => [k, String(v)])] });
    spam = await h.deployEvents();
    other = await h.deployEvents();
  }, 120_000);
  afterAll(async () => {
    await node.stop();
    await removeDir(node.datadir);
  });

  it('WebSocket connections past the per-IP (429) and total (503) caps are refused before the upgrade', async () => {
    const open: WebSocket[] = [];
    try {
      for (let i = 0; i < 3; i++) open.push(await openWs(node.wsUrl));
      await expect(openWs(node.wsUrl)).rejects.toEqual({
        status: 429,
        body: { jsonrpc: '2.0', id: null, error: { code: -32005, message: 'too many WebSocket connections: max 3 per IP' } },
      });
      // another address of the loopback range is another IP
      for (let i = 0; i < 2; i++) open.push(await openWs(node.wsUrl, '127.0.0.2'));
      await expect(openWs(node.wsUrl, '127.0.0.2')).rejects.toEqual({
        status: 503,
        body: { jsonrpc: '2.0', id: null, error: { code: -32005, message: 'too many WebSocket connections: the node serves its maximum of 5' } },
      });
      expect(await gauge(node, 'ai_rollup_rpc_websocket_connections')).toBe(5);
      // HTTP is still served, and a closed connection frees its slot
      expect((await h.call('eth_chainId')).result).toBe('0x539');
      await closeWs(open.shift()!);
      await waitFor('a slot freed', async () => (await gauge(node, 'ai_rollup_rpc_websocket_connections')) === 4);
      const ws = await WsRpc.connect(node.wsUrl);
      expect(await ws.request('eth_chainId')).toBe('0x539');
      await ws.close();
    } finally {
      for (const ws of open) await closeWs(ws);
    }
  });

  it('subscriptions past the per-connection and total caps are refused with -32005', async () => {
    const a = await WsRpc.connect(node.wsUrl);
    const b = await WsRpc.connect(node.wsUrl);
    try {
      for (let i = 0; i < 4; i++) await a.request('eth_subscribe', ['newHeads']);
      await expect(a.request('eth_subscribe', ['newHeads'])).rejects.toEqual({ code: -32005, message: 'too many subscriptions: max 4 per connection' });
      const kept = [await b.request<string>('eth_subscribe', ['newHeads']), await b.request<string>('eth_subscribe', ['newHeads'])];
      await expect(b.request('eth_subscribe', ['newHeads'])).rejects.toEqual({ code: -32005, message: 'too many subscriptions: the node holds its maximum of 6' });
      // the refused calls changed nothing: the kept subscriptions still deliver
      const r = await h.setValue(other, 1n);
      for (const id of kept) expect(((await b.next(id)) as { hash: string }).hash).toBe(r.blockHash);
      expect(await b.request('eth_unsubscribe', [kept[0]])).toBe(true);
      expect(await b.request('eth_subscribe', ['newHeads'])).toMatch(/^0x/);
    } finally {
      await a.close();
      await b.close();
    }
    await waitFor('subscriptions of closed sockets removed', async () => (await gauge(node, 'ai_rollup_rpc_subscriptions')) === 0);
  });

  it('filters past the total cap are refused; a filter whose unpolled changes outgrow --rpc.filter-max-bytes is dropped with a clear error', async () => {
    const ws = await WsRpc.connect(node.wsUrl);
    try {
      const mine = await Promise.all(Array.from({ length: 4 }, () => h.call('eth_newBlockFilter')));
      const theirs = [];
      for (let i = 0; i < 4; i++) theirs.push(await ws.request<string>('eth_newBlockFilter'));
      const ws2 = await WsRpc.connect(node.wsUrl);
      theirs.push(await ws2.request<string>('eth_newBlockFilter'), await ws2.request<string>('eth_newBlockFilter'));
      await expect(ws2.request('eth_newBlockFilter')).rejects.toEqual({ code: -32005, message: 'too many filters: the node holds its maximum of 10' });
      await ws2.close();
      for (const r of mine) expect((await h.call('eth_uninstallFilter', [r.result])).result).toBe(true);
      for (const id of theirs.slice(0, 4)) expect(await ws.request('eth_uninstallFilter', [id])).toBe(true);

      // 8,000 logs are ~6 MB of JSON, over the 4 MiB bound: the filter is dropped, not grown
      const big = (await h.call('eth_newFilter', [{ address: spam }])).result as string;
      await h.emit(spam, 8000);
      expect((await h.call('eth_getFilterChanges', [big])).error).toEqual({
        code: -32000,
        message: `filter not found: dropped, more than ${4 * MiB} bytes of changes were left unpolled`,
      });
      expect((await h.call('eth_getFilterChanges', [big])).error).toEqual({ code: -32000, message: 'filter not found' });
    } finally {
      await ws.close();
    }
  }, 120_000);

  it('viem watchContractEvent (polling a filter) recovers when its filter is dropped: it installs a new one', async () => {
    const client = createPublicClient({ chain: node.chain, transport: http(node.url), pollingInterval: 100 });
    const seen: bigint[] = [];
    const errors: string[] = [];
    const unwatch = client.watchContractEvent({
      address: spam,
      abi: eventsAbi,
      eventName: 'Ping',
      onLogs: (logs) => seen.push(...logs.map((l) => l.args.i!)),
      onError: (e) => errors.push(e.message),
    });
    try {
      await waitFor('viem installed its filter', async () => (await gauge(node, 'ai_rollup_rpc_filters')) === 1);
      await h.emit(spam, 8000); // over the 4 MiB bound: its filter is dropped before viem polls it
      await waitFor('viem told of the dropped filter', () => errors.length > 0);
      expect(errors[0]).toContain(`filter not found: dropped, more than ${4 * MiB} bytes of changes were left unpolled`);
      await waitFor('viem installed a new filter', async () => (await gauge(node, 'ai_rollup_rpc_filters')) === 1);
      seen.length = 0;
      await h.emit(spam, 3);
      await waitFor('the new logs through the new filter', () => seen.length >= 3);
      expect(seen).toEqual([0n, 1n, 2n]);
    } finally {
      unwatch();
    }
    await waitFor('viem uninstalled its filter', async () => (await gauge(node, 'ai_rollup_rpc_filters')) === 0);
  }, 120_000);

  it('past --rpc.max-held-bytes the client holding the most loses its filters; the others keep theirs', async () => {
    const attacker = await WsRpc.connect(node.wsUrl);
    try {
      const theirs = [];
      for (let i = 0; i < 4; i++) theirs.push(await attacker.request<string>('eth_newFilter', [{ topics: [pingTopic] }]));
      const honest = (await h.call('eth_newFilter', [{ address: other }])).result as string;
      // 3,000 logs (~2.3 MB) per filter: each within its own bound, together over the node's 2 MiB
      await h.emit(spam, 3000);
      const v = await h.setValue(other, 7n);
      for (const id of theirs) {
        await expect(attacker.request('eth_getFilterChanges', [id])).rejects.toEqual({
          code: -32000,
          message: `filter not found: dropped, the node holds more than ${2 * MiB} bytes of unsent changes for clients`,
        });
      }
      expect((await h.call('eth_getFilterChanges', [honest])).result).toEqual((await h.call('eth_getLogs', [{ blockHash: v.blockHash }])).result);
      expect((await h.call('eth_uninstallFilter', [honest])).result).toBe(true);
      expect(await gauge(node, 'ai_rollup_rpc_held_bytes')).toBe(0);
    } finally {
      await attacker.close();
    }
  }, 120_000);
  it('criteria past --rpc.logquerylimit are refused; large criteria count against the node-wide budget', async () => {
    const many = (n: number, salt: string) => Array.from({ length: n }, (_, i) => `0x${salt}${i.toString(16).padStart(40 - salt.length, '0')}`);
    const topics = (n: number) => Array.from({ length: n }, (_, i) => toHex(i, { size: 32 }));
    const refusal = { code: -32000, message: 'exceed max addresses or topics per search position (max 1000)' };
    expect((await h.call('eth_getLogs', [{ address: many(1001, 'a') }])).error).toEqual(refusal);
    expect((await h.call('eth_newFilter', [{ topics: [null, topics(1001)] }])).error).toEqual(refusal);
    const ws = await WsRpc.connect(node.wsUrl);
    try {
      await expect(ws.request('eth_subscribe', ['logs', { address: many(1001, 'b') }])).rejects.toEqual(refusal);
      const honest = (await h.call('eth_newFilter', [{ address: other }])).result as string;
      // 5,000 criteria entries are ~600 KB decoded: four such filters pass the node's 2 MiB
      const big = { address: many(1000, 'c'), topics: [topics(1000), topics(1000), topics(1000), topics(1000)] };
      const theirs = [];
      for (let i = 0; i < 4; i++) theirs.push(await ws.request<string>('eth_newFilter', [big]));
      expect(await gauge(node, 'ai_rollup_rpc_held_bytes')).toBeLessThanOrEqual(2 * MiB);
      const polls = await Promise.all(
        theirs.map((id) =>
          ws.request('eth_getFilterChanges', [id]).then(
            () => 'kept',
            (e: { message: string }) => e.message,
          ),
        ),
      );
      expect(polls.filter((p) => p === 'kept')).toHaveLength(2);
      expect(polls.filter((p) => p !== 'kept')).toEqual(Array(2).fill(`filter not found: dropped, the node holds more than ${2 * MiB} bytes of unsent changes for clients`));
      const v = await h.setValue(other, 9n);
      expect((await h.call('eth_getFilterChanges', [honest])).result).toEqual((await h.call('eth_getLogs', [{ blockHash: v.blockHash }])).result);
      expect((await h.call('eth_uninstallFilter', [honest])).result).toBe(true);
    } finally {
      await ws.close();
    }
    await waitFor('filters of the closed socket removed', async () => (await gauge(node, 'ai_rollup_rpc_held_bytes')) === 0);
  });
});

describe('filter expiry', () => {
  it('an unpolled filter is removed after --rpc.filter-timeout and its next poll says so', async () => {
    const node = await startDevNode({ blockTime: 0, args: ['--rpc.filter-timeout', '1'] });
    try {
      const { json } = await rpc(node.url, { jsonrpc: '2.0', id: 1, method: 'eth_newBlockFilter', params: [] });
      expect(await gauge(node, 'ai_rollup_rpc_filters')).toBe(1);
      await waitFor('the filter expired', async () => (await gauge(node, 'ai_rollup_rpc_filters')) === 0);
      const poll = () => rpc(node.url, { jsonrpc: '2.0', id: 2, method: 'eth_getFilterChanges', params: [json.result] });
      expect((await poll()).json.error).toEqual({ code: -32000, message: 'filter not found: dropped, not polled for 1 s' });
      expect((await poll()).json.error).toEqual({ code: -32000, message: 'filter not found' });
    } finally {
      await node.stop();
      await removeDir(node.datadir);
    }
  });
});
