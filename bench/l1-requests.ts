/**
 * bench:l1-requests: how many requests a sequencer sends its L1 endpoint (what a metered provider
 * bills). A real anvil, the L1 contracts, and the node process with all three L1 keys (batcher,
 * proposer, inference poster); after a warm-up, the node's own `ai_rollup_l1_requests_total` is
 * read twice and the difference printed per second, by method. Two settings, no transactions: the
 * defaults (`--l1-poll-ms 1000`, 2 s blocks, a batch once its oldest block is 30 s old) and the test
 * suite's (200 ms polls, 1 s blocks, a batch every second). Prints figures, asserts nothing.
 *
 *   npm run bench:l1-requests [-- --seconds 30]
 */
import { mkdtemp } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { removeDir } from '../test/helpers/dev-node.ts';
import { scrapeMetrics } from '../test/helpers/metrics.ts';
import { startL1, startRollupNode } from '../test/helpers/rollup.ts';
import { machineNote, sleep, table } from './lib.ts';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '30' } } });
const seconds = Number(values.seconds);

const SETTINGS = [
  { name: 'defaults (1 s polls, 2 s blocks, a batch when 30 s old)', blockTime: 2, args: ['--l1-poll-ms', '1000', '--batch-max-age', '30000'] },
  { name: "the tests' (200 ms polls, 1 s blocks and batches)", blockTime: 1, args: ['--l1-poll-ms', '200', '--batch-max-age', '1000'] },
];

async function requestsByMethod(url: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const s of await scrapeMetrics(url)) {
    if (s.name === 'ai_rollup_l1_requests_total') out.set(s.labels.method!, (out.get(s.labels.method!) ?? 0) + s.value);
  }
  return out;
}

const startLoad = loadavg()[0]!;
const dir = await mkdtemp(join(tmpdir(), 'bench-l1-requests-'));
const env = await startL1(dir);
try {
  for (const [i, s] of SETTINGS.entries()) {
    const node = await startRollupNode(env, { datadir: join(dir, `l2-${i}`), blockTime: s.blockTime, args: s.args });
    try {
      await sleep(10_000); // past start-up's reads (deposit scan, first passes)
      const before = await requestsByMethod(node.url);
      const t0 = Date.now();
      await sleep(seconds * 1000);
      const after = await requestsByMethod(node.url);
      const elapsed = (Date.now() - t0) / 1000;
      const rows = [...after]
        .map(([method, n]) => ({ method, 'requests/s': ((n - (before.get(method) ?? 0)) / elapsed).toFixed(2) }))
        .filter((r) => r['requests/s'] !== '0.00')
        .sort((a, b) => Number(b['requests/s']) - Number(a['requests/s']));
      const total = rows.reduce((sum, r) => sum + Number(r['requests/s']), 0);
      process.stdout.write(`\n${s.name} (${elapsed.toFixed(0)} s): ${total.toFixed(1)} L1 requests/s\n${table(rows)}\n`);
    } finally {
      await node.stop();
    }
  }
} finally {
  await env.anvil.stop();
  await removeDir(dir);
}
process.stdout.write(`\n${machineNote(startLoad)}\n`);
