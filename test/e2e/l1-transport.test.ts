/**
 * The L1 transport (node/l1/l1-transport.ts) against a real anvil behind the fault proxy: each
 * fault kind is survived with retries and fails without them, deterministic answers are never
 * retried, the rate bound holds at the proxy, a dead primary hands over to a fallback (and one of
 * another chain is refused), and a lost eth_sendRawTransaction reply yields one transaction.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createPublicClient, createWalletClient, parseEther } from 'viem';
import type { PublicClient } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { chainAt } from '../../contracts/abi/chain.ts';
import { startAnvil } from '../../devnet/anvil.ts';
import type { Anvil } from '../../devnet/anvil.ts';
import { L1Rpc } from '../../node/l1/l1-transport.ts';
import type { L1TransportOptions } from '../../node/l1/l1-transport.ts';
import { startL1FaultProxy } from '../helpers/l1-fault-proxy.ts';
import type { Fault, L1FaultProxy } from '../helpers/l1-fault-proxy.ts';

let anvil: Anvil;
let proxy: L1FaultProxy;

beforeAll(async () => {
  anvil = await startAnvil();
  proxy = await startL1FaultProxy(anvil.url, { seed: 7 });
});
afterAll(async () => {
  await proxy?.stop();
  await anvil?.stop();
});
afterEach(() => proxy.clearRules());

/** Quick backoff: these tests check what is retried, not how long the waits are. */
const fast = { backoffMs: 20, maxBackoffMs: 100, timeoutMs: 2_000 };

function client(opts: Partial<L1TransportOptions> = {}, url = proxy.url): { rpc: L1Rpc; l1: PublicClient } {
  const rpc = new L1Rpc(url, { ...fast, ...opts, chainId: BigInt(anvil.chainId) });
  return { rpc, l1: createPublicClient({ transport: rpc.transport() }) as PublicClient };
}

const total = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);

describe('L1 transport: transient failures are retried', () => {
  const cases: [string, Fault][] = [
    ['a dropped connection', { kind: 'drop' }],
    ['HTTP 502', { kind: 'http502' }],
    ['HTTP 429 without Retry-After', { kind: 'http429' }],
    ['JSON-RPC -32005 limit exceeded', { kind: 'rpcLimit' }],
    ['JSON-RPC -32016 over capacity', { kind: 'rpcLimit', code: -32016, message: 'Your app has exceeded its compute units per second capacity' }],
    ['JSON-RPC -32090 too many requests', { kind: 'rpcLimit', code: -32090, message: 'Too Many Requests' }],
    ['a truncated body', { kind: 'truncate' }],
  ];
  for (const [name, fault] of cases) {
    it(`${name}: answered after retries, fails without them`, async () => {
      const { rpc, l1 } = client();
      proxy.addRule({ fault, method: 'eth_blockNumber', times: 2 });
      expect(await l1.getBlockNumber({ cacheTime: 0 })).toBeGreaterThanOrEqual(0n);
      expect(rpc.stats.retries.get('eth_blockNumber')).toBe(2);
      expect(total(rpc.stats.errors)).toBe(2);

      const none = client({ retries: 0 });
      proxy.addRule({ fault, method: 'eth_blockNumber', times: 1 });
      await expect(none.l1.getBlockNumber({ cacheTime: 0 })).rejects.toThrow();
    });
  }

  it('a timeout: the slow attempt is abandoned and the next one answers', async () => {
    const { rpc, l1 } = client({ timeoutMs: 300 });
    proxy.addRule({ fault: { kind: 'delay', ms: 1_000 }, method: 'eth_blockNumber', times: 1 });
    expect(await l1.getBlockNumber({ cacheTime: 0 })).toBeGreaterThanOrEqual(0n);
    expect([...rpc.stats.errors.keys()].some((k) => k.endsWith('timeout'))).toBe(true);
    const none = client({ timeoutMs: 300, retries: 0 });
    proxy.addRule({ fault: { kind: 'delay', ms: 1_000 }, method: 'eth_blockNumber', times: 1 });
    await expect(none.l1.getBlockNumber({ cacheTime: 0 })).rejects.toThrow(/took too long/);
  });

  it("HTTP 429's Retry-After is waited out, and counted as rate limited", async () => {
    const { rpc, l1 } = client();
    proxy.addRule({ fault: { kind: 'http429', retryAfter: 1 }, method: 'eth_blockNumber', times: 1 });
    const t0 = Date.now();
    await l1.getBlockNumber({ cacheTime: 0 });
    // the backoff alone is under 100 ms here
    expect(Date.now() - t0).toBeGreaterThanOrEqual(950);
    expect(total(rpc.stats.rateLimited)).toBe(1);
  });
});

describe('L1 transport: deterministic answers are not retried', () => {
  it('a revert reaches the node once', async () => {
    const { rpc, l1 } = client();
    const before = proxy.count('eth_call');
    // INVALID (0xfe) as init code: the call always fails the same way
    await expect(l1.call({ data: '0xfe' })).rejects.toThrow();
    expect(proxy.count('eth_call') - before).toBe(1);
    expect(total(rpc.stats.retries)).toBe(0);
  });

  it('-32005 worded as a refused log range is not taken for a rate limit', async () => {
    const { rpc, l1 } = client();
    proxy.addRule({ fault: { kind: 'logRange', maxBlocks: 0 }, method: 'eth_getLogs', times: 1 });
    await expect(l1.getLogs({ fromBlock: 0n, toBlock: 0n })).rejects.toThrow(/more than 10000 results/);
    expect(total(rpc.stats.retries)).toBe(0);
    expect(total(rpc.stats.rateLimited)).toBe(0);
  });
});

describe('L1 transport: eth_sendRawTransaction whose reply is lost', () => {
  const key = () => anvil.accounts[6]!;
  const wallet = (rpc: L1Rpc) => createWalletClient({ account: privateKeyToAccount(key()), chain: chainAt(BigInt(anvil.chainId), proxy.url, 'l1'), transport: rpc.transport() });

  async function sendLosingReply(automine: boolean) {
    const { rpc, l1 } = client();
    const direct = createPublicClient({ transport: client({}, anvil.url).rpc.transport() });
    await direct.request({ method: 'evm_setAutomine' as never, params: [automine] as never });
    const from = privateKeyToAccount(key()).address;
    const nonce = await direct.getTransactionCount({ address: from, blockTag: 'pending' });
    const sends = proxy.count('eth_sendRawTransaction');
    proxy.addRule({ fault: { kind: 'lostReply' }, method: 'eth_sendRawTransaction', times: 1 });
    const hash = await wallet(rpc).sendTransaction({ to: from, value: parseEther('0.001') });
    // the node got it twice; both were the same signed transaction
    expect(proxy.count('eth_sendRawTransaction') - sends).toBe(2);
    if (!automine) await direct.request({ method: 'evm_mine' as never, params: [] as never });
    await direct.request({ method: 'evm_setAutomine' as never, params: [true] as never });
    const receipt = await l1.waitForTransactionReceipt({ hash, pollingInterval: 50 });
    expect(receipt.status).toBe('success');
    // exactly one transaction used the nonce, and it is the one whose hash the caller got
    expect(await direct.getTransactionCount({ address: from })).toBe(nonce + 1);
    expect((await direct.getTransaction({ hash })).nonce).toBe(nonce);
  }

  it('mined already (the retry hears "nonce too low"): success with its hash', () => sendLosingReply(true));
  it('still pending (the retry hears "already known"): success with its hash', () => sendLosingReply(false));

  it('"nonce too low" for a transaction the chain does not have stays an error', async () => {
    const { rpc } = client();
    const account = privateKeyToAccount(key());
    const chain = chainAt(BigInt(anvil.chainId), proxy.url, 'l1');
    const raw = await account.signTransaction({ chainId: chain.id, nonce: 0, to: account.address, value: 1n, gas: 21_000n, maxFeePerGas: 10n ** 10n, maxPriorityFeePerGas: 1n });
    await expect(rpc.request({ method: 'eth_sendRawTransaction', params: [raw] })).rejects.toThrow(/nonce/i);
  });
});

describe('L1 transport: rate bound', () => {
  it('at most maxRps requests reach the proxy in any second, and all are answered', async () => {
    const { l1 } = client({ maxRps: 20 });
    const since = Date.now();
    // raw requests: viem's getBlockNumber would share one answer between concurrent callers
    const answers = await Promise.all(Array.from({ length: 50 }, () => l1.request({ method: 'eth_blockNumber' })));
    expect(answers).toHaveLength(50);
    expect(Date.now() - since).toBeGreaterThanOrEqual(2_000);
    // one token saved up, one for timer and network jitter
    expect(proxy.maxInWindow(1_000, since)).toBeLessThanOrEqual(22);
  });
});

describe('L1 transport: fallback endpoints', () => {
  it('a dead primary hands over to the fallback, and the primary is tried again later', async () => {
    const dead = await startL1FaultProxy(anvil.url);
    try {
      const rule = dead.addRule({ fault: { kind: 'drop' } });
      const { rpc, l1 } = client({ fallbacks: [proxy.url], failoverAfter: 2, primaryRetryMs: 500 }, dead.url);
      const before = proxy.count('eth_blockNumber');
      expect(await l1.getBlockNumber({ cacheTime: 0 })).toBeGreaterThanOrEqual(0n);
      expect(rule.hits).toBe(2);
      expect(proxy.count('eth_blockNumber') - before).toBe(1);
      expect(total(rpc.stats.switches)).toBe(1);
      // the primary comes back; after primaryRetryMs the next request goes to it
      dead.clearRules();
      await new Promise((r) => setTimeout(r, 600));
      const primaryBefore = dead.count('eth_blockNumber');
      await l1.getBlockNumber({ cacheTime: 0 });
      expect(dead.count('eth_blockNumber') - primaryBefore).toBe(1);
      expect(total(rpc.stats.switches)).toBe(2);
    } finally {
      await dead.stop();
    }
  });

  it('without a fallback the same dead primary fails the call', async () => {
    const dead = await startL1FaultProxy(anvil.url);
    try {
      dead.addRule({ fault: { kind: 'drop' } });
      const { l1 } = client({ failoverAfter: 2 }, dead.url);
      await expect(l1.getBlockNumber({ cacheTime: 0 })).rejects.toThrow();
    } finally {
      await dead.stop();
    }
  });

  it('a fallback serving another chain is never used', async () => {
    const dead = await startL1FaultProxy(anvil.url);
    const other = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        const { id } = JSON.parse(body) as { id: number };
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ jsonrpc: '2.0', id, result: '0x1' }));
      });
    });
    await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
    try {
      dead.addRule({ fault: { kind: 'drop' } });
      const otherUrl = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;
      const { l1 } = client({ fallbacks: [otherUrl, proxy.url], failoverAfter: 1 }, dead.url);
      // mainnet's "0x1" would be a plausible block number: only the chain check keeps it out
      const n = await l1.getBlockNumber({ cacheTime: 0 });
      expect(n).toBe(await createPublicClient({ transport: client({}, anvil.url).rpc.transport() }).getBlockNumber({ cacheTime: 0 }));
    } finally {
      other.close();
      await dead.stop();
    }
  });
});
