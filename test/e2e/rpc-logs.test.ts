import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPublicClient, encodeAbiParameters, getAbiItem, keccak256, pad, toEventSelector, toHex, webSocket } from 'viem';
import type { Address, Block, Hash, TransactionReceipt } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { DEV_KEYS, clients, removeDir, rpc, startDevNode } from '../helpers/dev-node.ts';
import { deploy, eventsAbi, loadTestContracts } from '../helpers/contracts.ts';
import type { DevNode } from '../helpers/dev-node.ts';
import { WsRpc } from '../helpers/ws-rpc.ts';

const fresh = (label: string): Address => privateKeyToAccount(keccak256(toHex(label))).address;

describe('logs, filters and subscriptions', () => {
  let node: DevNode;
  let c: ReturnType<typeof clients>;

  beforeAll(async () => {
    // automine: every transaction gets its own block, so block ranges are exact
    node = await startDevNode({ blockTime: 0, args: ['--rpc.logs-max-range', '100'] });
    c = clients(node);
  });
  afterAll(async () => {
    await node.stop();
    await removeDir(node.datadir);
  });

  async function call(method: string, params: unknown[] = []) {
    const { json } = await rpc(node.url, { jsonrpc: '2.0', id: 1, method, params });
    return json as { result?: any; error?: { code: number; message: string } };
  }

  async function transfer(label: string) {
    const hash = await c.walletClient.sendTransaction({ account: c.account, chain: node.chain, to: fresh(label), value: 1n });
    return c.publicClient.waitForTransactionReceipt({ hash });
  }

  it('eth_newBlockFilter reports each new block hash once, then "filter not found" after uninstall', async () => {
    const id = (await call('eth_newBlockFilter')).result as string;
    expect(id).toMatch(/^0x[0-9a-f]+$/);
    const r1 = await transfer('block filter 1');
    const r2 = await transfer('block filter 2');
    const changes = (await call('eth_getFilterChanges', [id])).result as Hash[];
    expect(changes).toEqual([r1.blockHash, r2.blockHash]);
    expect((await call('eth_getFilterChanges', [id])).result).toEqual([]);

    expect((await call('eth_uninstallFilter', [id])).result).toBe(true);
    expect((await call('eth_getFilterChanges', [id])).error).toEqual({ code: -32000, message: 'filter not found' });
    expect((await call('eth_uninstallFilter', [id])).result).toBe(false);
  });

  it('eth_subscribe newHeads over WebSocket notifies each sealed header; eth_unsubscribe stops it', async () => {
    const ws = await WsRpc.connect(node.wsUrl);
    try {
      const sub = await ws.request<string>('eth_subscribe', ['newHeads']);
      expect(sub).toMatch(/^0x[0-9a-f]+$/);
      const r = await transfer('new heads 1');
      const head = await ws.next<Record<string, string>>(sub);
      expect(head.number).toBe(toHex(r.blockNumber));
      expect(head.hash).toBe(r.blockHash);
      expect(head).not.toHaveProperty('transactions');
      const block = await c.publicClient.getBlock({ blockHash: r.blockHash });
      expect(head.parentHash).toBe(block.parentHash);
      expect(head.stateRoot).toBe(block.stateRoot);
      expect(BigInt(head.gasUsed!)).toBe(block.gasUsed);

      expect(await ws.request('eth_unsubscribe', [sub])).toBe(true);
      expect(await ws.request('eth_unsubscribe', [sub])).toBe(false);
      // a second subscription on the same socket proves the block went out; the first one stays silent
      const probe = await ws.request<string>('eth_subscribe', ['newHeads']);
      const r2 = await transfer('new heads 2');
      expect((await ws.next<{ hash: Hash }>(probe)).hash).toBe(r2.blockHash);
      expect(ws.queued(sub)).toEqual([]);

      await expect(ws.request('eth_subscribe', ['noSuchThing'])).rejects.toMatchObject({ code: -32601 });
    } finally {
      await ws.close();
    }
  });

  it('viem watchBlocks over the webSocket transport receives new blocks', async () => {
    const client = createPublicClient({ chain: node.chain, transport: webSocket(node.wsUrl) });
    const seen: Block[] = [];
    let wake: () => void = () => {};
    const unwatch = client.watchBlocks({
      onBlock: (b) => {
        seen.push(b);
        wake();
      },
      onError: (e) => {
        throw e;
      },
    });
    try {
      // the subscription registers asynchronously: mine until one of our blocks arrives through it
      const mined: { blockHash: Hash; blockNumber: bigint }[] = [];
      while (!seen.some((b) => mined.some((r) => r.blockHash === b.hash))) {
        mined.push(await transfer(`watch blocks ${mined.length}`));
        await new Promise<void>((res) => {
          wake = res;
          setTimeout(res, 250);
        });
      }
      const last = mined.at(-1)!;
      while (!seen.some((b) => b.hash === last.blockHash)) await new Promise<void>((res) => (wake = res));
      for (const r of mined) {
        const b = seen.find((x) => x.hash === r.blockHash);
        if (b !== undefined) expect(b.number).toBe(r.blockNumber);
      }
      // once subscribed, every block arrives, in order
      const numbers = seen.map((b) => b.number);
      expect(numbers).toEqual(numbers.map((_, i) => numbers[0]! + BigInt(i)));
      expect(numbers.at(-1)).toBe(last.blockNumber);
    } finally {
      unwatch();
      (await client.transport.getRpcClient()).close();
    }
  });

  describe('logs of the Events contract', () => {
    let events: Address;
    let other: ReturnType<typeof clients>;
    let a: TransactionReceipt; // emitMany(3) from account 0
    let b: TransactionReceipt; // emitMany(2) from account 1
    let v: TransactionReceipt; // setValue(5)
    const pingTopic = toEventSelector(getAbiItem({ abi: eventsAbi, name: 'Ping' }));
    const valueSetTopic = toEventSelector(getAbiItem({ abi: eventsAbi, name: 'ValueSet' }));
    const word = (n: bigint | Address) => (typeof n === 'bigint' ? toHex(n, { size: 32 }) : pad(n));

    const emit = async (who: ReturnType<typeof clients>, n: bigint) => {
      const hash = await who.walletClient.writeContract({ address: events, abi: eventsAbi, functionName: 'emitMany', args: [n], chain: node.chain, account: who.account });
      return c.publicClient.waitForTransactionReceipt({ hash });
    };
    const raw = (filter: Record<string, unknown>) => call('eth_getLogs', [filter]);

    beforeAll(async () => {
      const { Events } = await loadTestContracts();
      ({ address: events } = await deploy(c.walletClient, c.publicClient, Events));
      other = clients(node, DEV_KEYS[1]);
      a = await emit(c, 3n);
      b = await emit(other, 2n);
      const hash = await c.walletClient.writeContract({ address: events, abi: eventsAbi, functionName: 'setValue', args: [5n], chain: node.chain, account: c.account });
      v = await c.publicClient.waitForTransactionReceipt({ hash });
    });

    it('eth_getLogs by address, topics, block range and block hash', async () => {
      const range = { fromBlock: toHex(a.blockNumber), toBlock: toHex(v.blockNumber) };
      const all = (await raw({ ...range, address: events })).result as Record<string, string>[];
      // exactly what the receipts hold, in block and log order
      const receipts = await Promise.all([a, b, v].map((r) => call('eth_getTransactionReceipt', [r.transactionHash])));
      expect(all).toEqual(receipts.flatMap((r) => r.result.logs));
      expect(all.map((l) => [BigInt(l.blockNumber!), l.topics![0]])).toEqual([
        ...[0, 1, 2].map(() => [a.blockNumber, pingTopic]),
        ...[0, 1].map(() => [b.blockNumber, pingTopic]),
        [v.blockNumber, valueSetTopic],
      ]);

      const count = async (f: Record<string, unknown>) => ((await raw({ ...range, ...f })).result as unknown[]).length;
      expect(await count({ topics: [pingTopic] })).toBe(5);
      expect(await count({ topics: [valueSetTopic, word(5n)] })).toBe(1);
      expect(await count({ topics: [valueSetTopic, word(6n)] })).toBe(0);
      expect(await count({ topics: [pingTopic, null, word(other.account.address)] })).toBe(2);
      expect(await count({ topics: [null, [word(0n), word(2n)]] })).toBe(3); // i = 0 twice, i = 2 once
      expect(await count({ topics: [[pingTopic, valueSetTopic]] })).toBe(6);
      expect(await count({ address: [events, fresh('no logs here')] })).toBe(6);
      expect(await count({ address: fresh('no logs here') })).toBe(0);
      expect(await count({ topics: [pingTopic, null, null, null] })).toBe(0); // Ping has only 3 topics
      expect((await raw({ fromBlock: toHex(b.blockNumber), toBlock: toHex(b.blockNumber) })).result).toHaveLength(2);

      // viem decodes them; by block hash
      const byHash = await c.publicClient.getLogs({ blockHash: a.blockHash, event: getAbiItem({ abi: eventsAbi, name: 'Ping' }) });
      expect(byHash.map((l) => l.args)).toEqual([0n, 1n, 2n].map((i) => ({ i, from: c.account.address, data: encodeAbiParameters([{ type: 'uint256' }], [i]) })));
      expect(byHash.map((l) => l.logIndex)).toEqual([0, 1, 2]);
      const typed = await c.publicClient.getContractEvents({ address: events, abi: eventsAbi, eventName: 'Ping', args: { from: other.account.address }, fromBlock: a.blockNumber });
      expect(typed.map((l) => [l.blockHash, l.args.i])).toEqual([
        [b.blockHash, 0n],
        [b.blockHash, 1n],
      ]);

      expect((await raw({ blockHash: keccak256(toHex('nope')) })).error).toEqual({ code: -32000, message: 'unknown block' });
      expect((await raw({ fromBlock: toHex(v.blockNumber), toBlock: toHex(a.blockNumber) })).error?.code).toBe(-32602);
      expect((await raw({ blockHash: a.blockHash, fromBlock: '0x1' })).error?.code).toBe(-32602);
    });

    it('eth_newFilter: getFilterChanges returns only logs after the filter, getFilterLogs the whole range', async () => {
      const id = (await call('eth_newFilter', [{ address: events, fromBlock: toHex(a.blockNumber), topics: [pingTopic] }])).result as string;
      expect((await call('eth_getFilterChanges', [id])).result).toEqual([]);
      const r = await emit(other, 2n);
      const changes = (await call('eth_getFilterChanges', [id])).result as Record<string, string>[];
      const receipt = (await call('eth_getTransactionReceipt', [r.transactionHash])).result;
      expect(changes).toEqual(receipt.logs);
      expect(changes).toHaveLength(2);
      expect((await call('eth_getFilterChanges', [id])).result).toEqual([]);
      // setValue does not match the topic filter
      await c.publicClient.waitForTransactionReceipt({
        hash: await c.walletClient.writeContract({ address: events, abi: eventsAbi, functionName: 'setValue', args: [6n], chain: node.chain, account: c.account }),
      });
      expect((await call('eth_getFilterChanges', [id])).result).toEqual([]);

      const logs = (await call('eth_getFilterLogs', [id])).result as Record<string, string>[];
      expect(logs.map((l) => l.transactionHash)).toEqual([...Array(3).fill(a.transactionHash), ...Array(2).fill(b.transactionHash), ...Array(2).fill(r.transactionHash)]);

      expect((await call('eth_uninstallFilter', [id])).result).toBe(true);
      expect((await call('eth_getFilterChanges', [id])).error).toEqual({ code: -32000, message: 'filter not found' });
      expect((await call('eth_getFilterLogs', [id])).error).toEqual({ code: -32000, message: 'filter not found' });
      expect((await call('eth_uninstallFilter', [id])).result).toBe(false);

      // the same through viem's typed filter
      const filter = await c.publicClient.createContractEventFilter({ address: events, abi: eventsAbi, eventName: 'ValueSet' });
      await c.publicClient.waitForTransactionReceipt({
        hash: await c.walletClient.writeContract({ address: events, abi: eventsAbi, functionName: 'setValue', args: [77n], chain: node.chain, account: c.account }),
      });
      const got = await c.publicClient.getFilterChanges({ filter });
      expect(got.map((l) => l.args)).toEqual([{ v: 77n }]);
      expect(await c.publicClient.uninstallFilter({ filter })).toBe(true);
    });

    it('eth_subscribe logs over WebSocket delivers matching logs as they are mined', async () => {
      const ws = await WsRpc.connect(node.wsUrl);
      try {
        const sub = await ws.request<string>('eth_subscribe', ['logs', { address: events, topics: [pingTopic, null, word(other.account.address)] }]);
        await emit(c, 1n); // not from `other`: filtered out
        const r = await emit(other, 2n);
        const receipt = (await call('eth_getTransactionReceipt', [r.transactionHash])).result;
        expect([await ws.next(sub), await ws.next(sub)]).toEqual(receipt.logs);
        expect(ws.queued(sub)).toEqual([]);
        expect(await ws.request('eth_unsubscribe', [sub])).toBe(true);
        await expect(ws.request('eth_subscribe', ['logs', { topics: ['0x12'] }])).rejects.toMatchObject({ code: -32602 });
      } finally {
        await ws.close();
      }
    });

    it('viem watchContractEvent over the webSocket transport decodes new events', async () => {
      const client = createPublicClient({ chain: node.chain, transport: webSocket(node.wsUrl) });
      const seen: { v: bigint | undefined; tx: Hash | null }[] = [];
      const unwatch = client.watchContractEvent({
        address: events,
        abi: eventsAbi,
        eventName: 'ValueSet',
        onLogs: (logs) => seen.push(...logs.map((l) => ({ v: l.args.v, tx: l.transactionHash }))),
      });
      try {
        // the subscription registers asynchronously: keep setting values until one arrives
        const sent: Hash[] = [];
        for (let n = 1000n; !seen.some((s) => sent.includes(s.tx!)); n++) {
          const hash = await c.walletClient.writeContract({ address: events, abi: eventsAbi, functionName: 'setValue', args: [n], chain: node.chain, account: c.account });
          await c.publicClient.waitForTransactionReceipt({ hash });
          sent.push(hash);
          await new Promise((res) => setTimeout(res, 100));
        }
        const first = sent.findIndex((h) => seen.some((s) => s.tx === h));
        expect(seen.map((s) => s.tx)).toEqual(sent.slice(first));
        expect(seen.map((s) => s.v)).toEqual(sent.slice(first).map((_, i) => 1000n + BigInt(first + i)));
      } finally {
        unwatch();
        (await client.transport.getRpcClient()).close();
      }
    });
  });

  it('refuses an eth_getLogs range wider than --rpc.logs-max-range with -32005', async () => {
    while ((await c.publicClient.getBlockNumber()) < 101n) await transfer(`fill ${Math.random()}`);
    const head = await c.publicClient.getBlockNumber();
    const wide = await call('eth_getLogs', [{ fromBlock: '0x0', toBlock: toHex(head) }]);
    expect(wide.error?.code).toBe(-32005);
    expect(wide.error?.message).toBe(`block range too large: ${head + 1n} blocks, max 100`);
    await expect(c.publicClient.getLogs({ fromBlock: 0n, toBlock: head })).rejects.toThrow(/block range too large/);
    // exactly 100 blocks is allowed
    const ok = await call('eth_getLogs', [{ fromBlock: toHex(head - 99n), toBlock: toHex(head) }]);
    expect(ok.error).toBeUndefined();
    expect(Array.isArray(ok.result)).toBe(true);
  });
});
