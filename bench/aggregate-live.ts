/**
 * `npm run bench:aggregate -- --live`: L1 gas per inference of the live InferencePoster (the
 * class the node runs), at 64 inferences per rollup batch. Prints figures, asserts nothing.
 *
 * A real L2 (in-process dev node with the market and registry predeploys) gets, per round, 64
 * market requests of the 16-16-4 example (private input, compiled with --aggregate 4) and their
 * 64 fulfilments with real single proofs; the bench then posts one rollup batch covering exactly
 * those blocks to the real Rollup on anvil, as the batcher would, and a fresh InferencePoster
 * posts the batch's proofs to the real InferenceOracle: it reads the L2 logs, proves 4
 * inferences per proof on its own threads, verifies them and submits. Rounds: aggregation with
 * the keys in calldata; aggregation with keys stored (addKey first); single proofs only (the
 * same poster without model packages: what the node did before).
 */
import { EMPTY_RESULTS_ROOT } from '../node/rollup/result-leaf.ts';
import { mkdtemp, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { createPublicClient, createWalletClient, encodeFunctionData, http, keccak256, parseEther, parseEventLogs, zeroAddress } from 'viem';
import type { Address, Chain, Hex, PublicClient } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { startAnvil } from '../devnet/anvil.ts';
import { deployL1 } from '../devnet/deploy.ts';
import { ArtifactStore } from '../node/ai/artifact-store.ts';
import { JobInputs } from '../node/ai/job-inputs.ts';
import { devAccounts } from '../node/chain/genesis.ts';
import { artifactModelDir } from '../node/assembly/sequencer-l1.ts';
import { registerModel } from '../node/cli/model-register.ts';
import { RollupNode } from '../node/assembly/node.ts';
import { defaultNodeOptions } from '../node/assembly/options.ts';
import { inferenceOracleAbi } from '../contracts/abi/oracle.ts';
import { inputHash } from '../precompiles/model/input-hash.ts';
import { INFERENCE_MARKET_ADDRESS, MODEL_REGISTRY_ADDRESS, loadArtifact } from '../contracts/predeploys.ts';
import { posterAggregation } from '../prover/aggregate/batch-aggregator.ts';
import type { FulfilledInference } from '../node/rollup/oracle-submission.ts';
import { marketAbi } from '../contracts/abi/market.ts';
import { mulberry32, randomInput } from '../precompiles/model/random.ts';
import { parseModelSpecText } from '../precompiles/model/spec.ts';
import { compileModel } from '../prover/pipeline/compile-model.ts';
import type { InferenceProof } from '../prover/pipeline/prove.ts';
import { ProverPool } from '../prover/worker/pool.ts';
import { InferencePoster } from '../sequencer/inference-poster.ts';
import type { FulfilledSource, InferencePosterOptions, PostedInferences } from '../sequencer/inference-poster.ts';
import { bridgeAbi, rollupAbi } from '../contracts/abi/rollup.ts';
import { ROOT, table } from './lib.ts';
import { chainAt } from '../contracts/abi/chain.ts';

const BATCH = 64;
const K = 4;
const logger = pino({ level: process.env.LOG_LEVEL ?? 'warn' });
const fmt = (n: number | bigint): string => Math.round(Number(n)).toLocaleString('en-US');

interface Env {
  node: RollupNode;
  l2: PublicClient;
  l1: PublicClient;
  anvilKeys: Hex[];
  anvilUrl: string;
  chain: Chain;
  rollup: Address;
  bridge: Address;
  oracle: Address;
  modelsDir: string;
  stop(): Promise<void>;
}

async function start(work: string): Promise<Env> {
  const anvil = await startAnvil({ gasLimit: 60_000_000n });
  const keys = anvil.accounts;
  const addr = (k: Hex) => privateKeyToAccount(k).address;
  const d = await deployL1({
    l1Url: anvil.url,
    deployerKey: keys[0]!,
    batcher: addr(keys[1]!),
    proposer: addr(keys[2]!),
    challenger: addr(keys[3]!),
    challengeWindow: 3600n,
    inclusionWindow: 86_400n,
  });
  const modelsDir = join(work, 'models');
  const node = await RollupNode.init(
    {
      ...defaultNodeOptions,
      datadir: join(work, 'l2'),
      modelsDir,
      dev: true,
      rpc: { ...defaultNodeOptions.rpc, port: 0 },
      sequencer: { ...defaultNodeOptions.sequencer, blockTime: 1 },
    },
    logger.child({ module: 'l2' }),
  );
  const chain = chainAt(anvil.chainId, anvil.url, 'anvil');
  return {
    node,
    l2: createPublicClient({ transport: http(node.rpcUrl), pollingInterval: 100 }) as PublicClient,
    l1: createPublicClient({ chain, transport: http(anvil.url), pollingInterval: 50 }) as PublicClient,
    anvilKeys: keys,
    anvilUrl: anvil.url,
    chain,
    rollup: d.rollup,
    bridge: d.bridge,
    oracle: d.inferenceOracle,
    modelsDir,
    stop: async () => {
      await node.close();
      await anvil.stop();
    },
  };
}

/** 64 requests, then their 64 fulfilments with the given proofs; returns the request ids. */
async function requestAndFulfil(env: Env, modelId: Hex, inputs: number[][], proofs: InferenceProof[]): Promise<bigint[]> {
  const l2chain = chainAt(await env.l2.getChainId(), env.node.rpcUrl, 'l2');
  const [dapp, prover] = devAccounts().map((a) => createWalletClient({ chain: l2chain, account: privateKeyToAccount(a.privateKey as Hex), transport: http(env.node.rpcUrl) }));
  const send = async (w: typeof dapp, calls: { data: Hex; value?: bigint; gas: bigint }[]) => {
    let nonce = await env.l2.getTransactionCount({ address: w!.account.address, blockTag: 'pending' });
    const hashes: Hex[] = [];
    for (const c of calls) hashes.push(await w!.sendTransaction({ to: INFERENCE_MARKET_ADDRESS, ...c, nonce: nonce++ }));
    const receipts = await Promise.all(hashes.map((hash) => env.l2.waitForTransactionReceipt({ hash, timeout: 120_000 })));
    if (receipts.some((r) => r.status !== 'success')) throw new Error('an L2 market transaction reverted');
    return receipts;
  };
  const asked = await send(
    dapp,
    inputs.map((x) => ({
      data: encodeFunctionData({ abi: marketAbi, functionName: 'requestInference', args: [modelId, [inputHash(x)], 3600n, zeroAddress, 0] }),
      value: parseEther('0.001'),
      gas: 1_000_000n,
    })),
  );
  const ids = asked.map((r) => parseEventLogs({ abi: marketAbi, logs: r.logs, eventName: 'InferenceRequested' })[0]!.args.id);
  // the market pays only the claimant
  await send(
    prover,
    ids.map((id) => ({ data: encodeFunctionData({ abi: marketAbi, functionName: 'claim', args: [id] }), gas: 300_000n })),
  );
  await send(
    prover,
    ids.map((id, i) => ({
      data: encodeFunctionData({
        abi: marketAbi,
        functionName: 'fulfill',
        args: [id, proofs[i]!.publicSignals.slice(0, -1).map(BigInt), proofs[i]!.proofWords.map(BigInt) as never],
      }),
      gas: 1_500_000n,
    })),
  );
  return ids;
}

/** Posts the rollup batch of every L2 block not yet batched (as the batcher would) and returns its index. */
async function postRollupBatch(env: Env): Promise<bigint> {
  const batcher = createWalletClient({ chain: env.chain, account: privateKeyToAccount(env.anvilKeys[1]!), transport: http(env.anvilUrl) });
  const read = <T>(functionName: 'batchCount' | 'nextBlock' | 'lastBatchHash') => env.l1.readContract({ address: env.rollup, abi: rollupAbi, functionName }) as Promise<T>;
  const [index, first, prev] = [await read<bigint>('batchCount'), await read<bigint>('nextBlock'), await read<Hex>('lastBatchHash')];
  const depositHash = await env.l1.readContract({ address: env.bridge, abi: bridgeAbi, functionName: 'depositHashAt', args: [0n] });
  const last = await env.l2.getBlockNumber();
  const header = { index, prevBatchHash: prev, firstBlock: first, lastBlock: last, dataHash: keccak256('0x00'), depositCount: 0n, depositHash, resultsRoot: EMPTY_RESULTS_ROOT };
  const hash = await batcher.sendTransaction({ to: env.rollup, data: encodeFunctionData({ abi: rollupAbi, functionName: 'submitBatch', args: [header, '0x00'] }) });
  await env.l1.waitForTransactionReceipt({ hash });
  return index;
}

/** A fresh poster posts batch `index`; resolves with what it posted and how long it took. */
async function runPoster(
  env: Env,
  index: bigint,
  inputs: JobInputs | undefined,
  options: Partial<InferencePosterOptions>,
): Promise<{ posted: PostedInferences; seconds: number; addKeyGas: bigint }> {
  const account = privateKeyToAccount(env.anvilKeys[5]!);
  const wallet = createWalletClient({ chain: env.chain, account, transport: http(env.anvilUrl) });
  const artifacts = inputs === undefined ? undefined : new ArtifactStore(env.modelsDir, logger);
  const poster = new InferencePoster(
    {
      l1: { public: env.l1, wallet },
      rollup: env.rollup,
      oracle: env.oracle,
      logger: logger.child({ module: 'inference-poster' }),
      inferences: rpcFulfilledInferences(env.l2),
      aggregation: artifacts && posterAggregation({ modelDir: artifactModelDir(artifacts), jobInput: (id) => inputs?.get(id), logger, threads: 2 }),
      jobInputs: inputs,
    },
    { pollMs: 100, ...options },
  );
  const from = await env.l1.getBlockNumber();
  const t0 = performance.now();
  const posted = new Promise<PostedInferences>((res) => poster.onPosted((p) => p.batchIndex === index && res(p)));
  poster.start();
  const p = await posted;
  const seconds = (performance.now() - t0) / 1000;
  await poster.stop();
  const added = await env.l1.getContractEvents({ address: env.oracle, abi: inferenceOracleAbi, eventName: 'KeyAdded', fromBlock: from + 1n });
  let addKeyGas = 0n;
  for (const e of added) addKeyGas += (await env.l1.getTransactionReceipt({ hash: e.transactionHash })).gasUsed;
  return { posted: p, seconds, addKeyGas };
}

export async function liveBench(): Promise<void> {
  const spec = parseModelSpecText(readFileSync(join(ROOT, 'precompiles/model/examples/tiny-16-16-4.json'), 'utf8'));
  const work = await mkdtemp(join(tmpdir(), 'bench-aggregate-live-'));
  const env = await start(work);
  const pool = new ProverPool({ concurrency: 2 }, { logger });
  try {
    const dir = join(env.modelsDir, 'tiny-private');
    const { manifest } = await compileModel(spec, { outDir: dir, input: 'private', aggregate: K });
    await registerModel({ modelDir: dir, rpcUrl: env.node.rpcUrl, privateKey: devAccounts()[0]!.privateKey as Hex, metadataUri: 'bench://tiny', weights: false });
    const prover = createWalletClient({
      chain: chainAt(await env.l2.getChainId(), env.node.rpcUrl, 'l2'),
      account: privateKeyToAccount(devAccounts()[1]!.privateKey as Hex),
      transport: http(env.node.rpcUrl),
    });
    // every round claims its 64 jobs at once: 64 claim stakes (0.1 ETH each) free, and the minimum
    await env.l2.waitForTransactionReceipt({
      hash: await prover.writeContract({ address: INFERENCE_MARKET_ADDRESS, abi: marketAbi, functionName: 'registerProver', value: parseEther('8') }),
    });
    const rng = mulberry32(64_064);
    const inputs = Array.from({ length: BATCH }, () => Array.from(randomInput(rng, spec.model)));
    const proofs = await Promise.all(inputs.map((x) => pool.prove(dir, x)));
    const rounds: { name: string; aggregate: boolean; options: Partial<InferencePosterOptions> }[] = [
      { name: 'aggregate k=4, keys in calldata', aggregate: true, options: { storeKeysAfter: Infinity } },
      { name: 'aggregate k=4, keys stored (addKey first)', aggregate: true, options: { storeKeysAfter: 0 } },
      { name: 'single proofs, key in calldata', aggregate: false, options: { storeKeysAfter: Infinity } },
      { name: 'single proofs, key stored (addKey first)', aggregate: false, options: { storeKeysAfter: 0 } },
    ];
    const rows: Record<string, string>[] = [];
    for (const r of rounds) {
      const ids = await requestAndFulfil(env, manifest.modelId, inputs, proofs);
      const held = new JobInputs();
      // what ai_submitJobInput and the fulfilment do in the node
      ids.forEach((id, i) => (held.put(id, inputs[i]!), held.close(id)));
      const index = await postRollupBatch(env);
      const { posted: p, seconds, addKeyGas } = await runPoster(env, index, r.aggregate ? held : undefined, r.options);
      rows.push({
        poster: r.name,
        inferences: String(p.inferences),
        proofs: `${p.proofs} (${p.aggregateProofs} aggregate)`,
        'calldata B': fmt(p.calldataBytes),
        'L1 gas': fmt(p.gasUsed),
        'per inference': fmt(Number(p.gasUsed) / p.inferences),
        addKey: addKeyGas === 0n ? '' : fmt(addKeyGas),
        'prepare + post s': seconds.toFixed(1),
      });
      process.stderr.write(`${r.name}: batch ${index} posted\n`);
    }
    process.stdout.write(`Live InferencePoster, ${BATCH} inferences of 16-16-4 (private input) per rollup batch, whole L1 transactions:\n${table(rows)}\n`);
  } finally {
    await pool.close();
    await env.stop();
    await rm(work, { recursive: true, force: true });
  }
}

/** The poster's inferences read over JSON-RPC, as any client of the chain would (the node reads them in-process). */
function rpcFulfilledInferences(l2: PublicClient): FulfilledSource {
  const registryAbi = loadArtifact('ModelRegistry').abi;
  return {
    async fulfilledIn(from, to) {
      const logs = await l2.getContractEvents({ address: INFERENCE_MARKET_ADDRESS, abi: marketAbi, eventName: 'InferenceFulfilled', fromBlock: from, toBlock: to });
      const out: FulfilledInference[] = [];
      for (const log of logs) {
        const { id, modelId, outputs, proof, prover } = log.args;
        if (id === undefined || modelId === undefined || outputs === undefined || proof === undefined || prover === undefined) continue;
        const at = log.blockNumber;
        const req = await l2.readContract({ address: INFERENCE_MARKET_ADDRESS, abi: marketAbi, functionName: 'getRequest', args: [id], blockNumber: at });
        const m = (await l2.readContract({ address: MODEL_REGISTRY_ADDRESS, abi: registryAbi, functionName: 'getModel', args: [modelId], blockNumber: at })) as {
          verifyingKey: Hex;
        };
        const single = { vk: m.verifyingKey, modelId, publicSignals: [...outputs, ...req.inputSignals], proofWords: [...proof] };
        out.push({ requestId: id, modelId, outputs: [...outputs], inputSignals: [...req.inputSignals], single, prover, vkHash: keccak256(m.verifyingKey) });
      }
      return out;
    },
  };
}
