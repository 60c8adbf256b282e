import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keccak256, parseEther, parseEventLogs, toHex, zeroAddress } from 'viem';
import type { Hex } from 'viem';
import { INFERENCE_MARKET_ADDRESS } from '../../contracts/predeploys.ts';
import { P2PService, TopicKind, p2pOptions } from '../../node/p2p/index.ts';
import { inputHash } from '../../precompiles/model/input-hash.ts';
import { encodeJob } from '../../node/ai/jobs/job-message.ts';
import type { JobMessage } from '../../node/ai/jobs/job-message.ts';
import { TINY_SPEC, cliOk, compileModelCached } from '../helpers/ai.ts';
import { clients, removeDir, startDevNode } from '../helpers/dev-node.ts';
import type { DevNode } from '../helpers/dev-node.ts';
import { marketAbi } from '../helpers/market.ts';
import { startProver, waitFor } from '../helpers/prover.ts';
import type { ProverProc } from '../helpers/prover.ts';

const CHAIN_ID = 1337n;
const FEE = parseEther('0.01');
const inputOf = (k: number) => Array.from({ length: 16 }, (_, i) => (i * 13 + k * 29 + 7) % 256);
const peerIdOf = (addr: string) => addr.split('/p2p/')[1]!;
/** A package manifest hash nobody serves. */
const BOGUS_MANIFEST = 'ab'.repeat(32);
/** The prover's bound on private-input messages held per peer for requests it cannot see yet. */
const MAX_HELD_PER_PEER = 32;

/** A libp2p peer in this process on the jobs topic, keeping every message it is handed. */
async function gossipPeer() {
  const raw: string[] = [];
  const p2p = await P2PService.create(p2pOptions(CHAIN_ID, { listen: ['/ip4/127.0.0.1/tcp/0'], gossip: { heartbeatMs: 100 } }), { logger: pino({ level: 'silent' }) });
  p2p.gossip.subscribe(TopicKind.Jobs, {
    decode: (bytes) => raw.push(new TextDecoder().decode(bytes)),
    handle: () => undefined,
  });
  await p2p.start();
  return { p2p, raw, jobs: () => raw.map((r) => JSON.parse(r) as JobMessage) };
}
type Peer = Awaited<ReturnType<typeof gossipPeer>>;

/**
 * Fake proof jobs over gossip against the real thing: a dev node with p2p, one `ai-rollup prover`
 * process, an attacking peer connected to both, and two witnesses, one behind the node only and
 * one behind the prover only (whatever reaches a witness, the node or the prover relayed).
 */
describe('fake proof jobs: checked against the chain before anyone relays or works on them', () => {
  let work: string;
  let node: DevNode;
  let prover: ProverProc | undefined;
  let modelId: Hex;
  const peers: Peer[] = [];

  const c = () => clients(node);
  const requestCount = () => c().publicClient.readContract({ address: INFERENCE_MARKET_ADDRESS, abi: marketAbi, functionName: 'requestCount' });
  const getRequest = (id: bigint) => c().publicClient.readContract({ address: INFERENCE_MARKET_ADDRESS, abi: marketAbi, functionName: 'getRequest', args: [id] });
  async function request(input: number[]): Promise<bigint> {
    const hash = await c().walletClient.writeContract({
      address: INFERENCE_MARKET_ADDRESS,
      abi: marketAbi,
      functionName: 'requestInference',
      args: [modelId, input.map(BigInt), 600n, zeroAddress, 0],
      value: FEE,
    });
    const receipt = await c().publicClient.waitForTransactionReceipt({ hash });
    return parseEventLogs({ abi: marketAbi, logs: receipt.logs, eventName: 'InferenceRequested' })[0]!.args.id;
  }

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'prover-fake-jobs-'));
    node = await startDevNode({ blockTime: 1, args: ['--models', join(work, 'models'), '--p2p.listen', '/ip4/127.0.0.1/tcp/0'] });
    await compileModelCached(TINY_SPEC, join(work, 'models', 'tiny'));
    modelId = JSON.parse(await cliOk(['model', 'register', '--model', join(work, 'models', 'tiny'), '--rpc', node.url, '--dev'])).modelId as Hex;
    prover = await startProver([
      '--rpc',
      node.url,
      '--dev-account',
      '5',
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
    await Promise.all(peers.map((p) => p.p2p.stop()));
    await prover?.stop();
    await node?.stop();
    await removeDir(node?.datadir ?? '');
    await removeDir(work);
  });

  it('fakes reach no third peer, the liar is cut off, the prover holds a bounded few, and the real jobs are proven and paid', async () => {
    const [attacker, behindNode, behindProver] = [await gossipPeer(), await gossipPeer(), await gossipPeer()];
    peers.push(attacker, behindNode, behindProver);
    const [nodeId, proverId] = [peerIdOf(node.p2p[0]!), peerIdOf(prover!.p2p[0]!)];
    await attacker.p2p.dial(node.p2p[0]!);
    await attacker.p2p.dial(prover!.p2p[0]!);
    await behindNode.p2p.dial(node.p2p[0]!);
    await behindProver.p2p.dial(prover!.p2p[0]!);
    await waitFor(
      'jobs meshes',
      () =>
        attacker.p2p.gossip.topicPeers(TopicKind.Jobs).mesh >= 2 &&
        behindNode.p2p.gossip.topicPeers(TopicKind.Jobs).mesh >= 1 &&
        behindProver.p2p.gossip.topicPeers(TopicKind.Jobs).mesh >= 1,
    );

    const count = await requestCount();
    const [idA, idB] = [count + 1n, count + 2n];
    const [inputA, inputB] = [inputOf(1), inputOf(2)];
    let nonce = 0;
    const publish = (m: Partial<JobMessage>) => {
      // a fresh fee each time: identical bytes would be deduplicated by gossipsub before any check
      const job: JobMessage = {
        v: 1,
        chainId: CHAIN_ID.toString(),
        requestId: '0',
        modelId,
        inputSignals: inputA.map(String),
        fee: String(1_000_000 + nonce++),
        deadline: 4_000_000_000,
        outputCount: 4,
        ...m,
      };
      return attacker.p2p.gossip.publish(TopicKind.Jobs, encodeJob(job)).catch(() => 0);
    };

    // before the requests exist: the next id with other inputs, the one after it with the real
    // inputs and a package nobody has, and a flood of private-input jobs for ids far ahead
    await publish({ requestId: idA.toString(), inputSignals: inputOf(9).map(String) });
    await publish({ requestId: idB.toString(), inputSignals: inputB.map(String), manifest: BOGUS_MANIFEST });
    for (let i = 0; i < 200; i++) {
      const input = inputOf(100 + i);
      await publish({ requestId: (count + 1_000n + BigInt(i)).toString(), inputSignals: [inputHash(Uint8Array.from(input)).toString()], input });
    }
    expect(await request(inputA)).toBe(idA);
    expect(await request(inputB)).toBe(idB);

    // after: an exact copy of a real job but for its manifest (nothing on chain contradicts it),
    // then jobs that contradict their request (other inputs, another model), until cut off
    const real = await getRequest(idB);
    await publish({ requestId: idB.toString(), inputSignals: inputB.map(String), fee: real.fee.toString(), deadline: Number(real.deadline), manifest: BOGUS_MANIFEST });
    const otherModel = keccak256(toHex('another model'));
    for (let i = 0; i < 80 && (attacker.p2p.isConnected(nodeId) || attacker.p2p.isConnected(proverId)); i++) {
      await publish(
        i % 2 === 0 ? { requestId: idA.toString(), inputSignals: inputOf(9).map(String) } : { requestId: idB.toString(), inputSignals: inputB.map(String), modelId: otherModel },
      );
      await new Promise((r) => setTimeout(r, 250));
    }
    await waitFor('the node and the prover cut the liar off', () => !attacker.p2p.isConnected(nodeId) && !attacker.p2p.isConnected(proverId), 60_000);

    for (const id of [idA, idB]) {
      const done = await waitFor(`request ${id} fulfilled`, async () => ((r) => (r.status === 2 ? r : false))(await getRequest(id)), 180_000, 500);
      expect(done.prover).toBe(prover!.address);
    }
    expect(await c().publicClient.getContractEvents({ address: INFERENCE_MARKET_ADDRESS, abi: marketAbi, eventName: 'ProofRejected', fromBlock: 0n })).toEqual([]);

    // every job a witness got says what the chain says of its request: none of the fakes
    for (const w of [behindNode, behindProver]) {
      for (const job of w.jobs()) {
        const req = await getRequest(BigInt(job.requestId));
        expect([idA, idB]).toContain(BigInt(job.requestId));
        expect({ modelId: job.modelId, inputSignals: job.inputSignals, fee: job.fee, deadline: job.deadline }).toEqual({
          modelId: req.modelId,
          inputSignals: req.inputSignals.map(String),
          fee: req.fee.toString(),
          deadline: Number(req.deadline),
        });
      }
    }
    expect(behindNode.jobs().map((j) => j.requestId)).toEqual(expect.arrayContaining([idA.toString(), idB.toString()]));

    // the chain says fulfilled as soon as the block lands; the prover counts it once it reads its receipt
    await waitFor('the prover to see both payments', () => prover!.records('fulfilled and paid').length === 2, 60_000);
    expect(await prover!.stop()).toBe(0);
    const stopped = prover!.records('prover stopped')[0]!;
    prover = undefined;
    expect(stopped).toMatchObject({ fulfilled: 2, open: 0 });
    // the flood of 200 was held at most MAX_HELD_PER_PEER at a time
    expect(stopped.heldPeak).toBeGreaterThan(0);
    expect(stopped.heldPeak).toBeLessThanOrEqual(MAX_HELD_PER_PEER);
  }, 600_000);
});
