import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keccak256, pad, parseGwei, toHex } from 'viem';
import type { Address, Hash, Hex, TransactionReceipt } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { clients, removeDir, rpc, startDevNode } from '../helpers/dev-node.ts';
import type { DevNode } from '../helpers/dev-node.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const fresh = (label: string): Address => privateKeyToAccount(keccak256(toHex(label))).address;

describe('transactions, blocks, receipts and chain info', () => {
  let node: DevNode;
  let c: ReturnType<typeof clients>;

  beforeAll(async () => {
    node = await startDevNode({ blockTime: 1 });
    c = clients(node);
  });
  afterAll(async () => {
    await node.stop();
    await removeDir(node.datadir);
  });

  async function call<T = unknown>(method: string, params: unknown[] = []): Promise<T> {
    const { json } = await rpc(node.url, { jsonrpc: '2.0', id: 1, method, params });
    if (json.error !== undefined) throw Object.assign(new Error(json.error.message), { rpc: json.error });
    return json.result as T;
  }

  it('identifies itself: client version, network, chain id, no accounts, not syncing', async () => {
    expect(await call('web3_clientVersion')).toMatch(/^ai-rollup\/v\d+\.\d+\.\d+\/\S+\/node\d+/);
    expect(await call('net_version')).toBe('1337');
    expect(await call('net_listening')).toBe(true);
    expect(await call('eth_syncing')).toBe(false);
    expect(await call('eth_accounts')).toEqual([]);
    expect(await call('eth_chainId')).toBe('0x539');
    expect(await c.publicClient.getChainId()).toBe(1337);
  });

  it('seals a new block about every second: eth_blockNumber increases and blocks chain up', async () => {
    const start = await c.publicClient.getBlockNumber();
    let now = start;
    while (now < start + 2n) {
      await sleep(250);
      const next = await c.publicClient.getBlockNumber();
      expect(next).toBeGreaterThanOrEqual(now);
      now = next;
    }
    const [a, b] = await Promise.all([c.publicClient.getBlock({ blockNumber: start + 1n }), c.publicClient.getBlock({ blockNumber: start + 2n })]);
    expect(b.parentHash).toBe(a.hash);
    expect(b.timestamp).toBeGreaterThan(a.timestamp);
  });

  it('accepts raw signed legacy, EIP-2930 and EIP-1559 transactions', async () => {
    const to = fresh('rpc-tx raw');
    const slot = pad('0x07');
    const gasPrice = (await c.publicClient.getGasPrice()) * 2n;
    const nonce = await c.publicClient.getTransactionCount({ address: c.account.address });
    const base = { account: c.account, chain: node.chain, to } as const;
    const signed = [
      await c.walletClient.signTransaction({ ...base, type: 'legacy', nonce, value: 1n, gas: 21000n, gasPrice }),
      await c.walletClient.signTransaction({ ...base, type: 'eip2930', nonce: nonce + 1, value: 2n, gas: 30000n, gasPrice, accessList: [{ address: to, storageKeys: [slot] }] }),
      await c.walletClient.signTransaction({ ...base, type: 'eip1559', nonce: nonce + 2, value: 3n, gas: 21000n, maxFeePerGas: gasPrice, maxPriorityFeePerGas: parseGwei('0.002') }),
    ];
    const hashes: Hash[] = [];
    for (const serializedTransaction of signed) {
      const hash = await c.publicClient.sendRawTransaction({ serializedTransaction });
      expect(hash).toBe(keccak256(serializedTransaction));
      hashes.push(hash);
    }
    const receipts: TransactionReceipt[] = [];
    for (const hash of hashes) receipts.push(await c.publicClient.waitForTransactionReceipt({ hash }));
    expect(receipts.map((r) => [r.type, r.status])).toEqual([['legacy', 'success'], ['eip2930', 'success'], ['eip1559', 'success']]);
    // 21000 plus 2400 per access-list address and 1900 per storage key
    expect(receipts.map((r) => r.gasUsed)).toEqual([21000n, 25300n, 21000n]);
    expect(await c.publicClient.getBalance({ address: to })).toBe(6n);

    const txs = await Promise.all(hashes.map((hash) => c.publicClient.getTransaction({ hash })));
    expect(txs.map((t) => [t.type, t.from.toLowerCase(), t.to?.toLowerCase(), t.value, t.nonce])).toEqual([
      ['legacy', c.account.address.toLowerCase(), to.toLowerCase(), 1n, nonce],
      ['eip2930', c.account.address.toLowerCase(), to.toLowerCase(), 2n, nonce + 1],
      ['eip1559', c.account.address.toLowerCase(), to.toLowerCase(), 3n, nonce + 2],
    ]);
    expect(txs[0]!.v === 1337n * 2n + 35n || txs[0]!.v === 1337n * 2n + 36n).toBe(true); // EIP-155
    expect(txs[1]!.accessList).toEqual([{ address: to.toLowerCase(), storageKeys: [slot] }]);
    expect(txs[2]!.maxPriorityFeePerGas).toBe(parseGwei('0.002'));
    expect(txs[2]!.maxFeePerGas).toBe(gasPrice);
    for (const [i, t] of txs.entries()) {
      expect(t.hash).toBe(hashes[i]);
      expect(t.blockHash).toBe(receipts[i]!.blockHash);
      expect(t.blockNumber).toBe(receipts[i]!.blockNumber);
      expect(t.transactionIndex).toBe(receipts[i]!.transactionIndex);
      expect(t.chainId).toBe(1337);
    }
    // a 1559 transaction's effective price: base fee plus the tip, capped by the fee cap
    const blk = await c.publicClient.getBlock({ blockNumber: receipts[2]!.blockNumber });
    const want = blk.baseFeePerGas! + parseGwei('0.002') < gasPrice ? blk.baseFeePerGas! + parseGwei('0.002') : gasPrice;
    expect(receipts[2]!.effectiveGasPrice).toBe(want);
    expect(txs[2]!.gasPrice).toBe(want);
    expect(receipts[0]!.effectiveGasPrice).toBe(gasPrice);
  });

  it('estimates exactly 21000 gas for a plain transfer', async () => {
    expect(await c.publicClient.estimateGas({ account: c.account, to: fresh('estimate'), value: 1n })).toBe(21000n);
    const raw = await call<Hex>('eth_estimateGas', [{ from: c.account.address, to: fresh('estimate'), value: '0x1' }]);
    expect(raw).toBe('0x5208');
  });
});
