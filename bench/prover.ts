/**
 * npm run bench:prover — the prover daemon's throughput and latency. Prints figures, asserts nothing.
 *
 * 1. Proving pool (prover/worker/pool.ts) with 1 and 2 threads, on the 16-16-4 example (public and
 *    private input) and the MNIST-sized 784-32-10 MLP of bench:ai (both modes): after a warm-up
 *    (threads started, each model loaded), N proofs handed to the pool at once; proofs/s, proofs/s
 *    per thread, and per proof (InferenceProof.timings, measured inside the thread) median and p90
 *    of witness + prove, with the witness/prove split.
 * 2. Request to callback: `ai-rollup node --dev` (1-second blocks) and one `ai-rollup prover`
 *    (--concurrency 2, jobs found by its chain scan: no p2p peers), the InferenceConsumer example
 *    asking for the 16-16-4 model (public input). One warm-up request (the prover fetches the
 *    model package), then N requests one at a time (each waits for its callback) and N sent at
 *    once; each timed from sending the `ask` transaction until its ResultReceived event is
 *    returned by eth_getLogs (polled every 100 ms). 3. L2 gas of request, claim and fulfil,
 *    from the receipts of those requests.
 *
 * Model directories are cached in .cache/bench-prover. First run: the MNIST circuits need a K=14
 * Powers of Tau, made locally when .cache/ptau has none (6.4 min on the loaded 2-core machine;
 * cached afterwards), plus 25-45 s of Groth16 setup per input mode. `--quick`: no MNIST.
 *
 *   npx tsx bench/prover.ts [--quick] [--only pool|market] [--proofs 20] [--mnist-proofs 8] [--requests 20] [--poll-ms 2000]
 */
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { parseEther, parseEventLogs } from 'viem';
import type { Address, Hex, TransactionReceipt } from 'viem';
import { compileContracts } from '../contracts/compile.ts';
import { INFERENCE_MARKET_ADDRESS } from '../contracts/predeploys.ts';
import { devAccounts } from '../node/chain/genesis.ts';
import { cachedModel } from '../prover/aggregate/circuits.ts';
import type { Model } from '../precompiles/model/format.ts';
import { mulberry32, randomInput } from '../precompiles/model/random.ts';
import { parseModelSpecText } from '../precompiles/model/spec.ts';
import type { ParsedSpec } from '../precompiles/model/spec.ts';
import type { InferenceProof } from '../prover/pipeline/prove.ts';
import { ProverPool } from '../prover/worker/pool.ts';
import { TINY_SPEC, cliOk } from '../test/helpers/ai.ts';
import { deploy } from '../test/helpers/contracts.ts';
import { clients, removeDir, startDevNode } from '../test/helpers/dev-node.ts';
import type { DevNode } from '../test/helpers/dev-node.ts';
import { consumerAbi, marketAbi } from '../test/helpers/market.ts';
import { startProver, waitFor } from '../test/helpers/prover.ts';
import type { ProverProc } from '../test/helpers/prover.ts';
import { ROOT, killOnExit, machineNote, mnistModel, quantile, sleep, table } from './lib.ts';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    proofs: { type: 'string', default: '20' },
    'mnist-proofs': { type: 'string', default: '8' },
    requests: { type: 'string', default: '20' },
    'poll-ms': { type: 'string', default: '2000' },
  },
});
const positive = (name: string, v: string | undefined): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} takes a positive integer`);
  return n;
};
const PROOFS = positive('proofs', args.proofs);
const MNIST_PROOFS = positive('mnist-proofs', args['mnist-proofs']);
const REQUESTS = positive('requests', args.requests);
const POLL_MS = positive('poll-ms', args['poll-ms']);
if (args.only !== undefined && args.only !== 'pool' && args.only !== 'market') throw new Error('--only takes pool or market');

const CACHE = join(ROOT, '.cache/bench-prover');
const BLOCK_TIME_S = 1;
const EVENT_POLL_MS = 100;
const FEE = parseEther('0.01');
const TTL_S = 600n;
const PROVER_ACCOUNT = 5;
const CALLBACK_TIMEOUT_MS = 300_000;
const logger = pino({ level: 'warn' });
const progress = (msg: string) => process.stderr.write(`${msg}\n`);
const f0 = (x: number) => Math.round(x).toLocaleString('en-US');
const f2 = (x: number) => x.toFixed(2);
const seconds = (t0: number) => (performance.now() - t0) / 1000;

interface BenchModel {
  label: string;
  spec: ParsedSpec;
  proofs: number;
}

async function modelDir(m: BenchModel, mode: 'public' | 'private'): Promise<{ dir: string; readyS: number }> {
  const t0 = performance.now();
  progress(`${m.label} (${mode} input): compiling and setting up unless cached in .cache/bench-prover...`);
  const loaded = await cachedModel(m.spec, mode, CACHE);
  return { dir: loaded.dir, readyS: seconds(t0) };
}

const inputsFor = (model: Model, n: number, seed: number) => Array.from({ length: n }, (_, i) => Array.from(randomInput(mulberry32(seed + i), model)));

/** One pool of `threads`: warm-up (two proofs per thread), then `n` proofs queued at once. */
async function poolRun(dir: string, model: Model, threads: number, n: number): Promise<Record<string, string | number>> {
  const pool = new ProverPool({ concurrency: threads }, { logger });
  try {
    await Promise.all(inputsFor(model, 2 * threads, 9_000).map((x) => pool.prove(dir, x)));
    const t0 = performance.now();
    const proofs: InferenceProof[] = await Promise.all(inputsFor(model, n, 1).map((x) => pool.prove(dir, x)));
    const wallS = seconds(t0);
    const each = proofs.map((p) => p.timings.witnessMs + p.timings.proveMs);
    return {
      threads,
      proofs: n,
      'wall s': f2(wallS),
      'proofs/s': f2(n / wallS),
      'proofs/s per thread': f2(n / wallS / threads),
      'median ms': f0(quantile(each, 0.5)),
      'p90 ms': f0(quantile(each, 0.9)),
      'witness ms (median)': f0(
        quantile(
          proofs.map((p) => p.timings.witnessMs),
          0.5,
        ),
      ),
      'prove ms (median)': f0(
        quantile(
          proofs.map((p) => p.timings.proveMs),
          0.5,
        ),
      ),
    };
  } finally {
    await pool.close();
  }
}

async function poolSection(models: BenchModel[]): Promise<string[]> {
  const rows: Record<string, string | number>[] = [];
  const ready: string[] = [];
  for (const m of models) {
    for (const mode of ['public', 'private'] as const) {
      const { dir, readyS } = await modelDir(m, mode);
      ready.push(`${m.label} ${mode} ${readyS.toFixed(1)} s`);
      for (const threads of [1, 2]) {
        progress(`  proving ${m.proofs} x ${m.label} (${mode}) with ${threads} thread(s)...`);
        rows.push({ model: m.label, input: mode, ...(await poolRun(dir, m.spec.model, threads, m.proofs)) });
      }
    }
  }
  return [
    '## 1. Proving pool (ProverPool, worker_threads; per-proof figures measured inside the thread)',
    '',
    table(rows),
    '',
    `Models ready (compile + Groth16 setup, or the cache): ${ready.join(', ')}.`,
    'First run only: the 784-32-10 circuits need a K=14 Powers of Tau; without one in .cache/ptau it is made locally first',
    '(6.4 min on the loaded 2-core development machine), then cached.',
  ];
}

/** Every ResultReceived of one consumer, with the instant the bench first saw it over eth_getLogs. */
class CallbackWatch {
  private readonly seen = new Map<bigint, number>();
  private stopped = false;
  private readonly loop: Promise<void>;

  constructor(
    private readonly c: ReturnType<typeof clients>,
    private readonly consumer: Address,
    fromBlock: bigint,
  ) {
    this.loop = this.poll(fromBlock);
  }

  private async poll(fromBlock: bigint): Promise<void> {
    while (!this.stopped) {
      try {
        const logs = await this.c.publicClient.getContractEvents({ address: this.consumer, abi: consumerAbi, eventName: 'ResultReceived', fromBlock });
        const now = performance.now();
        for (const l of logs) if (l.args.id !== undefined && !this.seen.has(l.args.id)) this.seen.set(l.args.id, now);
      } catch (err) {
        progress(`eth_getLogs failed, retrying: ${(err as Error).message.split('\n')[0]}`);
      }
      await sleep(EVENT_POLL_MS);
    }
  }

  async when(id: bigint): Promise<number> {
    const end = Date.now() + CALLBACK_TIMEOUT_MS;
    for (;;) {
      const t = this.seen.get(id);
      if (t !== undefined) return t;
      if (Date.now() > end) throw new Error(`no ResultReceived for request ${id} within ${CALLBACK_TIMEOUT_MS / 1000} s`);
      await sleep(20);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }
}

interface Asked {
  id: bigint;
  ms: number;
  receipt: TransactionReceipt;
  sentAt: number;
  /** When waitForTransactionReceipt returned the ask's receipt. */
  includedAt: number;
  seenAt: number;
}

/** The dApp side: InferenceConsumer.ask from one account, nonces assigned here so asks can overlap. */
class Dapp {
  private nonce = 0;
  private gas = 0n;
  private k = 0;
  private sending: Promise<unknown> = Promise.resolve();

  constructor(
    readonly c: ReturnType<typeof clients>,
    readonly consumer: Address,
    readonly watch: CallbackWatch,
  ) {}

  async init(): Promise<void> {
    this.nonce = await this.c.publicClient.getTransactionCount({ address: this.c.account.address, blockTag: 'pending' });
    const est = await this.c.publicClient.estimateContractGas({
      account: this.c.account,
      address: this.consumer,
      abi: consumerAbi,
      functionName: 'ask',
      args: [this.input(0), TTL_S],
      value: FEE,
    });
    this.gas = (est * 13n) / 10n;
  }

  /** The input values of the k-th request (public input: they are the input signals). */
  private input(k: number): bigint[] {
    return Array.from({ length: 16 }, (_, i) => BigInt((i * 29 + k * 41 + 7) % 256));
  }

  /** Sends in nonce order (overlapping asks queue here); the clock starts as the transaction is sent. */
  private send(): Promise<{ hash: Hex; sentAt: number }> {
    const k = ++this.k;
    const run = async () => {
      const sentAt = performance.now();
      const hash = await this.c.walletClient.writeContract({
        address: this.consumer,
        abi: consumerAbi,
        functionName: 'ask',
        args: [this.input(k), TTL_S],
        value: FEE,
        nonce: this.nonce,
        gas: this.gas,
      });
      this.nonce++;
      return { hash, sentAt };
    };
    const sent = this.sending.then(run);
    this.sending = sent.catch(() => undefined);
    return sent;
  }

  async ask(): Promise<Asked> {
    const { hash, sentAt } = await this.send();
    const receipt = await this.c.publicClient.waitForTransactionReceipt({ hash, timeout: CALLBACK_TIMEOUT_MS });
    const includedAt = performance.now();
    if (receipt.status !== 'success') throw new Error(`ask ${hash} reverted`);
    const id = parseEventLogs({ abi: marketAbi, logs: receipt.logs, eventName: 'InferenceRequested' })[0]!.args.id;
    const seenAt = await this.watch.when(id);
    return { id, ms: seenAt - sentAt, receipt, sentAt, includedAt, seenAt };
  }
}

function latencyRow(name: string, runs: Asked[]): Record<string, string | number> {
  const ms = runs.map((r) => r.ms);
  const spanS = (Math.max(...runs.map((r) => r.seenAt)) - Math.min(...runs.map((r) => r.sentAt))) / 1000;
  return {
    requests: name,
    n: runs.length,
    'min ms': f0(quantile(ms, 0)),
    'median ms': f0(quantile(ms, 0.5)),
    'p90 ms': f0(quantile(ms, 0.9)),
    'max ms': f0(quantile(ms, 1)),
    'first send to last callback, s': f2(spanS),
    'requests/s': f2(runs.length / spanS),
  };
}

interface MarketTx {
  hash: Hex;
  block: bigint;
}
type MarketTxs = Record<'claim' | 'fulfil', Map<bigint, MarketTx>>;

/** The prover's claim and fulfil transactions, by request id. */
async function marketTxs(d: Dapp, prover: Address, fromBlock: bigint): Promise<MarketTxs> {
  const byId = async (eventName: 'Claimed' | 'InferenceFulfilled') => {
    const logs = await d.c.publicClient.getContractEvents({ address: INFERENCE_MARKET_ADDRESS, abi: marketAbi, eventName, args: { prover }, fromBlock });
    return new Map(logs.map((l) => [l.args.id!, { hash: l.transactionHash, block: l.blockNumber }]));
  };
  return { claim: await byId('Claimed'), fulfil: await byId('InferenceFulfilled') };
}

/** Where the time of a request goes, in medians: the bench's clock to the ask's receipt, then blocks. */
function stageRow(name: string, runs: Asked[], txs: MarketTxs): Record<string, string | number> {
  const blocks = (from: (r: Asked) => bigint | undefined, to: (r: Asked) => bigint | undefined) =>
    runs.flatMap((r) => {
      const a = from(r);
      const b = to(r);
      return a === undefined || b === undefined ? [] : [Number(b - a)];
    });
  const askToClaim = blocks(
    (r) => r.receipt.blockNumber,
    (r) => txs.claim.get(r.id)?.block,
  );
  const claimToFulfil = blocks(
    (r) => txs.claim.get(r.id)?.block,
    (r) => txs.fulfil.get(r.id)?.block,
  );
  return {
    requests: name,
    'send -> ask receipt ms': f0(
      quantile(
        runs.map((r) => r.includedAt - r.sentAt),
        0.5,
      ),
    ),
    'ask -> claim blocks (max)': `${quantile(askToClaim, 0.5)} (${quantile(askToClaim, 1)})`,
    'claim -> fulfil blocks (max)': `${quantile(claimToFulfil, 0.5)} (${quantile(claimToFulfil, 1)})`,
    'ask receipt -> callback seen ms': f0(
      quantile(
        runs.map((r) => r.seenAt - r.includedAt),
        0.5,
      ),
    ),
  };
}

/** Gas of each measured request's ask, claim and fulfil transactions, from their receipts. */
async function gasRows(d: Dapp, runs: Asked[], txs: MarketTxs): Promise<Record<string, string | number>[]> {
  const ids = runs.map((r) => r.id);
  const gasOf = async (m: Map<bigint, MarketTx>) =>
    Promise.all(ids.flatMap((id) => (m.has(id) ? [m.get(id)!.hash] : [])).map(async (hash) => Number((await d.c.publicClient.getTransactionReceipt({ hash })).gasUsed)));
  const row = (tx: string, gas: number[]) => ({ transaction: tx, n: gas.length, min: f0(quantile(gas, 0)), median: f0(quantile(gas, 0.5)), max: f0(quantile(gas, 1)) });
  return [
    row(
      'request (InferenceConsumer.ask -> requestInference, 16 input signals)',
      runs.map((r) => Number(r.receipt.gasUsed)),
    ),
    row('claim', await gasOf(txs.claim)),
    row('fulfil (incl. the callback: 4 outputs stored, an event)', await gasOf(txs.fulfil)),
  ];
}

async function measure(d: Dapp, prover: ProverProc, fromBlock: bigint): Promise<string[]> {
  progress('warm-up request (the prover fetches the model package)...');
  const warm = await d.ask();
  progress(`  ${f0(warm.ms)} ms; ${REQUESTS} requests one at a time...`);
  const serial: Asked[] = [];
  for (let i = 0; i < REQUESTS; i++) serial.push(await d.ask());
  progress(`${REQUESTS} requests at once...`);
  const burst = await Promise.all(Array.from({ length: REQUESTS }, () => d.ask()));
  // the bench may see a callback before the prover has the fulfil's receipt and logs the job's end
  const total = 1 + 2 * REQUESTS;
  await waitFor('the prover to log every job', async () => prover.records('job done').length >= total, 30_000).catch(() => undefined);
  const ends = prover.records('job done').map((r) => String(r.end));
  const count = (e: string) => ends.filter((x) => x === e).length;
  const txs = await marketTxs(d, prover.address, fromBlock);
  return [
    `## 2. Request to callback (block time ${BLOCK_TIME_S} s; prover --concurrency 2, --poll-ms ${POLL_MS}: chain scan for requests every ${POLL_MS} ms; ResultReceived polled every ${EVENT_POLL_MS} ms)`,
    '',
    `warm-up request (model package fetched by the prover): ${f0(warm.ms)} ms`,
    '',
    table([latencyRow('one at a time', serial), latencyRow(`${REQUESTS} at once`, burst)]),
    '',
    `Prover job ends: ${count('fulfilled')} fulfilled, ${ends.length - count('fulfilled')} other (${ends.filter((x) => x !== 'fulfilled').join(', ') || 'none'}).`,
    '',
    'Where the time goes (medians; blocks are 1 s apart): the ask waits for the next block, the chain scan finds it on its next',
    'poll, the claim is mined, the proof is made, the fulfil (with the callback) is mined, then the bench sees the event.',
    '',
    table([stageRow('one at a time', serial, txs), stageRow(`${REQUESTS} at once`, burst, txs)]),
    '',
    '## 3. L2 gas (receipts of the requests above; the prover claims every job before fulfilling it)',
    '',
    table(await gasRows(d, [warm, ...serial, ...burst], txs)),
  ];
}

async function marketSection(tinyPublicDir: string): Promise<string[]> {
  const work = mkdtempSync(join(tmpdir(), 'bench-prover-'));
  const modelsDir = join(work, 'models');
  cpSync(tinyPublicDir, join(modelsDir, 'tiny'), { recursive: true });
  let node: DevNode | undefined;
  let prover: ProverProc | undefined;
  let watch: CallbackWatch | undefined;
  try {
    progress('starting a dev node (1-second blocks)...');
    node = await startDevNode({ blockTime: BLOCK_TIME_S, args: ['--models', modelsDir] });
    killOnExit(node.proc);
    const modelId = JSON.parse(await cliOk(['model', 'register', '--model', join(modelsDir, 'tiny'), '--rpc', node.url, '--dev'])).modelId as Hex;
    const c = clients(node, devAccounts()[0]!.privateKey as Hex);
    const { InferenceConsumer } = await compileContracts(['examples/InferenceConsumer.sol']);
    const consumer = (await deploy(c.walletClient, c.publicClient, InferenceConsumer!, [modelId])).address;
    const fromBlock = await c.publicClient.getBlockNumber();
    progress('starting the prover...');
    prover = await startProver([
      '--rpc',
      node.url,
      '--dev-account',
      String(PROVER_ACCOUNT),
      '--stake',
      '2',
      '--concurrency',
      '2',
      '--datadir',
      join(work, 'prover'),
      '--poll-ms',
      String(POLL_MS),
      '--p2p.listen',
      '/ip4/127.0.0.1/tcp/0',
    ]);
    killOnExit(prover.proc);
    watch = new CallbackWatch(c, consumer, fromBlock);
    const d = new Dapp(c, consumer, watch);
    await d.init();
    return await measure(d, prover, fromBlock);
  } finally {
    await watch?.stop();
    await prover?.stop();
    await node?.stop();
    if (node !== undefined) await removeDir(node.datadir);
    rmSync(work, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const startLoad = loadavg()[0]!;
  const tiny: BenchModel = { label: '16-16-4', spec: parseModelSpecText(readFileSync(TINY_SPEC, 'utf8')), proofs: PROOFS };
  const mnist: BenchModel = { label: '784-32-10', spec: { name: '784-32-10', version: 1, model: mnistModel() }, proofs: MNIST_PROOFS };
  const out: string[] = [`bench:prover, ${new Date().toISOString().slice(0, 10)}`, ''];
  if (args.only !== 'market') out.push(...(await poolSection(args.quick ? [tiny] : [tiny, mnist])), '');
  if (args.only !== 'pool') out.push(...(await marketSection((await modelDir(tiny, 'public')).dir)), '');
  out.push(machineNote(startLoad));
  process.stdout.write(`${out.join('\n')}\n`);
  process.exit(0);
}

await main();
