/**
 * A rollup sequencer whose only L1 endpoint is a flaky provider (the fault proxy in front of
 * anvil: dropped connections, 429s, 502s, rate-limit errors, truncated answers, and replies lost
 * after the node executed the request, half of all eth_sendRawTransaction among them). It must
 * keep producing blocks and landing batches and outputs, and L1 must show exactly one batch per
 * index: contiguous, every L2 block in one batch, no batch posted twice, nothing reverted.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeFunctionData, getAddress } from 'viem';
import type { Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rollupAbi } from '../../contracts/abi/rollup.ts';
import { clients, removeDir } from '../helpers/dev-node.ts';
import type { DevNode } from '../helpers/dev-node.ts';
import { startL1FaultProxy } from '../helpers/l1-fault-proxy.ts';
import type { L1FaultProxy, ProxyRule } from '../helpers/l1-fault-proxy.ts';
import { startL1, startRollupNode } from '../helpers/rollup.ts';
import type { L1Env } from '../helpers/rollup.ts';
import { waitFor } from '../helpers/wait.ts';

describe('sequencer on a flaky L1 endpoint', () => {
  let dir: string;
  let env: L1Env;
  let proxy: L1FaultProxy;
  let node: DevNode;
  let rules: ProxyRule[];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'l1-flaky-'));
    env = await startL1(dir, { challengeWindow: 2n });
    proxy = await startL1FaultProxy(env.anvil.url, { seed: 20 });
    rules = [
      proxy.addRule({ fault: { kind: 'lostReply' }, method: 'eth_sendRawTransaction', probability: 0.5 }),
      proxy.addRule({ fault: { kind: 'drop' }, probability: 0.04 }),
      proxy.addRule({ fault: { kind: 'http429', retryAfter: 1 }, probability: 0.01 }),
      proxy.addRule({ fault: { kind: 'http429' }, probability: 0.03 }),
      proxy.addRule({ fault: { kind: 'http502' }, probability: 0.03 }),
      proxy.addRule({ fault: { kind: 'rpcLimit' }, probability: 0.04 }),
      proxy.addRule({ fault: { kind: 'truncate' }, probability: 0.03 }),
      proxy.addRule({ fault: { kind: 'lostReply' }, probability: 0.02 }),
    ];
    node = await startRollupNode({ ...env, anvil: { ...env.anvil, url: proxy.url } }, { args: ['--l1.retries', '4'] });
  }, 60_000);

  afterAll(async () => {
    await node?.stop();
    await proxy?.stop();
    await env?.anvil.stop();
    if (dir !== undefined) await removeDir(dir);
  });

  it('keeps producing blocks and lands every batch exactly once', async () => {
    const l1 = env.l1.publicClient;
    const { rollup } = env.config.contracts;
    const l2 = clients(node).publicClient;
    const read = <T>(functionName: 'batchCount' | 'outputCount') => l1.readContract({ address: rollup, abi: rollupAbi, functionName }) as Promise<T>;
    await waitFor(
      '6 batches and 2 outputs on L1 through the flaky endpoint',
      async () => (await read<bigint>('batchCount')) >= 6n && (await read<bigint>('outputCount')) >= 2n,
      35_000,
      250,
    );
    expect(await l2.getBlockNumber()).toBeGreaterThanOrEqual(6n);

    // the faults did happen, the lost sendRawTransaction replies included
    expect(rules[0]!.hits).toBeGreaterThan(0);
    expect(rules.slice(1).reduce((n, r) => n + r.hits, 0)).toBeGreaterThan(5);

    // one L1 snapshot for what follows: batches keep landing meanwhile
    const head = await l1.getBlockNumber({ cacheTime: 0 });
    const count = await l1.readContract({ address: rollup, abi: rollupAbi, functionName: 'batchCount', blockNumber: head });
    // the Rollup's batches: contiguous from block 1, so every L2 block is in exactly one
    let next = 1n;
    for (let i = 0n; i < count; i++) {
      const b = await l1.readContract({ address: rollup, abi: rollupAbi, functionName: 'getBatch', args: [i], blockNumber: head });
      expect(b.firstBlock).toBe(next);
      expect(b.lastBlock).toBeGreaterThanOrEqual(b.firstBlock);
      next = b.lastBlock + 1n;
    }

    // the batcher's L1 transactions: one successful submitBatch per index, none reverted
    const batcher = getAddress(privateKeyToAccount(env.keys[1]!).address);
    const indexes: bigint[] = [];
    for (let n = env.config.l1Start.number + 1n; n <= head; n++) {
      const block = await l1.getBlock({ blockNumber: n, includeTransactions: true });
      for (const tx of block.transactions) {
        if (getAddress(tx.from) !== batcher) continue;
        const receipt = await l1.getTransactionReceipt({ hash: tx.hash });
        expect(receipt.status, `batcher transaction ${tx.hash} reverted`).toBe('success');
        const call = decodeFunctionData({ abi: rollupAbi, data: tx.input as Hex });
        if (call.functionName === 'submitBatch') indexes.push((call.args[0] as { index: bigint }).index);
      }
    }
    expect(indexes).toEqual([...Array(Number(count)).keys()].map(BigInt));

    // the node's L1 transport retried what failed, and /metrics says so
    const metrics = await (await fetch(new URL('/metrics', node.url))).text();
    const total = (name: string) => [...metrics.matchAll(new RegExp(`^${name}\\{[^}]*\\} (\\d+)$`, 'gm'))].reduce((n, m) => n + Number(m[1]), 0);
    expect(total('ai_rollup_l1_requests_total')).toBeGreaterThan(50);
    expect(total('ai_rollup_l1_request_retries_total')).toBeGreaterThan(0);
    expect(total('ai_rollup_l1_rate_limited_total')).toBeGreaterThan(0);
  }, 60_000);
});
