import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aiRollupActions } from '../../client/index.ts';
import { parseEther } from 'viem';
import type { Hex } from 'viem';
import { INFERENCE_MARKET_ADDRESS } from '../../contracts/predeploys.ts';
import { devAccounts } from '../../node/chain/genesis.ts';
import { RequestStatus } from '../../contracts/abi/market.ts';
import { TINY_SPEC, cliOk, compileModelCached } from '../helpers/ai.ts';
import { clients, removeDir, startDevNode } from '../helpers/dev-node.ts';
import type { DevNode } from '../helpers/dev-node.ts';
import { marketAbi, writeMarketGenesis } from '../helpers/market.ts';
import { startProver, waitFor } from '../helpers/prover.ts';
import type { ProverProc } from '../helpers/prover.ts';

const FEE = parseEther('0.01');
const CLAIM_WINDOW = 6n;
const inputOf = (k: number) => Array.from({ length: 16 }, (_, i) => (i * 13 + k * 97) % 256);

describe('provers that die or race: every job is paid exactly once', () => {
  let work: string;
  let node: DevNode;
  let modelId: Hex;
  const running: ProverProc[] = [];
  const dapp = () => clients(node, devAccounts()[0]!.privateKey as Hex);
  const read = <F extends 'getRequest' | 'getProver'>(functionName: F, arg: F extends 'getRequest' ? bigint : Hex) =>
    dapp().publicClient.readContract({ address: INFERENCE_MARKET_ADDRESS, abi: marketAbi, functionName, args: [arg] } as never) as Promise<any>;

  // the dApp side asks through the SDK (ai-rollup/client)
  const request = async (k: number): Promise<bigint> =>
    (
      await dapp()
        .walletClient.extend(aiRollupActions())
        .requestInference({ modelId, input: inputOf(k), fee: FEE, ttlSeconds: 900n })
    ).id;
  const fulfilled = (id: bigint) =>
    waitFor(`request ${id} fulfilled`, async () => ((await read('getRequest', id)).status === RequestStatus.Fulfilled ? read('getRequest', id) : false), 180_000);
  async function prover(account: number, dir: string): Promise<ProverProc> {
    const p = await startProver([
      '--rpc',
      node.url,
      '--dev-account',
      String(account),
      '--stake',
      '1',
      '--concurrency',
      '1',
      '--datadir',
      join(work, dir),
      '--poll-ms',
      '250',
      '--p2p.listen',
      '/ip4/127.0.0.1/tcp/0',
    ]);
    running.push(p);
    return p;
  }

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'prover-faults-'));
    node = await startDevNode({ blockTime: 1, args: ['--genesis', await writeMarketGenesis(work, { claimWindow: CLAIM_WINDOW }), '--models', join(work, 'models')] });
    await compileModelCached(TINY_SPEC, join(work, 'models', 'tiny'));
    modelId = JSON.parse(await cliOk(['model', 'register', '--model', join(work, 'models', 'tiny'), '--rpc', node.url, '--dev'])).modelId;
  }, 600_000);

  afterAll(async () => {
    for (const p of running) await p.stop();
    await node?.stop();
    await removeDir(node?.datadir ?? '');
    await removeDir(work);
  });

  it('a prover killed after claiming: the job is offered again when its claim ends, another prover is paid, the first is slashed for the miss', async () => {
    const a = await prover(6, 'a');
    const id = await request(1);
    await waitFor('prover A claims', async () => a.logs.some((l) => l.includes('"msg":"claimed"') && l.includes(`"job":"${id}"`)), 60_000, 20);
    await a.kill9();
    const claim = await read('getRequest', id);
    expect(claim.claimant).toBe(a.address);
    expect(claim.status).toBe(RequestStatus.Open);

    const b = await prover(7, 'b');
    const done = await fulfilled(id);
    expect(done.prover).toBe(b.address);
    const infoA = await read('getProver', a.address);
    expect(infoA).toMatchObject({ missed: 1, fulfilled: 0, locked: 0n });
    expect(infoA.stake).toBeLessThan(parseEther('1'));
    expect(await read('getProver', b.address)).toMatchObject({ fulfilled: 1, missed: 0, rejected: 0 });
  }, 300_000);

  it('two provers on the same requests: each job is fulfilled once, nobody is rejected or slashed', async () => {
    const c = await prover(8, 'c');
    const others = running.filter((p) => p.proc.exitCode === null && p !== c);
    const ids: bigint[] = [];
    for (let k = 10; k < 16; k++) ids.push(await request(k));
    const done = await Promise.all(ids.map(fulfilled));
    const racers = [c.address, ...others.map((p) => p.address)];
    for (const r of done) expect(racers).toContain(r.prover);
    const logs = await dapp().publicClient.getContractEvents({ address: INFERENCE_MARKET_ADDRESS, abi: marketAbi, eventName: 'InferenceFulfilled', fromBlock: 0n });
    const paid = logs.filter((l) => ids.includes(l.args.id!)).map((l) => l.args.id);
    expect(paid.sort()).toEqual([...ids].sort());
    const rejected = await dapp().publicClient.getContractEvents({ address: INFERENCE_MARKET_ADDRESS, abi: marketAbi, eventName: 'ProofRejected', fromBlock: 0n });
    expect(rejected).toEqual([]);
    for (const addr of racers) expect((await read('getProver', addr)).rejected).toBe(0);
  }, 300_000);
});
