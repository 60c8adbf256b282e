/**
 * npm run bench:rpc — JSON-RPC throughput of this node and of anvil, in the same run.
 * N pre-signed transactions from S senders (default 10,000 from 100), sent as eth_sendRawTransaction
 * in JSON-RPC batches of 100, timed from the first send until every sender's nonce shows its last
 * transaction included: ETH transfers, then ERC-20 transfers of contracts/test/TestToken.sol.
 * Both nodes mine on a 1-second interval, by default at a 30M gas limit (where the limit binds)
 * and again at 300M (where it does not); for this node it also prints where the time went, from
 * its own /metrics: RPC ingest per transaction and each block's execute, seal and commit phases.
 * Prints figures, asserts nothing.
 *
 *   npx tsx bench/rpc.ts [--only anvil|ours] [--txs N] [--senders N] [--gas-limit GAS] [--cpu-prof DIR] [--node-flags FLAGS]
 *
 * `--cpu-prof DIR` runs this node under V8's profiler and leaves its .cpuprofile in DIR (open it in
 * Chrome's DevTools or speedscope); `--node-flags "..."` passes flags to this node's Node.js (GC
 * settings, for instance).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { encodeDeployData, encodeFunctionData, getContractAddress, keccak256, parseEther, toHex } from 'viem';
import type { Address, Hex, TransactionSerializableEIP1559 } from 'viem';
import { privateKeyToAddress } from 'viem/accounts';
import { compileContracts } from '../contracts/compile.ts';
import type { CompiledContract } from '../contracts/compile.ts';
import { ROOT, anvilBinary, freePort, rpc, rpcBatch, signTx as sign, sleep, startTarget, table } from './lib.ts';
import type { Target } from './lib.ts';

const { values: args } = parseArgs({
  options: {
    only: { type: 'string' },
    txs: { type: 'string', default: '10000' },
    senders: { type: 'string', default: '100' },
    'gas-limit': { type: 'string' },
    'cpu-prof': { type: 'string' },
    'node-flags': { type: 'string' },
  },
});
const TXS = Number(args.txs);
const SENDERS = Number(args.senders);
if (!(Number.isInteger(TXS) && TXS > 0 && Number.isInteger(SENDERS) && SENDERS > 0)) throw new Error('--txs and --senders take positive integers');
if (args.only !== undefined && args.only !== 'anvil' && args.only !== 'ours') throw new Error('--only takes anvil or ours');

/** The capped run (the limit binds, as on a busy chain) and the uncapped one (the engine binds). */
const GAS_LIMITS = args['gas-limit'] === undefined ? [30_000_000, 300_000_000] : [Number(args['gas-limit'])];
if (!GAS_LIMITS.every((g) => Number.isInteger(g) && g >= 21_000)) throw new Error('--gas-limit takes a gas amount');
const BATCH = 100;
const IN_FLIGHT = 1; // sequential batches keep each sender's nonces in order on arrival
const STALL_MS = 60_000; // no sender's nonce moved for this long: the node lost transactions
const RECEIPT_WAIT_MS = 10_000; // after the nonces are in, how long a block holding the rest may take to be served
const FEES = { maxFeePerGas: 100_000_000_000n, maxPriorityFeePerGas: 1_000_000_000n };
const FUNDER_KEY = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80' as const;
const FUNDER = privateKeyToAddress(FUNDER_KEY);

const keys = Array.from({ length: SENDERS }, (_, i) => keccak256(toHex(`bench-sender-${i}`)));
const addrs = keys.map((k) => privateKeyToAddress(k));
/** Transactions per sender in each workload; the first TXS % SENDERS senders send one more. */
const perSender = addrs.map((_, s) => Math.floor(TXS / SENDERS) + (s < TXS % SENDERS ? 1 : 0));

interface Workload {
  name: string;
  /** Not timed: funding, token deploy and mints from the funder. */
  setup: Hex[];
  measured: Hex[];
}

/** Signs everything for one target, whose chain id and current nonces are read first. */
async function signWorkloads(url: string, token: CompiledContract): Promise<Workload[]> {
  const chainId = Number(await rpc<Hex>(url, 'eth_chainId'));
  const counts = await rpcBatch(
    url,
    [FUNDER, ...addrs].map((a) => ({ method: 'eth_getTransactionCount', params: [a, 'latest'] })),
  );
  const [funderNonce, ...base] = counts.map((c) => Number(c.result));
  let nonce = funderNonce!;
  const fromFunder = (to: Address | undefined, value: bigint, data?: Hex, gas = 21_000n) =>
    sign({ chainId, type: 'eip1559', nonce: nonce++, to, value, data, gas, ...FEES }, FUNDER_KEY);

  const fund = addrs.map((a) => fromFunder(a, parseEther('10')));
  const tokenAddr = getContractAddress({ from: FUNDER, nonce: BigInt(nonce) });
  const deploy = fromFunder(undefined, 0n, encodeDeployData({ abi: token.abi, bytecode: token.bytecode, args: ['Bench', 'BNC', 0n] }), 2_000_000n);
  const mintData = (a: Address) => encodeFunctionData({ abi: token.abi, functionName: 'mint', args: [a, 10n ** 24n] });
  const mint = addrs.map((a) => fromFunder(tokenAddr, 0n, mintData(a), 100_000n));

  // Nonce-major order: every batch carries consecutive nonces of many senders, none ahead of its predecessor.
  const each = (first: (s: number) => number, make: (s: number, nonce: number) => Omit<TransactionSerializableEIP1559, 'nonce'>) => {
    const out: Hex[] = [];
    for (let n = 0; n < perSender[0]!; n++) {
      for (let s = 0; s < SENDERS; s++) if (n < perSender[s]!) out.push(sign({ ...make(s, n), nonce: first(s) + n }, keys[s]!));
    }
    return out;
  };
  const next = (s: number) => addrs[(s + 1) % SENDERS]!;
  const eth = each(
    (s) => base[s]!,
    (s) => ({ chainId, type: 'eip1559', to: next(s), value: 1n, gas: 21_000n, ...FEES }),
  );
  const transferData = (s: number) => encodeFunctionData({ abi: token.abi, functionName: 'transfer', args: [next(s), 1n] });
  const erc20 = each(
    (s) => base[s]! + perSender[s]!,
    (s) => ({ chainId, type: 'eip1559', to: tokenAddr, data: transferData(s), gas: 80_000n, ...FEES }),
  );
  return [
    { name: 'ETH transfers', setup: [...fund, deploy, ...mint], measured: eth },
    { name: 'ERC-20 transfers', setup: [], measured: erc20 },
  ];
}

/** Sends in batches; returns how many were refused and the first refusal. */
async function send(url: string, raws: Hex[]): Promise<{ refused: number; first?: string }> {
  let refused = 0;
  let first: string | undefined;
  let next = 0;
  const worker = async () => {
    while (next < raws.length) {
      const chunk = raws.slice(next, next + BATCH);
      next += BATCH;
      const res = await rpcBatch(
        url,
        chunk.map((raw) => ({ method: 'eth_sendRawTransaction', params: [raw] })),
      );
      for (const r of res) {
        if (r.error === undefined) continue;
        refused++;
        first ??= r.error.message;
      }
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  return { refused, first };
}

/** Waits until every account's nonce reached its target; gives up when none moved for STALL_MS. */
async function waitNonces(url: string, who: Address[], want: number[]): Promise<void> {
  let lastSum = -1;
  let lastMove = Date.now();
  for (;;) {
    const res = await rpcBatch(
      url,
      who.map((a) => ({ method: 'eth_getTransactionCount', params: [a, 'latest'] })),
    );
    const have = res.map((r) => Number(r.result));
    if (have.every((h, i) => h >= want[i]!)) return;
    const sum = have.reduce((a, b) => a + b, 0);
    if (sum !== lastSum) {
      lastSum = sum;
      lastMove = Date.now();
    } else if (Date.now() - lastMove > STALL_MS) {
      const missing = have.reduce((m, h, i) => m + Math.max(0, want[i]! - h), 0);
      throw new Error(`stalled: ${missing} transactions still not included after ${STALL_MS / 1000} s without progress`);
    }
    await sleep(50);
  }
}

interface Figures {
  txs: number;
  seconds: number;
  gas: bigint;
  failed: number;
  blocks: number;
  /** Ours only: where the time went, from /metrics over the workload. */
  phases?: Phases;
}

interface Phases {
  ingestMsPerTx: number;
  sealed: number;
  executeMs: number;
  sealMs: number;
  commitMs: number;
}

/** Sums and counts of this node's /metrics (histograms' _sum and _count lines, by label). */
async function scrape(url: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+(?:\{[^}]*\})?) ([0-9.e+-]+)$/.exec(line);
    if (m) out.set(m[1]!, Number(m[2]));
  }
  return out;
}

function phasesBetween(a: Map<string, number>, b: Map<string, number>, txs: number): Phases {
  const d = (k: string) => (b.get(k) ?? 0) - (a.get(k) ?? 0);
  const phase = (p: string) => d(`ai_rollup_block_phase_seconds_sum{phase="${p}"}`) * 1000;
  const rpcSeconds = d('ai_rollup_rpc_request_duration_seconds_sum{method="batch"}') + d('ai_rollup_rpc_request_duration_seconds_sum{method="eth_sendRawTransaction"}');
  return { ingestMsPerTx: (rpcSeconds * 1000) / txs, sealed: d('ai_rollup_blocks_sealed_total'), executeMs: phase('execute'), sealMs: phase('seal'), commitMs: phase('commit') };
}

async function sendAndWait(t: Target, raws: Hex[], label: string): Promise<void> {
  const { refused, first } = await send(t.url, raws);
  if (refused > 0) throw new Error(`${label}: ${refused} of ${raws.length} transactions refused, first: ${first}`);
}

async function measure(t: Target, w: Workload): Promise<Figures> {
  if (w.setup.length > 0) {
    const s0 = performance.now();
    const funderNonce = Number(await rpc<Hex>(t.url, 'eth_getTransactionCount', [FUNDER, 'latest']));
    await sendAndWait(t, w.setup, `${w.name} setup`);
    await waitNonces(t.url, [FUNDER], [funderNonce + w.setup.length]);
    console.log(`  ${t.name}: ${w.setup.length} setup transactions included in ${((performance.now() - s0) / 1000).toFixed(1)} s`);
  }
  const before = (
    await rpcBatch(
      t.url,
      addrs.map((a) => ({ method: 'eth_getTransactionCount', params: [a, 'latest'] })),
    )
  ).map((r) => Number(r.result));
  const firstBlock = Number(await rpc<Hex>(t.url, 'eth_blockNumber')) + 1;
  const metricsBefore = t.name === 'ours' ? await scrape(t.url) : undefined;
  const t0 = performance.now();
  const mono0 = process.hrtime.bigint() / 1000n;
  await sendAndWait(t, w.measured, w.name);
  await waitNonces(
    t.url,
    addrs,
    before.map((b, s) => b + perSender[s]!),
  );
  const seconds = (performance.now() - t0) / 1000;
  // the profile's timestamps are microseconds of the same monotonic clock: this window is the workload's
  if (args['cpu-prof'] !== undefined && t.name === 'ours') console.log(`  profile window of ${w.name}: ${mono0}..${process.hrtime.bigint() / 1000n} us`);
  const phases = metricsBefore === undefined ? undefined : phasesBetween(metricsBefore, await scrape(t.url), w.measured.length);

  // After the clock stops: receipts give gas and status (a reverted transfer must not pass for
  // throughput). Per block, not per transaction: ours formats a whole block's receipts for each
  // eth_getTransactionReceipt, which made 10,000 lookups take minutes.
  // anvil shows a mined block's nonces (eth_getTransactionCount 'latest') a moment before the block
  // itself: at 20,000 ERC-20 transfers its last block (~1,500 of them) was not yet served when the
  // nonces were all in. So blocks are read until every transaction is found, or none came for RECEIPT_WAIT_MS.
  let lastBlock = Number(await rpc<Hex>(t.url, 'eth_blockNumber'));
  const headAtNonces = lastBlock;
  let late = 0;
  const pending = new Set(w.measured.map((raw) => keccak256(raw)));
  let gas = 0n;
  let failed = 0;
  let blocks = 0;
  for (let b = firstBlock, waitedFrom = Date.now(); pending.size > 0; b++) {
    while (b > lastBlock) {
      if (Date.now() - waitedFrom > RECEIPT_WAIT_MS) break;
      await sleep(100);
      lastBlock = Number(await rpc<Hex>(t.url, 'eth_blockNumber'));
    }
    if (b > lastBlock) break;
    waitedFrom = Date.now();
    const receipts = await rpc<{ transactionHash: Hex; gasUsed: Hex; status: Hex }[] | null>(t.url, 'eth_getBlockReceipts', [toHex(b)]);
    let mine = 0;
    for (const r of receipts ?? []) {
      if (!pending.delete(r.transactionHash)) continue;
      mine++;
      if (b > headAtNonces) late++;
      gas += BigInt(r.gasUsed);
      if (r.status !== '0x1') failed++;
    }
    if (mine > 0) blocks++;
  }
  if (pending.size > 0) throw new Error(`${w.name}: ${pending.size} transactions have no receipt in blocks ${firstBlock}..${lastBlock}`);
  if (late > 0) console.log(`  ${t.name}: ${late} of them in a block served after every nonce showed them included`);
  return { txs: w.measured.length, seconds, gas, failed, blocks, phases };
}

type Result = { figs: Figures[]; rss: number; gasLimit: number } | string;

async function runTarget(name: 'anvil' | 'ours', token: CompiledContract, gasLimit: number): Promise<Result> {
  const port = await freePort();
  const datadir = name === 'ours' ? await mkdtemp(join(tmpdir(), 'bench-rpc-')) : undefined;
  let t: Target;
  const started = performance.now();
  try {
    t =
      name === 'anvil'
        ? await startTarget('anvil', anvilBinary(), ['--port', String(port), '--block-time', '1', '--chain-id', '31337', '--gas-limit', String(gasLimit), '--silent'], port)
        : await startTarget(
            'ours',
            process.execPath,
            [
              ...(args['cpu-prof'] === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', resolve(args['cpu-prof'])]),
              ...(args['node-flags']?.split(/\s+/).filter((f) => f !== '') ?? []),
              resolve(ROOT, 'bin/ai-rollup.js'),
              'node',
              '--dev',
              '--datadir',
              datadir!,
              '--rpc.port',
              String(port),
              '--block-time',
              '1',
              '--gas-limit',
              String(gasLimit),
              '--log-level',
              'warn',
            ],
            port,
          );
  } catch (err) {
    if (datadir !== undefined) await rm(datadir, { recursive: true, force: true });
    return (err as Error).message;
  }
  try {
    console.log(`  ${name}: pid ${t.proc.pid}, answering after ${((performance.now() - started) / 1000).toFixed(1)} s`);
    const t0 = performance.now();
    const ws = await signWorkloads(t.url, token);
    const signed = ws.reduce((n, w) => n + w.setup.length + w.measured.length, 0);
    console.log(`  ${name}: signed ${signed} transactions in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const figs: Figures[] = [];
    for (const w of ws) {
      const f = await measure(t, w);
      figs.push(f);
      console.log(`  ${name}: ${w.name} included in ${f.seconds.toFixed(1)} s over ${f.blocks} block${f.blocks === 1 ? '' : 's'}${f.failed > 0 ? `, ${f.failed} reverted` : ''}`);
    }
    const headGasLimit = Number((await rpc<{ gasLimit: Hex }>(t.url, 'eth_getBlockByNumber', ['latest', false])).gasLimit);
    return { figs, rss: t.peakRssMiB(), gasLimit: headGasLimit };
  } catch (err) {
    return (err as Error).message;
  } finally {
    const s0 = performance.now();
    await t.stop();
    console.log(`  ${name}: stopped in ${((performance.now() - s0) / 1000).toFixed(1)} s`);
    if (datadir !== undefined) await rm(datadir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const { TestToken } = await compileContracts(['test/TestToken.sol']);
  for (const gasLimit of GAS_LIMITS) await runAt(gasLimit, TestToken!);
}

async function runAt(gasLimit: number, token: CompiledContract): Promise<void> {
  console.log(`\nbench:rpc — ${TXS} transactions from ${SENDERS} senders per workload, batches of ${BATCH}, 1 s blocks, ${gasLimit / 1e6}M gas`);
  const targets = args.only === undefined ? (['anvil', 'ours'] as const) : [args.only as 'anvil' | 'ours'];
  const results: Partial<Record<'anvil' | 'ours', Result>> = {};
  for (const name of targets) {
    console.log(`${name}:`);
    results[name] = await runTarget(name, token, gasLimit);
  }
  for (const [name, r] of Object.entries(results)) if (typeof r === 'string') console.log(`\n${name} FAILED: ${r}`);

  const ok = Object.entries(results).filter((e): e is [string, Exclude<Result, string>] => typeof e[1] !== 'string');
  if (ok.length === 0) return;
  for (const [i, w] of ['ETH transfers', 'ERC-20 transfers'].entries()) {
    const rows: Record<string, string | number>[] = [];
    const num: Record<string, { tps: number; mgas: number; rss: number }> = {};
    for (const [name, r] of ok) {
      const f = r.figs[i]!;
      const mgas = Number(f.gas) / 1e6 / f.seconds;
      num[name] = { tps: f.txs / f.seconds, mgas, rss: r.rss };
      rows.push({
        node: name,
        'tx/s': num[name]!.tps.toFixed(0),
        'Mgas/s': mgas.toFixed(2),
        'peak RSS MiB': r.rss.toFixed(0),
        seconds: f.seconds.toFixed(2),
        blocks: f.blocks,
        'gas/tx': (Number(f.gas) / f.txs).toFixed(0),
        // the 1-s block's gas limit caps Mgas/s: this shows how close a node came to the cap
        'of gas cap': `${((mgas * 1e6 * 100) / r.gasLimit).toFixed(0)}%`,
        reverted: f.failed,
      });
    }
    const [a, o] = [num.anvil, num.ours];
    if (a !== undefined && o !== undefined) {
      rows.push({ node: 'ours/anvil', 'tx/s': (o.tps / a.tps).toFixed(2), 'Mgas/s': (o.mgas / a.mgas).toFixed(2), 'peak RSS MiB': (o.rss / a.rss).toFixed(2) });
    }
    console.log(`\n${w} at ${gasLimit / 1e6}M gas\n${table(rows)}`);
    const p = ok.find(([name]) => name === 'ours')?.[1].figs[i]?.phases;
    if (p !== undefined && p.sealed > 0) {
      const per = (ms: number) => `${(ms / p.sealed).toFixed(1)} ms`;
      console.log(
        `ours, where the time went (its /metrics): RPC ingest ${p.ingestMsPerTx.toFixed(3)} ms per transaction (${((p.ingestMsPerTx * TXS) / 1000).toFixed(1)} s in all); per block over ${p.sealed} blocks: execute ${per(p.executeMs)}, seal ${per(p.sealMs)}, commit ${per(p.commitMs)}`,
      );
    }
  }
}

await main();
