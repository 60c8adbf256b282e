/**
 * debug_getRawHeader / Block / Receipts / Transaction: the consensus encodings, checked against
 * what they commit to (the header's hash is the block hash, the receipts' ordered trie is the
 * receipts root, a transaction's bytes are what its sender signed and hash to its hash), over a
 * block holding legacy, EIP-2930 and EIP-1559 transactions, a revert and logs; and a transaction
 * still in the pool.
 */
import { hexToBytes } from '@ethereumjs/util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeFunctionData, keccak256, toRlp } from 'viem';
import type { Hex } from 'viem';
import { fromRlp } from 'viem';
import { orderedTrieRoot } from '../../node/chain/ordered-trie.ts';
import { DEV_KEYS, clients, removeDir, startDevNode } from '../helpers/dev-node.ts';
import type { DevNode } from '../helpers/dev-node.ts';
import { deploy, eventsAbi, loadTestContracts } from '../helpers/contracts.ts';
import { call, must, nonceOf, sign, waitReceipt } from '../helpers/txs.ts';

describe('debug_getRaw*: consensus encodings that match what they commit to', () => {
  let node: DevNode;
  const key = DEV_KEYS[3]!;
  const sent: { raw: Hex; hash: Hex }[] = [];

  beforeAll(async () => {
    node = await startDevNode({ blockTime: 2 });
    const c = clients(node, key);
    const { Events } = await loadTestContracts();
    const { address } = await deploy(c.walletClient, c.publicClient, Events);
    const nonce = await nonceOf(node.url, c.account.address);
    const data = encodeFunctionData({ abi: eventsAbi, functionName: 'emitMany', args: [3n] });
    for (const [i, type] of (['legacy', 'eip2930', 'eip1559', 'eip1559'] as const).entries()) {
      const raw = await sign(key, { nonce: nonce + i, to: address, data: i === 3 ? '0xdeadbeef' : data, gas: 200_000n, type });
      sent.push({ raw, hash: await must(node.url, 'eth_sendRawTransaction', [raw]) });
    }
    for (const s of sent) await waitReceipt(node.url, s.hash);
  }, 60_000);
  afterAll(async () => {
    await node?.stop();
    await removeDir(node?.datadir ?? '');
  });

  it('header, block and receipts of every block hash to what the chain says', async () => {
    const blocks = new Set<string>();
    for (const s of sent) blocks.add((await must(node.url, 'eth_getTransactionReceipt', [s.hash])).blockNumber);
    blocks.add('0x0');
    for (const n of blocks) {
      const block = await must(node.url, 'eth_getBlockByNumber', [n, false]);
      const header = (await must(node.url, 'debug_getRawHeader', [n])) as Hex;
      expect(keccak256(header)).toBe(block.hash);
      expect(await must(node.url, 'debug_getRawHeader', [{ blockHash: block.hash }])).toBe(header);
      const raw = (await must(node.url, 'debug_getRawBlock', [n])) as Hex;
      const [rawHeader, rawTxs] = fromRlp(raw) as [Hex[], (Hex | Hex[])[]];
      expect(toRlp(rawHeader)).toBe(header);
      // a typed transaction is its bytes in the list, a legacy one its RLP list
      expect(rawTxs.map((t) => keccak256(typeof t === 'string' ? t : toRlp(t)))).toEqual(block.transactions);
      const receipts = (await must(node.url, 'debug_getRawReceipts', [n])) as Hex[];
      expect(receipts).toHaveLength(block.transactions.length);
      expect(`0x${Buffer.from(orderedTrieRoot(receipts.map((r) => hexToBytes(r)))).toString('hex')}`).toBe(block.receiptsRoot);
    }
  });

  it('a transaction is the bytes its sender signed, from a block or from the pool; unknown is null', async () => {
    for (const s of sent) {
      expect(await must(node.url, 'debug_getRawTransaction', [s.hash])).toBe(s.raw);
      expect(keccak256(s.raw)).toBe(s.hash);
    }
    const c = clients(node, key);
    const gap = await sign(key, { nonce: (await nonceOf(node.url, c.account.address, 'pending')) + 5 });
    const queued = await must(node.url, 'eth_sendRawTransaction', [gap]);
    expect(await must(node.url, 'debug_getRawTransaction', [queued])).toBe(gap);
    expect(await must(node.url, 'debug_getRawTransaction', [`0x${'ab'.repeat(32)}`])).toBeNull();
  });

  it('bad references get geth errors', async () => {
    expect((await call(node.url, 'debug_getRawHeader', ['0xffffff'])).error).toMatchObject({ code: -32000, message: 'header not found' });
    expect((await call(node.url, 'debug_getRawBlock', ['nope'])).error?.code).toBe(-32602);
    expect((await call(node.url, 'debug_getRawTransaction', ['0x12'])).error?.code).toBe(-32602);
    expect((await call(node.url, 'debug_getRawReceipts', [])).error?.code).toBe(-32602);
  });
});
