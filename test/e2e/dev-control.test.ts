/**
 * Test control on a --dev node, driven by viem's test client (mode 'anvil') unchanged: mining
 * blocks, moving time, editing balances, nonces, code and storage, and snapshots that take the
 * chain, its state and the pool back; a restart after a revert sees the reverted chain; and a
 * node without --dev refuses every one of these methods with -32601.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestClient, http, parseEther, publicActions, walletActions } from 'viem';
import type { Address, Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { chainAt } from '../../contracts/abi/chain.ts';
import { devAccounts } from '../../node/chain/genesis.ts';
import { removeDir, rpc, startDevNode } from '../helpers/dev-node.ts';
import type { DevNode } from '../helpers/dev-node.ts';

/** Seconds between timed blocks: far beyond the test's run. */
const SLOW = 3600;

const call = async (url: string, method: string, params: unknown[] = []) => (await rpc(url, { jsonrpc: '2.0', id: 1, method, params })).json;

describe('test control on --dev (viem test client, mode anvil)', () => {
  let node: DevNode;
  let plain: DevNode;
  const stranger = privateKeyToAccount(`0x${'5a'.repeat(32)}`).address;
  let impersonatedHash: Hex | undefined;
  const test = () =>
    createTestClient({ chain: chainAt(1337, node.url), mode: 'anvil', transport: http(node.url) })
      .extend(publicActions)
      .extend(walletActions);

  beforeAll(async () => {
    // an hour between timed blocks, so that the blocks seen here are the ones the test mines
    [node, plain] = await Promise.all([startDevNode({ blockTime: SLOW }), startDevNode({ dev: false })]);
  }, 60_000);
  afterAll(async () => {
    await Promise.all([node?.stop(), plain?.stop()]);
    await removeDir(node?.datadir ?? '');
    await removeDir(plain?.datadir ?? '');
  });

  it('mines on demand, with timestamps and intervals; time moves forward by increaseTime and setNextBlockTimestamp', async () => {
    const t = test();
    // the timer's first block is an interval after start, as anvil's: not at once because the
    // genesis (stamped 0) is older than an interval, which raced this test's first mine
    const start = await t.getBlockNumber({ cacheTime: 0 });
    expect(start).toBe(0n);
    await t.mine({ blocks: 3 });
    expect(await t.getBlockNumber({ cacheTime: 0 })).toBe(start + 3n);
    await t.increaseTime({ seconds: 3600 });
    const wall = BigInt(Math.floor(Date.now() / 1000));
    await t.mine({ blocks: 1 });
    expect((await t.getBlock()).timestamp).toBeGreaterThanOrEqual(wall + 3600n);
    const next = (await t.getBlock()).timestamp + 1000n;
    await t.setNextBlockTimestamp({ timestamp: next });
    await t.mine({ blocks: 1 });
    expect((await t.getBlock()).timestamp).toBe(next);
    await t.request({ method: 'anvil_mine', params: ['0x3', '0x64'] } as never);
    const last = await t.getBlock();
    const first = await t.getBlock({ blockNumber: last.number - 2n });
    expect(last.timestamp - first.timestamp).toBe(200n);
    await t.request({ method: 'evm_mine', params: [{ timestamp: Number(last.timestamp + 50n) }] } as never);
    expect((await t.getBlock()).timestamp).toBe(last.timestamp + 50n);
    expect((await call(node.url, 'evm_setNextBlockTimestamp', ['0x1'])).error?.code).toBe(-32000);
    expect((await call(node.url, 'anvil_mine', ['0x100000'])).error?.code).toBe(-32602);
  });

  it('edits balance, nonce, code and storage; latest shows them', async () => {
    const t = test();
    await t.setBalance({ address: stranger, value: parseEther('123') });
    expect(await t.getBalance({ address: stranger })).toBe(parseEther('123'));
    await t.setNonce({ address: stranger, nonce: 7 });
    expect(await t.getTransactionCount({ address: stranger })).toBe(7);
    const target: Address = '0x00000000000000000000000000000000000c0de0';
    await t.setCode({ address: target, bytecode: '0x602a60005260206000f3' });
    expect(await t.getCode({ address: target })).toBe('0x602a60005260206000f3');
    expect(await t.call({ to: target })).toMatchObject({ data: `0x${'2a'.padStart(64, '0')}` });
    await t.setStorageAt({ address: target, index: 5, value: `0x${'ff'.padStart(64, '0')}` });
    expect(await t.getStorageAt({ address: target, slot: '0x5' })).toBe(`0x${'ff'.padStart(64, '0')}`);
    // a 32-byte slot and value, as cast and Hardhat send them
    expect(await call(node.url, 'anvil_setStorageAt', [target, `0x${'06'.padStart(64, '0')}`, `0x${'01'.padStart(64, '0')}`])).toMatchObject({ result: true });
    expect(await t.getStorageAt({ address: target, slot: '0x6' })).toBe(`0x${'01'.padStart(64, '0')}`);
    expect((await call(node.url, 'anvil_setBalance', [target, '0xnothex'])).error?.code).toBe(-32602);
    // the edited account sends: its balance and nonce are real
    const key = `0x${'5a'.repeat(32)}` as Hex;
    const hash = await t.sendTransaction({ account: privateKeyToAccount(key), to: target, value: 1n });
    await t.mine({ blocks: 1 });
    expect((await t.waitForTransactionReceipt({ hash })).status).toBe('success');
    expect(await t.getTransactionCount({ address: stranger })).toBe(8);
  });

  it('switches between automine, interval mining and none; drops pooled transactions', async () => {
    const t = test();
    const from = privateKeyToAccount(devAccounts(3)[2]!.privateKey as Hex);
    expect(await t.getAutomine()).toBe(false);
    expect(await call(node.url, 'anvil_getIntervalMining')).toMatchObject({ result: SLOW });
    await t.setAutomine(true);
    expect(await t.getAutomine()).toBe(true);
    expect(await call(node.url, 'anvil_getIntervalMining')).toMatchObject({ result: null });
    const first = await t.sendTransaction({ account: from, to: stranger, value: 1n });
    expect((await t.waitForTransactionReceipt({ hash: first, timeout: 10_000 })).status).toBe('success');
    // off: nothing is sealed until asked
    await t.setAutomine(false);
    const start = await t.getBlockNumber({ cacheTime: 0 });
    const dropped = await t.sendTransaction({ account: from, to: stranger, value: 2n });
    expect(await call(node.url, 'anvil_dropTransaction', [dropped])).toMatchObject({ result: dropped });
    expect(await call(node.url, 'anvil_dropTransaction', [dropped])).toMatchObject({ result: null });
    expect(await t.getTransaction({ hash: dropped }).catch(() => null)).toBeNull();
    const kept = await t.sendTransaction({ account: from, to: stranger, value: 3n });
    await new Promise((r) => setTimeout(r, 1_000));
    expect(await t.getBlockNumber({ cacheTime: 0 })).toBe(start);
    // back on: what waited in the pool is sealed without a new arrival
    await t.setAutomine(true);
    expect((await t.waitForTransactionReceipt({ hash: kept, timeout: 10_000 })).blockNumber).toBe(start + 1n);
    // a timer of 1 s, then none
    await t.setIntervalMining({ interval: 1 });
    expect(await t.getAutomine()).toBe(false);
    const ticking = await t.getBlockNumber({ cacheTime: 0 });
    for (let i = 0; i < 100 && (await t.getBlockNumber({ cacheTime: 0 })) < ticking + 2n; i++) await new Promise((r) => setTimeout(r, 100));
    expect(await t.getBlockNumber({ cacheTime: 0 })).toBeGreaterThanOrEqual(ticking + 2n);
    await t.setIntervalMining({ interval: 0 });
    expect(await call(node.url, 'anvil_getIntervalMining')).toMatchObject({ result: null });
    expect((await call(node.url, 'evm_setIntervalMining', [10 ** 9])).error?.code).toBe(-32602);
    expect((await call(node.url, 'evm_setAutomine', ['yes'])).error?.code).toBe(-32602);
    await t.setIntervalMining({ interval: SLOW });
  });

  it('impersonates an account without its key: it sends unsigned, is traced as the sender, and is locked again after', async () => {
    const t = test();
    const [whale, other]: Address[] = ['0x00000000000000000000000000000000000a11ce', '0x0000000000000000000000000000000000000b0b'];
    for (const a of [whale, other]) await t.setBalance({ address: a, value: parseEther('10') });
    const send = (from: Address, value = '0x7') => call(node.url, 'eth_sendTransaction', [{ from, to: stranger, value }]);
    expect((await send(whale)).error).toMatchObject({ code: -32000, message: 'unknown account' });
    await t.impersonateAccount({ address: whale });
    await t.impersonateAccount({ address: other });
    const hash = await t.sendTransaction({ account: whale, to: stranger, value: 7n, chain: null });
    impersonatedHash = hash;
    // the same payload from another sender is another transaction (the hash covers the sender)
    const twin = (await send(other)).result as Hex;
    expect(twin).not.toBe(hash);
    const before = await t.getBalance({ address: stranger });
    await t.mine({ blocks: 1 });
    const receipt = await t.waitForTransactionReceipt({ hash });
    expect(receipt).toMatchObject({ status: 'success', from: whale });
    expect((await t.waitForTransactionReceipt({ hash: twin })).from).toBe(other);
    expect(await t.getBalance({ address: stranger })).toBe(before + 14n);
    expect((await t.getTransaction({ hash })).from).toBe(whale);
    // tracing re-executes the block with the stored sender, not one recovered from the marker
    expect(await call(node.url, 'debug_traceTransaction', [hash, { tracer: 'callTracer' }])).toMatchObject({ result: { from: whale, to: stranger.toLowerCase(), value: '0x7' } });
    await t.stopImpersonatingAccount({ address: whale });
    expect((await send(whale)).error?.message).toBe('unknown account');
    // viem's sendUnsignedTransaction, and anvil_autoImpersonateAccount for every account
    const unsigned = await t.sendUnsignedTransaction({ from: other, to: stranger, value: 1n });
    await call(node.url, 'anvil_autoImpersonateAccount', [true]);
    const auto = (await send(whale, '0x1')).result as Hex;
    await t.mine({ blocks: 1 });
    for (const h of [unsigned, auto]) expect((await t.waitForTransactionReceipt({ hash: h })).status).toBe('success');
    // an account with code cannot send here (EIP-3607 stays): a clear error, not a silent drop
    await t.setCode({ address: whale, bytecode: '0x00' });
    expect((await send(whale)).error?.message).toMatch(/has code \(EIP-3607\)/);
    await call(node.url, 'anvil_autoImpersonateAccount', [false]);
    await t.stopImpersonatingAccount({ address: other });
    expect((await send(other)).error?.message).toBe('unknown account');
  });

  it('a snapshot and a revert take back blocks, state and the pool; a restart keeps the reverted chain', async () => {
    const t = test();
    const id = await t.snapshot();
    const head = await t.getBlock();
    const atSnapshot = await t.getBalance({ address: stranger });
    await t.setBalance({ address: stranger, value: 1n });
    await t.mine({ blocks: 2 });
    // a transaction left in the pool (the next timed block is an hour away)
    const pending = await t.sendTransaction({ account: privateKeyToAccount(devAccounts(2)[1]!.privateKey as Hex), to: stranger, value: 5n });
    expect(await t.getBlockNumber({ cacheTime: 0 })).toBe(head.number + 3n);
    await t.revert({ id });
    expect(await t.getBlockNumber({ cacheTime: 0 })).toBe(head.number);
    expect((await t.getBlock()).hash).toBe(head.hash);
    expect(await t.getBalance({ address: stranger })).toBe(atSnapshot);
    expect(await call(node.url, 'eth_getTransactionByHash', [pending])).toMatchObject({ result: null });
    // used once
    expect(await call(node.url, 'evm_revert', [id])).toMatchObject({ result: false });
    // the chain goes on from the reverted head, and a restart sees it
    await t.mine({ blocks: 1 });
    const after = await t.getBlock();
    expect(after.number).toBe(head.number + 1n);
    expect(await node.stop()).toBe(0);
    node = await startDevNode({ blockTime: SLOW, datadir: node.datadir });
    expect((await test().getBlock({ blockNumber: after.number })).hash).toBe(after.hash);
    // read back from disk, an impersonated transaction still re-executes as its stored sender
    const traced = await call(node.url, 'debug_traceTransaction', [impersonatedHash, { tracer: 'callTracer' }]);
    expect(traced.result).toMatchObject({ from: '0x00000000000000000000000000000000000a11ce', value: '0x7' });
  });

  it('a node without --dev refuses every test-control method with -32601', async () => {
    for (const m of [
      'evm_mine',
      'anvil_mine',
      'hardhat_mine',
      'evm_increaseTime',
      'evm_setNextBlockTimestamp',
      'anvil_setBalance',
      'hardhat_setBalance',
      'anvil_setCode',
      'anvil_setNonce',
      'anvil_setStorageAt',
      'evm_snapshot',
      'evm_revert',
      'evm_setAutomine',
      'anvil_getAutomine',
      'evm_setIntervalMining',
      'anvil_dropTransaction',
      'anvil_impersonateAccount',
      'anvil_stopImpersonatingAccount',
      'anvil_autoImpersonateAccount',
      'eth_sendUnsignedTransaction',
    ]) {
      expect((await call(plain.url, m, [])).error?.code, m).toBe(-32601);
    }
  });
});
