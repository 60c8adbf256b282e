/**
 * Otterscan's ots_ namespace, side by side with anvil started by the test: both chains seal one
 * block per transaction, get the same signed transactions in the same order (so the same hashes
 * in the same block numbers), and answer the same ots_ calls, compared field by field: address
 * history both ways with paging, contract creators (a deployment and a factory's CREATE/CREATE2),
 * sender and nonce, the trace entries and internal operations of a transaction with every kind of
 * frame, revert data, block details and block transactions. Then what only a node with an index
 * kept on disk has to get right: a reverted (rewound) block's transactions vanish from the
 * history, and bad input gets a clear error.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeFunctionData, parseAbi } from 'viem';
import type { Address, Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { compileContracts } from '../../contracts/compile.ts';
import type { CompiledContract } from '../../contracts/compile.ts';
import { type Anvil, startAnvil } from '../../devnet/anvil.ts';
import { devAccounts } from '../../node/chain/genesis.ts';
import { removeDir, rpc, startDevNode } from '../helpers/dev-node.ts';
import type { DevNode } from '../helpers/dev-node.ts';

const callerAbi = parseAbi(['function run(uint256 v) returns (uint256)', 'function boom()']);
const call = async (url: string, method: string, params: unknown[] = []) => (await rpc(url, { jsonrpc: '2.0', id: 1, method, params })).json;
const must = async (url: string, method: string, params: unknown[] = []) => {
  const r = await call(url, method, params);
  if (r.error !== undefined) throw new Error(`${method} on ${url}: ${JSON.stringify(r.error)}`);
  return r.result;
};

/** Lowercases every address-like string so the two nodes' spellings compare. */
function normal(v: unknown): unknown {
  if (typeof v === 'string') return /^0x[0-9a-fA-F]{40}$/.test(v) ? v.toLowerCase() : v;
  if (Array.isArray(v)) return v.map(normal);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, normal(x)]));
  return v;
}

/** An address-history page (ots_searchTransactionsBefore/After). */
type Page = { txs: ({ hash: string } & Record<string, string>)[]; receipts: (Record<string, string> & { logs: unknown[] })[]; firstPage: boolean; lastPage: boolean };

describe('ots_ (Otterscan), side by side with anvil', () => {
  let anvil: Anvil;
  let node: DevNode;
  let caller: Address;
  let contracts: Record<string, CompiledContract>;
  const [alice, bob] = devAccounts(9).slice(7) as [{ address: string; privateKey: string }, { address: string; privateKey: string }];
  const nonces = new Map<string, number>();
  const hashes: Record<string, Hex> = {};

  /** Signs once, sends the same bytes to both nodes, waits for both receipts. */
  async function sendBoth(from: { privateKey: string }, tx: { to?: Address; data?: Hex; value?: bigint }): Promise<Hex> {
    const account = privateKeyToAccount(from.privateKey as Hex);
    const nonce = nonces.get(account.address) ?? 0;
    nonces.set(account.address, nonce + 1);
    const raw = await account.signTransaction({
      chainId: 1337,
      type: 'eip1559',
      nonce,
      maxFeePerGas: 10n ** 11n,
      maxPriorityFeePerGas: 10n ** 9n,
      gas: 3_000_000n,
      ...tx,
      value: tx.value ?? 0n,
    });
    const [a, b] = await Promise.all([must(node.url, 'eth_sendRawTransaction', [raw]), must(anvil.url, 'eth_sendRawTransaction', [raw])]);
    expect(a).toBe(b);
    for (const url of [node.url, anvil.url]) {
      for (let i = 0; i < 100 && (await must(url, 'eth_getTransactionReceipt', [a])) === null; i++) await new Promise((r) => setTimeout(r, 50));
    }
    return a as Hex;
  }

  /**
   * An address-history page on both nodes: the same transactions (by hash, block, sender and
   * recipient), the same receipts (status, gas, logs) with their block's timestamp, the same flags.
   * Block hashes, fees and timestamps are each chain's own.
   */
  async function sameHistory(method: string, params: unknown[]): Promise<Page> {
    const [ours, theirs] = (await Promise.all([must(node.url, method, params), must(anvil.url, method, params)])) as [Page, Page];
    const view = (p: Page) => ({
      firstPage: p.firstPage,
      lastPage: p.lastPage,
      txs: p.txs.map((t) => normal([t.hash, t.blockNumber, t.from, t.to, t.nonce, t.input])),
      receipts: p.receipts.map((r) => normal([r.transactionHash, r.status, r.gasUsed, r.blockNumber, r.contractAddress, r.logs.length, typeof r.timestamp])),
    });
    expect(view(ours), `${method} ${JSON.stringify(params)}`).toEqual(view(theirs));
    for (const r of ours.receipts) expect(r.timestamp).toBe((await must(node.url, 'eth_getBlockByNumber', [r.blockNumber, false])).timestamp);
    return ours;
  }

  /** The same call on both nodes, compared after normalising addresses; returns ours. */
  async function same(method: string, params: unknown[]): Promise<unknown> {
    const [ours, theirs] = await Promise.all([must(node.url, method, params), must(anvil.url, method, params)]);
    expect(normal(ours), `${method} ${JSON.stringify(params)}`).toEqual(normal(theirs));
    return ours;
  }

  beforeAll(async () => {
    contracts = await compileContracts(['test/Tracing.sol']);
    // one block per transaction on both, so block numbers line up
    [anvil, node] = await Promise.all([startAnvil({ chainId: 1337 }), startDevNode({ blockTime: 0 })]);
    hashes.deploy = await sendBoth(alice, { data: contracts.TraceCaller!.bytecode });
    caller = (await must(node.url, 'eth_getTransactionReceipt', [hashes.deploy])).contractAddress;
    hashes.run = await sendBoth(alice, { to: caller, data: encodeFunctionData({ abi: callerAbi, functionName: 'run', args: [5n] }) });
    hashes.transfer = await sendBoth(bob, { to: alice.address as Address, value: 777n });
    hashes.boom = await sendBoth(bob, { to: caller, data: encodeFunctionData({ abi: callerAbi, functionName: 'boom' }) });
    hashes.run2 = await sendBoth(bob, { to: caller, data: encodeFunctionData({ abi: callerAbi, functionName: 'run', args: [6n] }) });
  }, 120_000);
  afterAll(async () => {
    await Promise.all([anvil?.stop(), node?.stop()]);
    await removeDir(node?.datadir ?? '');
  });

  it('api level, code, creators (deployment and factory), sender and nonce: as anvil', async () => {
    expect(await same('ots_getApiLevel', [])).toBe(8);
    expect(await same('ots_hasCode', [caller, 'latest'])).toBe(true);
    expect(await same('ots_hasCode', [alice.address, 'latest'])).toBe(false);
    expect(await same('ots_hasCode', [caller, '0x0'])).toBe(false);
    expect(await same('ots_getContractCreator', [caller])).toMatchObject({ hash: hashes.deploy });
    // the contracts run() creates with CREATE and CREATE2: their creator is the factory
    const ops = (await same('ots_getInternalOperations', [hashes.run])) as { type: number; to: string }[];
    const created = ops.filter((o) => o.type === 2 || o.type === 3);
    expect(created.map((o) => o.type).sort()).toEqual([2, 3]);
    for (const o of created) expect(normal(await same('ots_getContractCreator', [o.to]))).toEqual({ hash: hashes.run, creator: caller.toLowerCase() });
    expect(await same('ots_getContractCreator', [alice.address])).toBeNull();
    expect(await same('ots_getTransactionBySenderAndNonce', [alice.address, 1])).toBe(hashes.run);
    expect(await same('ots_getTransactionBySenderAndNonce', [bob.address, 2])).toBe(hashes.run2);
    expect(await same('ots_getTransactionBySenderAndNonce', [bob.address, 3])).toBeNull();
  });

  it('trace entries, internal operations and revert data: as anvil', async () => {
    for (const h of [hashes.run, hashes.boom, hashes.transfer, hashes.deploy]) {
      // anvil leaves CREATE and CREATE2 frames out of its entries; Otterscan's spec (and Erigon) has them
      const ours = (await must(node.url, 'ots_traceTransaction', [h])) as { type: string; depth: number }[];
      const theirs = await must(anvil.url, 'ots_traceTransaction', [h]);
      const calls = ours.filter((e) => !e.type.startsWith('CREATE'));
      expect(normal(calls), h).toEqual(normal(theirs));
      if (h === hashes.run)
        expect(ours.filter((e) => e.type.startsWith('CREATE')).map((e) => [e.type, e.depth])).toEqual([
          ['CREATE', 1],
          ['CREATE2', 1],
        ]);
      await same('ots_getInternalOperations', [h]);
      await same('ots_getTransactionError', [h]);
    }
    expect(await must(node.url, 'ots_getTransactionError', [hashes.boom])).toMatch(/^0x08c379a0/);
    expect(await must(node.url, 'ots_getTransactionError', [hashes.run])).toBe('0x');
  });

  it('address history, newest first, paged by whole blocks both ways: the same transactions as anvil', async () => {
    const hashesOf = (r: Page) => r.txs.map((t) => t.hash);
    const all = await sameHistory('ots_searchTransactionsBefore', [alice.address, 0, 25]);
    // alice sent the deployment and a run, and bob sent her ETH
    expect(hashesOf(all)).toEqual([hashes.transfer, hashes.run, hashes.deploy]);
    expect(all).toMatchObject({ firstPage: true, lastPage: true });
    // the contract is touched by every call to it, internal ones (its factory children) included
    const viaCaller = await sameHistory('ots_searchTransactionsBefore', [caller, 0, 25]);
    expect(hashesOf(viaCaller)).toEqual([hashes.run2, hashes.boom, hashes.run, hashes.deploy]);
    const created = ((await must(node.url, 'ots_getInternalOperations', [hashes.run])) as { type: number; to: string }[]).find((o) => o.type === 2)!;
    expect(hashesOf(await sameHistory('ots_searchTransactionsBefore', [created.to, 0, 25]))).toEqual([hashes.run]);
    // a page of one, before the run's block, then after the deployment's
    const runBlock = Number((await must(node.url, 'eth_getTransactionReceipt', [hashes.run])).blockNumber);
    const before = await sameHistory('ots_searchTransactionsBefore', [alice.address, runBlock, 1]);
    expect(hashesOf(before)).toEqual([hashes.deploy]);
    const after = await sameHistory('ots_searchTransactionsAfter', [alice.address, runBlock - 1, 25]);
    expect(hashesOf(after)).toEqual([hashes.transfer, hashes.run]);
    expect(after.firstPage).toBe(true);
    // this node says whether anything lies beyond a page (anvil only whether the scan reached the end)
    expect(await must(node.url, 'ots_searchTransactionsBefore', [alice.address, 0, 1])).toMatchObject({ firstPage: true, lastPage: false });
    expect(await must(node.url, 'ots_searchTransactionsAfter', [alice.address, runBlock - 1, 1])).toMatchObject({ firstPage: false, lastPage: false });
    expect(await must(node.url, 'ots_searchTransactionsAfter', [alice.address, 0, 25])).toMatchObject({ firstPage: true, lastPage: true });
  });

  it('block details and block transactions: counts, fees and pages as anvil', async () => {
    const n = Number((await must(node.url, 'eth_getTransactionReceipt', [hashes.run])).blockNumber);
    const ours = await must(node.url, 'ots_getBlockDetails', [n]);
    const theirs = await must(anvil.url, 'ots_getBlockDetails', [n]);
    expect(ours.block.transactionCount).toBe(theirs.block.transactionCount);
    expect(ours.block.number).toBe(theirs.block.number);
    const receipt = await must(node.url, 'eth_getTransactionReceipt', [hashes.run]);
    expect(BigInt(ours.totalFees)).toBe(BigInt(receipt.gasUsed) * BigInt(receipt.effectiveGasPrice));
    expect(await must(node.url, 'ots_getBlockDetailsByHash', [ours.block.hash])).toEqual(ours);
    const page = await must(node.url, 'ots_getBlockTransactions', [n, 0, 10]);
    const theirPage = await must(anvil.url, 'ots_getBlockTransactions', [n, 0, 10]);
    expect(page.fullblock.transactions.map((t: { hash: string }) => t.hash)).toEqual(theirPage.fullblock.transactions.map((t: { hash: string }) => t.hash));
    expect(page.fullblock.transactionCount).toBe(theirPage.fullblock.transactionCount);
    expect(page.receipts.map((r: { status: string; gasUsed: string }) => [r.status, r.gasUsed])).toEqual(
      theirPage.receipts.map((r: { status: string; gasUsed: string }) => [r.status, r.gasUsed]),
    );
    expect(page.receipts[0].timestamp).toBe(ours.block.timestamp);
    expect((await must(node.url, 'ots_getBlockTransactions', [n, 1, 10])).fullblock.transactions).toEqual([]);
    const header = await must(node.url, 'ots_getHeaderByNumber', [n]);
    expect(header.hash).toBe(ours.block.hash);
    expect(await must(node.url, 'erigon_getHeaderByNumber', [n])).toEqual(header);
  });

  it('a reverted block leaves no trace in the history; bad input gets a clear error', async () => {
    const id = await must(node.url, 'evm_snapshot');
    const carol = devAccounts(10)[9]!;
    const raw = await privateKeyToAccount(carol.privateKey as Hex).signTransaction({
      chainId: 1337,
      type: 'eip1559',
      nonce: 0,
      maxFeePerGas: 10n ** 11n,
      maxPriorityFeePerGas: 1n,
      gas: 21_000n,
      to: alice.address as Address,
      value: 1n,
    });
    const gone = await must(node.url, 'eth_sendRawTransaction', [raw]);
    for (let i = 0; i < 100 && (await must(node.url, 'eth_getTransactionReceipt', [gone])) === null; i++) await new Promise((r) => setTimeout(r, 50));
    expect((await must(node.url, 'ots_searchTransactionsBefore', [carol.address, 0, 5])).txs).toHaveLength(1);
    expect(await must(node.url, 'evm_revert', [id])).toBe(true);
    // the rewound block's index entries are still on disk: the canonical check keeps them out
    expect((await must(node.url, 'ots_searchTransactionsBefore', [carol.address, 0, 5])).txs).toEqual([]);
    expect(hashesAfterRevert(await must(node.url, 'ots_searchTransactionsBefore', [alice.address, 0, 25]))).not.toContain(gone);
    expect(await must(node.url, 'ots_getTransactionBySenderAndNonce', [carol.address, 0])).toBeNull();
    // a new block at the same height, with another transaction, is what the history shows
    const again = await sendBoth(bob, { to: alice.address as Address, value: 1n });
    expect(hashesAfterRevert(await must(node.url, 'ots_searchTransactionsBefore', [alice.address, 0, 1]))).toEqual([again]);
    // carol's stale entry now lies inside the chain's range, at the height `again` took
    expect((await must(node.url, 'ots_searchTransactionsBefore', [carol.address, 0, 5])).txs).toEqual([]);

    expect((await call(node.url, 'ots_searchTransactionsBefore', ['0x1234', 0, 5])).error?.code).toBe(-32602);
    expect((await call(node.url, 'ots_getBlockTransactions', [1, 0, 10 ** 6])).error?.code).toBe(-32602);
    expect((await call(node.url, 'ots_getBlockDetails', [10 ** 9])).error).toMatchObject({ code: -32000, message: 'block not found' });
    expect((await call(node.url, 'ots_traceTransaction', [`0x${'00'.repeat(32)}`])).error).toMatchObject({ code: -32000, message: 'transaction not found' });
    expect((await call(node.url, 'ots_getTransactionBySenderAndNonce', [alice.address, -1])).error?.code).toBe(-32602);
    // a huge page size is served as a bounded page, not as the whole history at once
    expect((await must(node.url, 'ots_searchTransactionsBefore', [bob.address, 0, 10 ** 9])).txs.length).toBeLessThanOrEqual(100);
  });
});

function hashesAfterRevert(r: { txs: { hash: string }[] }): string[] {
  return r.txs.map((t) => t.hash);
}
