/**
 * npm run bench:sync — how fast a fresh replica syncs one chain from its peers and from L1, and
 * how closely it follows the tip. Prints figures, asserts nothing.
 *
 * One chain for every row: a rollup sequencer on anvil (test/helpers/rollup.ts startL1:
 * automining anvil, the L1 contracts, rollup.json) with its batcher (--batch-max-age 1000), its
 * block key (--sequencer-key) and p2p, 1-second blocks, 30M gas, gets --txs pre-signed
 * transactions (ETH transfers and ERC-20 transfers of contracts/test/TestToken.sol, alternating,
 * from --senders senders), about --per-block of them per block. Once L1 covers the chain, the
 * sequencer stays up and idle, and fresh replicas are timed from their spawn, one at a time,
 * --runs times each, alternating:
 *   - from peers: `--replica --p2p.bootnodes <sequencer>` (no L1), until its head is the last batched block;
 *   - from L1: `--replica --l1-rpc <anvil>` (no p2p), until its safe block is that block;
 * then once from L1 through a TCP proxy that adds --l1-latency-ms each way (a hosted L1 RPC; 0
 * skips it). Last, a replica caught up from peers follows the tip: --tip-rate transactions per
 * second for --tip-seconds, its lag behind the sequencer sampled.
 *
 *   npx tsx bench/sync.ts [--txs 10000] [--per-block 100] [--senders 100] [--runs 3] [--tip-rate 100] [--tip-seconds 30] [--l1-latency-ms 20]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { encodeDeployData, encodeFunctionData, getContractAddress, keccak256, parseEther, toHex } from 'viem';
import type { Address, Hex, TransactionSerializableEIP1559 } from 'viem';
import { privateKeyToAddress } from 'viem/accounts';
import { compileContracts } from '../contracts/compile.ts';
import type { CompiledContract } from '../contracts/compile.ts';
import { devAccounts } from '../node/chain/genesis.ts';
import { startL1 } from '../test/helpers/rollup.ts';
import type { L1Env } from '../test/helpers/rollup.ts';
import { startTcpProxy } from '../test/helpers/tcp-proxy.ts';
import { ROOT, freePort, logRecord, machineNote, quantile, rpc, rpcBatch, signTx, sleep, startTarget, table } from './lib.ts';
import type { Target } from './lib.ts';
import { rollupView, syncRow, timeReplica, waitBatched } from './sync-l1.ts';
import type { ChainStats, SyncFigures } from './sync-l1.ts';

const { values: args } = parseArgs({
  options: {
    txs: { type: 'string', default: '10000' },
    'per-block': { type: 'string', default: '100' },
    senders: { type: 'string', default: '100' },
    'tip-rate': { type: 'string', default: '100' },
    'tip-seconds': { type: 'string', default: '30' },
    'l1-latency-ms': { type: 'string', default: '20' },
    runs: { type: 'string', default: '3' },
  },
});
const TXS = Number(args.txs);
const PER_BLOCK = Number(args['per-block']);
const SENDERS = Number(args.senders);
const TIP_RATE = Number(args['tip-rate']);
const TIP_SECONDS = Number(args['tip-seconds']);
const L1_LATENCY_MS = Number(args['l1-latency-ms']);
const RUNS = Number(args.runs);
for (const [k, v] of Object.entries({ TXS, PER_BLOCK, SENDERS, TIP_RATE, TIP_SECONDS, RUNS })) {
  if (!(Number.isInteger(v) && v > 0)) throw new Error(`${k}: a positive integer, not ${v}`);
}
if (!(Number.isInteger(L1_LATENCY_MS) && L1_LATENCY_MS >= 0)) throw new Error(`--l1-latency-ms: a whole number of milliseconds, not ${L1_LATENCY_MS}`);

const GAS_LIMIT = 30_000_000;
const FEES = { maxFeePerGas: 100_000_000_000n, maxPriorityFeePerGas: 1_000_000_000n };
const STALL_MS = 60_000;
const [FUNDER_KEY] = devAccounts().map((a) => a.privateKey as Hex) as [Hex];
const FUNDER = privateKeyToAddress(FUNDER_KEY);
const SEQ_KEY = keccak256(toHex('bench-sync-sequencer'));
const keys = Array.from({ length: SENDERS }, (_, i) => keccak256(toHex(`bench-sync-sender-${i}`)));
const addrs = keys.map((k) => privateKeyToAddress(k));
const BIN = resolve(ROOT, 'bin/ai-rollup.js');

interface Node {
  t: Target;
  datadir: string;
  /** The node's p2p multiaddrs, from its `node started` log line. */
  p2p: string[];
  /** `caught up` log records of the range sync (replica). */
  caughtUp: { from: number; to: number; ms: number; walkMs: number }[];
}

async function startNode(name: string, extra: string[], onOther?: (line: string) => void): Promise<Node> {
  const datadir = await mkdtemp(join(tmpdir(), `bench-sync-${name}-`));
  const port = await freePort();
  const node: Omit<Node, 't'> = { datadir, p2p: [], caughtUp: [] };
  const onLine = (line: string) => {
    const rec = logRecord(line);
    if (rec?.msg === 'node started' && Array.isArray(rec.p2p)) node.p2p = rec.p2p as string[];
    if (rec?.msg === 'caught up') node.caughtUp.push({ from: Number(rec.from), to: Number(rec.to), ms: Number(rec.ms), walkMs: Number(rec.walkMs) });
    onOther?.(line);
  };
  const common = ['node', '--dev', '--datadir', datadir, '--rpc.port', String(port), '--gas-limit', String(GAS_LIMIT), '--log-level', 'info'];
  try {
    const t = await startTarget(name, process.execPath, [BIN, ...common, ...extra], port, 120_000, onLine);
    return Object.assign(node, { t });
  } catch (err) {
    await rm(datadir, { recursive: true, force: true });
    throw err;
  }
}

async function stopNode(n: Node | undefined): Promise<void> {
  if (n === undefined) return;
  await n.t.stop();
  await rm(n.datadir, { recursive: true, force: true });
}

/** Funds, deploys and mints, then builds the chain of --txs transfers; returns the head and the signed tip load. */
async function loadChain(token: CompiledContract, url: string, chainId: number): Promise<{ head: number; tip: Hex[] }> {
  const t0 = performance.now();
  const signed = signAll(chainId, token);
  console.log(`  signed ${signed.setup.length + signed.build.length + signed.tip.length} transactions in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  await send(url, signed.setup);
  await waitNonces(url, [FUNDER], [signed.setup.length]);
  await buildChain(url, signed.build, PER_BLOCK);
  return { head: await head(url), tip: signed.tip };
}

const head = async (url: string) => Number(await rpc<Hex>(url, 'eth_blockNumber'));

async function waitHead(url: string, want: number): Promise<void> {
  const end = Date.now() + STALL_MS;
  while ((await head(url)) < want) {
    if (Date.now() > end) throw new Error(`${url} did not reach block ${want}`);
    await sleep(100);
  }
}

interface Signed {
  setup: Hex[];
  build: Hex[];
  tip: Hex[];
}

/** Setup (funding, token, mints) from the funder; then `build` and `tip` from the senders, nonce-major, ETH and ERC-20 alternating. */
function signAll(chainId: number, token: CompiledContract, txs = TXS, tipTxs = TIP_RATE * TIP_SECONDS): Signed {
  let nonce = 0;
  const fromFunder = (to: Address | undefined, value: bigint, data?: Hex, gas = 21_000n) =>
    signTx({ chainId, type: 'eip1559', nonce: nonce++, to, value, data, gas, ...FEES }, FUNDER_KEY);
  const fund = addrs.map((a) => fromFunder(a, parseEther('10')));
  const tokenAddr = getContractAddress({ from: FUNDER, nonce: BigInt(nonce) });
  const deploy = fromFunder(undefined, 0n, encodeDeployData({ abi: token.abi, bytecode: token.bytecode, args: ['Bench', 'BNC', 0n] }), 2_000_000n);
  const mint = addrs.map((a) => fromFunder(tokenAddr, 0n, encodeFunctionData({ abi: token.abi, functionName: 'mint', args: [a, 10n ** 24n] }), 100_000n));

  const next = (s: number) => addrs[(s + 1) % SENDERS]!;
  const tx = (s: number, n: number): TransactionSerializableEIP1559 =>
    n % 2 === 0
      ? { chainId, type: 'eip1559', nonce: n, to: next(s), value: 1n, gas: 21_000n, ...FEES }
      : { chainId, type: 'eip1559', nonce: n, to: tokenAddr, data: encodeFunctionData({ abi: token.abi, functionName: 'transfer', args: [next(s), 1n] }), gas: 80_000n, ...FEES };
  let n0 = 0;
  const range = (count: number) => {
    const out: Hex[] = [];
    for (let i = 0; i < count; i++) {
      const s = i % SENDERS;
      const n = n0 + Math.floor(i / SENDERS);
      out.push(signTx(tx(s, n), keys[s]!));
    }
    n0 += Math.ceil(count / SENDERS);
    return out;
  };
  // whole rounds per sender, so the tip's nonces follow the build's without gaps
  const build = range(Math.ceil(txs / SENDERS) * SENDERS);
  const tip = range(Math.ceil(tipTxs / SENDERS) * SENDERS);
  return { setup: [...fund, deploy, ...mint], build, tip };
}

async function send(url: string, raws: Hex[]): Promise<void> {
  for (let i = 0; i < raws.length; i += 100) {
    const res = await rpcBatch(
      url,
      raws.slice(i, i + 100).map((raw) => ({ method: 'eth_sendRawTransaction', params: [raw] })),
    );
    const bad = res.filter((r) => r.error !== undefined);
    if (bad.length > 0) throw new Error(`${bad.length} transactions refused, first: ${bad[0]!.error!.message}`);
  }
}

/** Waits until every account's nonce reached its target; gives up when none moved for STALL_MS. */
async function waitNonces(url: string, who: Address[], want: number[]): Promise<void> {
  let lastSum = -1;
  let lastMove = Date.now();
  for (;;) {
    const have = (
      await rpcBatch(
        url,
        who.map((a) => ({ method: 'eth_getTransactionCount', params: [a, 'latest'] })),
      )
    ).map((r) => Number(r.result));
    if (have.every((h, i) => h >= want[i]!)) return;
    const sum = have.reduce((a, b) => a + b, 0);
    if (sum !== lastSum) [lastSum, lastMove] = [sum, Date.now()];
    else if (Date.now() - lastMove > STALL_MS) throw new Error(`stalled: nonces did not move for ${STALL_MS / 1000} s`);
    await sleep(100);
  }
}

/** Sends `raws` about `perBlock` at a time, one chunk per new block, and waits until all are included. */
async function buildChain(url: string, raws: Hex[], perBlock: number): Promise<void> {
  const nonces = (
    await rpcBatch(
      url,
      addrs.map((a) => ({ method: 'eth_getTransactionCount', params: [a, 'latest'] })),
    )
  ).map((r) => Number(r.result));
  for (let i = 0; i < raws.length; i += perBlock) {
    const h = await head(url);
    await send(url, raws.slice(i, i + perBlock));
    while ((await head(url)) === h) await sleep(50);
  }
  // whole rounds: every sender has raws.length / SENDERS of them
  await waitNonces(
    url,
    addrs,
    nonces.map((n) => n + raws.length / SENDERS),
  );
}

async function chainStats(url: string, from: number, to: number): Promise<ChainStats> {
  const s: ChainStats = { blocks: 0, txs: 0, gas: 0 };
  for (let b = from; b <= to; b += 100) {
    const calls = Array.from({ length: Math.min(100, to - b + 1) }, (_, i) => ({ method: 'eth_getBlockByNumber', params: [toHex(b + i), false] }));
    for (const r of await rpcBatch(url, calls)) {
      const blk = r.result as { gasUsed: Hex; transactions: unknown[] };
      s.blocks++;
      s.txs += blk.transactions.length;
      s.gas += Number(blk.gasUsed);
    }
  }
  return s;
}

interface TipFigures {
  blocks: number;
  txs: number;
  seconds: number;
  lag: number[];
  delayMs: number[];
}

/** Steady load on the sequencer; samples the replica's lag in blocks and each block's delay (first seen on the sequencer → on the replica). */
async function measureTip(seq: Node, replica: Node, raws: Hex[]): Promise<TipFigures> {
  const startHead = await head(seq.t.url);
  const seenSeq = new Map<number, number>();
  const delayMs: number[] = [];
  const lag: number[] = [];
  let sending = true;
  let target = Number.POSITIVE_INFINITY; // once the load ends: the last block seen on the sequencer
  const poller = (async () => {
    let repSeen = await head(replica.t.url);
    while (repSeen < target) {
      const [s, r] = await Promise.all([head(seq.t.url), head(replica.t.url)]);
      const now = performance.now();
      if (sending) for (let n = startHead + 1; n <= s; n++) if (!seenSeq.has(n)) seenSeq.set(n, now);
      for (let n = repSeen + 1; n <= r; n++) if (seenSeq.has(n)) delayMs.push(now - seenSeq.get(n)!);
      repSeen = Math.max(repSeen, r);
      if (sending) lag.push(s - r);
      await sleep(50);
    }
  })();
  poller.catch(() => undefined); // rethrown below
  const t0 = performance.now();
  const perTick = Math.max(1, Math.round(TIP_RATE / 10));
  for (let i = 0; i < raws.length; i += perTick) {
    await send(seq.t.url, raws.slice(i, i + perTick));
    const due = t0 + ((i + perTick) / TIP_RATE) * 1000;
    await sleep(Math.max(0, due - performance.now()));
  }
  const seconds = (performance.now() - t0) / 1000;
  await sleep(1500); // the last transactions' block
  sending = false;
  target = Math.max(startHead, ...seenSeq.keys());
  await poller;
  const endHead = await head(seq.t.url);
  const stats = await chainStats(seq.t.url, startHead + 1, endHead);
  return { blocks: stats.blocks, txs: stats.txs, seconds, lag, delayMs };
}

interface Rows {
  stats: ChainStats;
  /** One per --runs, in the order they ran (peers and L1 alternating). */
  peers: SyncFigures[];
  l1: SyncFigures[];
  l1Slow?: SyncFigures;
  batches: number;
  l1Blocks: number;
}

function report(r: Rows, tip: TipFigures | undefined): void {
  console.log(`\nsync of one chain (${r.batches} batches in ${r.l1Blocks} L1 blocks), fresh replica timed from its spawn; the sequencer up and idle:`);
  console.log('from peers until its head is the last batched block; from L1 (no p2p) until its safe block is');
  const rows = [];
  for (const [i, f] of r.peers.entries()) rows.push(syncRow('peers', r.stats, f, { run: i + 1, 'L1 RPC round trip': '-' }));
  for (const [i, f] of r.l1.entries()) rows.push(syncRow('L1', r.stats, f, { run: i + 1, 'L1 RPC round trip': 'local anvil' }));
  if (r.l1Slow !== undefined) rows.push(syncRow('L1', r.stats, r.l1Slow, { run: 1, 'L1 RPC round trip': `+${2 * L1_LATENCY_MS} ms` }));
  console.log(table(rows));
  const mgas = (f: SyncFigures, fromRpc: boolean) => r.stats.gas / 1e6 / (fromRpc ? f.seconds - f.answeringSeconds : f.seconds);
  const median = (fs: SyncFigures[], fromRpc: boolean) =>
    quantile(
      fs.map((f) => mgas(f, fromRpc)),
      0.5,
    ).toFixed(2);
  console.log(
    `  median of ${RUNS} runs, Mgas/s from spawn (after JSON-RPC answers): peers ${median(r.peers, false)} (${median(r.peers, true)}), L1 on the local anvil ${median(r.l1, false)} (${median(r.l1, true)})`,
  );
  if (tip === undefined) return;
  console.log(
    `\nfollowing at the tip: ${tip.txs} transactions in ${tip.blocks} blocks over ${tip.seconds.toFixed(1)} s (${(tip.txs / tip.seconds).toFixed(0)} tx/s offered as ETH and ERC-20 transfers), heads polled every 50 ms`,
  );
  const q = (xs: number[], p: number) => quantile(xs, p).toFixed(0);
  console.log(
    table([
      { measure: 'replica lag, blocks', median: q(tip.lag, 0.5), p90: q(tip.lag, 0.9), max: q(tip.lag, 1), samples: tip.lag.length },
      { measure: 'block on sequencer → on replica, ms', median: q(tip.delayMs, 0.5), p90: q(tip.delayMs, 0.9), max: q(tip.delayMs, 1), samples: tip.delayMs.length },
    ]),
  );
}

/** A replica deriving from L1 at `l1Url`, timed until its safe block is `target`. */
async function fromL1(env: L1Env, l1Url: string, name: string, target: number): Promise<SyncFigures> {
  let replica: Node | undefined;
  try {
    return await timeReplica(
      startNode,
      name,
      ['--rollup-config', env.configFile, '--l1-rpc', l1Url, '--l1-poll-ms', '200'],
      'safe',
      target,
      'derived batches',
      (r) => (replica = r as Node),
    );
  } finally {
    await stopNode(replica);
  }
}

async function run(token: CompiledContract): Promise<{ rows: Rows; tip?: TipFigures }> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-sync-l1-'));
  let env: L1Env | undefined;
  let seq: Node | undefined;
  let replica: Node | undefined;
  try {
    env = await startL1(dir);
    const p2pPort = await freePort();
    seq = await startNode('sequencer', [
      '--block-time',
      '1',
      '--rollup-config',
      env.configFile,
      '--l1-rpc',
      env.anvil.url,
      '--l1-poll-ms',
      '200',
      '--batch-max-age',
      '1000',
      '--batcher-key',
      env.keys[1]!,
      '--sequencer-key',
      SEQ_KEY,
      '--p2p.listen',
      `/ip4/127.0.0.1/tcp/${p2pPort}`,
    ]);
    for (let i = 0; seq.p2p.length === 0; i++) {
      if (i > 100) throw new Error('the sequencer logged no p2p address');
      await sleep(100);
    }
    const chainId = Number(await rpc<Hex>(seq.t.url, 'eth_chainId'));
    console.log(`  anvil pid ${env.anvil.pid}; sequencer pid ${seq.t.proc.pid}, L2 chain ${chainId}, ${seq.p2p[0]}`);
    const b0 = performance.now();
    const built = await loadChain(token, seq.t.url, chainId);
    const b1 = performance.now();
    await waitBatched(env, built.head);
    const { batched: target, batches } = await rollupView(env);
    const l1Blocks = Number(await env.l1.publicClient.getBlockNumber()) - Number(env.config.l1Start.number) + 1;
    console.log(
      `  chain built: head ${built.head} after ${((b1 - b0) / 1000).toFixed(0)} s, on L1 ${((performance.now() - b1) / 1000).toFixed(1)} s later (${batches} batches, up to block ${target})`,
    );
    const stats = await chainStats(seq.t.url, 1, target);

    const peerArgs = ['--rollup-config', env.configFile, '--sequencer-address', privateKeyToAddress(SEQ_KEY), '--p2p.bootnodes', seq.p2p.join(',')];
    const peers: SyncFigures[] = [];
    const l1: SyncFigures[] = [];
    for (let i = 0; i < RUNS; i++) {
      peers.push(await timeReplica(startNode, 'replica-peers', peerArgs, 'latest', target, 'caught up', (r) => (replica = r as Node)));
      await sleep(1000); // its catch-up's log line can come after its head reached the target
      console.log(
        `  peers, run ${i + 1}: replica pid ${replica!.t.proc.pid}; range catch-ups: ${replica!.caughtUp.map((c) => `${c.from}..${c.to} in ${c.ms} ms (walk ${c.walkMs} ms)`).join(', ') || 'none'}`,
      );
      await stopNode(replica);
      replica = undefined;
      l1.push(await fromL1(env, env.anvil.url, 'replica-l1', target));
    }
    let l1Slow: SyncFigures | undefined;
    if (L1_LATENCY_MS > 0) {
      const proxy = await startTcpProxy({ port: Number(new URL(env.anvil.url).port), delayMs: L1_LATENCY_MS });
      try {
        l1Slow = await fromL1(env, proxy.url, 'replica-l1-slow', target);
      } finally {
        await proxy.close();
      }
    }

    // last, as it makes the chain longer: a replica caught up from peers follows the tip
    replica = await startNode('replica-tip', ['--replica', ...peerArgs]);
    await waitHead(replica.t.url, await head(seq.t.url));
    let tip: TipFigures | undefined;
    try {
      tip = await measureTip(seq, replica, built.tip);
    } catch (err) {
      console.log(`  tip measurement FAILED: ${(err as Error).message}`);
    }
    console.log(`  tip: replica peak RSS ${replica.t.peakRssMiB().toFixed(0)} MiB; sequencer peak RSS ${seq.t.peakRssMiB().toFixed(0)} MiB`);
    return { rows: { stats, peers, l1, l1Slow, batches, l1Blocks }, tip };
  } finally {
    await stopNode(replica);
    await stopNode(seq);
    await env?.anvil.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const startLoad = loadavg()[0]!;
  console.log(`bench:sync — ${TXS} transactions (ETH and ERC-20 transfers, ${SENDERS} senders, ~${PER_BLOCK} per block), 1 s blocks, ${GAS_LIMIT / 1e6}M gas`);
  const { TestToken } = await compileContracts(['test/TestToken.sol']);
  const { rows, tip } = await run(TestToken!);
  report(rows, tip);
  console.log(machineNote(startLoad));
}

await main();
