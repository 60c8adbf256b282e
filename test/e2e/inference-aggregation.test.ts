import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeFunctionData, getAddress, keccak256, parseEther } from 'viem';
import type { Address, Hex } from 'viem';
import { compileContracts } from '../../contracts/compile.ts';
import { INFERENCE_MARKET_ADDRESS } from '../../contracts/predeploys.ts';
import { devAccounts } from '../../node/chain/genesis.ts';
import { buildBatchSubmission } from '../../node/rollup/oracle-submission.ts';
import type { InferenceProofInput } from '../../node/rollup/oracle-submission.ts';
import { inferenceOracleAbi } from '../../contracts/abi/oracle.ts';
import { inputHash } from '../../precompiles/model/input-hash.ts';
import { TINY_SPEC, cliOk, compileModelCached } from '../helpers/ai.ts';
import { deploy } from '../helpers/contracts.ts';
import { clients, removeDir } from '../helpers/dev-node.ts';
import type { DevNode } from '../helpers/dev-node.ts';
import { askMany, marketAbi, writeMarketGenesis } from '../helpers/market.ts';
import { startProver, waitFor } from '../helpers/prover.ts';
import type { ProverProc } from '../helpers/prover.ts';
import { oracleBatchesFor, startL1, startRollupNode } from '../helpers/rollup.ts';
import type { L1Env } from '../helpers/rollup.ts';

const FEE = parseEther('0.001');
const PRIVATE_REQUESTS = 12;
const PUBLIC_REQUESTS = 3;
const inputOf = (k: number) => Array.from({ length: 16 }, (_, i) => (i * 11 + k * 37 + 1) % 256);
/** Packed outputs of a k-inference slot (prover/circuit/multi.ts): output byte j at 256^j. */
const pack = (outputs: readonly bigint[]) => outputs.reduce((acc, v, j) => acc + (v << (8n * BigInt(j))), 0n);

/**
 * The live poster with aggregation: real anvil with the L1 contracts, the rollup node with its
 * inference poster, one prover over libp2p, a private-input model compiled with --aggregate 4
 * (its inputs reach the node by ai_submitJobInput) and a public-input one without it.
 */
describe('inference aggregation: the poster proves 4 inferences per L1 proof where it can', () => {
  let work: string;
  let env: L1Env;
  let node: DevNode;
  let prover: ProverProc | undefined;
  const models: { id: Hex; consumer: Address; private: boolean; dir: string }[] = [];
  const inputs = new Map<bigint, number[]>();
  const dappKey = devAccounts()[0]!.privateKey as Hex;
  const c = () => clients(node, dappKey);

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'inference-aggregation-'));
    env = await startL1(work, { l1BlockTime: 1 });
    // a claim outlives a slow proof on a loaded 2-core machine (another suite proving beside this one)
    const genesis = await writeMarketGenesis(work, { claimWindow: 30n });
    // batches of ~8 s, so several fulfilments share one batch (and so an aggregate proof)
    node = await startRollupNode(env, {
      blockTime: 1,
      args: ['--genesis', genesis, '--models', join(work, 'models'), '--p2p.listen', '/ip4/127.0.0.1/tcp/0', '--batch-max-age', '8000'],
    });
    const spec = JSON.parse(await readFile(TINY_SPEC, 'utf8'));
    spec.layers[1].biases[0] += 1; // one id holds one key: the private-input model needs other weights
    await writeFile(join(work, 'private.json'), JSON.stringify(spec));
    await compileModelCached(join(work, 'private.json'), join(work, 'models', 'private'), ['--private-input', '--aggregate', '4']);
    await compileModelCached(TINY_SPEC, join(work, 'models', 'public'));
    const { InferenceConsumer } = await compileContracts(['examples/InferenceConsumer.sol']);
    for (const name of ['private', 'public']) {
      const dir = join(work, 'models', name);
      const id = JSON.parse(await cliOk(['model', 'register', '--model', dir, '--rpc', node.url, '--dev'])).modelId as Hex;
      const consumer = getAddress((await deploy(c().walletClient, c().publicClient, InferenceConsumer!, [id])).address);
      models.push({ id, consumer, private: name === 'private', dir });
    }
    prover = await startProver([
      '--rpc',
      node.url,
      '--dev-account',
      '6',
      '--stake',
      '1',
      '--concurrency',
      '1',
      '--datadir',
      join(work, 'prover'),
      '--poll-ms',
      '500',
      '--p2p.listen',
      '/ip4/127.0.0.1/tcp/0',
      '--p2p.bootnodes',
      node.p2p[0]!,
    ]);
  }, 600_000);

  afterAll(async () => {
    await prover?.stop();
    await node?.stop();
    await env?.anvil.stop();
    await removeDir(node?.datadir ?? '');
    await removeDir(work);
  });

  it('every inference lands on L1 in fewer leaves than inferences, and each reads as verified from its leaf', async () => {
    const asks = [...Array(PRIVATE_REQUESTS + PUBLIC_REQUESTS).keys()].map((k) => {
      const m = models[k % 5 === 4 ? 1 : 0]!;
      return { consumer: m.consumer, input: inputOf(k), private: m.private, fee: FEE };
    });
    const ids = await askMany(c(), asks);
    ids.forEach((id, i) => inputs.set(id, asks[i]!.input));
    expect(ids.filter((id) => inputs.has(id)).length).toBe(PRIVATE_REQUESTS + PUBLIC_REQUESTS);
    const fulfilled = async () => c().publicClient.getContractEvents({ address: INFERENCE_MARKET_ADDRESS, abi: marketAbi, eventName: 'InferenceFulfilled', fromBlock: 0n });
    await waitFor('all fulfilled', async () => (await fulfilled()).length >= ids.length, 300_000, 1_000).catch((err: Error) => {
      // say what the prover was doing: a stall here has only been seen on a loaded machine
      throw new Error(`${err.message}; prover log tail:\n${prover?.logs.slice(-40).join('\n')}`);
    });
    const logs = await fulfilled();

    const l1 = env.l1.publicClient;
    const oracle = env.config.contracts.inferenceOracle!;
    const batches = await oracleBatchesFor(env, logs);

    const aggVk = await readFile(join(models[0]!.dir, 'agg4.vk.bin'));
    const aggVkHash = keccak256(aggVk);
    const events = await l1.getContractEvents({ address: oracle, abi: inferenceOracleAbi, eventName: 'BatchProofsVerified', fromBlock: 0n });
    let leaves = 0;
    let aggregateLeaves = 0;
    let checked = 0;
    let gas = 0n;
    for (const b of batches) {
      // an L1 consumer's view: the leaf signals are in the submission's calldata
      const ev = events.find((e) => e.args.batchIndex === b.index)!;
      const receipt = await l1.getTransactionReceipt({ hash: ev.transactionHash });
      gas += receipt.gasUsed;
      const tx = await l1.getTransaction({ hash: ev.transactionHash });
      const { args } = decodeFunctionData({ abi: inferenceOracleAbi, data: tx.input });
      const groups = args[1] as readonly { vkHash: Hex; vk: Hex; publicInputs: readonly bigint[]; proofs: readonly (readonly bigint[])[] }[];
      const proofs: InferenceProofInput[] = [];
      for (const g of groups) {
        const vk = g.vk === '0x' ? await l1.readContract({ address: oracle, abi: inferenceOracleAbi, functionName: 'getKey', args: [g.vkHash] }) : g.vk;
        const n = g.publicInputs.length / g.proofs.length;
        g.proofs.forEach((words, i) => proofs.push({ vk, publicSignals: g.publicInputs.slice(i * n, i * n + n), proofWords: [...words] }));
      }
      const sub = buildBatchSubmission(b.index, proofs);
      expect(sub.root).toBe(b.record.root);
      expect(b.record.leafCount).toBe(proofs.length);
      leaves += proofs.length;
      aggregateLeaves += sub.placed.filter((p) => p.vkHash === aggVkHash).length;
      for (const l of b.logs) {
        const m = models.find((x) => x.id === l.args.modelId)!;
        const input = inputs.get(l.args.id!)!;
        const outputs = [...l.args.outputs!];
        // which leaf is this inference's: an aggregate slot with its input hash and outputs, or its own proof
        const leaf = m.private
          ? sub.placed.find((p) => p.vkHash === aggVkHash && p.publicSignals.some((s, j) => j % 2 === 1 && s === inputHash(input) && p.publicSignals[j - 1] === pack(outputs)))
          : sub.placed.find((p) => p.publicSignals.join() === [...outputs, ...input.map(BigInt)].join());
        expect(leaf, `request ${l.args.id}`).toBeDefined();
        expect(
          await l1.readContract({
            address: oracle,
            abi: inferenceOracleAbi,
            functionName: 'isVerified',
            args: [b.index, leaf!.vkHash, leaf!.publicSignals, BigInt(leaf!.leafIndex), leaf!.merkleProof],
          }),
        ).toBe(true);
        checked++;
      }
    }
    expect(checked).toBe(ids.length);
    expect(aggregateLeaves).toBeGreaterThan(0);
    expect(leaves).toBeLessThan(ids.length);
    const posted = node.logs.filter((line) => line.includes('"inference proofs verified on L1"')).map((line) => JSON.parse(line) as Record<string, unknown>);
    for (const p of posted)
      console.log(
        `batch ${p.batchIndex}: ${p.inferences} inferences in ${p.proofs} proofs (${p.aggregateProofs} aggregate), ${p.gasUsed} L1 gas, ${Math.round(Number(p.gasPerInference))} per inference`,
      );
    console.log(`L1 gas per inference over ${batches.length} batches: ${Math.round(Number(gas) / ids.length)} (${ids.length} inferences, ${leaves} leaves)`);
  }, 700_000);
});
