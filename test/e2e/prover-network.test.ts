import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeFunctionData, getAddress, keccak256, parseEther } from 'viem';
import type { Address, Hex } from 'viem';
import { compileContracts } from '../../contracts/compile.ts';
import { INFERENCE_MARKET_ADDRESS } from '../../contracts/predeploys.ts';
import { devAccounts } from '../../node/chain/genesis.ts';
import { P2PService, TopicKind, p2pOptions } from '../../node/p2p/index.ts';
import { buildBatchSubmission } from '../../node/rollup/oracle-submission.ts';
import type { InferenceProofInput } from '../../node/rollup/oracle-submission.ts';
import { inferenceOracleAbi } from '../../contracts/abi/oracle.ts';
import { TINY_SPEC, cli, cliOk, compileModelCached } from '../helpers/ai.ts';
import { deploy } from '../helpers/contracts.ts';
import { clients, removeDir, startDevNode } from '../helpers/dev-node.ts';
import { rollupAbi } from '../../contracts/abi/rollup.ts';
import type { BatchHeader } from '../../node/rollup/batch-codec.ts';
import { inputHash, resultLeaf, resultsRoot } from '../../node/rollup/result-leaf.ts';
import type { DevNode } from '../helpers/dev-node.ts';
import { askMany, consumerAbi, marketAbi, writeMarketGenesis } from '../helpers/market.ts';
import { startProver, waitFor } from '../helpers/prover.ts';
import type { ProverProc } from '../helpers/prover.ts';
import { l1Clients, oracleBatchesFor, startL1, startRollupNode } from '../helpers/rollup.ts';
import { checkInferenceProof } from '../../node/l1/result-check.ts';
import { aiRollupActions } from '../../client/index.ts';
import { inputHash as poseidonInputHash } from '../../precompiles/model/input-hash.ts';
import { parseInferenceProof } from '../../node/rollup/result-proof.ts';
import type { InferenceProof } from '../../node/rollup/result-proof.ts';
import type { L1Env } from '../helpers/rollup.ts';

const FEE = parseEther('0.001');
const REQUESTS = 16;
const inputOf = (k: number) => Array.from({ length: 16 }, (_, i) => (i * 7 + k * 31 + 3) % 256);

/**
 * The whole network on loopback: real anvil as L1 with the Rollup, Bridge and InferenceOracle;
 * the sequencer node with batcher, proposer and inference poster; two prover processes joined
 * over libp2p; a dApp contract requesting inferences of two models (one public-input, one
 * private-input whose inputs reach provers only by gossip).
 */
describe('prover network: two provers over libp2p, 16 requests over 2 models, batch proofs checked on L1', () => {
  let work: string;
  let env: L1Env;
  let node: DevNode;
  const provers: ProverProc[] = [];
  let junk: P2PService | undefined;
  const models: { id: Hex; consumer: Address; private: boolean }[] = [];
  const dappKey = devAccounts()[0]!.privateKey as Hex;
  const c = () => clients(node, dappKey);

  let genesis: string;
  let replica: DevNode | undefined;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'prover-network-'));
    env = await startL1(work, { l1BlockTime: 1 });
    genesis = await writeMarketGenesis(work, { claimWindow: 15n });
    node = await startRollupNode(env, { blockTime: 1, args: ['--genesis', genesis, '--models', join(work, 'models'), '--p2p.listen', '/ip4/127.0.0.1/tcp/0'] });
    const spec = JSON.parse(await readFile(TINY_SPEC, 'utf8'));
    spec.layers[1].biases[0] += 1; // one id holds one key: the private-input model needs other weights
    await writeFile(join(work, 'private.json'), JSON.stringify(spec));
    await compileModelCached(TINY_SPEC, join(work, 'models', 'public'));
    await compileModelCached(join(work, 'private.json'), join(work, 'models', 'private'), ['--private-input']);
    const { InferenceConsumer } = await compileContracts(['examples/InferenceConsumer.sol']);
    for (const name of ['public', 'private']) {
      const id = JSON.parse(await cliOk(['model', 'register', '--model', join(work, 'models', name), '--rpc', node.url, '--dev'])).modelId as Hex;
      const consumer = getAddress((await deploy(c().walletClient, c().publicClient, InferenceConsumer!, [id])).address);
      models.push({ id, consumer, private: name === 'private' });
    }
    for (const [i, account] of [6, 7].entries()) {
      provers.push(
        await startProver([
          '--rpc',
          node.url,
          '--dev-account',
          String(account),
          '--stake',
          '1',
          '--concurrency',
          '1',
          '--datadir',
          join(work, `prover-${i}`),
          '--poll-ms',
          '500',
          '--p2p.listen',
          '/ip4/127.0.0.1/tcp/0',
          '--p2p.bootnodes',
          node.p2p[0]!,
        ]),
      );
    }
  }, 900_000);

  afterAll(async () => {
    await replica?.stop();
    await removeDir(replica?.datadir ?? '');
    await junk?.stop();
    for (const p of provers) await p.stop();
    await node?.stop();
    await env?.anvil.stop();
    await removeDir(node?.datadir ?? '');
    await removeDir(work);
  });

  it('a peer publishing junk jobs is scored down and cut off by the node', async () => {
    junk = await P2PService.create(p2pOptions(env.config.l2ChainId, { listen: ['/ip4/127.0.0.1/tcp/0'], gossip: { heartbeatMs: 200 } }), { logger: pino({ level: 'silent' }) });
    junk.gossip.subscribe(TopicKind.Jobs, { decode: (b) => b, handle: () => undefined });
    await junk.start();
    const nodeId = node.p2p[0]!.split('/p2p/')[1]!;
    await junk.dial(node.p2p[0]!);
    await waitFor('junk peer on the jobs mesh', async () => junk!.gossip.topicPeers(TopicKind.Jobs).mesh >= 1, 30_000);
    for (let i = 0; i < 40 && junk.isConnected(nodeId); i++) {
      await junk.gossip.publish(TopicKind.Jobs, new TextEncoder().encode(`{"v":1,"junk":${i}}`)).catch(() => 0);
      await new Promise((r) => setTimeout(r, 50));
    }
    await waitFor('the node drops the junk peer', async () => !junk!.isConnected(nodeId), 60_000);
    // the provers, reached only through the node, never saw it as a job
    for (const p of provers) expect(p.logs.some((l) => l.includes('"junk"'))).toBe(false);
  }, 120_000);

  it('every request is fulfilled and paid exactly once, one prover dying mid-run; results reach the dApps', async () => {
    const ids = await askMany(
      c(),
      [...Array(REQUESTS).keys()].map((k) => ({ consumer: models[k % 2]!.consumer, input: inputOf(k), private: models[k % 2]!.private, fee: FEE })),
    );
    // and one straight to the market through the SDK: a private input, hashed by it and handed to the node
    const priv = models.find((m) => m.private)!;
    const viaSdk = await c()
      .walletClient.extend(aiRollupActions())
      .requestInference({ modelId: priv.id, input: inputOf(99), private: true, fee: FEE });
    expect(viaSdk.inputSignals).toEqual([poseidonInputHash(inputOf(99))]);
    const paidCount = async () =>
      (await c().publicClient.getContractEvents({ address: INFERENCE_MARKET_ADDRESS, abi: marketAbi, eventName: 'InferenceFulfilled', fromBlock: 0n })).length;
    await waitFor('a few jobs done', async () => (await paidCount()) >= 5, 120_000);
    await provers[0]!.kill9();
    await waitFor('all fulfilled', async () => (await paidCount()) >= REQUESTS + 1, 400_000, 1_000);
    const sdkResult = await c().publicClient.extend(aiRollupActions()).waitForInferenceResult({ id: viaSdk.id, timeoutMs: 10_000 });
    expect(sdkResult.modelId).toBe(priv.id);
    expect(sdkResult.outputs.length).toBeGreaterThan(0);

    const logs = await c().publicClient.getContractEvents({ address: INFERENCE_MARKET_ADDRESS, abi: marketAbi, eventName: 'InferenceFulfilled', fromBlock: 0n });
    expect(logs.map((l) => l.args.id).sort()).toEqual([...ids, viaSdk.id].sort());
    const byProver = new Map<string, number>();
    for (const l of logs) byProver.set(l.args.prover!, (byProver.get(l.args.prover!) ?? 0) + 1);
    expect([...byProver.keys()].every((a) => provers.some((p) => p.address === a))).toBe(true);
    expect(await c().publicClient.getContractEvents({ address: INFERENCE_MARKET_ADDRESS, abi: marketAbi, eventName: 'ProofRejected', fromBlock: 0n })).toEqual([]);
    // model packages came over the p2p artifact protocol, each checked, never over the HTTP fallback
    const alive = provers[1]!;
    expect(alive.records('model package fetched and checked').length).toBe(2);
    for (const p of provers) expect(p.records('artifact fetched over HTTP')).toEqual([]);
    for (const [k, id] of ids.entries()) {
      const [ready] = await c().publicClient.readContract({ address: models[k % 2]!.consumer, abi: consumerAbi, functionName: 'resultOf', args: [id] });
      expect(ready).toBe(true);
    }
  }, 600_000);

  it('each batch holding fulfilments has its proofs checked once on L1, and every result reads as verified there', async () => {
    const l1 = env.l1.publicClient;
    const oracle = env.config.contracts.inferenceOracle!;
    const logs = await c().publicClient.getContractEvents({ address: INFERENCE_MARKET_ADDRESS, abi: marketAbi, eventName: 'InferenceFulfilled', fromBlock: 0n });
    const batches = await oracleBatchesFor(env, logs);
    let checked = 0;
    for (const b of batches) {
      const inputs: InferenceProofInput[] = [];
      for (const l of b.logs) {
        const m = models.find((x) => x.id === l.args.modelId)!;
        const req = await c().publicClient.readContract({ address: INFERENCE_MARKET_ADDRESS, abi: marketAbi, functionName: 'getRequest', args: [l.args.id!] });
        const vk = (await readFile(join(work, 'models', m.private ? 'private' : 'public', 'vk.bin'))) as Uint8Array;
        inputs.push({ vk, publicSignals: [...l.args.outputs!, ...req.inputSignals], proofWords: [...l.args.proof!] });
      }
      const sub = buildBatchSubmission(b.index, inputs);
      expect(b.record.root).toBe(sub.root);
      expect(b.record.leafCount).toBe(inputs.length);
      for (const p of sub.placed) {
        expect(
          await l1.readContract({
            address: oracle,
            abi: inferenceOracleAbi,
            functionName: 'isVerified',
            args: [b.index, p.vkHash, p.publicSignals, BigInt(p.leafIndex), p.merkleProof],
          }),
        ).toBe(true);
        checked++;
      }
      // a different output is not verified
      const p = sub.placed[0]!;
      const forged = [(p.publicSignals[0]! + 1n) % 256n, ...p.publicSignals.slice(1)];
      expect(
        await l1.readContract({ address: oracle, abi: inferenceOracleAbi, functionName: 'isVerified', args: [b.index, p.vkHash, forged, BigInt(p.leafIndex), p.merkleProof] }),
      ).toBe(false);
    }
    expect(checked).toBe(REQUESTS + 1);
  }, 400_000);

  it("every batch header commits to its fulfilments' result leaves, and a replica deriving from L1 alone accepts each root", async () => {
    const l1 = env.l1.publicClient;
    const l2 = c().publicClient;
    const rollup = env.config.contracts.rollup;
    const chainId = env.config.l2ChainId;
    const submitted = await l1.getContractEvents({ address: rollup, abi: rollupAbi, eventName: 'BatchSubmitted', fromBlock: 0n });
    let withResults = 0;
    let lastBlock = 0n;
    for (const log of submitted) {
      const tx = await l1.getTransaction({ hash: log.transactionHash });
      const [header] = decodeFunctionData({ abi: rollupAbi, data: tx.input }).args as unknown as [BatchHeader];
      // the leaves as any client computes them from L2 logs and state (node/rollup/result-leaf.ts's formula)
      const fulfilled = await l2.getContractEvents({
        address: INFERENCE_MARKET_ADDRESS,
        abi: marketAbi,
        eventName: 'InferenceFulfilled',
        fromBlock: header.firstBlock,
        toBlock: header.lastBlock,
      });
      const leaves: Hex[] = [];
      for (const f of fulfilled) {
        const req = await l2.readContract({ address: INFERENCE_MARKET_ADDRESS, abi: marketAbi, functionName: 'getRequest', args: [f.args.id!] });
        const m = models.find((x) => x.id === f.args.modelId)!;
        const vk = (await readFile(join(work, 'models', m.private ? 'private' : 'public', 'vk.bin'))) as Uint8Array;
        const r = {
          chainId,
          requestId: f.args.id!,
          modelId: f.args.modelId!,
          vkHash: keccak256(vk),
          inputHash: inputHash(req.inputSignals),
          prover: f.args.prover!,
          outputs: [...f.args.outputs!],
        };
        leaves.push(resultLeaf(r));
      }
      expect(header.resultsRoot).toBe(resultsRoot(leaves));
      if (leaves.length > 0) withResults++;
      lastBlock = header.lastBlock;
    }
    expect(withResults).toBeGreaterThan(0);
    replica = await startDevNode({
      chainId: Number(chainId),
      args: ['--replica', '--genesis', genesis, '--rollup-config', env.configFile, '--l1-rpc', env.anvil.url, '--l1-poll-ms', '200'],
    });
    const rep = replica;
    const safe = async () => (await clients(rep).publicClient.getBlock({ blockTag: 'safe' })).number;
    await waitFor('the replica to derive every batch', async () => (await safe()) >= lastBlock || rep.logs.some((l) => l.includes('derivation stopped')), 120_000, 250);
    expect(rep.logs.filter((l) => l.includes('derivation stopped'))).toEqual([]);
    const at = await clients(rep).publicClient.getBlock({ blockNumber: lastBlock });
    expect(at.hash).toBe((await l2.getBlock({ blockNumber: lastBlock })).hash);
  }, 300_000);

  it('ai_getInferenceProof: the replica answers as the sequencer; an L1 contract pays on the fast and on the final path, and refuses forgeries; the L1-only checker agrees', async () => {
    const rep = replica!;
    const l1 = env.l1.publicClient;
    const target = { l2ChainId: env.config.l2ChainId, rollup: env.config.contracts.rollup, oracle: env.config.contracts.inferenceOracle };
    const pub = models.find((m) => !m.private)!;
    const vkHash = keccak256((await readFile(join(work, 'models', 'public', 'vk.bin'))) as Uint8Array);
    const fulfilled = await c().publicClient.getContractEvents({ address: INFERENCE_MARKET_ADDRESS, abi: marketAbi, eventName: 'InferenceFulfilled', fromBlock: 0n });
    const ids = fulfilled.filter((l) => l.args.modelId === pub.id).map((l) => l.args.id!);
    expect(ids.length).toBeGreaterThan(1);
    // both nodes answer from their own chain and L1; statuses move (outputs finalize), so wait for agreement
    const answer = async (url: string, id: bigint) => rpcResult(url, 'ai_getInferenceProof', [`0x${id.toString(16)}`]);
    for (const id of ids) {
      await waitFor(
        `the replica's proof of request ${id} to be the sequencer's`,
        async () => {
          const [a, b] = [await answer(node.url, id), await answer(rep.url, id)];
          return a !== null && (a as { batch: unknown }).batch !== null && JSON.stringify(a) === JSON.stringify(b);
        },
        60_000,
        250,
      );
    }
    expect(await answer(node.url, 10n ** 30n)).toBeNull();
    expect(await answer(rep.url, 10n ** 30n)).toBeNull();

    const [fastId, finalId] = [ids[0]!, ids[1]!];
    const fast = parseInferenceProof(await answer(node.url, fastId));
    expect(fast.result.vkHash).toBe(vkHash);
    expect(fast.oracle).not.toBeNull();
    const { ResultPayout } = await compileContracts(['examples/ResultPayout.sol']);
    const payer = l1Clients(env.anvil, env.keys[4]!);
    const amount = parseEther('0.01');
    const hash = await payer.walletClient.deployContract({
      abi: ResultPayout!.abi,
      bytecode: ResultPayout!.bytecode,
      args: [target.rollup, target.oracle, target.l2ChainId, pub.id, vkHash, amount],
      value: amount * 4n,
    });
    const payout = (await l1.waitForTransactionReceipt({ hash })).contractAddress!;
    const call = async (fn: 'claimFast' | 'claimFinal' | 'claimAttested', args: unknown[]) => {
      try {
        await l1.simulateContract({ address: payout, abi: ResultPayout!.abi, functionName: fn, args, account: payer.account });
      } catch (err) {
        return ((err as { cause?: { data?: { errorName?: string } } }).cause?.data?.errorName ?? (err as Error).message) as string;
      }
      const tx = await payer.walletClient.writeContract({ address: payout, abi: ResultPayout!.abi, functionName: fn, args } as never);
      return (await l1.waitForTransactionReceipt({ hash: tx })).status;
    };
    const inc = (p: InferenceProof) => ({ header: p.batch!.header, leafIndex: BigInt(p.batch!.leafIndex), proof: p.batch!.proof });
    const ev = (p: InferenceProof) => ({ inputSignals: p.inputSignals, leafIndex: BigInt(p.oracle!.leafIndex), proof: p.oracle!.proof });
    // forgeries first: a changed output, another chain's leaf, the leaf against another batch's header
    const forgedOut = { ...fast.result, outputs: [fast.result.outputs[0]! + 1n, ...fast.result.outputs.slice(1)] };
    expect(await call('claimFast', [forgedOut, inc(fast), ev(fast)])).toBe('NotInBatch');
    expect(await call('claimFast', [{ ...fast.result, chainId: fast.result.chainId + 1n }, inc(fast), ev(fast)])).toBe('WrongChain');
    const submitted = await l1.getContractEvents({ address: target.rollup, abi: rollupAbi, eventName: 'BatchSubmitted', fromBlock: 0n });
    const other = submitted.find((l) => l.args.index !== fast.batch!.index)!;
    const [otherHeader] = decodeFunctionData({ abi: rollupAbi, data: (await l1.getTransaction({ hash: other.transactionHash })).input }).args as unknown as [BatchHeader];
    expect(await call('claimFast', [fast.result, { ...inc(fast), header: otherHeader }, ev(fast)])).toBe('NotInBatch');
    expect(await call('claimFast', [fast.result, inc(fast), { ...ev(fast), inputSignals: [fast.inputSignals[0]! ^ 1n, ...fast.inputSignals.slice(1)] }])).toBe('InputMismatch');
    // the true result is paid once, to its prover
    const before = await l1.getBalance({ address: fast.result.prover });
    expect(await call('claimFast', [fast.result, inc(fast), ev(fast)])).toBe('success');
    expect(await l1.getBalance({ address: fast.result.prover })).toBe(before + amount);
    expect(await call('claimFast', [fast.result, inc(fast), ev(fast)])).toBe('AlreadyPaid');

    // the final path, once the output over the batch is past its challenge window
    await waitFor(`request ${finalId}'s output to be final`, async () => ((await answer(node.url, finalId)) as { final: boolean }).final, 120_000, 500);
    const fin = parseInferenceProof(await answer(node.url, finalId));
    const first = await l1.readContract({ address: target.rollup, abi: rollupAbi, functionName: 'getOutput', args: [0n] });
    if (first.batchIndex < fin.batch!.index) expect(await call('claimFinal', [fin.result, inc(fin), 0n])).toBe('OutputBeforeBatch');
    expect(await call('claimFinal', [forgedOut, inc(fast), fin.output!.index])).toBe('NotInBatch');
    expect(await call('claimFinal', [fin.result, inc(fin), fin.output!.index])).toBe('success');
    expect(await l1.readContract({ address: payout, abi: ResultPayout!.abi, functionName: 'outputsOf', args: [finalId] })).toEqual(fin.result.outputs);

    // the poster attested each batch it proved with single proofs: the cheaper way to the fast path's strength
    const attestedId = ids[2]!;
    await waitFor(`request ${attestedId}'s batch to be attested`, async () => ((await answer(node.url, attestedId)) as { attested: boolean }).attested, 60_000, 500);
    const att = parseInferenceProof(await answer(node.url, attestedId));
    expect(await call('claimAttested', [forgedOut, inc(att)])).toBe('NotInBatch');
    const notAtt = submitted.find((l) => l.args.index !== att.batch!.index)!;
    const [notAttHeader] = decodeFunctionData({ abi: rollupAbi, data: (await l1.getTransaction({ hash: notAtt.transactionHash })).input }).args as unknown as [BatchHeader];
    expect(await call('claimAttested', [att.result, { ...inc(att), header: notAttHeader }])).toBe('NotInBatch');
    expect(await call('claimAttested', [att.result, inc(att)])).toBe('success');

    // an off-chain consumer checks the same answers against L1 alone, in code and with the CLI
    const checked = await checkInferenceProof(l1, target, fin);
    expect({ fast: checked.fast, attested: checked.attested, final: checked.final, leaf: checked.leaf }).toEqual({ fast: true, attested: true, final: true, leaf: fin.leaf });
    await expect(checkInferenceProof(l1, target, { ...fin, result: { ...fin.result, outputs: forgedOut.outputs } })).rejects.toMatchObject({ code: 'NOT_IN_BATCH' });
    await expect(checkInferenceProof(l1, target, { ...fin, batch: { ...fin.batch!, header: otherHeader } })).rejects.toMatchObject({ code: 'NOT_IN_BATCH' });
    // a made-up one-leaf tree for a forged result: the header then is not the Rollup's
    const forgedResult = { ...fin.result, outputs: forgedOut.outputs };
    const madeUp = { ...fin.batch!, header: { ...fin.batch!.header, resultsRoot: resultLeaf(forgedResult) }, leafIndex: 0, proof: [] };
    await expect(checkInferenceProof(l1, target, { ...fin, result: forgedResult, batch: madeUp })).rejects.toMatchObject({ code: 'UNKNOWN_HEADER' });
    expect(await call('claimFinal', [forgedResult, { header: madeUp.header, leafIndex: 0n, proof: [] }, fin.output!.index])).toBe('UnknownHeader');
    const verified = JSON.parse(
      await cliOk(['inference', 'verify', '--rpc', rep.url, '--request', String(finalId), '--l1-rpc', env.anvil.url, '--rollup-config', env.configFile, '--require', 'final']),
    );
    expect(verified).toMatchObject({ fast: true, attested: true, final: true, leaf: fin.leaf });
    const file = join(work, 'forged-proof.json');
    const forgedJson = JSON.parse(await cliOk(['inference', 'proof', String(finalId), '--rpc', node.url]));
    forgedJson.result.outputs[0] = `0x${(BigInt(forgedJson.result.outputs[0]) + 1n).toString(16)}`;
    await writeFile(file, JSON.stringify(forgedJson));
    const refused = await cli(['inference', 'verify', '--proof', file, '--l1-rpc', env.anvil.url, '--rollup-config', env.configFile]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('not in batch');
  }, 300_000);
});

async function rpcResult(url: string, method: string, params: unknown[]): Promise<unknown> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }) });
  const body = (await res.json()) as { result?: unknown; error?: { message: string } };
  if (body.error !== undefined) throw new Error(`${method}: ${body.error.message}`);
  return body.result;
}
