/**
 * Derivation from L1 (node/derivation): a sequencer with its batcher posts batches to a real
 * anvil; a replica with no p2p at all derives every block from the Rollup's calldata, restarts
 * from its checkpoint, and follows an L1 reorg that removes batches (safe head back, then the
 * different blocks the new L1 chain's batches carry replace the local ones). A fresh replica catches up over 2,000
 * finalized L1 blocks reading their logs in ranges: a few dozen requests where walking every
 * block took two each, with its progress in /metrics.
 */
import { cp, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keccak256 } from 'viem';
import type { Hex } from 'viem';
import { generatePrivateKey } from 'viem/accounts';
import { DEV_KEYS, removeDir, startDevNode } from '../helpers/dev-node.ts';
import type { DevNode } from '../helpers/dev-node.ts';
import { sendLoad } from '../helpers/load.ts';
import { chainOf } from '../helpers/replica.ts';
import { startL1FaultProxy } from '../helpers/l1-fault-proxy.ts';
import { metricValue, scrapeMetrics } from '../helpers/metrics.ts';
import { batchedOnL1, l1Call, startL1, startRollupNode } from '../helpers/rollup.ts';
import type { L1Env } from '../helpers/rollup.ts';
import { addr, blockNumber, must, nonceOf, sign, waitReceipt } from '../helpers/txs.ts';
import { waitFor } from '../helpers/wait.ts';

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
  const startDeriving = (datadir?: string, l1 = env.anvil.url) =>
    startDevNode({ datadir, chainId: Number(env.config.l2ChainId), args: ['--replica', '--rollup-config', env.configFile, '--l1-rpc', l1, '--l1-poll-ms', '200'] });
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
    await waitFor(`replica safe head at ${n}`, async () => (await safeOf(replica!)).safe >= n, 180_000, 250).catch((err: Error) => {
      // what derivation last said is what a timeout needs to be understood
      const said = replica!.logs.filter((l) => l.includes('"module":"derivation')).slice(-15);
      throw new Error(`${err.message}; derivation's last log lines:\n${said.join('\n')}`);
    });
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

  it('a fresh replica catches up over 2,000 finalized L1 blocks in a few ranged reads, and reports it in /metrics', async () => {
    // no batcher: L1 stays put while the requests are counted
    const seqDir = seq.datadir;
    expect(await seq.stop()).toBe(0);
    await l1Call(env, 'anvil_mine', ['0x7d0']);
    const batched = await batchedOnL1(env);
    const l1Head = await env.l1.publicClient.getBlockNumber();
    const l1Blocks = Number(l1Head - env.config.l1Start.number);
    expect(l1Blocks).toBeGreaterThan(2_000);
    const proxy = await startL1FaultProxy(env.anvil.url);
    // a provider that caps eth_getLogs at 1,000 blocks: the ranges narrow to fit
    proxy.addRule({ fault: { kind: 'logRange', maxBlocks: 1_000 }, method: 'eth_getLogs' });
    // the replica of the tests above derived the same batches block by block: the reference
    await waitFor('the old replica at the batched head', async () => (await safeOf(replica!)).safe >= batched, 120_000, 250);
    const fresh = await startDeriving(undefined, proxy.url);
    try {
      const m = await waitFor(
        'the fresh replica at L1 head',
        async () => {
          const s = await scrapeMetrics(fresh.url);
          return (metricValue(s, 'ai_rollup_derivation_l1_block') ?? 0) >= Number(l1Head) ? s : undefined;
        },
        120_000,
        250,
      );
      const reads = ['eth_getBlockByNumber', 'eth_getBlockByHash', 'eth_getLogs', 'eth_getTransactionByHash'].map((x) => proxy.count(x));
      const total = reads.reduce((a, b) => a + b, 0);
      // walking every block costs a getBlock and a getLogs each: over 4,000 here
      expect(total, `reads by method ${reads}`).toBeLessThan(l1Blocks / 5);
      expect(proxy.count('eth_getLogs')).toBeLessThan(80);
      expect(metricValue(m, 'ai_rollup_derivation_safe_head_number')).toBe(Number(batched));
      expect(metricValue(m, 'ai_rollup_derivation_finalized_head_number')).toBe(Number(batched));
      expect(metricValue(m, 'ai_rollup_derivation_l1_lag_blocks')).toBe(0);
      expect(metricValue(m, 'ai_rollup_derivation_batches_derived_total')).toBeGreaterThanOrEqual(4);
      expect(metricValue(m, 'ai_rollup_derivation_records_pruned_total')).toBeGreaterThan(0);
      expect(metricValue(m, 'ai_rollup_derivation_invalid_from')).toBe(-1);
      expect(await chainOf(fresh.url, batched)).toEqual(await chainOf(replica!.url, batched));
    } finally {
      await fresh.stop();
      dirs.push(fresh.datadir);
      await proxy.stop();
      seq = await startSequencer(seqDir);
    }
  }, 240_000);

  it('an L1 reorg that removes batches moves the safe head back (the blocks stay, unsafe); the different blocks the new L1 chain carries win', async () => {
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

    // no batcher while L1 reorganises, so the safe head going back is observable
    expect(await seq.stop()).toBe(0);
    expect(await l1Call(env, 'evm_revert', [snapshot])).toBe(true);
    // a new L1 chain, longer than the one it replaces (its blocks hold no batch)
    await l1Call(env, 'anvil_mine', ['0x8']);
    const afterRevert = await batchedOnL1(env);
    expect(afterRevert).toBeLessThan(replaced);
    await waitFor('the replica safe head back at the reorged L1', async () => (await safeOf(replica!)).safe === afterRevert, 120_000, 250);
    // the blocks stay, as unsafe blocks
    expect(BigInt(await must(replica!.url, 'eth_blockNumber'))).toBeGreaterThanOrEqual(replaced);
    const m = await scrapeMetrics(replica!.url);
    expect(metricValue(m, 'ai_rollup_derivation_l1_reorgs_total')).toBeGreaterThanOrEqual(1);
    expect(metricValue(m, 'ai_rollup_derivation_l1_reorg_depth_blocks_count')).toBe(metricValue(m, 'ai_rollup_derivation_l1_reorgs_total'));
    expect(metricValue(m, 'ai_rollup_derivation_safe_head_number')).toBe(Number(afterRevert));

    // the sequencer's chain as it was before the snapshot (origins the new L1 chain still has), building other blocks
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
