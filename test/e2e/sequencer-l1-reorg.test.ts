/**
 * L1 reorgs under a running sequencer (sequencer/l1-reorg.ts): anvil_reorg replaces the last d
 * L1 blocks (d = 1..10), the deposit made d blocks deep either gone from the new chain or mined
 * again in another block. The sequencer must rewind the L2 blocks built on the replaced L1 blocks
 * and build again on the new chain without a restart: its head's origin is an L1 block L1 has,
 * a removed deposit is on L2 nowhere, a re-mined one exactly once. With a batcher, batches on the
 * replaced blocks are posted again and a replica deriving from L1 alone ends with the same chain.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeFunctionData, parseAbi, parseAbiItem, parseEther } from 'viem';
import type { Hex } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { L1_BLOCK_ADDRESS } from '../../contracts/predeploys.ts';
import { removeDir, startDevNode } from '../helpers/dev-node.ts';
import type { DevNode } from '../helpers/dev-node.ts';
import { chainOf } from '../helpers/replica.ts';
import { batchedOnL1, bridgeTestAbi, l1Call, startL1, startRollupNode } from '../helpers/rollup.ts';
import type { L1Env } from '../helpers/rollup.ts';
import { must } from '../helpers/txs.ts';
import { waitFor } from '../helpers/wait.ts';

const l1BlockAbi = parseAbi(['function number() view returns (uint256)', 'function hash() view returns (bytes32)', 'function depositCount() view returns (uint256)']);
const batchSubmitted = parseAbiItem('event BatchSubmitted(uint256 indexed index, bytes32 indexed batchHash, uint64 firstBlock, uint64 lastBlock, uint64 depositCount)');
const bridgeCountAbi = parseAbi(['function depositCount() view returns (uint64)']);

/** What the L2 head's L1Block predeploy says: its origin and the deposits consumed. */
async function headOrigin(node: DevNode): Promise<{ number: bigint; hash: Hex; deposits: bigint }> {
  const read = async (fn: 'number' | 'hash' | 'depositCount') =>
    must(node.url, 'eth_call', [{ to: L1_BLOCK_ADDRESS, data: encodeFunctionData({ abi: l1BlockAbi, functionName: fn }) }, 'latest']) as Promise<Hex>;
  const [n, h, c] = await Promise.all([read('number'), read('hash'), read('depositCount')]);
  return { number: BigInt(n), hash: h, deposits: BigInt(c) };
}

async function l1Hash(env: L1Env, n: bigint): Promise<Hex | undefined> {
  const b = (await l1Call(env, 'eth_getBlockByNumber', [`0x${n.toString(16)}`, false])) as { hash: Hex } | null;
  return b?.hash;
}

async function l1Head(env: L1Env): Promise<bigint> {
  return BigInt((await l1Call(env, 'eth_blockNumber')) as Hex);
}

/** The L2 head's origin is the L1 head (or a block L1 has, when `head` is false) and L2 consumed every deposit L1 holds. */
async function caughtUp(env: L1Env, node: DevNode): Promise<boolean> {
  const o = await headOrigin(node);
  const tip = await l1Head(env);
  const count = await env.l1.publicClient.readContract({ address: env.deployment.bridge, abi: bridgeCountAbi, functionName: 'depositCount' });
  return o.number === tip && (await l1Hash(env, o.number)) === o.hash && o.deposits === BigInt(count);
}

async function balanceOn(node: DevNode, who: Hex): Promise<bigint> {
  return BigInt(await must(node.url, 'eth_getBalance', [who, 'latest']));
}

function depositRequest(env: L1Env, to: Hex, value: bigint) {
  return {
    from: env.l1.account.address,
    to: env.deployment.bridge,
    data: encodeFunctionData({ abi: bridgeTestAbi, functionName: 'depositETH', args: [to, 100_000n, '0x'] }),
    value: `0x${value.toString(16)}`,
    // anvil estimates a reorg's transactions on the state before the reorg: give it room
    gas: '0x60000',
  };
}

async function deposit(env: L1Env, to: Hex, value: bigint): Promise<bigint> {
  const hash = await env.l1.walletClient.writeContract({ address: env.deployment.bridge, abi: bridgeTestAbi, functionName: 'depositETH', args: [to, 100_000n, '0x'], value });
  const receipt = await env.l1.publicClient.waitForTransactionReceipt({ hash });
  expect(receipt.status).toBe('success');
  return receipt.blockNumber;
}

/** A replica deriving from L1 alone, once it derived up to `batched`: its blocks equal the sequencer's. */
async function derivedAlike(env: L1Env, seq: DevNode, batched: bigint): Promise<DevNode> {
  const replica = await startDevNode({
    chainId: Number(env.config.l2ChainId),
    args: ['--replica', '--rollup-config', env.configFile, '--l1-rpc', env.anvil.url, '--l1-poll-ms', '200'],
  });
  await waitFor('the replica derived every batch', async () => BigInt((await must(replica.url, 'rollup_syncStatus')).safe.number) >= batched, 120_000, 250);
  expect(await chainOf(replica.url, batched)).toEqual(await chainOf(seq.url, batched));
  return replica;
}

/** The L2 head once the deposit to `to` shows on L2 (the block that included it, or one just after). */
function depositIncluded(seq: DevNode, to: Hex): Promise<bigint> {
  return waitFor('the deposit on L2', async () => ((await balanceOn(seq, to)) > 0n ? BigInt(await must(seq.url, 'eth_blockNumber')) : undefined), 30_000, 100);
}

describe('sequencer: L1 reorgs of depth 1 to 10 under deposits', () => {
  let work: string;
  let env: L1Env;
  let seq: DevNode;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'seq-reorg-'));
    env = await startL1(work);
    // no posters: L1 grows only by this test's blocks, so each reorg has exactly the depth asked
    seq = await startRollupNode(env, { datadir: join(work, 'seq'), keys: false });
  }, 120_000);

  afterAll(async () => {
    await seq?.stop();
    await env?.anvil.stop();
    if (work !== undefined) await removeDir(work);
  }, 60_000);

  it('rewinds the L2 blocks built on replaced L1 blocks and builds again on the new chain', async () => {
    const value = parseEther('0.01');
    for (let depth = 1; depth <= 10; depth++) {
      const to = privateKeyToAccount(generatePrivateKey()).address;
      const at = await deposit(env, to, value);
      if (depth > 1) await l1Call(env, 'anvil_mine', [`0x${(depth - 1).toString(16)}`]);
      expect(await l1Head(env)).toBe(at + BigInt(depth - 1));
      await waitFor(`depth ${depth}: the deposit on L2, the origin at L1's head`, async () => (await balanceOn(seq, to)) === value && (await caughtUp(env, seq)), 30_000, 100);
      const again = depth % 2 === 1;
      // the replaced blocks: the deposit gone, or mined again in the new chain's last block
      await l1Call(env, 'anvil_reorg', [depth, again ? [[depositRequest(env, to, value), depth - 1]] : []]);
      expect(await l1Head(env)).toBe(at + BigInt(depth - 1));
      await waitFor(`depth ${depth}: L2 rebuilt on the new L1 chain`, () => caughtUp(env, seq), 30_000, 100);
      expect(await balanceOn(seq, to), `depth ${depth}`).toBe(again ? value : 0n);
    }
    const metrics = await (await fetch(`${seq.url}/metrics`)).text();
    const rewinds = Number(/^ai_rollup_sequencer_l2_rewinds_total (\d+)/m.exec(metrics)?.[1]);
    expect(rewinds).toBeGreaterThanOrEqual(10);
    expect(Number(/^ai_rollup_sequencer_l1_reorgs_total (\d+)/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(10);
  }, 240_000);

  it('after a restart, the deposit scan starts near the first deposit not consumed, and a reorg while down is rewound', async () => {
    const to = privateKeyToAccount(generatePrivateKey()).address;
    await l1Call(env, 'anvil_mine', ['0x20']);
    const at = await deposit(env, to, parseEther('0.02'));
    await waitFor('the deposit on L2', async () => (await balanceOn(seq, to)) === parseEther('0.02') && (await caughtUp(env, seq)), 30_000, 100);
    expect(await seq.stop()).toBe(0);
    // while the sequencer is down, L1 replaces the deposit's block and 2 above it
    await l1Call(env, 'anvil_mine', ['0x2']);
    await l1Call(env, 'anvil_reorg', [3, []]);
    seq = await startRollupNode(env, { datadir: join(work, 'seq'), keys: false });
    await waitFor('L2 rebuilt on the new L1 chain after the restart', () => caughtUp(env, seq), 30_000, 100);
    expect(await balanceOn(seq, to)).toBe(0n);
    const starts = seq.logs.filter((l) => l.includes('deposit scan starts')).map((l) => JSON.parse(l) as { from: string });
    expect(starts.length).toBeGreaterThan(0);
    // every deposit before this one was consumed: the scan starts at or after the block of the first one left, not at l1Start
    expect(BigInt(starts[0]!.from)).toBeGreaterThan(at - 5n);
    expect(BigInt(starts[0]!.from)).toBeLessThanOrEqual(at + 3n);
  }, 120_000);
});

describe('sequencer: an L1 reorg that takes out a posted batch', () => {
  let work: string;
  let env: L1Env;
  let seq: DevNode;
  let replica: DevNode | undefined;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'seq-reorg-batch-'));
    env = await startL1(work, { l2ChainId: 1338n });
    seq = await startRollupNode(env, { datadir: join(work, 'seq') });
  }, 120_000);

  afterAll(async () => {
    await replica?.stop();
    await seq?.stop();
    await env?.anvil.stop();
    if (replica !== undefined) await removeDir(replica.datadir);
    if (work !== undefined) await removeDir(work);
  }, 60_000);

  it('the sequencer rebuilds, the batcher posts again, and a replica deriving from L1 has the same chain', async () => {
    for (let round = 0; round < 2; round++) {
      const to = privateKeyToAccount(generatePrivateKey()).address;
      const at = await deposit(env, to, parseEther('0.03'));
      const includedIn = await depositIncluded(seq, to);
      await waitFor('a batch over the deposit', async () => (await batchedOnL1(env)) >= includedIn, 60_000, 200);
      const head = await l1Head(env);
      // the deposit's block and everything after it (the batch among it) replaced, the deposit gone
      await l1Call(env, 'anvil_reorg', [Number(head - at + 1n), []]);
      await waitFor('the deposit gone from L2', async () => (await balanceOn(seq, to)) === 0n, 30_000, 100);
      await waitFor('a batch over the rebuilt blocks', async () => (await batchedOnL1(env)) >= includedIn, 60_000, 200);
      expect(await balanceOn(seq, to)).toBe(0n);
    }
    replica = await derivedAlike(env, seq, await batchedOnL1(env));
    expect(seq.logs.some((l) => l.includes('derivation will refuse'))).toBe(false);
  }, 240_000);
});

describe('sequencer: --batch-origin-depth keeps batches valid through L1 reorgs up to that deep', () => {
  let work: string;
  let env: L1Env;
  let seq: DevNode;
  let replica: DevNode | undefined;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'seq-reorg-depth-'));
    env = await startL1(work, { l2ChainId: 1339n });
    // the batcher only: L1 grows by this test's blocks and the batches
    seq = await startRollupNode(env, { datadir: join(work, 'seq'), keys: false, args: ['--batcher-key', env.keys[1]!, '--batch-origin-depth', '3'] });
  }, 120_000);

  afterAll(async () => {
    await replica?.stop();
    await seq?.stop();
    await env?.anvil.stop();
    if (replica !== undefined) await removeDir(replica.datadir);
    if (work !== undefined) await removeDir(work);
  }, 60_000);

  it('holds blocks back until their origin is 3 deep; a batch L1 mines again after a reorg of 3 is still derived', async () => {
    const to = privateKeyToAccount(generatePrivateKey()).address;
    await deposit(env, to, parseEther('0.04'));
    const included = await depositIncluded(seq, to);
    // its origin is L1's head: not deep enough to batch
    await new Promise((r) => setTimeout(r, 3_000));
    expect(await batchedOnL1(env)).toBeLessThan(included);
    await l1Call(env, 'anvil_mine', ['0x3']);
    await waitFor('a batch over the deposit', async () => (await batchedOnL1(env)) >= included, 60_000, 200);
    const logs = await env.l1.publicClient.getLogs({
      address: env.deployment.rollup,
      event: batchSubmitted,
      fromBlock: 0n,
    });
    const last = logs.at(-1)!;
    const raw = (await l1Call(env, 'eth_getRawTransactionByHash', [last.transactionHash])) as Hex;
    const depth = Number((await l1Head(env)) - last.blockNumber! + 1n);
    expect(depth).toBeLessThanOrEqual(3);
    // the batch's block replaced, and the batch transaction mined again in the new chain (a real L1's pool does that)
    await l1Call(env, 'anvil_reorg', [depth, [[raw, 0]]]);
    const batched = await batchedOnL1(env);
    expect(batched).toBeGreaterThanOrEqual(included);
    replica = await derivedAlike(env, seq, batched);
    expect(seq.logs.some((l) => l.includes('derivation will refuse'))).toBe(false);
  }, 180_000);
});
