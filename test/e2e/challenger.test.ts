/**
 * The challenger (node/derivation/challenger.ts) on a real anvil: a sequencer posts batches but
 * proposes nothing; the test proposes as the Rollup's proposer, a right output root for one batch
 * and a wrong one for the next. A replica deriving from L1 with the challenger key leaves the
 * right one alone, deletes the wrong one before it is final, and counts it in /metrics; restarted,
 * it reads every output from L1 again, leaves the right one alone and deletes the next wrong one.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keccak256, toHex } from 'viem';
import type { Hex } from 'viem';
import { rollupAbi } from '../../contracts/abi/rollup.ts';
import { removeDir, startDevNode } from '../helpers/dev-node.ts';
import type { DevNode } from '../helpers/dev-node.ts';
import { l1Clients, startL1, startRollupNode } from '../helpers/rollup.ts';
import type { L1Env } from '../helpers/rollup.ts';
import { must } from '../helpers/txs.ts';
import { waitFor } from '../helpers/wait.ts';

describe('challenger: a replica deletes an output root that differs from the chain it derived', () => {
  let work: string;
  let env: L1Env;
  let seq: DevNode | undefined;
  let replica: DevNode | undefined;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'challenger-'));
    // a long window: the deletion must happen while the wrong output is not final
    env = await startL1(work, { challengeWindow: 3600n });
    // batcher only: the outputs are the test's
    seq = await startRollupNode(env, { blockTime: 1, keys: false, args: ['--batcher-key', env.keys[1]!] });
  }, 120_000);

  afterAll(async () => {
    await replica?.stop();
    await seq?.stop();
    await env?.anvil.stop();
    for (const n of [replica, seq]) if (n !== undefined) await removeDir(n.datadir);
    if (work !== undefined) await removeDir(work);
  }, 120_000);

  const read = <F extends 'outputCount' | 'batchCount'>(fn: F) => env.l1.publicClient.readContract({ address: env.deployment.rollup, abi: rollupAbi, functionName: fn });

  async function propose(batchIndex: bigint, root: Hex): Promise<void> {
    const proposer = l1Clients(env.anvil, env.keys[2]!);
    const hash = await proposer.walletClient.writeContract({ address: env.deployment.rollup, abi: rollupAbi, functionName: 'proposeOutput', args: [batchIndex, root] });
    expect((await proposer.publicClient.waitForTransactionReceipt({ hash })).status).toBe('success');
  }

  /** One sample of the replica's /metrics (undefined when absent). */
  async function metric(name: string): Promise<number | undefined> {
    const text = await (await fetch(`${replica!.url}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(`${name} `));
    return line === undefined ? undefined : Number(line.split(' ')[1]);
  }

  it('leaves the right output, deletes the wrong one, and reports the mismatch', async () => {
    await waitFor('two batches on L1', async () => (await read('batchCount')) >= 2n, 120_000, 250);
    const batches = await Promise.all(
      [0n, 1n].map((i) => env.l1.publicClient.readContract({ address: env.deployment.rollup, abi: rollupAbi, functionName: 'getBatch', args: [i] })),
    );
    // the sequencer's own output root of batch 0's last block: what the proposer would post
    const right = (await must(seq!.url, 'rollup_outputAtBlock', [toHex(batches[0]!.lastBlock)])).outputRoot as Hex;
    const wrongRoot = keccak256(toHex('not the L2 state'));

    replica = await startDevNode({
      chainId: Number(env.config.l2ChainId),
      args: ['--replica', '--rollup-config', env.configFile, '--l1-rpc', env.anvil.url, '--l1-poll-ms', '200', '--challenger-key', env.keys[3]!, '--log-level', 'debug'],
    });
    await propose(0n, right);
    await propose(1n, wrongRoot);
    expect(await read('outputCount')).toBe(2n);

    const deleted = await waitFor(
      'the wrong output deleted',
      async () => {
        const evs = await env.l1.publicClient.getContractEvents({ address: env.deployment.rollup, abi: rollupAbi, eventName: 'OutputsDeleted', fromBlock: 0n });
        return evs.length > 0 ? evs : undefined;
      },
      120_000,
      250,
    );
    expect(deleted.map((e) => e.args.fromIndex)).toEqual([1n]);
    expect(await read('outputCount')).toBe(1n);
    const kept = await env.l1.publicClient.readContract({ address: env.deployment.rollup, abi: rollupAbi, functionName: 'getOutput', args: [0n] });
    expect(kept.root).toBe(right);

    expect(await metric('ai_rollup_output_mismatches_total')).toBe(1);
    expect(await metric('ai_rollup_output_mismatch_first_index')).toBe(1);
    const records = replica.logs
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((r) => r.module === 'challenger');
    // pino writes bigints as JSON numbers
    const mismatch = records.find((r) => r.level === 50);
    expect(mismatch).toMatchObject({ l1Root: wrongRoot, finalized: false, challenging: true });
    expect(Number(mismatch!.outputIndex)).toBe(1);
    expect(BigInt(mismatch!.l2Block as number)).toBe(batches[1]!.lastBlock);
    expect(typeof mismatch!.localRoot).toBe('string');
    expect(mismatch!.localRoot).not.toBe(wrongRoot);
    // the right output was compared, and only logged at debug
    expect(records.some((r) => r.level === 20 && Number(r.outputIndex) === 0 && r.root === right)).toBe(true);
  }, 300_000);

  it('after a restart it reads everything from L1 again: the right output stays, a new wrong one is deleted', async () => {
    const datadir = replica!.datadir;
    expect(await replica!.stop()).toBe(0);
    replica = await startDevNode({
      datadir,
      chainId: Number(env.config.l2ChainId),
      args: ['--replica', '--rollup-config', env.configFile, '--l1-rpc', env.anvil.url, '--l1-poll-ms', '200', '--challenger-key', env.keys[3]!, '--log-level', 'debug'],
    });
    await waitFor(
      'output 0 checked again',
      () => replica!.logs.some((l) => l.includes('"module":"challenger"') && l.includes('output root matches the derived chain')),
      120_000,
      250,
    );
    expect(await metric('ai_rollup_output_mismatches_total')).toBe(0);
    expect(await metric('ai_rollup_output_mismatch_first_index')).toBe(-1);
    await waitFor('a third batch on L1', async () => (await read('batchCount')) >= 3n, 120_000, 250);
    await propose(2n, keccak256(toHex('wrong again')));
    const deleted = await waitFor(
      'the second wrong output deleted',
      async () => {
        const evs = await env.l1.publicClient.getContractEvents({ address: env.deployment.rollup, abi: rollupAbi, eventName: 'OutputsDeleted', fromBlock: 0n });
        return evs.length > 1 ? evs : undefined;
      },
      120_000,
      250,
    );
    // output 0 was never deleted, output 1 (the batch-2 proposal) once
    expect(deleted.map((e) => e.args.fromIndex)).toEqual([1n, 1n]);
    expect(await read('outputCount')).toBe(1n);
    expect(await metric('ai_rollup_output_mismatches_total')).toBe(1);
    expect(await metric('ai_rollup_output_mismatch_first_index')).toBe(1);
  }, 300_000);
});
