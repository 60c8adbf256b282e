/**
 * npm run bench:sync — how fast a replica syncs from its peers, and how closely it follows the tip.
 * Prints figures, asserts nothing.
 *
 * A sequencer process (`node --dev --sequencer-key K --p2p.listen ...`, 1-second blocks, 30M gas)
 * gets --txs pre-signed transactions (ETH transfers and ERC-20 transfers of
 * contracts/test/TestToken.sol, alternating, from --senders senders), about --per-block of them
 * per block. Then a fresh replica (`node --replica --p2p.bootnodes <sequencer>`) starts and is
 * timed from its spawn until its eth_blockNumber equals the sequencer's. A replica only catches up
 * once it sees a signed block, so one more transaction goes in every block while it runs. Then the
 * tip: the sequencer takes --tip-rate transactions per second for --tip-seconds, and the replica's
 * lag behind it is sampled. Then sync from L1 (bench/sync-l1.ts): a rollup sequencer on anvil
 * with its batcher builds its own chain of --l1-txs transactions of the same load, and a fresh
 * replica with only --rollup-config and --l1-rpc is timed until its safe block is the last
 * batched one. Both printed side by side; --only peers|l1 runs one part.
 *
 *   npx tsx bench/sync.ts [--txs 20000] [--per-block 100] [--senders 100] [--tip-rate 100] [--tip-seconds 30] [--l1-txs 5000] [--only peers|l1]
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
import { ROOT, freePort, logRecord, machineNote, quantile, rpc, rpcBatch, signTx, sleep, startTarget, table } from './lib.ts';
import type { Target } from './lib.ts';
import { measureFromL1, syncRow } from './sync-l1.ts';
import type { ChainStats, L1Figures } from './sync-l1.ts';

const { values: args } = parseArgs({
  options: {
    txs: { type: 'string', default: '20000' },
    'per-block': { type: 'string', default: '100' },
    senders: { type: 'string', default: '100' },
    'tip-rate': { type: 'string', default: '100' },
    'tip-seconds': { type: 'string', default: '30' },
    'l1-txs': { type: 'string', default: '5000' },
    only: { type: 'string' },
  },
});
const ONLY = args.only;
if (ONLY !== undefined && ONLY !== 'l1' && ONLY !== 'peers') throw new Error(`--only: l1 or peers, not ${ONLY}`);
const L1_TXS = Number(args['l1-txs']);
const TXS = Number(args.txs);
const PER_BLOCK = Number(args['per-block']);
const SENDERS = Number(args.senders);
const TIP_RATE = Number(args['tip-rate']);
const TIP_SECONDS = Number(args['tip-seconds']);
for (const [k, v] of Object.entries({ TXS, PER_BLOCK, SENDERS, TIP_RATE, TIP_SECONDS, L1_TXS })) {
  if (!(Number.isInteger(v) && v > 0)) throw new Error(`${k}: a positive integer, not ${v}`);
}

const GAS_LIMIT = 30_000_000;
const FEES = { maxFeePerGas: 100_000_000_000n, maxPriorityFeePerGas: 1_000_000_000n };
const STALL_MS = 60_000;
const [FUNDER_KEY, KEEPER_KEY] = devAccounts().map((a) => a.privateKey as Hex) as [Hex, Hex];
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
  caughtUp: { from: number; to: number; ms: number }[];
}

async function startNode(name: string, extra: string[], onOther?: (line: string) => void): Promise<Node> {
  const datadir = await mkdtemp(join(tmpdir(), `bench-sync-${name}-`));
  const port = await freePort();
  const node: Omit<Node, 't'> = { datadir, p2p: [], caughtUp: [] };
  const onLine = (line: string) => {
    const rec = logRecord(line);
    if (rec?.msg === 'node started' && Array.isArray(rec.p2p)) node.p2p = rec.p2p as string[];
    if (rec?.msg === 'caught up') node.caughtUp.push({ from: Number(rec.from), to: Number(rec.to), ms: Number(rec.ms) });
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

/** Funds, deploys and mints, then builds a chain of `txs` transfers (bench:sync from L1: its own chain); returns the head. */
async function loadChain(token: CompiledContract, url: string, chainId: number, txs: number): Promise<number> {
  const signed = signAll(chainId, token, txs, 0);
  await send(url, signed.setup);
  await waitNonces(url, [FUNDER], [signed.setup.length]);
  await buildChain(url, signed.build, PER_BLOCK);
  return head(url);
}

const head = async (url: string) => Number(await rpc<Hex>(url, 'eth_blockNumber'));

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
    const res = await rpcBatch(url, raws.slice(i, i + 100).map((raw) => ({ method: 'eth_sendRawTransaction', params: [raw] })));
    const bad = res.filter((r) => r.error !== undefined);
    if (bad.length > 0) throw new Error(`${bad.length} transactions refused, first: ${bad[0]!.error!.message}`);
  }
}

/** Waits until every account's nonce reached its target; gives up when none moved for STALL_MS. */
async function waitNonces(url: string, who: Address[], want: number[]): Promise<void> {
  let lastSum = -1;
  let lastMove = Date.now();
  for (;;) {
    const have = (await rpcBatch(url, who.map((a) => ({ method: 'eth_getTransactionCount', params: [a, 'latest'] })))).map((r) => Number(r.result));
    if (have.every((h, i) => h >= want[i]!)) return;
    const sum = have.reduce((a, b) => a + b, 0);
    if (sum !== lastSum) [lastSum, lastMove] = [sum, Date.now()];
    else if (Date.now() - lastMove > STALL_MS) throw new Error(`stalled: nonces did not move for ${STALL_MS / 1000} s`);
    await sleep(100);
  }
}

/** Sends `raws` about `perBlock` at a time, one chunk per new block, and waits until all are included. */
async function buildChain(url: string, raws: Hex[], perBlock: number): Promise<void> {
  const nonces = (await rpcBatch(url, addrs.map((a) => ({ method: 'eth_getTransactionCount', params: [a, 'latest'] })))).map((r) => Number(r.result));
  for (let i = 0; i < raws.length; i += perBlock) {
    const h = await head(url);
    await send(url, raws.slice(i, i + perBlock));
    while ((await head(url)) === h) await sleep(50);
  }
  // whole rounds: every sender has raws.length / SENDERS of them
  await waitNonces(url, addrs, nonces.map((n) => n + raws.length / SENDERS));
}

/** One ETH transfer from a dev account in every new block, so the sequencer keeps gossiping signed blocks. */
function keepProducing(url: string, chainId: number): { stop(): Promise<number> } {
  let stopped = false;
  let sent = 0;
  const loop = (async () => {
    let nonce = Number(await rpc<Hex>(url, 'eth_getTransactionCount', [privateKeyToAddress(KEEPER_KEY), 'pending']));
    let last = -1;
    while (!stopped) {
      const h = await head(url);
      if (h !== last) {
        last = h;
        await rpc(url, 'eth_sendRawTransaction', [signTx({ chainId, type: 'eip1559', nonce: nonce++, to: FUNDER, value: 1n, gas: 21_000n, ...FEES }, KEEPER_KEY)]);
        sent++;
      }
      await sleep(100);
    }
  })();
  loop.catch(() => undefined); // rethrown by stop()
  return {
    async stop() {
      stopped = true;
      await loop;
      return sent;
    },
  };
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

interface SyncFigures {
  stats: ChainStats;
  seconds: number;
  answeringSeconds: number;
  rss: number;
  keeperTxs: number;
}

/** Starts the replica and times it from its spawn until its head equals the sequencer's. */
async function measureSync(seq: Node, chainId: number, onStart: (r: Node) => void): Promise<SyncFigures> {
  const keeper = keepProducing(seq.t.url, chainId);
  let keeperStopped = false;
  try {
    const t0 = performance.now();
    const replica = await startNode('replica', ['--replica', '--sequencer-address', privateKeyToAddress(SEQ_KEY), '--p2p.bootnodes', seq.p2p.join(',')]);
    onStart(replica);
    const answeringSeconds = (performance.now() - t0) / 1000;
    let at = 0;
    let moved = performance.now();
    for (;;) {
      const [s, r] = await Promise.all([head(seq.t.url), head(replica.t.url)]);
      if (r > at) [at, moved] = [r, performance.now()];
      if (r >= s) break;
      if (performance.now() - moved > STALL_MS) throw new Error(`replica stuck at block ${r}, sequencer at ${s}`);
      await sleep(100);
    }
    const seconds = (performance.now() - t0) / 1000;
    const rss = replica.t.peakRssMiB();
    keeperStopped = true;
    const keeperTxs = await keeper.stop();
    return { stats: await chainStats(seq.t.url, 1, at), seconds, answeringSeconds, rss, keeperTxs };
  } finally {
    if (!keeperStopped) await keeper.stop().catch(() => 0);
  }
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

function report(sync: SyncFigures | undefined, tip: TipFigures | undefined, l1: L1Figures | undefined): void {
  const rows = [];
  if (sync !== undefined) rows.push(syncRow('peers', sync));
  if (l1 !== undefined) rows.push(syncRow('L1', l1));
  console.log('\nsync, fresh replica from spawn: from peers until its head equals the sequencer\'s (the sequencer kept producing, one transaction per block);');
  console.log('from L1 (no p2p, the sequencer stopped once L1 covered its chain) until its safe block equals the last batched one');
  console.log(table(rows));
  if (sync !== undefined) console.log(`  peers: ${sync.keeperTxs} keep-alive transactions included`);
  if (l1 !== undefined) console.log(`  L1: ${l1.derivedLogs} 'derived batches' log records; the Rollup covered the chain ${l1.batchingSeconds.toFixed(1)} s after its last block`);
  if (tip === undefined) return;
  console.log(`\nfollowing at the tip: ${tip.txs} transactions in ${tip.blocks} blocks over ${tip.seconds.toFixed(1)} s (${(tip.txs / tip.seconds).toFixed(0)} tx/s offered as ETH and ERC-20 transfers), heads polled every 50 ms`);
  const q = (xs: number[], p: number) => quantile(xs, p).toFixed(0);
  console.log(
    table([
      { measure: 'replica lag, blocks', median: q(tip.lag, 0.5), p90: q(tip.lag, 0.9), max: q(tip.lag, 1), samples: tip.lag.length },
      { measure: 'block on sequencer → on replica, ms', median: q(tip.delayMs, 0.5), p90: q(tip.delayMs, 0.9), max: q(tip.delayMs, 1), samples: tip.delayMs.length },
    ]),
  );
}

async function runPeers(token: CompiledContract): Promise<{ sync: SyncFigures; tip?: TipFigures }> {
  let seq: Node | undefined;
  let replica: Node | undefined;
  try {
    const p2pPort = await freePort();
    seq = await startNode('sequencer', ['--block-time', '1', '--sequencer-key', SEQ_KEY, '--p2p.listen', `/ip4/127.0.0.1/tcp/${p2pPort}`]);
    for (let i = 0; seq.p2p.length === 0; i++) {
      if (i > 100) throw new Error('the sequencer logged no p2p address');
      await sleep(100);
    }
    const chainId = Number(await rpc<Hex>(seq.t.url, 'eth_chainId'));
    const t0 = performance.now();
    const signed = signAll(chainId, token);
    console.log(`  sequencer: pid ${seq.t.proc.pid}, ${seq.p2p[0]}; signed ${signed.setup.length + signed.build.length + signed.tip.length} transactions in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    await send(seq.t.url, signed.setup);
    await waitNonces(seq.t.url, [FUNDER], [signed.setup.length]);
    const b0 = performance.now();
    await buildChain(seq.t.url, signed.build, PER_BLOCK);
    console.log(`  sequencer: chain built, head ${await head(seq.t.url)} after ${((performance.now() - b0) / 1000).toFixed(0)} s`);

    const sync = await measureSync(seq, chainId, (r) => (replica = r));
    console.log(`  replica: pid ${replica!.t.proc.pid}; range catch-ups logged: ${replica!.caughtUp.map((c) => `${c.from}..${c.to} in ${c.ms} ms`).join(', ') || 'none'}`);
    let tip: TipFigures | undefined;
    try {
      tip = await measureTip(seq, replica!, signed.tip);
    } catch (err) {
      console.log(`  tip measurement FAILED: ${(err as Error).message}`);
    }
    console.log(`  replica peak RSS after the tip phase: ${replica!.t.peakRssMiB().toFixed(0)} MiB; sequencer peak RSS: ${seq.t.peakRssMiB().toFixed(0)} MiB`);
    return { sync, tip };
  } finally {
    await stopNode(replica);
    await stopNode(seq);
  }
}

async function main(): Promise<void> {
  const startLoad = loadavg()[0]!;
  const parts = [ONLY !== 'l1' ? `from peers: ${TXS} transactions` : '', ONLY !== 'peers' ? `from L1: ${L1_TXS} transactions` : ''].filter(Boolean).join('; ');
  console.log(`bench:sync — ${parts} (ETH and ERC-20 transfers, ${SENDERS} senders, ~${PER_BLOCK} per block), 1 s blocks, ${GAS_LIMIT / 1e6}M gas`);
  const { TestToken } = await compileContracts(['test/TestToken.sol']);
  const peers = ONLY === 'l1' ? undefined : await runPeers(TestToken!);
  let l1: L1Figures | undefined;
  if (ONLY !== 'peers') {
    const deps = { startNode, stopNode, chainStats, load: (url: string, chainId: number, txs: number) => loadChain(TestToken!, url, chainId, txs) };
    l1 = await measureFromL1(deps, L1_TXS, (s) => console.log(s));
  }
  report(peers?.sync, peers?.tip, l1);
  console.log(machineNote(startLoad));
}

await main();
