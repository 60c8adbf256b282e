/**
 * `/metrics` and `/health` against real node processes: a dev node (JSON-RPC port and the
 * separate `--metrics.port` listener) and a rollup node whose L1 is taken away through a real
 * TCP proxy. Asserts on the exposition format, counter movements, status codes and fields.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEther } from 'viem';
import type { Hex } from 'viem';
import { clients, removeDir, rpc, startDevNode } from '../helpers/dev-node.ts';
import type { DevNode } from '../helpers/dev-node.ts';
import { bridgeTestAbi, startL1, startRollupNode } from '../helpers/rollup.ts';
import type { L1Env } from '../helpers/rollup.ts';
import { startTcpProxy } from '../helpers/tcp-proxy.ts';
import { waitFor } from '../helpers/wait.ts';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** A strict reader of the text format: every sample belongs to a family announced by HELP and TYPE before it. */
function parseExposition(text: string): { samples: Sample[]; types: Map<string, string> } {
  const help = new Map<string, string>();
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const meta = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.+)$/.exec(line);
    if (meta !== null) {
      (meta[1] === 'HELP' ? help : types).set(meta[2]!, meta[3]!);
      continue;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (m === null) throw new Error(`not a sample line: ${line}`);
    const [, name, labelText, valueText] = m;
    const labels: Record<string, string> = {};
    const pairs = labelText === undefined ? [] : labelText.split(/,(?=[a-zA-Z_][a-zA-Z0-9_]*=")/);
    for (const p of pairs) {
      const lm = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"$/.exec(p);
      if (lm === null) throw new Error(`bad label ${p} in ${line}`);
      labels[lm[1]!] = lm[2]!;
    }
    const value = valueText === '+Inf' ? Infinity : valueText === '-Inf' ? -Infinity : Number(valueText);
    if (valueText !== 'NaN' && Number.isNaN(value)) throw new Error(`not a number: ${line}`);
    const family = types.get(name!) !== undefined ? name! : name!.replace(/_(bucket|sum|count)$/, '');
    if (!help.has(family) || !types.has(family)) throw new Error(`${name} has no HELP and TYPE before it`);
    if (family !== name && types.get(family) !== 'histogram') throw new Error(`${name}: suffix on a ${types.get(family)}`);
    samples.push({ name: name!, labels, value });
  }
  return { samples, types };
}

const value = (samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined =>
  samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;

async function scrape(url: string): Promise<Sample[]> {
  const res = await fetch(`${url}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parseExposition(await res.text()).samples;
}

async function health(url: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${url}/health`);
  return { status: res.status, body: await res.json() };
}

const STANDALONE = [
  'ai_rollup_info',
  'ai_rollup_chain_head_number',
  'ai_rollup_chain_head_timestamp_seconds',
  'ai_rollup_chain_head_age_seconds',
  'ai_rollup_blocks_sealed_total',
  'ai_rollup_blocks_imported_total',
  'ai_rollup_transactions_included_total',
  'ai_rollup_deposits_included_total',
  'ai_rollup_gas_used_total',
  'ai_rollup_block_commit_delay_seconds',
  'ai_rollup_block_phase_seconds',
  'ai_rollup_mempool_pending',
  'ai_rollup_mempool_queued',
  'ai_rollup_rpc_requests_total',
  'ai_rollup_rpc_request_duration_seconds',
  'ai_rollup_healthy',
];
const ROLLUP = [
  'ai_rollup_l1_up',
  'ai_rollup_l1_head_number',
  'ai_rollup_l1_errors_total',
  'ai_rollup_l1_service_failing',
  'ai_rollup_safe_head_number',
  'ai_rollup_finalized_head_number',
  'ai_rollup_l1_batches',
  'ai_rollup_l1_outputs',
  'ai_rollup_deposits_consumed',
  'ai_rollup_batches_posted_total',
  'ai_rollup_outputs_proposed_total',
  'ai_rollup_inference_batches_posted_total',
  'ai_rollup_inference_proofs_posted_total',
];

describe('metrics and health on a dev node', () => {
  let node: DevNode;
  let metricsUrl: string;

  beforeAll(async () => {
    node = await startDevNode({ args: ['--metrics.port', '0'] });
    const line = node.logs.map((l) => (l.startsWith('{') ? JSON.parse(l) : {})).find((r) => r.msg === 'metrics listening');
    metricsUrl = line.url;
    // the first block (a second after start) gives the block histograms their first sample
    await waitFor('the first block', async () => BigInt((await rpc(node.url, { jsonrpc: '2.0', id: 1, method: 'eth_blockNumber', params: [] })).json.result) > 0n);
  });
  afterAll(async () => {
    await node?.stop();
    if (node !== undefined) await removeDir(node.datadir);
  });

  it('/metrics is Prometheus text: every sample named ai_rollup_*, announced by HELP and TYPE, with a number', async () => {
    const res = await fetch(`${node.url}/metrics`);
    const { samples, types } = parseExposition(await res.text());
    for (const s of samples) expect(s.name).toMatch(/^ai_rollup_/);
    for (const name of STANDALONE) expect(types.has(name), name).toBe(true);
    for (const name of ROLLUP) expect(types.has(name), `${name} is rollup-only`).toBe(false);
    expect(types.get('ai_rollup_blocks_sealed_total')).toBe('counter');
    expect(types.get('ai_rollup_rpc_request_duration_seconds')).toBe('histogram');
    expect(value(samples, 'ai_rollup_info', { mode: 'standalone', chain_id: '1337' })).toBe(1);
    // histogram buckets are cumulative and end at _count
    const buckets = samples.filter((s) => s.name === 'ai_rollup_block_commit_delay_seconds_bucket');
    for (let i = 1; i < buckets.length; i++) expect(buckets[i]!.value).toBeGreaterThanOrEqual(buckets[i - 1]!.value);
    expect(buckets.at(-1)!.labels.le).toBe('+Inf');
    expect(buckets.at(-1)!.value).toBe(value(samples, 'ai_rollup_block_commit_delay_seconds_count'));
  });

  it('counters move with transactions and RPC calls: blocks, transactions, gas, calls by method and code', async () => {
    const before = await scrape(node.url);
    const { publicClient, walletClient } = clients(node);
    const to = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';
    const hashes: Hex[] = [];
    for (let i = 0; i < 3; i++) hashes.push(await walletClient.sendTransaction({ to, value: parseEther('0.01') }));
    for (const hash of hashes) await publicClient.waitForTransactionReceipt({ hash });
    const mid = await scrape(node.url);
    await rpc(node.url, { jsonrpc: '2.0', id: 1, method: 'eth_getBalance', params: [1] });
    await rpc(node.url, { jsonrpc: '2.0', id: 2, method: 'eth_noSuchMethod', params: [] });
    await rpc(node.url, [{ jsonrpc: '2.0', id: 3, method: 'eth_chainId' }, { jsonrpc: '2.0', method: 'eth_chainId' }, 7]);
    const after = await scrape(node.url);
    const delta = (name: string, labels: Record<string, string> = {}, from = before, to = mid) => (value(to, name, labels) ?? 0) - (value(from, name, labels) ?? 0);
    // viem's own calls around the transfers are in before..mid; the hand-made ones alone in mid..after
    const raw = (name: string, labels: Record<string, string>) => delta(name, labels, mid, after);

    expect(delta('ai_rollup_blocks_sealed_total')).toBeGreaterThan(0);
    // every sealed block is timed in each of its phases
    for (const phase of ['execute', 'seal', 'commit']) expect(delta('ai_rollup_block_phase_seconds_count', { phase })).toBe(delta('ai_rollup_blocks_sealed_total'));
    expect(delta('ai_rollup_transactions_included_total')).toBe(3);
    expect(delta('ai_rollup_gas_used_total')).toBe(3 * 21_000);
    expect(delta('ai_rollup_rpc_requests_total', { method: 'eth_sendRawTransaction', code: 'ok' })).toBe(3);
    expect(delta('ai_rollup_rpc_request_duration_seconds_count', { method: 'eth_sendRawTransaction' })).toBe(3);
    expect(raw('ai_rollup_rpc_requests_total', { method: 'eth_getBalance', code: '-32602' })).toBe(1);
    expect(raw('ai_rollup_rpc_requests_total', { method: 'unknown', code: '-32601' })).toBe(1);
    // the batch: one answered call, one notification, one malformed element
    expect(raw('ai_rollup_rpc_requests_total', { method: 'eth_chainId', code: 'ok' })).toBe(1);
    expect(raw('ai_rollup_rpc_requests_total', { method: 'eth_chainId', code: 'notification' })).toBe(1);
    expect(raw('ai_rollup_rpc_requests_total', { method: 'invalid', code: '-32600' })).toBe(1);
    expect(raw('ai_rollup_rpc_request_duration_seconds_count', { method: 'batch' })).toBe(1);
    const head = await publicClient.getBlockNumber();
    expect(value(after, 'ai_rollup_chain_head_number')).toBeGreaterThanOrEqual(Number((await publicClient.getTransactionReceipt({ hash: hashes[2]! })).blockNumber));
    expect(value(after, 'ai_rollup_chain_head_number')).toBeLessThanOrEqual(Number(head));
    expect(value(after, 'ai_rollup_mempool_pending')).toBe(0);
  });

  it('/health is 200 with head, age, peers and syncing on a live node', async () => {
    const { status, body } = await health(node.url);
    expect(status).toBe(200);
    expect(body).toMatchObject({ status: 'ok', problems: [], peers: null, syncing: false });
    expect(body.head).toBeGreaterThan(0);
    expect(typeof body.headAgeSeconds).toBe('number');
    expect(body.headHash).toMatch(/^0x[0-9a-f]{64}$/);
    expect(body.l1).toBeUndefined();
    expect(value(await scrape(node.url), 'ai_rollup_healthy')).toBe(1);
  });

  it('--metrics.port serves /metrics and /health, and nothing else', async () => {
    expect(metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(metricsUrl).not.toBe(node.url);
    expect(value(await scrape(metricsUrl), 'ai_rollup_healthy')).toBe(1);
    expect((await health(metricsUrl)).status).toBe(200);
    const asRpc = await fetch(metricsUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"jsonrpc":"2.0","id":1,"method":"eth_chainId"}' });
    expect(asRpc.status).toBe(404);
  });
});

describe('metrics and health on a rollup node whose L1 goes away', () => {
  let dir: string;
  let env: L1Env;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'metrics-rollup-'));
    env = await startL1(dir);
  }, 120_000);
  afterAll(async () => {
    await env?.anvil.stop();
    if (dir !== undefined) await removeDir(dir);
  });

  it('an idle sequencer reads L1 once per poll, not once per poster: no L1 contract reads while neither chain moves', async () => {
    // no L2 blocks (an hour's timer) and an automining L1 with nothing sent: nothing is due
    const node = await startRollupNode(env, { datadir: join(dir, 'idle'), blockTime: 3600, args: ['--l1-poll-ms', '50'] });
    try {
      const reads = async () => {
        const s = await scrape(node.url);
        const n = (method: string) => s.filter((x) => x.name === 'ai_rollup_l1_requests_total' && x.labels.method === method).reduce((a, x) => a + x.value, 0);
        return { polls: n('eth_blockNumber'), calls: n('eth_call'), nonces: n('eth_getTransactionCount') };
      };
      // past the posters' first passes, which read everything once
      const from = await waitFor('the posters to go quiet', async () => ((await reads()).polls > 40 ? reads() : undefined), 30_000);
      const to = await waitFor(
        'forty more polls',
        async () => {
          const r = await reads();
          return r.polls >= from.polls + 40 ? r : undefined;
        },
        30_000,
      );
      // each poll reads the L1 head (the status's, the deposit watcher's); an ungated poster pass
      // adds its own head read, two nonce reads and two to four Rollup reads, three posters a poll;
      // gated, a pass runs every ten polls at most
      const polls = to.polls - from.polls;
      expect((to.calls - from.calls) / polls).toBeLessThan(1);
      expect((to.nonces - from.nonces) / polls).toBeLessThan(0.5);
    } finally {
      await node.stop();
    }
  }, 120_000);

  it('reports L1 state and posting, answers 503 L1_UNREACHABLE while L1 is down, 200 again once it is back', async () => {
    const proxy = await startTcpProxy({ port: Number(new URL(env.anvil.url).port) });
    const via = { ...env, anvil: { ...env.anvil, url: proxy.url } } as L1Env;
    const node = await startRollupNode(via, { datadir: join(dir, 'l2'), args: ['--health.max-l1-down', '1'] });
    try {
      const { walletClient } = env.l1;
      await walletClient.writeContract({
        address: env.config.contracts.bridge as Hex,
        abi: bridgeTestAbi,
        functionName: 'depositETH',
        args: [env.l1.account.address, 100_000n, '0x'],
        value: parseEther('1'),
      });
      const up = await waitFor(
        'a posted batch and an included deposit',
        async () => {
          const s = await scrape(node.url);
          return (value(s, 'ai_rollup_batches_posted_total') ?? 0) >= 1 && (value(s, 'ai_rollup_deposits_included_total') ?? 0) >= 1 ? s : undefined;
        },
        60_000,
      );
      expect(value(up, 'ai_rollup_info', { mode: 'rollup' })).toBe(1);
      expect(value(up, 'ai_rollup_l1_up')).toBe(1);
      expect(value(up, 'ai_rollup_safe_head_number')).toBeGreaterThan(0);
      expect(value(up, 'ai_rollup_l1_batches')).toBeGreaterThanOrEqual(1);
      expect(value(up, 'ai_rollup_deposits_consumed')).toBeGreaterThanOrEqual(1);
      expect(value(up, 'ai_rollup_l1_service_failing', { service: 'batcher' })).toBeDefined();
      const ok = await health(node.url);
      expect(ok.status).toBe(200);
      expect(ok.body.l1).toMatchObject({ reachable: true, downSeconds: 0 });
      expect(ok.body.l1.safe).toBeGreaterThan(0);

      proxy.pause('reset');
      const down = await waitFor(
        '/health to answer 503',
        async () => {
          const h = await health(node.url);
          return h.status === 503 ? h : undefined;
        },
        60_000,
      );
      expect(down.body.status).toBe('unhealthy');
      expect(down.body.problems.map((p: { code: string }) => p.code)).toEqual(['L1_UNREACHABLE']);
      expect(down.body.reason).toContain('L1 unreachable');
      expect(down.body.l1.reachable).toBe(false);
      expect(down.body.l1.downSeconds).toBeGreaterThan(1);
      const during = await scrape(node.url);
      expect(value(during, 'ai_rollup_l1_up')).toBe(0);
      expect(value(during, 'ai_rollup_healthy')).toBe(0);
      expect(value(during, 'ai_rollup_l1_errors_total')).toBeGreaterThan(0);

      proxy.resume();
      const back = await waitFor(
        '/health to answer 200 again',
        async () => {
          const h = await health(node.url);
          return h.status === 200 ? h : undefined;
        },
        60_000,
      );
      expect(back.body.l1.reachable).toBe(true);
    } finally {
      await node.stop();
      await proxy.close();
    }
  }, 240_000);
});
