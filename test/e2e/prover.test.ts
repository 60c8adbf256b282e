import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { aiRollupActions } from '../../client/index.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEther, toHex } from 'viem';
import type { Hex } from 'viem';
import { freePort } from '../../bench/lib.ts';
import { compileContracts } from '../../contracts/compile.ts';
import { INFERENCE_MARKET_ADDRESS } from '../../contracts/predeploys.ts';
import { deploy } from '../helpers/contracts.ts';
import { devAccounts } from '../../node/chain/genesis.ts';
import { runModel } from '../../precompiles/model/executor.ts';
import { parseModelSpecText } from '../../precompiles/model/spec.ts';
import { TINY_SPEC, cliOk, compileModelCached } from '../helpers/ai.ts';
import { clients, removeDir, startDevNode } from '../helpers/dev-node.ts';
import type { DevNode } from '../helpers/dev-node.ts';
import { marketAbi, writeMarketGenesis } from '../helpers/market.ts';
import { startProver, waitFor } from '../helpers/prover.ts';
import type { ProverProc } from '../helpers/prover.ts';

const FEE = parseEther('0.01');
const model = parseModelSpecText(readFileSync(TINY_SPEC, 'utf8')).model;
const inputOf = (k: number) => Array.from({ length: 16 }, (_, i) => (i * 29 + k * 41) % 256);

describe('ai-rollup prover: finds requests on chain, proves them in its pool, is paid once each', () => {
  let work: string;
  let port: number;
  let genesis: string;
  let node: DevNode;
  let prover: ProverProc | undefined;
  let modelId: Hex;
  const dappKey = devAccounts()[0]!.privateKey as Hex;
  const proverKeyIndex = 5;

  const dapp = () => clients(node, dappKey);
  // the dApp side goes through the SDK (ai-rollup/client), as a developer's would
  const sdk = () => ({ pub: dapp().publicClient.extend(aiRollupActions()), wallet: dapp().walletClient.extend(aiRollupActions()) });
  const request = async (k: number) => (await sdk().wallet.requestInference({ modelId, input: inputOf(k), fee: FEE, ttlSeconds: 600n })).id;
  const fulfilled = (id: bigint) => sdk().pub.waitForInferenceResult({ id, timeoutMs: 180_000, pollingIntervalMs: 300 });

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'prover-e2e-'));
    port = await freePort();
    genesis = await writeMarketGenesis(work, { claimWindow: 30n });
    node = await startDevNode({ blockTime: 1, args: ['--genesis', genesis, '--rpc.port', String(port), '--models', join(work, 'models')] });
    await compileModelCached(TINY_SPEC, join(work, 'models', 'tiny'));
    modelId = JSON.parse(await cliOk(['model', 'register', '--model', join(work, 'models', 'tiny'), '--rpc', node.url, '--dev'])).modelId;
  }, 600_000);

  afterAll(async () => {
    await prover?.stop();
    await node?.stop();
    await removeDir(node?.datadir ?? '');
    await removeDir(work);
  });

  it('refuses to start unregistered without --stake, and with a malformed key', async () => {
    await expect(startProver(['--rpc', node.url, '--dev-account', String(proverKeyIndex), '--datadir', join(work, 'p0')])).rejects.toThrow(/pass --stake/);
    await expect(startProver(['--rpc', node.url, '--private-key', '0x1234'])).rejects.toThrow(/--private-key must be/);
  }, 120_000);

  it("registers with its stake, fulfils every request with the executor's output, and is paid once for each", async () => {
    prover = await startProver([
      '--rpc',
      node.url,
      '--dev-account',
      String(proverKeyIndex),
      '--stake',
      '2',
      '--concurrency',
      '2',
      '--datadir',
      join(work, 'p1'),
      '--poll-ms',
      '300',
      '--p2p.listen',
      '/ip4/127.0.0.1/tcp/0',
    ]);
    const c = dapp();
    const before = await c.publicClient.getBalance({ address: prover.address });
    const watched: bigint[] = [];
    const unwatch = sdk().pub.watchInferenceResults({ modelId, onResult: (r) => watched.push(r.id) });
    const ids: bigint[] = [];
    for (const k of [1, 2, 3, 4]) ids.push(await request(k)); // one account: one nonce at a time
    const done = await Promise.all(ids.map(fulfilled));
    done.forEach((r, i) => {
      expect(r.prover).toBe(prover!.address);
      expect(r.outputs.map(Number)).toEqual(Array.from(runModel(model, Uint8Array.from(inputOf(i + 1))).output, (v) => v + 128));
    });
    await waitFor('the watcher to see every result', async () => watched.length >= ids.length, 30_000);
    unwatch();
    expect([...watched].sort()).toEqual([...ids].sort());
    // the SDK's reads, and its typed errors
    const { pub } = sdk();
    expect(await pub.getModel({ modelId })).toMatchObject({ modelId, hasWeights: false, publicInputs: 20, version: 1 });
    expect((await pub.listModels()).models.map((m) => m.modelId)).toContain(modelId);
    await expect(pub.executeModel({ modelId, input: inputOf(1) })).rejects.toMatchObject({ name: 'AiRollupContractError', errorName: 'NoWeights' });
    const proof = await pub.getInferenceProof({ id: ids[0]! });
    expect(proof).toMatchObject({ requestId: ids[0], batch: null, final: false, result: { outputs: done[0]!.outputs, prover: prover.address } });
    await expect(pub.waitForInferenceResult({ id: 10n ** 9n, timeoutMs: 1_000 })).rejects.toMatchObject({ code: 'UNKNOWN_REQUEST' });
    await expect(sdk().wallet.requestInference({ modelId, input: new Array(20).fill(1), fee: FEE })).rejects.toMatchObject({ errorName: 'InputSignalCount' });
    const info = await c.publicClient.readContract({ address: INFERENCE_MARKET_ADDRESS, abi: marketAbi, functionName: 'getProver', args: [prover.address] });
    expect(info).toMatchObject({ stake: parseEther('2'), locked: 0n, fulfilled: 4, missed: 0, rejected: 0 });
    // paid exactly four fees, less what its claims and fulfilments cost in gas
    const logs = await c.publicClient.getContractEvents({
      address: INFERENCE_MARKET_ADDRESS,
      abi: marketAbi,
      eventName: 'InferenceFulfilled',
      args: { prover: prover.address },
      fromBlock: 0n,
    });
    expect(logs.map((l) => l.args.id).sort()).toEqual([...ids].sort());
    const after = await c.publicClient.getBalance({ address: prover.address });
    expect(after - before).toBeLessThan(4n * FEE);
    expect(after - before).toBeGreaterThan(4n * FEE - parseEther('0.01'));
  }, 300_000);

  it('a real model from ONNX: the digits classifier imported by the CLI, compiled, registered with its weights, run by a contract and proven through the market', async () => {
    const digits = join(import.meta.dirname, '../fixtures/digits');
    const spec = join(work, 'digits.json');
    const imported = JSON.parse(
      await cliOk([
        'model',
        'import',
        join(digits, 'digits-mlp.onnx'),
        '--calibration',
        join(digits, 'digits-train.csv'),
        '--eval',
        join(digits, 'digits-test.csv'),
        '--labels',
        'last',
        '--min-agreement',
        '0.98',
        '--out',
        spec,
        '--json',
      ]),
    );
    expect(imported.evaluation.top1Agreement).toBeGreaterThanOrEqual(0.98);
    await compileModelCached(spec, join(work, 'models', 'digits'));
    const reg = JSON.parse(await cliOk(['model', 'register', '--model', join(work, 'models', 'digits'), '--rpc', node.url, '--dev', '--weights']));
    expect(reg.modelId).toBe(imported.modelId);
    const digitsModel = parseModelSpecText(readFileSync(spec, 'utf8')).model;
    // held-out digits, quantized as the report says (uint8 = round(x * 2^e))
    const rows = readFileSync(join(digits, 'digits-test.csv'), 'utf8')
      .trim()
      .split('\n')
      .slice(0, 20)
      .map((l) => l.split(',').map(Number));
    const asInput = (row: number[]) => row.slice(0, 64).map((v) => Math.min(255, Math.round(v * 2 ** imported.quantization.inputExponent)));
    const argmax = (xs: readonly number[]) => xs.indexOf(Math.max(...xs));
    const c = dapp();
    const { OnChainClassifier } = await compileContracts(['examples/OnChainClassifier.sol']);
    const { address } = await deploy(c.walletClient, c.publicClient, OnChainClassifier!, [imported.modelId]);
    for (const row of rows.slice(0, 3)) {
      const input = asInput(row);
      const expected = runModel(digitsModel, input).output;
      const hash = await c.walletClient.writeContract({ address, abi: OnChainClassifier!.abi, functionName: 'classify', args: [toHex(Uint8Array.from(input))] });
      expect((await c.publicClient.waitForTransactionReceipt({ hash })).status).toBe('success');
      const label = await c.publicClient.readContract({ address, abi: OnChainClassifier!.abi, functionName: 'lastLabel', args: [c.account.address] });
      expect(Number(label)).toBe(argmax(expected));
    }
    const right = rows.filter((r) => argmax(runModel(digitsModel, asInput(r)).output) === r[64]);
    expect(right.length).toBeGreaterThanOrEqual(17); // the report's ~92% on held-out digits
    // the market: the prover fetches the new model's artifacts and proves it
    const { id } = await sdk().wallet.requestInference({ modelId: imported.modelId, input: asInput(right[0]!), fee: FEE, ttlSeconds: 600n });
    const r = await fulfilled(id);
    expect(r.prover).toBe(prover!.address);
    expect(r.outputs.map(Number)).toEqual(runModel(digitsModel, asInput(right[0]!)).output.map((v) => v + 128));
  }, 300_000);

  it('keeps working across a node restart and stops cleanly on SIGTERM', async () => {
    expect(await node.stop()).toBe(0);
    node = await startDevNode({ blockTime: 1, datadir: node.datadir, args: ['--genesis', genesis, '--rpc.port', String(port), '--models', join(work, 'models')] });
    const id = await request(7);
    const r = await fulfilled(id);
    expect(r.prover).toBe(prover!.address);
    // the chain says fulfilled as soon as the block lands; the prover counts it once it reads its receipt
    await waitFor('the prover to see its sixth payment', async () => prover!.records('fulfilled and paid').length === 6, 60_000);
    expect(await prover!.stop()).toBe(0);
    expect(prover!.records('prover stopped')[0]).toMatchObject({ fulfilled: 6 });
    prover = undefined;
  }, 300_000);
});
