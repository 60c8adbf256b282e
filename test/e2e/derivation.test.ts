/**
 * Derivation from L1 (node/derivation): a sequencer with its batcher posts batches to a real
 * anvil; a replica with no p2p at all derives every block from the Rollup's calldata, restarts
 * from its checkpoint, and follows an L1 reorg that removes a batch (safe head back, then the
 * re-posted batch derived again on the new L1 chain).
 */
import { cp, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keccak256 } from 'viem';
import type { Hex } from 'viem';
import { generatePrivateKey } from 'viem/accounts';
import { rollupAbi } from '../../contracts/abi/rollup.ts';
import { DEV_KEYS, removeDir, startDevNode } from '../helpers/dev-node.ts';
import type { DevNode } from '../helpers/dev-node.ts';
import { sendLoad } from '../helpers/load.ts';
import { chainOf } from '../helpers/replica.ts';
import { l1Call, startL1, startRollupNode } from '../helpers/rollup.ts';
import type { L1Env } from '../helpers/rollup.ts';
import { addr, blockNumber, must, nonceOf, sign, waitReceipt } from '../helpers/txs.ts';
import { waitFor } from '../helpers/wait.ts';

/** The last L2 block in a batch accepted on L1 (the Rollup's own view). */
async function batchedOnL1(env: L1Env): Promise<bigint> {
  const next = await env.l1.publicClient.readContract({ address: env.deployment.rollup, abi: rollupAbi, functionName: 'nextBlock' });
  return BigInt(next) - 1n;
}

async function safeOf(node: DevNode): Promise<{ safe: bigint; finalized: bigint }> {
  const s = await must(node.url, 'rollup_syncStatus');
  return { safe: BigInt(s.safe.number), finalized: BigInt(s.finalized.number) };
}

/** The `derivation resumed from its checkpoint` record of a replica's start (l1Block, safe). */
function resumedFrom(node: DevNode): { l1Block: string; safe: string } | undefined {
  return node.logs.map((l) => (l.startsWith('{') ? JSON.parse(l) : {})).find((r) => r.module === 'derivation' && r.msg === 'derivation resumed from its checkpoint');
}

/** A few transfers, so the batches carry real state changes; answers the block of the last one. */
async function someTransfers(seq: DevNode, n: number): Promise<bigint> {
  const key = DEV_KEYS[1];
  const nonce = await nonceOf(seq.url, addr(key), 'pending');
  const raws = await Promise.all(Array.from({ length: n }, (_, i) => sign(key, { nonce: nonce + i, to: addr(generatePrivateKey()), value: BigInt(i + 1) })));
  const sent = await sendLoad(
    seq.url,
    raws.map((raw) => ({ raw, hash: keccak256(raw) })),
  );
  expect(sent.refused).toEqual([]);
  return BigInt((await waitReceipt(seq.url, keccak256(raws[raws.length - 1]))).blockNumber);
}

describe('derivation: a replica follows the chain from L1 batches alone', () => {
  let work: string;
  let env: L1Env;
  let seq: DevNode;
  let replica: DevNode | undefined;
  /** Sequencer datadirs left behind by restarts on another datadir. */
  const dirs: string[] = [];
  const startDeriving = (datadir?: string) =>
    startDevNode({ datadir, chainId: Number(env.config.l2ChainId), args: ['--replica', '--rollup-config', env.configFile, '--l1-rpc', env.anvil.url, '--l1-poll-ms', '200'] });
  const startSequencer = (datadir?: string) => startRollupNode(env, { blockTime: 1, datadir });

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'derivation-'));
    env = await startL1(work);
    seq = await startSequencer();
  }, 120_000);

  afterAll(async () => {
    await replica?.stop();
    await seq?.stop();
    await env?.anvil.stop();
    for (const n of [replica, seq]) if (n !== undefined) await removeDir(n.datadir);
    for (const d of dirs) await removeDir(d);
    if (work !== undefined) await removeDir(work);
  }, 120_000);

  /** Waits until the replica's safe head reaches `n`, then compares blocks 0..n with the sequencer's. */
  async function derivedUpTo(n: bigint): Promise<void> {
    await waitFor(`replica safe head at ${n}`, async () => (await safeOf(replica!)).safe >= n, 180_000, 250);
    expect(await chainOf(replica!.url, n)).toEqual(await chainOf(seq.url, n));
  }

  it('derives every batched block with no p2p: same hashes and state roots, safe head at the batched head', async () => {
    await someTransfers(seq, 30);
    const batched = await waitFor('two batches on L1', async () => ((await batchedOnL1(env)) >= 4n ? batchedOnL1(env) : undefined), 120_000, 250);
    replica = await startDeriving();
    expect(replica.p2p).toEqual([]);
    await derivedUpTo(batched);
    const s = await safeOf(replica);
    expect(s.finalized).toBeLessThanOrEqual(s.safe);
    // the replica has only what L1 gave it: its head is the safe head, never past L1's batches
    expect(BigInt(await must(replica.url, 'eth_blockNumber'))).toBeLessThanOrEqual(await batchedOnL1(env));
  }, 300_000);

  it('a restarted replica resumes from its checkpoint, not from l1Start', async () => {
    const before = (await safeOf(replica!)).safe;
    const datadir = replica!.datadir;
    expect(await replica!.stop()).toBe(0);
    await someTransfers(seq, 10);
    const batched = await waitFor('a new batch while the replica is down', async () => ((await batchedOnL1(env)) > before ? batchedOnL1(env) : undefined), 120_000, 250);
    replica = await startDeriving(datadir);
    const resumed = resumedFrom(replica);
    expect(resumed).toBeDefined();
    expect(BigInt(resumed!.l1Block)).toBeGreaterThan(env.config.l1Start.number);
    // a batch may have been derived between reading `before` and the stop
    expect(BigInt(resumed!.safe)).toBeGreaterThanOrEqual(before);
    expect(replica.logs.some((l) => l.includes("derivation starting at the rollup config's l1Start"))).toBe(false);
    await derivedUpTo(batched);

    // kill -9 while batches keep coming: the restart resumes at a complete checkpoint and re-derives the rest
    await someTransfers(seq, 10);
    await replica.kill9();
    const more = await waitFor('another batch', async () => ((await batchedOnL1(env)) > batched ? batchedOnL1(env) : undefined), 120_000, 250);
    replica = await startDeriving(datadir);
    expect(resumedFrom(replica)).toBeDefined();
    await derivedUpTo(more);
  }, 300_000);

  it('an L1 reorg that removes a batch moves the safe head back; the batch posted again is derived again', async () => {
    const snapshot = (await l1Call(env, 'evm_snapshot')) as Hex;
    const kept = await batchedOnL1(env);
    await derivedUpTo(kept);
    await someTransfers(seq, 10);
    const removed = await waitFor('a batch after the snapshot', async () => ((await batchedOnL1(env)) > kept ? batchedOnL1(env) : undefined), 120_000, 250);
    await derivedUpTo(removed);

    // no batcher while L1 reorganises, so the safe head going back is observable
    const seqDir = seq.datadir;
    expect(await seq.stop()).toBe(0);
    expect(await l1Call(env, 'evm_revert', [snapshot])).toBe(true);
    // a new L1 chain, longer than the one it replaces (its blocks hold no batch)
    await l1Call(env, 'anvil_mine', ['0x8']);
    const afterRevert = await batchedOnL1(env);
    expect(afterRevert).toBeLessThan(removed);
    await waitFor('the replica safe head back at the reorged L1', async () => (await safeOf(replica!)).safe === afterRevert, 120_000, 250);
    // the blocks stay, as unsafe blocks
    expect(BigInt(await must(replica!.url, 'eth_blockNumber'))).toBeGreaterThanOrEqual(removed);

    seq = await startSequencer(seqDir);
    await someTransfers(seq, 5);
    const reposted = await waitFor('the batch posted again on the new L1 chain', async () => ((await batchedOnL1(env)) >= removed ? batchedOnL1(env) : undefined), 120_000, 250);
    await derivedUpTo(reposted);
  }, 400_000);

  it('a batch whose blocks differ from the local ones wins: the replica rewinds to the parent and imports them', async () => {
    // a copy of the sequencer's chain as it is now: started later, it builds other blocks on the same parent
    const forkHead = await blockNumber(seq.url);
    const seqDir = seq.datadir;
    dirs.push(seqDir);
    expect(await seq.stop()).toBe(0);
    const fork = await mkdtemp(join(tmpdir(), 'derivation-fork-'));
    await cp(seqDir, fork, { recursive: true });
    const snapshot = (await l1Call(env, 'evm_snapshot')) as Hex;
    seq = await startSequencer(seqDir);
    // the compared block holds a transfer the fork never sees, so it cannot come out the same
    // (empty blocks on the same parent and origin are identical by construction)
    const transferred = await someTransfers(seq, 10);
    expect(transferred).toBeGreaterThan(forkHead);
    const replaced = await waitFor('a batch holding the transfers', async () => ((await batchedOnL1(env)) >= transferred ? batchedOnL1(env) : undefined), 120_000, 250);
    await derivedUpTo(replaced);
    const oldHash = (await must(replica!.url, 'eth_getBlockByNumber', [`0x${transferred.toString(16)}`, false])).hash;

    expect(await seq.stop()).toBe(0);
    expect(await l1Call(env, 'evm_revert', [snapshot])).toBe(true);
    await l1Call(env, 'anvil_mine', ['0x8']);
    seq = await startSequencer(fork);
    await someTransfers(seq, 5);
    const reposted = await waitFor("the fork's batches on the new L1 chain", async () => ((await batchedOnL1(env)) >= replaced ? batchedOnL1(env) : undefined), 180_000, 250);
    await derivedUpTo(reposted);
    const newHash = (await must(replica!.url, 'eth_getBlockByNumber', [`0x${transferred.toString(16)}`, false])).hash;
    expect(newHash).not.toBe(oldHash);
  }, 400_000);

  it("finalized is the last block derived from L1 blocks at or below L1's finalized block", async () => {
    const safe = (await safeOf(replica!)).safe;
    expect((await safeOf(replica!)).finalized).toBeLessThanOrEqual(safe);
    // anvil's finalized block is 64 below its head: 72 more L1 blocks finalize every batch derived so far
    await l1Call(env, 'anvil_mine', ['0x48']);
    await waitFor('the replica finalized head at its earlier safe head', async () => (await safeOf(replica!)).finalized >= safe, 120_000, 250);
    const s = await safeOf(replica!);
    expect(s.finalized).toBeLessThanOrEqual(s.safe);
    const tagged = await must(replica!.url, 'eth_getBlockByNumber', ['finalized', false]);
    expect(BigInt(tagged.number)).toBeGreaterThanOrEqual(safe);
  }, 200_000);
});
