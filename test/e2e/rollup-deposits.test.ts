import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeEventLog, parseEther, parseAbi } from 'viem';
import type { Hex } from 'viem';
import { privateKeyToAccount, generatePrivateKey } from 'viem/accounts';
import { DEPOSITOR_ADDRESS, L1_BLOCK_ADDRESS } from '../../contracts/predeploys.ts';
import { clients, removeDir, rpc } from '../helpers/dev-node.ts';
import type { DevNode } from '../helpers/dev-node.ts';
import { bridgeTestAbi, startL1, startRollupNode } from '../helpers/rollup.ts';
import type { L1Env } from '../helpers/rollup.ts';

const depositEvent = parseAbi([
  'event DepositQueued(uint256 indexed index, address indexed from, address indexed to, uint256 mint, uint256 value, uint64 gasLimit, bool isCreation, bytes data, bytes32 depositHash)',
]);
const l1BlockAbi = parseAbi(['function number() view returns (uint256)', 'function depositCount() view returns (uint256)', 'function hash() view returns (bytes32)']);

async function until<T>(what: string, f: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Every deposit transaction of the chain, by sourceHash. */
async function depositsOnL2(url: string): Promise<Map<string, { hash: string; block: number }[]>> {
  const head = Number((await rpc(url, { jsonrpc: '2.0', id: 1, method: 'eth_blockNumber', params: [] })).json.result);
  const out = new Map<string, { hash: string; block: number }[]>();
  for (let n = 1; n <= head; n++) {
    const { json } = await rpc(url, { jsonrpc: '2.0', id: 1, method: 'eth_getBlockByNumber', params: [`0x${n.toString(16)}`, true] });
    for (const tx of json.result.transactions as { type: string; sourceHash: string; hash: string; isSystemTx: boolean }[]) {
      if (tx.type !== '0x7e' || tx.isSystemTx) continue;
      out.set(tx.sourceHash, [...(out.get(tx.sourceHash) ?? []), { hash: tx.hash, block: n }]);
    }
  }
  return out;
}

describe('deposits: L1 Bridge -> L2 deposit transactions', () => {
  let dir: string;
  let env: L1Env;
  let node: DevNode;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rollup-deposits-'));
    env = await startL1(dir);
    node = await startRollupNode(env, { datadir: join(dir, 'l2'), keys: false });
  }, 120_000);

  afterAll(async () => {
    await node?.stop();
    await env?.anvil.stop();
    if (dir !== undefined) await removeDir(dir);
  });

  async function deposit(to: Hex, value: bigint): Promise<{ depositHash: Hex; l1Block: bigint; from: Hex }> {
    const { walletClient, publicClient } = env.l1;
    const hash = await walletClient.writeContract({ address: env.deployment.bridge, abi: bridgeTestAbi, functionName: 'depositETH', args: [to, 100_000n, '0x'], value });
    const receipt = await publicClient.waitForTransactionReceipt({ hash });
    expect(receipt.status).toBe('success');
    const ev = decodeEventLog({ abi: depositEvent, ...receipt.logs[0]! });
    return { depositHash: ev.args.depositHash, l1Block: receipt.blockNumber, from: ev.args.from };
  }

  it('every block starts with the L1-info system deposit, which records an L1 origin in L1Block', async () => {
    const { publicClient } = clients(node);
    await until('two L2 blocks', async () => ((await publicClient.getBlockNumber()) >= 2n ? true : undefined));
    const block = await publicClient.getBlock({ blockNumber: 2n, includeTransactions: true });
    const first = block.transactions[0]!;
    expect(first.typeHex).toBe('0x7e');
    expect(first.from.toLowerCase()).toBe(DEPOSITOR_ADDRESS.toLowerCase());
    expect(first.to?.toLowerCase()).toBe(L1_BLOCK_ADDRESS.toLowerCase());
    const raw = (await rpc(node.url, { jsonrpc: '2.0', id: 1, method: 'eth_getTransactionByHash', params: [first.hash] })).json.result;
    expect(raw.isSystemTx).toBe(true);
    expect(raw.mint).toBe('0x0');
    const receipt = await publicClient.getTransactionReceipt({ hash: first.hash });
    expect(receipt.status).toBe('success');
    const origin = await publicClient.readContract({ address: L1_BLOCK_ADDRESS, abi: l1BlockAbi, functionName: 'number', blockNumber: 2n });
    expect(origin).toBeGreaterThanOrEqual(env.config.l1Start.number);
    const l1Block = await env.l1.publicClient.getBlock({ blockNumber: origin });
    expect(await publicClient.readContract({ address: L1_BLOCK_ADDRESS, abi: l1BlockAbi, functionName: 'hash', blockNumber: 2n })).toBe(l1Block.hash);
  });

  it('1 ETH deposited on L1 arrives on L2 as a deposit transaction with a receipt, exactly once', async () => {
    const to = privateKeyToAccount(generatePrivateKey()).address;
    const { depositHash, l1Block, from } = await deposit(to, parseEther('1'));
    expect(from.toLowerCase()).toBe(env.l1.account.address.toLowerCase()); // an EOA is not aliased
    const { publicClient } = clients(node);
    await until('the deposit on L2', async () => ((await publicClient.getBalance({ address: to })) > 0n ? true : undefined));
    expect(await publicClient.getBalance({ address: to })).toBe(parseEther('1'));

    const found = (await depositsOnL2(node.url)).get(depositHash);
    expect(found).toHaveLength(1);
    const tx = await publicClient.getTransaction({ hash: found![0]!.hash as Hex });
    expect(tx.from.toLowerCase()).toBe(env.l1.account.address.toLowerCase());
    expect(tx.to?.toLowerCase()).toBe(to.toLowerCase());
    expect(tx.value).toBe(parseEther('1'));
    const receipt = await publicClient.getTransactionReceipt({ hash: tx.hash });
    expect(receipt.status).toBe('success');
    expect(receipt.effectiveGasPrice).toBe(0n);
    // the block that includes it has an L1 origin at or after the deposit's L1 block
    const origin = await publicClient.readContract({ address: L1_BLOCK_ADDRESS, abi: l1BlockAbi, functionName: 'number', blockNumber: receipt.blockNumber });
    expect(origin).toBeGreaterThanOrEqual(l1Block);
    expect(await publicClient.readContract({ address: L1_BLOCK_ADDRESS, abi: l1BlockAbi, functionName: 'depositCount', blockNumber: receipt.blockNumber })).toBe(1n);
  });

  it('deposits stay in index order and are not repeated after a restart', async () => {
    const targets = [0, 1, 2].map(() => privateKeyToAccount(generatePrivateKey()).address);
    const hashes: Hex[] = [];
    for (const [i, t] of targets.entries()) hashes.push((await deposit(t, BigInt(i + 1) * 1000n)).depositHash);
    const { publicClient } = clients(node);
    await until('three deposits', async () => ((await publicClient.getBalance({ address: targets[2]! })) > 0n ? true : undefined));
    await node.stop();
    node = await startRollupNode(env, { datadir: node.datadir, keys: false });
    const after = clients(node).publicClient;
    const head = await after.getBlockNumber();
    await until('three more blocks', async () => ((await after.getBlockNumber()) >= head + 3n ? true : undefined));
    const seen = await depositsOnL2(node.url);
    const blocks = hashes.map((h) => {
      expect(seen.get(h)).toHaveLength(1);
      return seen.get(h)![0]!.block;
    });
    expect([...blocks].sort((a, b) => a - b)).toEqual(blocks);
    for (const [i, t] of targets.entries()) expect(await after.getBalance({ address: t })).toBe(BigInt(i + 1) * 1000n);
    expect(await after.readContract({ address: L1_BLOCK_ADDRESS, abi: l1BlockAbi, functionName: 'depositCount' })).toBe(4n);
  });
});
