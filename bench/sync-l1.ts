/**
 * The "from L1" part of bench:sync (bench/sync.ts runs it): a rollup-mode sequencer on anvil
 * (test/helpers/rollup.ts's startL1: automining anvil, the L1 contracts, rollup.json) with its
 * batcher (--batch-max-age 1000) builds a chain of the same load as the peer part; once the
 * Rollup's nextBlock covers the whole chain the sequencer stops, and a fresh replica with only
 * --rollup-config and --l1-rpc (no p2p) is timed from its spawn until its `safe` block equals the
 * last batched block.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Hex } from 'viem';
import { rollupAbi } from '../sequencer/rollup-abi.ts';
import { startL1 } from '../test/helpers/rollup.ts';
import type { L1Env } from '../test/helpers/rollup.ts';
import { logRecord, rpc, sleep } from './lib.ts';
import type { Target } from './lib.ts';

export interface ChainStats {
  blocks: number;
  txs: number;
  gas: number;
}

/** What bench/sync.ts lends this part: its node launcher, its load, its chain statistics. */
export interface SyncDeps {
  startNode(name: string, extra: string[], onLine?: (line: string) => void): Promise<{ t: Target; datadir: string }>;
  stopNode(n: { t: Target; datadir: string } | undefined): Promise<void>;
  /** Signs the setup and `txs` build transactions for `chainId`, sends the setup and builds the chain; returns the head. */
  load(url: string, chainId: number, txs: number): Promise<number>;
  chainStats(url: string, from: number, to: number): Promise<ChainStats>;
}

export interface L1Figures {
  stats: ChainStats;
  seconds: number;
  answeringSeconds: number;
  rss: number;
  l1Blocks: number;
  batches: number;
  /** Seconds from the chain's last block until the Rollup covered it. */
  batchingSeconds: number;
  /** `derived batches` log records of the replica. */
  derivedLogs: number;
}

const STALL_MS = 60_000;

async function rollupView(env: L1Env): Promise<{ batched: number; batches: number }> {
  const l1 = env.l1.publicClient;
  const a = env.deployment.rollup;
  const [next, count] = await Promise.all([l1.readContract({ address: a, abi: rollupAbi, functionName: 'nextBlock' }), l1.readContract({ address: a, abi: rollupAbi, functionName: 'batchCount' })]);
  return { batched: Number(next) - 1, batches: Number(count) };
}

/** Waits until the Rollup's last batched block reaches `want`; gives up when it did not move for STALL_MS. */
async function waitBatched(env: L1Env, want: number): Promise<void> {
  let last = -1;
  let moved = Date.now();
  for (;;) {
    const { batched } = await rollupView(env);
    if (batched >= want) return;
    if (batched !== last) [last, moved] = [batched, Date.now()];
    else if (Date.now() - moved > STALL_MS) throw new Error(`batching stalled: L1 has blocks up to ${batched}, want ${want}`);
    await sleep(250);
  }
}

const safeOf = async (url: string) => Number((await rpc<{ number: Hex } | null>(url, 'eth_getBlockByNumber', ['safe', false]))?.number ?? -1);

/** Spawns the replica (no p2p) and times it until its safe block is `target`. */
async function timeReplica(deps: SyncDeps, env: L1Env, target: number, onStart: (r: { t: Target; datadir: string }) => void) {
  let derivedLogs = 0;
  const onLine = (line: string) => {
    if (logRecord(line)?.msg === 'derived batches') derivedLogs++;
  };
  const t0 = performance.now();
  const r = await deps.startNode('replica-l1', ['--replica', '--rollup-config', env.configFile, '--l1-rpc', env.anvil.url, '--l1-poll-ms', '200'], onLine);
  onStart(r);
  const answeringSeconds = (performance.now() - t0) / 1000;
  let at = -1;
  let moved = performance.now();
  for (;;) {
    const safe = await safeOf(r.t.url).catch(() => -1);
    if (safe > at) [at, moved] = [safe, performance.now()];
    if (safe >= target) break;
    if (performance.now() - moved > STALL_MS) throw new Error(`replica safe head stuck at ${safe}, L1 has up to ${target}`);
    await sleep(100);
  }
  const seconds = (performance.now() - t0) / 1000;
  return { seconds, answeringSeconds, rss: r.t.peakRssMiB(), derivedLogs: () => derivedLogs };
}

export async function measureFromL1(deps: SyncDeps, txs: number, log: (s: string) => void): Promise<L1Figures> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-sync-l1-'));
  let env: L1Env | undefined;
  let seq: { t: Target; datadir: string } | undefined;
  let replica: { t: Target; datadir: string } | undefined;
  try {
    env = await startL1(dir);
    const rollupArgs = ['--rollup-config', env.configFile, '--l1-rpc', env.anvil.url, '--l1-poll-ms', '200'];
    seq = await deps.startNode('sequencer-l1', ['--block-time', '1', ...rollupArgs, '--batch-max-age', '1000', '--batcher-key', env.keys[1]!]);
    const chainId = Number(await rpc<Hex>(seq.t.url, 'eth_chainId'));
    log(`  L1: anvil pid ${env.anvil.pid}, rollup sequencer pid ${seq.t.proc.pid}, L2 chain ${chainId}`);
    const b0 = performance.now();
    const built = await deps.load(seq.t.url, chainId, txs);
    const b1 = performance.now();
    await waitBatched(env, built);
    const batchingSeconds = (performance.now() - b1) / 1000;
    log(`  L1: chain built, head ${built} after ${((b1 - b0) / 1000).toFixed(0)} s; on L1 ${batchingSeconds.toFixed(1)} s later`);
    await deps.stopNode(seq); // L1 stays as it is while the replica derives
    seq = undefined;
    const { batched: target, batches } = await rollupView(env);
    const l1Head = Number(await env.l1.publicClient.getBlockNumber());
    const t = await timeReplica(deps, env, target, (r) => (replica = r));
    log(`  L1: replica pid ${replica!.t.proc.pid}; safe ${target} (${batches} batches, L1 blocks ${env.config.l1Start.number}..${l1Head})`);
    const stats = await deps.chainStats(replica!.t.url, 1, target);
    return { stats, ...t, derivedLogs: t.derivedLogs(), l1Blocks: l1Head - Number(env.config.l1Start.number) + 1, batches, batchingSeconds };
  } finally {
    await deps.stopNode(replica);
    await deps.stopNode(seq);
    await env?.anvil.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

/** One row of the "from peers vs from L1" table. */
export function syncRow(source: string, f: { stats: ChainStats; seconds: number; rss: number; answeringSeconds: number; l1Blocks?: number; batches?: number }): Record<string, string | number> {
  const { stats, seconds } = f;
  return {
    'sync from': source,
    blocks: stats.blocks,
    transactions: stats.txs,
    Mgas: (stats.gas / 1e6).toFixed(1),
    seconds: seconds.toFixed(1),
    'blocks/s': (stats.blocks / seconds).toFixed(1),
    'Mgas/s': (stats.gas / 1e6 / seconds).toFixed(2),
    'tx/s': (stats.txs / seconds).toFixed(0),
    'peak RSS MiB': f.rss.toFixed(0),
    'start → RPC s': f.answeringSeconds.toFixed(1),
    'L1 blocks walked': f.l1Blocks ?? '-',
    batches: f.batches ?? '-',
  };
}
