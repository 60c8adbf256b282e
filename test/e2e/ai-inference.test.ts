import { createHash } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BaseError, ContractFunctionRevertedError, getAddress, keccak256, toHex } from 'viem';
import type { Address, Hex } from 'viem';
import { compileContracts } from '../../contracts/compile.ts';
import { MODEL_REGISTRY_ADDRESS, loadArtifact } from '../../contracts/predeploys.ts';
import { runModel } from '../../precompiles/model/executor.ts';
import { parseModelSpecText } from '../../precompiles/model/spec.ts';
import { readFileSync } from 'node:fs';
import { DEV_KEYS, clients, removeDir, startDevNode } from '../helpers/dev-node.ts';
import type { DevNode } from '../helpers/dev-node.ts';
import { deploy } from '../helpers/contracts.ts';
import { MODEL_EXEC, TINY_SPEC, VERIFIER, cliOk, execAbi, readJson, verifierAbi, compileModelCached } from '../helpers/ai.ts';
import type { ProofFile } from '../helpers/ai.ts';
import { must } from '../helpers/txs.ts';

const P = 21888242871839275222246405745257275088696311157297823662689037894645226208583n;
const R = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;

async function revertName(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    const r = (err as BaseError).walk?.((e) => e instanceof ContractFunctionRevertedError) as ContractFunctionRevertedError | undefined;
    if (r?.data?.errorName !== undefined) return r.data.errorName;
    throw err;
  }
  throw new Error('expected a revert');
}

describe('AI precompiles end to end: compile, register, prove, verify on chain, execute', () => {
  let node: DevNode;
  let work: string;
  let c: ReturnType<typeof clients>;
  let modelId: Hex;
  let proof: ProofFile;
  const input = Array.from({ length: 16 }, (_, i) => (i * 37 + 11) % 256);
  const model = parseModelSpecText(readFileSync(TINY_SPEC, 'utf8')).model;

  const words = (p: ProofFile) => p.proofWords.map((w) => BigInt(w)) as unknown as readonly [bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint];
  const signals = (p: ProofFile) => p.publicSignals.map((s) => BigInt(s));
  const verify = (id: Hex, pub: bigint[], w: readonly bigint[]) =>
    c.publicClient.readContract({ address: VERIFIER, abi: verifierAbi, functionName: 'verify', args: [id, pub, w as any] });

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'ai-e2e-'));
    node = await startDevNode({ blockTime: 0, args: ['--models', join(work, 'models')] });
    c = clients(node);
    await compileModelCached(TINY_SPEC, join(work, 'models', 'tiny'));
    const reg = JSON.parse(await cliOk(['model', 'register', '--model', join(work, 'models', 'tiny'), '--rpc', node.url, '--dev', '--weights', '--metadata-uri', 'ipfs://tiny']));
    modelId = reg.modelId;
    await writeFile(join(work, 'input.json'), JSON.stringify(input));
    await cliOk(['model', 'prove', '--model', join(work, 'models', 'tiny'), '--input', join(work, 'input.json'), '--out', join(work, 'proof.json')]);
    proof = readJson<ProofFile>(join(work, 'proof.json'));
  }, 900_000);
  afterAll(async () => {
    await node?.stop();
    await removeDir(node?.datadir ?? '');
    await removeDir(work);
  });

  it("the registered model is the compiled one and its output is the native executor's", async () => {
    expect(modelId).toBe(proof.modelId);
    const m: any = await must(node.url, 'ai_getModel', [modelId]);
    expect(m.owner).toBe(getAddress(c.account.address));
    expect(m.hasWeights).toBe(true);
    expect(proof.output).toEqual(Array.from(runModel(model, input).output));
  });

  it('the verifier precompile accepts the genuine proof and nothing else', async () => {
    const pub = signals(proof);
    expect(await verify(modelId, pub, words(proof))).toBe(true);
    // another output (every position, shifted by one)
    for (let i = 0; i < proof.output.length; i++) {
      const wrong = [...pub];
      wrong[i] = (wrong[i]! + 1n) % 256n;
      expect(await verify(modelId, wrong, words(proof))).toBe(false);
    }
    // another input value
    const wrongIn = [...pub];
    wrongIn[pub.length - 1] = (wrongIn[pub.length - 1]! + 1n) % 256n;
    expect(await verify(modelId, wrongIn, words(proof))).toBe(false);
    // a public input >= r is refused, not reduced
    const big = [...pub];
    big[0] = big[0]! + R;
    expect(await revertName(verify(modelId, big, words(proof)))).toBe('InvalidPublicInput');
    // a wrong number of public inputs
    expect(await revertName(verify(modelId, pub.slice(1), words(proof)))).toBe('PublicInputCount');
    // an unknown model
    expect(await revertName(verify(keccak256(toHex('other')), pub, words(proof)))).toBe('UnknownModel');
    // a coordinate >= p, and a point off the curve
    const w = [...words(proof)];
    expect(await revertName(verify(modelId, pub, [w[0]! + P, ...w.slice(1)]))).toBe('InvalidProof');
    expect(await revertName(verify(modelId, pub, [w[0]!, w[1]! ^ 1n, ...w.slice(2)]))).toBe('InvalidProof');
  });

  it('a dApp pays out only for a proven inference (InferenceBounty)', async () => {
    const { InferenceBounty } = await compileContracts(['examples/InferenceBounty.sol']);
    const abi = InferenceBounty!.abi;
    const { address } = await deploy(c.walletClient, c.publicClient, InferenceBounty!);
    const inputSignals = signals(proof).slice(proof.output.length);
    const reward = 10n ** 17n;
    const post = await c.walletClient.writeContract({ address, abi, functionName: 'post', args: [modelId, inputSignals, 3600n], value: reward });
    await c.publicClient.waitForTransactionReceipt({ hash: post });

    const prover = clients(node, DEV_KEYS[2]);
    const outputs = signals(proof).slice(0, proof.output.length);
    const wrong = [...outputs];
    wrong[0] = (wrong[0]! + 1n) % 256n;
    expect(await revertName(prover.publicClient.simulateContract({ account: prover.account, address, abi, functionName: 'fulfill', args: [0n, wrong, words(proof)] }))).toBe(
      'ProofRejected',
    );

    const before = await c.publicClient.getBalance({ address: prover.account.address });
    const hash = await prover.walletClient.writeContract({ address, abi, functionName: 'fulfill', args: [0n, outputs, words(proof)] });
    const r = await c.publicClient.waitForTransactionReceipt({ hash });
    expect(r.status).toBe('success');
    const after = await c.publicClient.getBalance({ address: prover.account.address });
    expect(after - before).toBe(reward - r.gasUsed * r.effectiveGasPrice);
    const [settled, out] = (await c.publicClient.readContract({ address, abi, functionName: 'result', args: [0n] })) as [boolean, bigint[]];
    expect(settled).toBe(true);
    expect(out).toEqual(outputs);
    expect(await revertName(prover.publicClient.simulateContract({ account: prover.account, address, abi, functionName: 'fulfill', args: [0n, outputs, words(proof)] }))).toBe(
      'Settled',
    );
  });

  it("a contract runs the model synchronously (OnChainClassifier) with the native executor's answer", async () => {
    const { OnChainClassifier } = await compileContracts(['examples/OnChainClassifier.sol']);
    const abi = OnChainClassifier!.abi;
    const { address } = await deploy(c.walletClient, c.publicClient, OnChainClassifier!, [modelId]);
    const expected = Array.from(runModel(model, input).output);
    const peek = (await c.publicClient.readContract({ address, abi, functionName: 'peek', args: [toHex(Uint8Array.from(input))] })) as bigint[];
    expect(peek.map(Number)).toEqual(expected);
    const hash = await c.walletClient.writeContract({ address, abi, functionName: 'classify', args: [toHex(Uint8Array.from(input))] });
    const r = await c.publicClient.waitForTransactionReceipt({ hash });
    expect(r.status).toBe('success');
    const label = await c.publicClient.readContract({ address, abi, functionName: 'lastLabel', args: [c.account.address] });
    expect(Number(label)).toBe(expected.indexOf(Math.max(...expected)));
    // the precompile itself: wrong input length, unknown model
    expect(await revertName(c.publicClient.readContract({ address: MODEL_EXEC, abi: execAbi, functionName: 'execute', args: [modelId, '0x0102'] }))).toBe('InputLength');
    expect(await revertName(c.publicClient.readContract({ address: MODEL_EXEC, abi: execAbi, functionName: 'execute', args: [keccak256('0x01'), '0x'] }))).toBe('UnknownModel');
  });

  it('serves the model artifacts by content hash', async () => {
    const a: any = await must(node.url, 'ai_modelArtifacts', [modelId]);
    expect(a.modelId).toBe(modelId.toLowerCase());
    const names = a.artifacts.map((x: any) => x.name);
    expect(names).toEqual(expect.arrayContaining(['circuit.wasm', 'circuit.zkey', 'verification_key.json']));
    const zkey = a.artifacts.find((x: any) => x.name === 'circuit.zkey');
    const res = await fetch(new URL(zkey.url, node.url));
    expect(res.status).toBe(200);
    const body = Buffer.from(await res.arrayBuffer());
    expect(createHash('sha256').update(body).digest('hex')).toBe(zkey.sha256);
    // the manifest is served by its own hash, and lists every artifact's hash
    const manifest = await fetch(new URL(a.manifest.url, node.url));
    const manifestBytes = Buffer.from(await manifest.arrayBuffer());
    expect(createHash('sha256').update(manifestBytes).digest('hex')).toBe(a.manifest.sha256);
    expect(JSON.parse(manifestBytes.toString('utf8')).artifacts.map((x: any) => x.sha256)).toEqual(a.artifacts.map((x: any) => x.sha256));
    expect((await fetch(new URL(`/artifacts/${'0'.repeat(64)}`, node.url))).status).toBe(404);
    expect(await must(node.url, 'ai_modelArtifacts', [keccak256('0x02')])).toBeNull();
  });

  it('a deprecated model no longer verifies or executes', async () => {
    const abi = loadArtifact('ModelRegistry').abi;
    const hash = await c.walletClient.writeContract({ address: MODEL_REGISTRY_ADDRESS, abi, functionName: 'deprecate', args: [modelId] });
    await c.publicClient.waitForTransactionReceipt({ hash });
    expect(await revertName(verify(modelId, signals(proof), words(proof)))).toBe('ModelDeprecated');
    expect(await revertName(c.publicClient.readContract({ address: MODEL_EXEC, abi: execAbi, functionName: 'execute', args: [modelId, toHex(Uint8Array.from(input))] }))).toBe(
      'ModelDeprecated',
    );
  });
});
