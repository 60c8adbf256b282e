/**
 * The explorer's pages on a long chain (npm run bench:explorer [blocks]): a dev node with a model,
 * five provers and an inference request fulfilled every 20 blocks, measured at 1,000 blocks and
 * again at the full length (10,000 by default), so a page whose time grows with the chain shows.
 * Each page is fetched over HTTP as a browser would (median of 5). Prints figures, asserts nothing.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { type Hex, encodeFunctionData, keccak256, parseEther } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { marketAbi } from '../contracts/abi/market.ts';
import { INFERENCE_MARKET_ADDRESS } from '../contracts/predeploys.ts';
import { RollupNode } from '../node/assembly/node.ts';
import { defaultNodeOptions } from '../node/assembly/options.ts';
import { devAccounts } from '../node/chain/genesis.ts';
import { createLogger } from '../node/logger.ts';

const BLOCKS = Number(process.argv[2] ?? 10_000);
const FIRST = Math.min(1_000, BLOCKS);
const EVERY = 20; // an inference request (and its claim and fulfilment) every EVERY blocks
const PROVERS = 5;
const BIN = resolve(import.meta.dirname, '../bin/ai-rollup.js');
const SPEC = resolve(import.meta.dirname, '../precompiles/model/examples/tiny-16-16-4.json');
const KEYS = devAccounts().map((a) => a.privateKey as Hex);

const cli = async (args: string[]) => (await promisify(execFile)(process.execPath, [BIN, ...args], { maxBuffer: 64 << 20 })).stdout;

async function rpc(url: string, method: string, params: unknown[] = []): Promise<any> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }) });
  const body = (await res.json()) as { result?: unknown; error?: { message: string } };
  if (body.error) throw new Error(`${method}: ${body.error.message}`);
  return body.result;
}

/** Median milliseconds of 5 GETs of `path`, after one to warm up; the status must be 200. */
async function time(url: string): Promise<number> {
  const ms: number[] = [];
  for (let i = 0; i < 6; i++) {
    const t = performance.now();
    const res = await fetch(url);
    await res.text();
    if (res.status !== 200) throw new Error(`${url}: HTTP ${res.status}`);
    if (i > 0) ms.push(performance.now() - t);
  }
  return ms.sort((a, b) => a - b)[2]!;
}

async function main(): Promise<void> {
  const datadir = await mkdtemp(join(tmpdir(), 'ai-rollup-bench-explorer-'));
  const models = join(datadir, 'models');
  const opts = {
    ...defaultNodeOptions,
    datadir,
    modelsDir: models,
    dev: true,
    rpc: { ...defaultNodeOptions.rpc, port: 0 },
    sequencer: { ...defaultNodeOptions.sequencer, blockTime: 0 },
  };
  const node = await RollupNode.init(opts, createLogger('warn', false));
  try {
    const url = node.rpcUrl;
    await cli(['model', 'compile', SPEC, '--out', join(models, 'tiny')]);
    const modelId = JSON.parse(await cli(['model', 'register', '--model', join(models, 'tiny'), '--rpc', url, '--dev', '--weights'])).modelId as Hex;
    await writeFile(join(datadir, 'input.json'), JSON.stringify(Array.from({ length: 16 }, (_, i) => i * 7)));
    await cli(['model', 'prove', '--model', join(models, 'tiny'), '--input', join(datadir, 'input.json'), '--out', join(datadir, 'proof.json')]);
    const proof = JSON.parse(await readFile(join(datadir, 'proof.json'), 'utf8')) as { output: number[]; publicSignals: string[]; proofWords: string[] };
    const signals = proof.publicSignals.map(BigInt);
    const outputs = signals.slice(0, proof.output.length);
    const inputs = signals.slice(proof.output.length);
    await rpc(url, 'evm_setAutomine', [false]);

    const nonces = new Map<number, number>();
    const hashes: Hex[] = [];
    const send = async (who: number, data: Hex, value = 0n, gas = 1_000_000n, to: Hex = INFERENCE_MARKET_ADDRESS) => {
      const nonce = nonces.get(who) ?? Number(await rpc(url, 'eth_getTransactionCount', [privateKeyToAccount(KEYS[who]!).address, 'pending']));
      nonces.set(who, nonce + 1);
      const raw = await privateKeyToAccount(KEYS[who]!).signTransaction({ chainId: 1337, nonce, to, data, value, gas, maxFeePerGas: 10n ** 10n, maxPriorityFeePerGas: 1n });
      hashes.push(keccak256(raw));
      await rpc(url, 'eth_sendRawTransaction', [raw]);
    };
    const market = (functionName: string, args: unknown[]) => encodeFunctionData({ abi: marketAbi, functionName, args } as never);
    for (let p = 1; p <= PROVERS; p++) await send(p, market('registerProver', []), parseEther('10'));
    await node.producer.mineOne();

    let requests = 0;
    let made = 0;
    const build = async (to: number) => {
      const t = performance.now();
      for (let b = Number(await rpc(url, 'eth_blockNumber')); b < to; b++) {
        if (b % EVERY === 0) {
          await send(0, market('requestInference', [modelId, inputs, 86_400n, '0x0000000000000000000000000000000000000000', 0]), parseEther('0.01'));
          made++;
        } else if (requests < made) {
          // the request sealed in the block before: claimed and fulfilled in this one
          requests++;
          const prover = 1 + (requests % PROVERS);
          await send(prover, market('claim', [BigInt(requests)]));
          await send(prover, market('fulfill', [BigInt(requests), outputs, proof.proofWords.map(BigInt)]), 0n, 3_000_000n);
        }
        if (b % 10 === 5) await send(6, '0x', 1n, 21_000n, `0x${(b + 1).toString(16).padStart(40, '0')}`);
        await node.producer.mineOne();
      }
      return performance.now() - t;
    };

    const pages = async () => {
      const head = BigInt(await rpc(url, 'eth_blockNumber'));
      const last = hashes.at(-1)!;
      const prover = privateKeyToAccount(KEYS[2]!).address;
      const out: [string, string][] = [
        ['home', '/'],
        ['home, live fragment', '/fragments/home'],
        ['block (head)', `/block/${head}`],
        ['block (genesis + 1)', '/block/1'],
        ['transaction', `/tx/${last}`],
        ['address (busy sender)', `/address/${privateKeyToAccount(KEYS[0]!).address}`],
        ['models', '/models'],
        ['model', `/model/${modelId}`],
        ['inference requests', '/requests'],
        ['inference request (first)', '/request/1'],
        ['provers', '/provers'],
        ['prover', `/prover/${prover}`],
      ];
      const res = new Map<string, number>();
      for (const [name, path] of out) res.set(name, await time(`${url}/explorer${path}`));
      return { head, res };
    };

    const fulfilled = async () => {
      const r = await rpc(url, 'ai_getInferenceRequest', [`0x${requests.toString(16)}`]);
      if (r?.status !== 'fulfilled') throw new Error(`request ${requests} is ${r?.status}: the chain is not what the bench means to measure`);
    };
    const firstMs = await build(FIRST);
    await fulfilled();
    const early = await pages();
    const restMs = await build(BLOCKS);
    await fulfilled();
    const late = await pages();
    console.log(
      `chain: ${early.head} blocks built in ${(firstMs / 1000).toFixed(1)} s, ${late.head} in ${((firstMs + restMs) / 1000).toFixed(1)} s; ${requests} inference requests fulfilled`,
    );
    console.log(`\n| page | ${early.head} blocks (ms) | ${late.head} blocks (ms) | ratio |`);
    console.log('|---|---:|---:|---:|');
    for (const [name, ms] of late.res) {
      const before = early.res.get(name)!;
      console.log(`| ${name} | ${before.toFixed(1)} | ${ms.toFixed(1)} | ${(ms / before).toFixed(2)}x |`);
    }
  } finally {
    await node.close();
    await rm(datadir, { recursive: true, force: true });
  }
}

await main();
