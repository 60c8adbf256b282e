/**
 * The rollup side of bench:sync (bench/sync.ts runs it): batches on L1 and a replica that derives
 * the chain from L1 alone (--rollup-config and --l1-rpc, no p2p), timed from its spawn until its
 * `safe` block equals a given batched block. Also the table row both sync sources share.
 */
import type { Hex } from 'viem';
import { rollupAbi } from '../contracts/abi/rollup.ts';
import type { L1Env } from '../test/helpers/rollup.ts';
import { logRecord, rpc, sleep } from './lib.ts';
import type { Target } from './lib.ts';

export interface ChainStats {
  blocks: number;
  txs: number;
  gas: number;
}

/** bench/sync.ts's node launcher. */
export type StartNode = (name: string, extra: string[], onLine?: (line: string) => void) => Promise<{ t: Target; datadir: string }>;

export interface SyncFigures {
  seconds: number;
  answeringSeconds: number;
  rss: number;
  /** `derived batches` log records (from L1) or range catch-ups (from peers). */
  logs: number;
}

const STALL_MS = 60_000;

export async function rollupView(env: L1Env): Promise<{ batched: number; batches: number }> {
  const l1 = env.l1.publicClient;
  const a = env.deployment.rollup;
  const [next, count] = await Promise.all([
    l1.readContract({ address: a, abi: rollupAbi, functionName: 'nextBlock' }),
    l1.readContract({ address: a, abi: rollupAbi, functionName: 'batchCount' }),
  ]);
  return { batched: Number(next) - 1, batches: Number(count) };
}

/** Waits until the Rollup's last batched block reaches `want`; gives up when it did not move for STALL_MS. */
export async function waitBatched(env: L1Env, want: number): Promise<void> {
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

const blockOf = async (url: string, tag: 'safe' | 'latest') => Number((await rpc<{ number: Hex } | null>(url, 'eth_getBlockByNumber', [tag, false]))?.number ?? -1);

/**
 * Spawns a replica and times it from the spawn until its `tag` block reaches `target`.
 * `countLog` names the log message counted into `logs`.
 */
export async function timeReplica(
  startNode: StartNode,
  name: string,
  args: string[],
  tag: 'safe' | 'latest',
  target: number,
  countLog: string,
  onStart: (r: { t: Target; datadir: string }) => void,
): Promise<SyncFigures> {
  let logs = 0;
  const t0 = performance.now();
  const r = await startNode(name, ['--replica', ...args], (line) => {
    if (logRecord(line)?.msg === countLog) logs++;
  });
  onStart(r);
  const answeringSeconds = (performance.now() - t0) / 1000;
  let at = -1;
  let moved = performance.now();
  for (;;) {
    const n = await blockOf(r.t.url, tag).catch(() => -1);
    if (n > at) [at, moved] = [n, performance.now()];
    if (n >= target) break;
    if (performance.now() - moved > STALL_MS) throw new Error(`${name}: ${tag} block stuck at ${n}, want ${target}`);
    await sleep(50);
  }
  const seconds = (performance.now() - t0) / 1000;
  return { seconds, answeringSeconds, rss: r.t.peakRssMiB(), logs };
}

/** One row of the sync table. */
export function syncRow(source: string, stats: ChainStats, f: SyncFigures, extra: Record<string, string | number>): Record<string, string | number> {
  const { seconds } = f;
  const syncing = seconds - f.answeringSeconds;
  return {
    'sync from': source,
    blocks: stats.blocks,
    transactions: stats.txs,
    Mgas: (stats.gas / 1e6).toFixed(1),
    seconds: seconds.toFixed(1),
    'blocks/s': (stats.blocks / seconds).toFixed(1),
    'Mgas/s': (stats.gas / 1e6 / seconds).toFixed(2),
    'tx/s': (stats.txs / seconds).toFixed(0),
    'start → RPC s': f.answeringSeconds.toFixed(1),
    'Mgas/s after RPC up': (stats.gas / 1e6 / syncing).toFixed(2),
    'peak RSS MiB': f.rss.toFixed(0),
    ...extra,
  };
}
