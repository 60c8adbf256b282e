/**
 * bench:soak: the rollup under steady load for minutes while its L1 misbehaves. A real anvil
 * mining every second is the L1; the sequencer (batcher and proposer keys) and a replica deriving
 * from L1 alone both reach it through test/helpers/l1-fault-proxy.ts, which drops connections,
 * answers 429/502/rate-limit errors, truncates answers, delays them and loses the replies of
 * transactions it forwarded. Meanwhile ETH transfers arrive at a steady rate, deposits are made on
 * L1 and L1 reorganises (anvil_reorg, 1-5 blocks) now and then.
 *
 * It reports blocks, transactions, batches, outputs, the faults injected, the L1 reorgs and what
 * each node did about them, and any divergence between the replica's derived chain and the
 * sequencer's (there must be none; the exit code is 1 otherwise), and whether each deposit on the
 * final L1 chain is on L2 exactly once.
 *
 *   npm run bench:soak [-- --minutes 10 --tps 20 --reorg-every 60 --fault-rate 0.02 --seed 1]
 */
import { mkdtemp } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parseAbiItem, parseEther } from 'viem';
import type { Hex } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { rollupAbi } from '../contracts/abi/rollup.ts';
import { DEV_KEYS, removeDir, startDevNode } from '../test/helpers/dev-node.ts';
import type { DevNode } from '../test/helpers/dev-node.ts';
import { startL1FaultProxy } from '../test/helpers/l1-fault-proxy.ts';
import type { L1FaultProxy, ProxyRule } from '../test/helpers/l1-fault-proxy.ts';
import { bridgeTestAbi, l1Call, startL1 } from '../test/helpers/rollup.ts';
import type { L1Env } from '../test/helpers/rollup.ts';
import { machineNote, rpc, signTx, sleep, table } from './lib.ts';

const { values: flags } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    tps: { type: 'string', default: '20' },
    'reorg-every': { type: 'string', default: '60' },
    'fault-rate': { type: 'string', default: '0.02' },
    seed: { type: 'string', default: '1' },
  },
});
const MINUTES = Number(flags.minutes);
const TPS = Number(flags.tps);
const REORG_EVERY_S = Number(flags['reorg-every']);
const FAULT_RATE = Number(flags['fault-rate']);
const SEED = Number(flags.seed);
const DEPOSIT_EVERY_S = 15;
/** Deepest L1 reorg injected; the batcher waits one block more above an origin (--batch-origin-depth). */
const MAX_REORG = 5;

const depositQueued = parseAbiItem(
  'event DepositQueued(uint256 indexed index, address indexed from, address indexed to, uint256 mint, uint256 value, uint64 gasLimit, bool isCreation, bytes data, bytes32 depositHash)',
);

/** Every fault kind at `rate`, the lost replies on sends only (the case that could post twice). */
function injectFaults(proxy: L1FaultProxy, rate: number): ProxyRule[] {
  return [
    proxy.addRule({ fault: { kind: 'lostReply' }, method: 'eth_sendRawTransaction', probability: rate * 5 }),
    proxy.addRule({ fault: { kind: 'drop' }, probability: rate }),
    proxy.addRule({ fault: { kind: 'http429', retryAfter: 1 }, probability: rate }),
    proxy.addRule({ fault: { kind: 'http502' }, probability: rate }),
    proxy.addRule({ fault: { kind: 'rpcLimit' }, probability: rate }),
    proxy.addRule({ fault: { kind: 'truncate' }, probability: rate }),
    proxy.addRule({ fault: { kind: 'delay', ms: 1_500 }, probability: rate }),
    proxy.addRule({ fault: { kind: 'logRange', maxBlocks: 50 } }),
  ];
}

/** A counter's value on a node's /metrics (summed over its labels); 0 when absent. */
async function metric(node: DevNode, name: string): Promise<number> {
  const text = await (await fetch(`${node.url}/metrics`)).text();
  let sum = 0;
  for (const m of text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'gm'))) sum += Number(m[1]);
  return sum;
}

/** Steady ETH transfers, round robin over the dev keys, each key's nonce tracked here. */
class Load {
  sent = 0;
  refused = 0;
  private readonly nonces = new Map<Hex, number>();
  private stopped = false;
  private running: Promise<void> | undefined;

  constructor(
    private readonly seq: DevNode,
    private readonly chainId: number,
  ) {}

  start(): void {
    this.running = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
  }

  private async run(): Promise<void> {
    const keys = DEV_KEYS.slice(1, 5) as Hex[];
    let i = 0;
    while (!this.stopped) {
      const key = keys[i++ % keys.length]!;
      const from = privateKeyToAccount(key).address;
      try {
        // a reorg may give a transaction back to the pool or drop it: the pool's pending nonce is the truth
        const nonce = this.nonces.get(key) ?? Number(await rpc<Hex>(this.seq.url, 'eth_getTransactionCount', [from, 'pending']));
        const raw = signTx(
          {
            chainId: this.chainId,
            nonce,
            to: privateKeyToAccount(generatePrivateKey()).address,
            value: 1n,
            gas: 21_000n,
            maxFeePerGas: 10_000_000_000n,
            maxPriorityFeePerGas: 1n,
            type: 'eip1559',
          },
          key,
        );
        await rpc(this.seq.url, 'eth_sendRawTransaction', [raw]);
        this.nonces.set(key, nonce + 1);
        this.sent++;
      } catch {
        this.refused++;
        this.nonces.delete(key);
      }
      await sleep(1000 / TPS);
    }
  }
}

async function rollupView(env: L1Env): Promise<{ batched: bigint; batches: bigint; outputs: bigint }> {
  const l1 = env.l1.publicClient;
  const a = env.deployment.rollup;
  const [next, batches, outputs] = await Promise.all([
    l1.readContract({ address: a, abi: rollupAbi, functionName: 'nextBlock' }),
    l1.readContract({ address: a, abi: rollupAbi, functionName: 'batchCount' }),
    l1.readContract({ address: a, abi: rollupAbi, functionName: 'outputCount' }),
  ]);
  return { batched: BigInt(next) - 1n, batches: BigInt(batches), outputs: BigInt(outputs) };
}

async function waitUntil(what: string, f: () => Promise<boolean>, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!(await f().catch(() => false))) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(500);
  }
}

/** Deposits on the final L1 chain, by recipient, against each recipient's L2 balance. */
async function depositsCheck(env: L1Env, seq: DevNode, recipients: Set<Hex>): Promise<{ onL1: number; missing: number; extra: number }> {
  const logs = await env.l1.publicClient.getLogs({ address: env.deployment.bridge, event: depositQueued, fromBlock: env.config.l1Start.number, toBlock: 'latest', strict: true });
  const want = new Map<string, bigint>();
  for (const l of logs) if (recipients.has(l.args.to)) want.set(l.args.to.toLowerCase(), (want.get(l.args.to.toLowerCase()) ?? 0n) + l.args.mint);
  let missing = 0;
  let extra = 0;
  for (const r of recipients) {
    const have = BigInt(await rpc<Hex>(seq.url, 'eth_getBalance', [r, 'latest']));
    const w = want.get(r.toLowerCase()) ?? 0n;
    if (have < w) missing++;
    if (have > w) extra++;
  }
  return { onL1: logs.length, missing, extra };
}

/** A node's first errors and last warnings (the story of a failed run). */
function notInfo(n: DevNode): string {
  const errors = n.logs.filter((l) => l.includes('"level":50')).slice(0, 10);
  return [...errors, ...n.logs.filter((l) => l.includes('"level":40')).slice(-10)].map((l) => l.slice(0, 500)).join('\n');
}

interface Soak {
  env: L1Env;
  proxy: L1FaultProxy;
  seq: DevNode;
  replica: DevNode;
  chainId: number;
}

async function main(): Promise<void> {
  const startLoad = loadavg()[0]!;
  const work = await mkdtemp(join(tmpdir(), 'bench-soak-'));
  const env = await startL1(work, { l1BlockTime: 1 });
  const proxy = await startL1FaultProxy(env.anvil.url, { seed: SEED });
  const nodes: DevNode[] = [];
  let ok = false;
  try {
    const chainId = Number(env.config.l2ChainId);
    const common = ['--rollup-config', env.configFile, '--l1-rpc', proxy.url, '--l1-poll-ms', '500'];
    const seqArgs = ['--batch-max-age', '5000', '--batch-origin-depth', String(MAX_REORG + 1), '--batcher-key', env.keys[1]!, '--proposer-key', env.keys[2]!];
    const seq = await startDevNode({ chainId, blockTime: 1, args: [...common, ...seqArgs] });
    nodes.push(seq);
    const replica = await startDevNode({ chainId, args: ['--replica', ...common] });
    nodes.push(replica);
    const ctx: Soak = { env, proxy, seq, replica, chainId };
    const rules = injectFaults(proxy, FAULT_RATE);
    console.log(`soak: ${MINUTES} min, ${TPS} tx/s, an L1 reorg every ~${REORG_EVERY_S} s, fault rate ${FAULT_RATE} per request kind, seed ${SEED}`);
    const run = await steadyLoad(ctx);
    // faults off: what is left must settle, then the two chains are compared
    proxy.clearRules();
    const row = await settle(
      ctx,
      run,
      rules.reduce((n, r) => n + r.hits, 0),
    );
    console.log(`\n${table([row])}\n`);
    console.log(machineNote(startLoad));
    ok = row['diverged blocks'] === 0 && row.deposits.endsWith('(0/0)');
  } catch (err) {
    for (const n of nodes) console.log(`warnings and errors of ${n === nodes[0] ? 'the sequencer' : 'the replica'}:\n${notInfo(n)}`);
    throw err;
  } finally {
    for (const n of nodes.reverse()) await n.stop().catch(() => undefined);
    await proxy.stop();
    await env.anvil.stop();
    for (const d of [work, ...nodes.map((n) => n.datadir)]) await removeDir(d);
  }
  if (!ok) {
    console.error('FAIL: the replica and the sequencer disagree, or a deposit is missing or doubled');
    process.exit(1);
  }
}

interface LoadRun {
  load: Load;
  recipients: Set<Hex>;
  reorgs: number;
  depth: number;
}

/** MINUTES of transfers, a deposit every DEPOSIT_EVERY_S and an L1 reorg every REORG_EVERY_S, with a progress line every 30 s. */
async function steadyLoad({ env, seq, replica, chainId }: Soak): Promise<LoadRun> {
  const load = new Load(seq, chainId);
  load.start();
  const recipients = new Set<Hex>();
  let reorgs = 0;
  let depth = 0;
  const started = Date.now();
  const end = started + MINUTES * 60_000;
  let nextDeposit = started + DEPOSIT_EVERY_S * 1000;
  let nextReorg = started + REORG_EVERY_S * 1000;
  let nextReport = started + 30_000;
  let rand = SEED;
  const roll = () => ((rand = (rand * 1103515245 + 12345) % 2 ** 31), rand / 2 ** 31);
  try {
    while (Date.now() < end) {
      const now = Date.now();
      if (now >= nextDeposit) {
        nextDeposit += DEPOSIT_EVERY_S * 1000;
        const to = privateKeyToAccount(generatePrivateKey()).address;
        recipients.add(to);
        // the user's own wallet reaches L1 directly
        await env.l1.walletClient
          .writeContract({ address: env.deployment.bridge, abi: bridgeTestAbi, functionName: 'depositETH', args: [to, 100_000n, '0x'], value: parseEther('0.001') })
          .catch((err: Error) => console.log(`deposit failed: ${err.message.split('\n')[0]}`));
      }
      if (now >= nextReorg) {
        nextReorg += REORG_EVERY_S * 1000;
        const d = 1 + Math.floor(roll() * MAX_REORG);
        await l1Call(env, 'anvil_reorg', [d, []]);
        reorgs++;
        depth += d;
      }
      if (now >= nextReport) {
        nextReport += 30_000;
        const v = await rollupView(env);
        const head = Number(await rpc<Hex>(seq.url, 'eth_blockNumber'));
        const safe = Number((await rpc<{ safe: { number: Hex } }>(replica.url, 'rollup_syncStatus')).safe.number);
        console.log(
          `${Math.round((now - started) / 1000)} s: L2 head ${head}, batched ${v.batched} (${v.batches} batches, ${v.outputs} outputs), replica safe ${safe}, ${load.sent} txs sent, ${reorgs} L1 reorgs`,
        );
      }
      await sleep(250);
    }
  } finally {
    await load.stop();
  }
  return { load, recipients, reorgs, depth };
}

/** Waits for batches over the final head and the replica to derive them, then compares. */
async function settle({ env, seq, replica }: Soak, { load, recipients, reorgs, depth }: LoadRun, faults: number) {
  const headAtEnd = BigInt(await rpc<Hex>(seq.url, 'eth_blockNumber'));
  await waitUntil('batches over the head at the end', async () => (await rollupView(env)).batched >= headAtEnd, 180_000);
  const batched = (await rollupView(env)).batched;
  await waitUntil('the replica deriving every batch', async () => BigInt((await rpc<{ safe: { number: Hex } }>(replica.url, 'rollup_syncStatus')).safe.number) >= batched, 180_000);
  const [a, b] = await Promise.all([chainOf(replica.url, batched), chainOf(seq.url, batched)]);
  const diverged = a.filter((x, i) => x !== b[i]).length;
  const deposits = await depositsCheck(env, seq, recipients);
  const v = await rollupView(env);
  const txs = await countTxs(seq.url, headAtEnd);
  const row = {
    minutes: MINUTES,
    'L2 blocks': Number(headAtEnd),
    'txs sent': load.sent,
    'txs in blocks': txs,
    refused: load.refused,
    batches: Number(v.batches),
    outputs: Number(v.outputs),
    'faults injected': faults,
    'L1 reorgs': `${reorgs} (${depth} blocks)`,
    'seq rewinds': await metric(seq, 'ai_rollup_sequencer_l2_rewinds_total'),
    'seq blocks rewound': await metric(seq, 'ai_rollup_sequencer_l2_blocks_rewound_total'),
    'replica L1 reorgs': await metric(replica, 'ai_rollup_derivation_l1_reorgs_total'),
    'seq L1 retries': await metric(seq, 'ai_rollup_l1_request_retries_total'),
    deposits: `${recipients.size} (${deposits.missing}/${deposits.extra})`,
    'diverged blocks': diverged,
  };
  return row;
}

/** `number hash stateRoot` of blocks 0..to (test/helpers/replica.ts has one, but its module imports vitest). */
async function chainOf(url: string, to: bigint): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0n; i <= to; i += 100n) {
    const last = i + 99n < to ? i + 99n : to;
    const calls = [];
    for (let k = i; k <= last; k++) calls.push(rpc<{ hash: Hex; stateRoot: Hex }>(url, 'eth_getBlockByNumber', [`0x${k.toString(16)}`, false]));
    for (const [j, b] of (await Promise.all(calls)).entries()) out.push(`${i + BigInt(j)} ${b.hash} ${b.stateRoot}`);
  }
  return out;
}

async function countTxs(url: string, to: bigint): Promise<number> {
  let n = 0;
  for (let i = 1n; i <= to; i += 100n) {
    const last = i + 99n < to ? i + 99n : to;
    const calls = [];
    for (let k = i; k <= last; k++) calls.push(rpc<{ transactions: { type: Hex }[] }>(url, 'eth_getBlockByNumber', [`0x${k.toString(16)}`, true]));
    // user transactions only: not the L1-info system deposit nor deposits
    for (const b of await Promise.all(calls)) n += b.transactions.filter((t) => t.type !== '0x7e').length;
  }
  return n;
}

await main();
