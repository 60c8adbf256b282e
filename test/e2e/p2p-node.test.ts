import { createHash } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEther, parseEventLogs, zeroAddress } from 'viem';
import type { Hex } from 'viem';
import { INFERENCE_MARKET_ADDRESS } from '../../contracts/predeploys.ts';
import { P2PService, TopicKind, p2pOptions } from '../../node/p2p/index.ts';
import { inputHash } from '../../precompiles/model/input-hash.ts';
import { decodeJob, encodeJob } from '../../node/ai/jobs/job-message.ts';
import type { JobMessage } from '../../node/ai/jobs/job-message.ts';
import { TINY_SPEC, cliOk, compileModelCached } from '../helpers/ai.ts';
import { clients, removeDir, startDevNode } from '../helpers/dev-node.ts';
import type { DevNode } from '../helpers/dev-node.ts';
import { marketAbi } from '../helpers/market.ts';
import { call } from '../helpers/txs.ts';
import { waitFor } from '../helpers/wait.ts';

const CHAIN_ID = 1337n;
const FEE = parseEther('0.01');
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const peerIdOf = (addr: string) => addr.split('/p2p/')[1]!;

/** A libp2p peer in this process on the jobs topic, recording every job it is handed (raw bytes too). */
async function jobPeer() {
  const jobs: JobMessage[] = [];
  const raw: string[] = [];
  const p2p = await P2PService.create(p2pOptions(CHAIN_ID, { listen: ['/ip4/127.0.0.1/tcp/0'], gossip: { heartbeatMs: 100 } }), { logger: pino({ level: 'silent' }) });
  p2p.gossip.subscribe(TopicKind.Jobs, {
    decode: (bytes) => {
      raw.push(new TextDecoder().decode(bytes));
      return decodeJob(bytes, CHAIN_ID);
    },
    handle: (job) => void jobs.push(job),
  });
  await p2p.start();
  const job = (id: bigint) => jobs.find((j) => j.requestId === id.toString());
  return { p2p, jobs, raw, job };
}
type JobPeer = Awaited<ReturnType<typeof jobPeer>>;

/** Connects to the node and waits until both sides are on the jobs mesh, so nothing published is missed. */
async function join_(peer: JobPeer, node: DevNode): Promise<void> {
  await peer.p2p.dial(node.p2p[0]!);
  await waitFor('jobs mesh with the node', () => peer.p2p.gossip.topicPeers(TopicKind.Jobs).mesh >= 1);
}

describe('node p2p: proof jobs announced over gossip, artifacts served by hash', () => {
  let node: DevNode;
  let work: string;
  let c: ReturnType<typeof clients>;
  let publicModel: Hex;
  let privateModel: Hex;
  const peers: JobPeer[] = [];
  const input = Array.from({ length: 16 }, (_, i) => (i * 29 + 5) % 256);
  const nodeArgs = () => ['--models', join(work, 'models'), '--p2p.listen', '/ip4/127.0.0.1/tcp/0'];
  const newPeer = async () => {
    const p = await jobPeer();
    peers.push(p);
    return p;
  };

  async function request(modelId: Hex, inputSignals: bigint[]): Promise<{ id: bigint; deadline: bigint }> {
    const hash = await c.walletClient.writeContract({
      address: INFERENCE_MARKET_ADDRESS,
      abi: marketAbi,
      functionName: 'requestInference',
      args: [modelId, inputSignals, 3600n, zeroAddress, 0],
      value: FEE,
    });
    const receipt = await c.publicClient.waitForTransactionReceipt({ hash });
    const ev = parseEventLogs({ abi: marketAbi, logs: receipt.logs, eventName: 'InferenceRequested' })[0]!;
    return { id: ev.args.id, deadline: ev.args.deadline };
  }

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'p2p-node-'));
    node = await startDevNode({ blockTime: 0, args: nodeArgs() });
    c = clients(node);
    // two models: one id holds one key, so the private-input one needs other weights
    const spec = JSON.parse(await readFile(TINY_SPEC, 'utf8'));
    spec.layers[1].biases[0] += 1;
    await writeFile(join(work, 'private.json'), JSON.stringify(spec));
    await compileModelCached(TINY_SPEC, join(work, 'models', 'tiny'));
    await compileModelCached(join(work, 'private.json'), join(work, 'models', 'tiny-private'), ['--private-input']);
    const register = async (dir: string) => JSON.parse(await cliOk(['model', 'register', '--model', join(work, 'models', dir), '--rpc', node.url, '--dev'])).modelId as Hex;
    publicModel = await register('tiny');
    privateModel = await register('tiny-private');
  }, 600_000);
  afterAll(async () => {
    await Promise.all(peers.map((p) => p.p2p.stop()));
    await node?.stop();
    await removeDir(node?.datadir ?? '');
    await removeDir(work);
  });

  it('logs a dialable multiaddr with its peer id in the node started line', async () => {
    expect(node.p2p.length).toBeGreaterThan(0);
    expect(node.p2p[0]).toMatch(/^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\/12D3KooW\w+$/);
    const a = await newPeer();
    await join_(a, node);
    expect(a.p2p.isConnected(peerIdOf(node.p2p[0]!))).toBe(true);
  });

  it("announces a market request as a job with the request's fields and the model package's manifest hash", async () => {
    const a = peers[0]!;
    const { id, deadline } = await request(publicModel, input.map(BigInt));
    const job = await waitFor('the job', () => a.job(id));
    const manifest = sha256(await readFile(join(work, 'models', 'tiny', 'manifest.json')));
    expect(job).toEqual({
      v: 1,
      chainId: '1337',
      requestId: id.toString(),
      modelId: publicModel,
      inputSignals: input.map(String),
      fee: FEE.toString(),
      deadline: Number(deadline),
      outputCount: 4,
      manifest,
    });
  });

  it('serves the manifest the job names, then circuit.zkey by its hash, over p2p', async () => {
    const a = peers[0]!;
    const nodeId = peerIdOf(node.p2p[0]!);
    const job = a.jobs.find((j) => j.modelId === publicModel)!;
    const manifestBytes = await a.p2p.artifacts.fetch(nodeId, job.manifest!);
    expect(Buffer.from(manifestBytes)).toEqual(await readFile(join(work, 'models', 'tiny', 'manifest.json')));
    const zkey = (JSON.parse(new TextDecoder().decode(manifestBytes)) as { artifacts: { name: string; sha256: string }[] }).artifacts.find((f) => f.name === 'circuit.zkey')!;
    const bytes = await a.p2p.artifacts.fetch(nodeId, zkey.sha256);
    expect(Buffer.from(bytes)).toEqual(await readFile(join(work, 'models', 'tiny', 'circuit.zkey')));
  });

  it("relays a peer's job only when it says what the chain says of its request: never junk, fakes, or jobs for requests it does not have", async () => {
    const [sender, b] = [await newPeer(), await newPeer()];
    await join_(sender, node); // sender sends; b's only connection is the node: whatever b gets, the node relayed
    await join_(b, node);
    // a private-input request whose input the node does not hold: a peer's job carrying it is worth relaying
    const other = input.map((v) => (v + 7) % 256);
    const hash = inputHash(Uint8Array.from(other));
    const { id, deadline } = await request(privateModel, [hash]);
    const count = (await c.publicClient.readContract({ address: INFERENCE_MARKET_ADDRESS, abi: marketAbi, functionName: 'requestCount' })) as bigint;
    const valid: JobMessage = {
      v: 1,
      chainId: '1337',
      requestId: id.toString(),
      modelId: privateModel,
      inputSignals: [hash.toString()],
      input: other,
      fee: FEE.toString(),
      deadline: Number(deadline),
      outputCount: 4,
    };
    const third = input.map((v) => (v + 11) % 256);
    const junk = [
      new TextEncoder().encode('{"not":"a job"}'),
      encodeJob({ ...valid, chainId: '901' }),
      encodeJob({ ...valid, input: [9, 9] }), // not the input the signals name
      encodeJob({ ...valid, requestId: (count + 5n).toString() }), // a future request id
      encodeJob({ ...valid, requestId: '424242' }), // no such request
      encodeJob({ ...valid, modelId: publicModel }), // another model than the request's
      encodeJob({ ...valid, inputSignals: [inputHash(Uint8Array.from(third)).toString()], input: third }), // other inputs
      encodeJob({ ...valid, fee: '1' }), // other terms
    ];
    for (const j of junk) await sender.p2p.gossip.publish(TopicKind.Jobs, j);
    await sender.p2p.gossip.publish(TopicKind.Jobs, encodeJob(valid));
    await waitFor('the valid job at b', () => b.job(id));
    await new Promise((r) => setTimeout(r, 1_000));
    expect(b.raw).toEqual([new TextDecoder().decode(encodeJob(valid))]);
    expect(b.p2p.isConnected(peerIdOf(node.p2p[0]!))).toBe(true);
  });

  it('announces a private-input request once ai_submitJobInput hands over an input matching its hash', async () => {
    const a = peers[0]!;
    const { id } = await request(privateModel, [inputHash(Uint8Array.from(input))]);
    await new Promise((r) => setTimeout(r, 1_500));
    expect(a.job(id)).toBeUndefined(); // no prover could use it without the input

    const wrong = await call(node.url, 'ai_submitJobInput', [`0x${id.toString(16)}`, input.map((v) => (v + 1) % 256)]);
    expect(wrong.error?.code).toBe(-32000);
    expect(wrong.error?.message).toContain('input does not match');
    const unknown = await call(node.url, 'ai_submitJobInput', ['0xffff', input]);
    expect(unknown.error).toEqual({ code: -32000, message: 'unknown request 65535' });
    for (const params of [['0x1', [256]], ['0x1', []], ['nope', input], ['0x1']]) {
      expect((await call(node.url, 'ai_submitJobInput', params)).error?.code).toBe(-32602);
    }

    const ok = await call(node.url, 'ai_submitJobInput', [Number(id), input]);
    expect(ok.result).toEqual({ requestId: `0x${id.toString(16)}`, peers: expect.stringMatching(/^0x[1-9]/) });
    const job = await waitFor('the private job', () => a.job(id));
    expect(job.input).toEqual(input);
    expect(job.inputSignals).toEqual([inputHash(Uint8Array.from(input)).toString()]);
    expect(job.manifest).toBe(sha256(await readFile(join(work, 'models', 'tiny-private', 'manifest.json'))));
  });

  it('keeps its peer id across a restart and announces the still-open jobs to peers that join then', async () => {
    const before = peerIdOf(node.p2p[0]!);
    const open = peers[0]!.jobs.find((j) => j.modelId === publicModel)!;
    expect(await node.stop()).toBe(0);
    node = await startDevNode({ blockTime: 0, datadir: node.datadir, args: nodeArgs() });
    expect(peerIdOf(node.p2p[0]!)).toBe(before);
    const late = await newPeer();
    await join_(late, node);
    const again = await waitFor('the open job, announced again', () => late.job(BigInt(open.requestId)));
    expect(again).toEqual(open);
  }, 90_000);
});
