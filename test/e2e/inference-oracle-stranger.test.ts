import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keccak256, parseEther, parseEventLogs, zeroAddress } from 'viem';
import type { Hex } from 'viem';
import { INFERENCE_MARKET_ADDRESS } from '../../contracts/predeploys.ts';
import { strangerKey } from '../../contracts/tools/stranger-key.ts';
import { buildBatchSubmission } from '../../node/rollup/oracle-submission.ts';
import type { InferenceProofInput } from '../../node/rollup/oracle-submission.ts';
import { inferenceOracleAbi } from '../../contracts/abi/oracle.ts';
import { rollupAbi } from '../../contracts/abi/rollup.ts';
import { TINY_SPEC, cliOk, compileModelCached } from '../helpers/ai.ts';
import { clients, removeDir } from '../helpers/dev-node.ts';
import type { DevNode } from '../helpers/dev-node.ts';
import { marketAbi } from '../helpers/market.ts';
import { startProver, waitFor } from '../helpers/prover.ts';
import type { ProverProc } from '../helpers/prover.ts';
import { l1Clients, startL1, startRollupNode } from '../helpers/rollup.ts';
import type { L1Env } from '../helpers/rollup.ts';

const FEE = parseEther('0.001');
const inputOf = (k: number) => Array.from({ length: 16 }, (_, i) => (i * 17 + k * 43 + 5) % 256);

/**
 * A stranger takes the InferenceOracle slot of a rollup batch first: real anvil with the L1
 * contracts, the rollup node batching (its inference poster off), one prover fulfilling on L2.
 * Once the batch is on L1 the stranger submits made-up statements "proven" under his own key for
 * it; then the node restarts with its inference poster, which must still post the batch's real
 * results, readable as verified for that batch.
 */
describe('inference oracle: a stranger submitting first for a batch does not keep its results off L1', () => {
  let work: string;
  let env: L1Env;
  let node: DevNode;
  let prover: ProverProc | undefined;
  let modelId: Hex;
  const models = () => join(work, 'models');
  const c = () => clients(node);

  async function request(input: number[]): Promise<bigint> {
    const hash = await c().walletClient.writeContract({
      address: INFERENCE_MARKET_ADDRESS,
      abi: marketAbi,
      functionName: 'requestInference',
      args: [modelId, input.map(BigInt), 900n, zeroAddress, 0],
      value: FEE,
    });
    const r = await c().publicClient.waitForTransactionReceipt({ hash });
    return parseEventLogs({ abi: marketAbi, logs: r.logs, eventName: 'InferenceRequested' })[0]!.args.id;
  }

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'oracle-stranger-'));
    env = await startL1(work);
    // batcher and proposer, no inference poster yet
    node = await startRollupNode(env, { blockTime: 1, keys: false, args: ['--batcher-key', env.keys[1]!, '--proposer-key', env.keys[2]!, '--models', models()] });
    await compileModelCached(TINY_SPEC, join(models(), 'tiny'));
    modelId = JSON.parse(await cliOk(['model', 'register', '--model', join(models(), 'tiny'), '--rpc', node.url, '--dev'])).modelId as Hex;
    prover = await startProver(['--rpc', node.url, '--dev-account', '6', '--stake', '1', '--concurrency', '1', '--datadir', join(work, 'prover'), '--poll-ms', '500']);
  }, 600_000);

  afterAll(async () => {
    await prover?.stop();
    await node?.stop();
    await env?.anvil.stop();
    await removeDir(node?.datadir ?? '');
    await removeDir(work);
  });

  it("the poster's submission lands after the stranger's, and the batch's real results read as verified; the stranger's claims do not", async () => {
    const ids = [await request(inputOf(1)), await request(inputOf(2))];
    const fulfilled = async () => c().publicClient.getContractEvents({ address: INFERENCE_MARKET_ADDRESS, abi: marketAbi, eventName: 'InferenceFulfilled', fromBlock: 0n });
    const logs = await waitFor('both fulfilled', async () => ((l) => (l.length >= ids.length ? l : false))(await fulfilled()), 180_000, 500);

    // the rollup batches on L1 that hold the fulfilments
    const l1 = env.l1.publicClient;
    const { rollup, inferenceOracle } = env.config.contracts;
    const last = logs.reduce((m, l) => (l.blockNumber > m ? l.blockNumber : m), 0n);
    const batches = await waitFor(
      'a rollup batch covering the fulfilments',
      async () => {
        const n = await l1.readContract({ address: rollup, abi: rollupAbi, functionName: 'batchCount' });
        const all = await Promise.all([...Array(Number(n)).keys()].map((i) => l1.readContract({ address: rollup, abi: rollupAbi, functionName: 'getBatch', args: [BigInt(i)] })));
        if (all.length === 0 || all.at(-1)!.lastBlock < last) return false;
        return all.map((b, i) => ({ index: BigInt(i), logs: logs.filter((l) => l.blockNumber >= b.firstBlock && l.blockNumber <= b.lastBlock) })).filter((b) => b.logs.length > 0);
      },
      120_000,
      500,
    );

    // the stranger: made-up outputs for each batch, "proven" under a key whose trapdoor he knows
    const stranger = l1Clients(env.anvil, env.keys[7]!);
    const key = strangerKey(20);
    const made = new Map<bigint, ReturnType<typeof buildBatchSubmission>>();
    const signalsOf = async (l: (typeof logs)[number]) => {
      const req = await c().publicClient.readContract({ address: INFERENCE_MARKET_ADDRESS, abi: marketAbi, functionName: 'getRequest', args: [l.args.id!] });
      return [...l.args.outputs!, ...req.inputSignals];
    };
    for (const b of batches) {
      const claims = (await Promise.all(b.logs.map(signalsOf))).map((s) => [(s[0]! + 1n) % 256n, ...s.slice(1)]);
      const sub = buildBatchSubmission(
        b.index,
        claims.map((s) => ({ vk: key.vk, ...key.prove(s) })),
      );
      const hash = await stranger.walletClient.sendTransaction({ to: inferenceOracle!, data: sub.calldata });
      expect((await l1.waitForTransactionReceipt({ hash })).status).toBe('success');
      made.set(b.index, sub);
    }

    // the node again, now with its inference poster
    expect(await node.stop()).toBe(0);
    node = await startRollupNode(env, { blockTime: 1, datadir: node.datadir, args: ['--models', models()] });
    const vk = (await readFile(join(models(), 'tiny', 'vk.bin'))) as Uint8Array;
    for (const b of batches) {
      await waitFor(
        `the poster's submission for batch ${b.index}`,
        () => node.logs.some((l) => l.includes('"inference proofs verified on L1"') && l.includes(`"batchIndex":"${b.index}"`)),
        120_000,
        500,
      );
      const inputs: InferenceProofInput[] = [];
      for (const l of b.logs) inputs.push({ vk, publicSignals: await signalsOf(l), proofWords: [...l.args.proof!] });
      const honest = buildBatchSubmission(b.index, inputs);
      for (const p of honest.placed) {
        expect(
          await l1.readContract({
            address: inferenceOracle!,
            abi: inferenceOracleAbi,
            functionName: 'isVerified',
            args: [b.index, p.vkHash, p.publicSignals, BigInt(p.leafIndex), p.merkleProof],
          }),
        ).toBe(true);
      }
      // the stranger's claims under the model's key: not verified, whichever proof is offered
      const vkHash = keccak256(vk);
      for (const p of made.get(b.index)!.placed) {
        for (const proof of [p.merkleProof, ...honest.placed.map((h) => h.merkleProof)]) {
          expect(
            await l1.readContract({
              address: inferenceOracle!,
              abi: inferenceOracleAbi,
              functionName: 'isVerified',
              args: [b.index, vkHash, p.publicSignals, BigInt(p.leafIndex), proof],
            }),
          ).toBe(false);
        }
      }
    }
  }, 600_000);
});
