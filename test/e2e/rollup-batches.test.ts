import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bytesToHex, hexToBytes } from '@ethereumjs/util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BaseError, ContractFunctionRevertedError, decodeFunctionData, keccak256, parseEther, parseEventLogs } from 'viem';
import type { Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { createL2Common } from '../../node/chain/common.ts';
import { decodeBlock } from '../../node/chain/block-codec.ts';
import { decodeBatchData } from '../../node/rollup/batch-codec.ts';
import { rollupAbi } from '../../contracts/abi/rollup.ts';
import { DEV_KEYS, clients, removeDir, rpc } from '../helpers/dev-node.ts';
import type { DevNode } from '../helpers/dev-node.ts';
import { bridgeTestAbi, l1Clients, startL1, startRollupNode } from '../helpers/rollup.ts';
import type { L1Env } from '../helpers/rollup.ts';

async function until<T>(what: string, f: () => Promise<T | undefined>, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const status = async (url: string) => (await rpc(url, { jsonrpc: '2.0', id: 1, method: 'rollup_syncStatus', params: [] })).json.result;

/**
 * Reads every batch back from L1 calldata and checks it against the L2 chain: the blocks
 * 1..last are each in exactly one batch, in order, with the chain's hashes; every batcher
 * transaction on L1 succeeded (no gas burned on a duplicate).
 */
async function auditBatches(env: L1Env, l2Url: string): Promise<{ batches: number; lastBlock: bigint }> {
  const l1 = env.l1.publicClient;
  const common = createL2Common({ chainId: env.config.l2ChainId });
  const logs = parseEventLogs({ abi: rollupAbi, eventName: 'BatchSubmitted', logs: await l1.getLogs({ address: env.deployment.rollup, fromBlock: 0n, toBlock: 'latest' }) });
  let next = 1n;
  for (const [i, log] of logs.entries()) {
    expect(log.args.index).toBe(BigInt(i));
    const tx = await l1.getTransaction({ hash: log.transactionHash });
    const { args } = decodeFunctionData({ abi: rollupAbi, data: tx.input });
    const [header, data] = args as unknown as [{ firstBlock: bigint; lastBlock: bigint; dataHash: Hex }, Hex];
    expect(keccak256(data)).toBe(header.dataHash);
    expect(header.firstBlock).toBe(next);
    const blocks = (await decodeBatchData(hexToBytes(data))).map((b) => decodeBlock(b, common));
    expect(BigInt(blocks.length)).toBe(header.lastBlock - header.firstBlock + 1n);
    for (const b of blocks) {
      expect(b.header.number).toBe(next);
      const onL2 = (await rpc(l2Url, { jsonrpc: '2.0', id: 1, method: 'eth_getBlockByNumber', params: [`0x${next.toString(16)}`, false] })).json.result;
      expect(bytesToHex(b.hash())).toBe(onL2.hash);
      next++;
    }
  }
  const batcher = privateKeyToAccount(env.keys[1]!).address.toLowerCase();
  const head = await l1.getBlockNumber();
  for (let n = env.config.l1Start.number; n <= head; n++) {
    const block = await l1.getBlock({ blockNumber: n, includeTransactions: true });
    for (const tx of block.transactions) {
      if (tx.from.toLowerCase() !== batcher) continue;
      expect((await l1.getTransactionReceipt({ hash: tx.hash })).status, `batcher tx ${tx.hash}`).toBe('success');
    }
  }
  return { batches: logs.length, lastBlock: next - 1n };
}

describe('batches on L1 (real anvil, the node process)', () => {
  let dir: string;
  let env: L1Env;
  let node: DevNode;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rollup-batches-'));
    env = await startL1(dir);
    node = await startRollupNode(env, { datadir: join(dir, 'l2') });
  }, 120_000);

  afterAll(async () => {
    await node?.stop();
    await env?.anvil.stop();
    if (dir !== undefined) await removeDir(dir);
  });

  /** Sends `n` transfers; answers the last one's hash. */
  async function transfers(n: number): Promise<Hex | undefined> {
    const { walletClient } = clients(node, DEV_KEYS[1]);
    const to = privateKeyToAccount(DEV_KEYS[2]).address;
    let last: Hex | undefined;
    for (let i = 0; i < n; i++) last = await walletClient.sendTransaction({ to, value: 1n, chain: node.chain });
    return last;
  }

  it('every batch decodes back to exactly the L2 blocks, with their hashes', async () => {
    const last = await transfers(20);
    // the block holding the last transfer (read at once, the head can still be genesis)
    const head = (await clients(node).publicClient.waitForTransactionReceipt({ hash: last! })).blockNumber;
    expect(head).toBeGreaterThan(0n);
    await until('the safe head to pass the transfers', async () => (BigInt((await status(node.url)).safe.number) >= head ? true : undefined));
    const audit = await auditBatches(env, node.url);
    expect(audit.batches).toBeGreaterThan(0);
    expect(audit.lastBlock).toBeGreaterThanOrEqual(head);
    const safe = await clients(node).publicClient.getBlock({ blockTag: 'safe' });
    expect(safe.number).toBeGreaterThanOrEqual(head);
    // rollup_getBatch agrees with L1
    const b0 = (await rpc(node.url, { jsonrpc: '2.0', id: 1, method: 'rollup_getBatch', params: ['0x0'] })).json.result;
    expect(b0.firstBlock).toBe('0x1');
    const tx = await env.l1.publicClient.getTransaction({ hash: b0.l1TransactionHash });
    expect(tx.to?.toLowerCase()).toBe(env.deployment.rollup.toLowerCase());
    expect(BigInt(b0.l1CalldataBytes)).toBe(BigInt((tx.input.length - 2) / 2));
    expect(BigInt(b0.l1GasUsed)).toBe((await env.l1.publicClient.getTransactionReceipt({ hash: b0.l1TransactionHash })).gasUsed);
    expect((await rpc(node.url, { jsonrpc: '2.0', id: 1, method: 'rollup_getBatch', params: ['0xffff'] })).json.result).toBeNull();
  }, 120_000);

  it('kill -9 while batching, restart: batches continue with no gap and no duplicate', async () => {
    for (let round = 0; round < 2; round++) {
      const sending = transfers(15).catch(() => undefined); // the kill cuts the load short
      await until('a new batch', async () => {
        const s = await status(node.url);
        return BigInt(s.batchCount) > BigInt(round) + 1n ? true : undefined;
      });
      await node.kill9();
      await sending;
      node = await startRollupNode(env, { datadir: node.datadir });
    }
    await transfers(5);
    const head = await clients(node).publicClient.getBlockNumber();
    await until('the safe head after the restarts', async () => (BigInt((await status(node.url)).safe.number) >= head ? true : undefined));
    const audit = await auditBatches(env, node.url);
    expect(audit.lastBlock).toBeGreaterThanOrEqual(head);
  }, 240_000);
});

describe('forced inclusion: a batch that leaves a deposit past its deadline is refused', () => {
  let dir: string;
  let env: L1Env;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rollup-censor-'));
    env = await startL1(dir, { inclusionWindow: 30n });
  }, 120_000);

  afterAll(async () => {
    await env?.anvil.stop();
    if (dir !== undefined) await removeDir(dir);
  });

  it('a censoring batch reverts with DepositPastDeadline once the window passed; consuming the deposit lands', async () => {
    const { walletClient, publicClient } = env.l1;
    const dep = await walletClient.writeContract({
      address: env.deployment.bridge,
      abi: bridgeTestAbi,
      functionName: 'depositETH',
      args: [walletClient.account.address, 100_000n, '0x'],
      value: parseEther('1'),
    });
    await publicClient.waitForTransactionReceipt({ hash: dep });
    const depositHash = (await publicClient.readContract({
      address: env.deployment.bridge,
      abi: [{ type: 'function', name: 'depositHashAt', stateMutability: 'view', inputs: [{ name: 'count', type: 'uint64' }], outputs: [{ type: 'bytes32' }] }],
      functionName: 'depositHashAt',
      args: [1n],
    })) as Hex;
    const batcher = l1Clients(env.anvil, env.keys[1]!);
    const data: Hex = '0x00';
    const header = (count: bigint, hash: Hex) => ({
      index: 0n,
      prevBatchHash: `0x${'00'.repeat(32)}` as Hex,
      firstBlock: 1n,
      lastBlock: 1n,
      dataHash: keccak256(data),
      depositCount: count,
      depositHash: hash,
      resultsRoot: `0x${'00'.repeat(32)}` as Hex,
    });
    const submit = (count: bigint, hash: Hex) =>
      batcher.publicClient.simulateContract({
        account: batcher.account,
        address: env.deployment.rollup,
        abi: rollupAbi,
        functionName: 'submitBatch',
        args: [header(count, hash), data],
      });

    // inside the window, leaving the deposit for later is allowed
    await expect(submit(0n, `0x${'00'.repeat(32)}`)).resolves.toBeDefined();
    await publicClient.request({ method: 'evm_increaseTime' as never, params: [31] as never });
    await publicClient.request({ method: 'evm_mine' as never, params: [] as never });
    const err = await submit(0n, `0x${'00'.repeat(32)}`).then(
      () => undefined,
      (e: unknown) => e,
    );
    const revert = err instanceof BaseError ? err.walk((e) => e instanceof ContractFunctionRevertedError) : undefined;
    expect((revert as ContractFunctionRevertedError | undefined)?.data?.errorName).toBe('DepositPastDeadline');
    await expect(submit(1n, depositHash)).resolves.toBeDefined();
  });
});
