import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeErrorResult, encodeFunctionData, getAddress, parseEther, parseEventLogs, parseTransaction } from 'viem';
import type { Address, Hex, TransactionReceipt } from 'viem';
import { compileContracts } from '../../contracts/compile.ts';
import { INFERENCE_MARKET_ADDRESS, loadArtifact } from '../../contracts/predeploys.ts';
import { devAccounts } from '../../node/chain/genesis.ts';
import { TINY_SPEC, cliOk, readJson, verifierAbi, compileModelCached } from '../helpers/ai.ts';
import type { ProofFile } from '../helpers/ai.ts';
import { deploy } from '../helpers/contracts.ts';
import { clients, removeDir, startDevNode } from '../helpers/dev-node.ts';
import type { DevNode } from '../helpers/dev-node.ts';
import { abiDrift, advancePast, consumerAbi, marketAbi, revertName, writeMarketGenesis } from '../helpers/market.ts';
import type { MarketProver } from '../../contracts/abi/market.ts';

const P = 21888242871839275222246405745257275088696311157297823662689037894645226208583n;
/** Short enough that the miss case takes a few blocks, long enough to claim and fulfil inside it. */
const CLAIM_WINDOW = 4n;
const FEE = parseEther('0.25');
const HOUR = 3600n;
type Clients = ReturnType<typeof clients>;
type ProofWords = readonly [bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint];

describe('inference market predeploy: staked provers fulfil paid requests with real proofs', () => {
  let node: DevNode;
  let work: string;
  let modelId: Hex;
  let outputs: bigint[];
  let inputSignals: bigint[];
  let proof: ProofWords;
  let consumer: Address;
  // dev accounts (funded in the genesis file): requester, provers A/B/C, a bystander with no stake
  let dapp: Clients, a: Clients, b: Clients, cc: Clients, nobody: Clients;
  let params: { minStake: bigint; claimStake: bigint; claimWindow: bigint; missSlashBps: bigint; rejectSlashBps: bigint; maxCallbackGas: bigint };

  const read = <T>(functionName: string, args: readonly unknown[] = []) =>
    dapp.publicClient.readContract({ address: INFERENCE_MARKET_ADDRESS, abi: marketAbi, functionName, args } as any) as Promise<T>;
  const prover = (who: Clients) => read<{ stake: bigint; locked: bigint; fulfilled: number; missed: number; rejected: number }>('getProver', [who.account.address]);
  const balance = (who: Clients) => dapp.publicClient.getBalance({ address: who.account.address });
  const cost = (r: TransactionReceipt) => r.gasUsed * r.effectiveGasPrice;

  /** Sends a market transaction and waits for it; `gas` skips estimation (it would revert first). */
  async function send(who: Clients, functionName: string, args: readonly unknown[], value?: bigint, gas?: bigint): Promise<TransactionReceipt> {
    const hash = await who.walletClient.writeContract({ address: INFERENCE_MARKET_ADDRESS, abi: marketAbi, functionName, args, value, gas } as any);
    return who.publicClient.waitForTransactionReceipt({ hash });
  }
  const simulate = (who: Clients, functionName: string, args: readonly unknown[], value?: bigint) =>
    who.publicClient.simulateContract({ account: who.account, address: INFERENCE_MARKET_ADDRESS, abi: marketAbi, functionName, args, value } as any);
  const events = (r: TransactionReceipt, eventName: string) => parseEventLogs({ abi: marketAbi, logs: r.logs, eventName: eventName as any }) as any[];

  async function request(ttl = HOUR, callback: Address = '0x0000000000000000000000000000000000000000', callbackGas = 0): Promise<bigint> {
    const r = await send(dapp, 'requestInference', [modelId, inputSignals, ttl, callback, callbackGas], FEE);
    expect(r.status).toBe('success');
    return events(r, 'InferenceRequested')[0].args.id as bigint;
  }
  const slash = (bps: bigint) => (params.claimStake * bps) / 10_000n;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'ai-market-'));
    const genesis = await writeMarketGenesis(work, { claimWindow: CLAIM_WINDOW });
    node = await startDevNode({ blockTime: 0, args: ['--genesis', genesis] });
    const keys = devAccounts().map((x) => x.privateKey as Hex);
    [dapp, a, b, cc, nobody] = [0, 1, 2, 3, 4].map((i) => clients(node, keys[i]));
    const model = join(work, 'tiny');
    await compileModelCached(TINY_SPEC, model);
    modelId = JSON.parse(await cliOk(['model', 'register', '--model', model, '--rpc', node.url, '--dev'])).modelId;
    const input = Array.from({ length: 16 }, (_, i) => (i * 53 + 7) % 256);
    await writeFile(join(work, 'input.json'), JSON.stringify(input));
    await cliOk(['model', 'prove', '--model', model, '--input', join(work, 'input.json'), '--out', join(work, 'proof.json')]);
    const p = readJson<ProofFile>(join(work, 'proof.json'));
    const signals = p.publicSignals.map(BigInt);
    outputs = signals.slice(0, p.output.length);
    inputSignals = signals.slice(p.output.length);
    proof = p.proofWords.map(BigInt) as unknown as ProofWords;
    const { InferenceConsumer } = await compileContracts(['examples/InferenceConsumer.sol']);
    expect(abiDrift(consumerAbi, InferenceConsumer!.abi)).toEqual([]);
    consumer = getAddress((await deploy(dapp.walletClient, dapp.publicClient, InferenceConsumer!, [modelId])).address);
    params = await read('parameters');
    for (const who of [a, b]) expect((await send(who, 'registerProver', [], params.minStake * 2n)).status).toBe('success');
  }, 900_000);
  afterAll(async () => {
    await node?.stop();
    await removeDir(node?.datadir ?? '');
    await removeDir(work);
  });

  it("is in genesis at its address with the operator's claim window and the documented defaults", async () => {
    const artifact = loadArtifact('InferenceMarket');
    expect(abiDrift(marketAbi, artifact.abi)).toEqual([]);
    expect(await dapp.publicClient.getCode({ address: INFERENCE_MARKET_ADDRESS })).toBe(artifact.deployedBytecode);
    expect(params).toEqual({
      minStake: parseEther('1'),
      claimStake: parseEther('0.1'),
      claimWindow: CLAIM_WINDOW,
      missSlashBps: 1000n,
      rejectSlashBps: 5000n,
      maxCallbackGas: 500_000n,
    });
  });

  it('refuses provers without stake, and requests no proof could match', async () => {
    const id = await request();
    expect((await revertName(simulate(nobody, 'claim', [id]))).name).toBe('NotRegistered');
    expect((await revertName(simulate(nobody, 'fulfill', [id, outputs, proof]))).name).toBe('NotClaimant');
    expect(await revertName(simulate(nobody, 'registerProver', [], params.minStake / 2n))).toEqual({ name: 'StakeTooLow', args: [params.minStake / 2n, params.minStake] });
    const n = BigInt(outputs.length + inputSignals.length);
    const all = [...outputs, ...inputSignals];
    expect(await revertName(simulate(dapp, 'requestInference', [modelId, all, HOUR, consumer, 0], FEE))).toEqual({ name: 'InputSignalCount', args: [n, n] });
    const unknown = await revertName(simulate(dapp, 'requestInference', [`0x${'11'.repeat(32)}`, inputSignals, HOUR, consumer, 0], FEE));
    expect(unknown.name).toBe('ModelUnavailable');
    expect(decodeErrorResult({ abi: verifierAbi, data: unknown.args[1] as Hex }).errorName).toBe('UnknownModel');
    expect((await revertName(simulate(dapp, 'requestInference', [modelId, inputSignals, HOUR, consumer, 600_000], FEE))).name).toBe('CallbackGasTooHigh');
  });

  it('request -> claim -> fulfil with a real proof: paid once, callback delivered, result readable', async () => {
    const hash = await dapp.walletClient.writeContract({ address: consumer, abi: consumerAbi, functionName: 'ask', args: [inputSignals, HOUR], value: FEE });
    const asked = events(await dapp.publicClient.waitForTransactionReceipt({ hash }), 'InferenceRequested')[0].args;
    expect(asked.requester).toBe(consumer);
    expect(asked.fee).toBe(FEE);
    expect(asked.outputCount).toBe(outputs.length);
    expect(asked.inputSignals).toEqual(inputSignals);
    const id = asked.id as bigint;

    const claimed = await send(a, 'claim', [id]);
    expect(events(claimed, 'Claimed')[0].args.prover).toBe(a.account.address);
    expect(await read('freeStake', [a.account.address])).toBe(params.minStake * 2n - params.claimStake);
    expect((await revertName(simulate(b, 'claim', [id]))).name).toBe('AlreadyClaimed');

    const before = { a: await balance(a), stats: await prover(a) };
    const r = await send(a, 'fulfill', [id, outputs, proof]);
    expect(r.status).toBe('success');
    expect(await balance(a)).toBe(before.a + FEE - cost(r));
    expect(events(r, 'InferenceFulfilled').map((e) => e.args.prover)).toEqual([a.account.address]);
    expect(events(r, 'CallbackFailed')).toEqual([]);
    expect((await prover(a)).fulfilled).toBe(before.stats.fulfilled + 1);
    expect((await prover(a)).locked).toBe(0n);
    expect(await read('result', [id])).toEqual([true, outputs]);
    const delivered = await dapp.publicClient.readContract({ address: consumer, abi: consumerAbi, functionName: 'resultOf', args: [id] });
    expect(delivered).toEqual([true, outputs]);
    const label = await dapp.publicClient.readContract({ address: consumer, abi: consumerAbi, functionName: 'label', args: [id] });
    expect(label).toEqual([true, BigInt(outputs.indexOf(outputs.reduce((x, y) => (y > x ? y : x))))]);
    expect((await revertName(simulate(a, 'fulfill', [id, outputs, proof]))).name).toBe('AlreadyFulfilled');
    // the consumer takes results from the market only
    const direct = dapp.publicClient.simulateContract({
      account: dapp.account,
      address: consumer,
      abi: consumerAbi,
      functionName: 'onInferenceResult',
      args: [id, modelId, outputs],
    });
    expect((await revertName(direct)).name).toBe('OnlyMarket');
  });

  /** `who`'s fulfil transaction, signed but not sent: what the pool would show. */
  const signedFulfil = async (who: Clients, id: bigint) => {
    const data = encodeFunctionData({ abi: marketAbi, functionName: 'fulfill', args: [id, outputs, proof] });
    return who.walletClient.signTransaction(await who.walletClient.prepareTransactionRequest({ to: INFERENCE_MARKET_ADDRESS, data, gas: 2_000_000n }));
  };
  /** `thief` resends the calldata of a pending transaction with twice its tip: his copy is mined first. */
  const copyWithHigherTip = async (thief: Clients, signed: Hex) => {
    const seen = parseTransaction(signed);
    const tip = seen.maxPriorityFeePerGas! * 2n + 1n;
    const hash = await thief.walletClient.sendTransaction({ to: seen.to!, data: seen.data!, gas: seen.gas!, maxPriorityFeePerGas: tip, maxFeePerGas: seen.maxFeePerGas! + tip });
    return thief.publicClient.waitForTransactionReceipt({ hash });
  };

  it('a fulfilment copied from the pool with a higher tip reverts and earns nothing; the claimant is paid once', async () => {
    const id = await request();
    const before = { a: await balance(a), b: await balance(b), sb: await prover(b) };
    // a fulfilment sent without a claim (as the market once allowed) is copied: the copy is refused, and so is the original
    const direct = await signedFulfil(a, id);
    const copy1 = await copyWithHigherTip(b, direct);
    expect(copy1.status).toBe('reverted');
    expect(await revertName(simulate(b, 'fulfill', [id, outputs, proof]))).toEqual({ name: 'NotClaimant', args: [id, '0x0000000000000000000000000000000000000000', 0n] });
    expect((await a.publicClient.waitForTransactionReceipt({ hash: await a.publicClient.sendRawTransaction({ serializedTransaction: direct }) })).status).toBe('reverted');
    const afterDirect = await balance(a);

    // the protocol's way: claim, then fulfil; the pending fulfilment is copied again
    const claim = await send(a, 'claim', [id]);
    const signed = await signedFulfil(a, id);
    const copy2 = await copyWithHigherTip(b, signed);
    expect(copy2.status).toBe('reverted');
    expect(await balance(b)).toBe(before.b - cost(copy1) - cost(copy2));
    expect(await prover(b)).toEqual(before.sb);
    const { claimedUntil } = await read<{ claimedUntil: bigint }>('getRequest', [id]);
    expect(await revertName(simulate(b, 'fulfill', [id, outputs, proof]))).toEqual({ name: 'NotClaimant', args: [id, a.account.address, claimedUntil] });

    const mine = await a.publicClient.waitForTransactionReceipt({ hash: await a.publicClient.sendRawTransaction({ serializedTransaction: signed }) });
    expect(mine.status).toBe('success');
    expect(await balance(a)).toBe(afterDirect + FEE - cost(claim) - cost(mine));
    expect(before.a).toBeGreaterThan(afterDirect); // the refused direct attempt only cost its gas
    const logs = await dapp.publicClient.getContractEvents({ address: INFERENCE_MARKET_ADDRESS, abi: marketAbi, eventName: 'InferenceFulfilled', args: { id }, fromBlock: 0n });
    expect(logs.map((l) => l.args.prover)).toEqual([a.account.address]);
  });

  it('two provers race to claim a job: one claim wins, only its holder may fulfil', async () => {
    // the consumer did not ask for this one, so its callback refuses: that must not undo the payment
    const id = await request(HOUR, consumer, 200_000);
    const before = { a: await balance(a), b: await balance(b), sa: await prover(a), sb: await prover(b) };
    const gas = 500_000n;
    const [ra, rb] = await Promise.all([send(a, 'claim', [id], undefined, gas), send(b, 'claim', [id], undefined, gas)]);
    const [win, lose, winner, loser] = ra.status === 'success' ? [ra, rb, a, b] : [rb, ra, b, a];
    expect([win.status, lose.status]).toEqual(['success', 'reverted']);
    expect((await revertName(simulate(loser, 'fulfill', [id, outputs, proof]))).name).toBe('NotClaimant');
    const f = await send(winner, 'fulfill', [id, outputs, proof]);
    expect(events(f, 'CallbackFailed').map((e) => e.args.callback)).toEqual([consumer]);
    const paid = (who: Clients) => (who === a ? before.a : before.b);
    expect(await balance(winner)).toBe(paid(winner) + FEE - cost(win) - cost(f));
    expect(await balance(loser)).toBe(paid(loser) - cost(lose));
    expect((await revertName(simulate(loser, 'fulfill', [id, outputs, proof]))).name).toBe('AlreadyFulfilled');
    // losing a race is not cheating
    const s = await prover(loser);
    expect(s.stake).toBe((loser === a ? before.sa : before.sb).stake);
    expect(s.rejected).toBe((loser === a ? before.sa : before.sb).rejected);
  });

  it('a wrong output or malformed proof does not revert: recorded, slashed, unpaid', async () => {
    const id = await request();
    await send(b, 'claim', [id]);
    const wrongOut = outputs.map((v, i) => (i === 0 ? (v + 1n) % 256n : v));
    const cases: [string, readonly unknown[], string | undefined][] = [
      ['wrong output (the claimant)', [id, wrongOut, proof], undefined],
      ['coordinate >= p', [id, outputs, [proof[0] + P, ...proof.slice(1)]], 'InvalidProof'],
      ['one output short', [id, outputs.slice(1), proof], 'PublicInputCount'],
    ];
    for (const [what, args, reason] of cases) {
      // a rejection ends the claim (asserted below): B claims again for the next case
      if ((await read<{ claimant: Address }>('getRequest', [id])).claimant !== b.account.address) await send(b, 'claim', [id]);
      const before = { bal: await balance(b), stats: await prover(b), credit: await read<bigint>('credits', [dapp.account.address]) };
      const r = await send(b, 'fulfill', args);
      expect(r.status, what).toBe('success');
      const [rej] = events(r, 'ProofRejected');
      expect(rej.args.slashed, what).toBe(slash(params.rejectSlashBps));
      if (reason === undefined) expect(rej.args.reason, what).toBe('0x');
      else expect(decodeErrorResult({ abi: verifierAbi, data: rej.args.reason }).errorName, what).toBe(reason);
      expect(events(r, 'InferenceFulfilled'), what).toEqual([]);
      expect(await balance(b), what).toBe(before.bal - cost(r));
      const after = await prover(b);
      expect(after.rejected, what).toBe(before.stats.rejected + 1);
      expect(after.stake, what).toBe(before.stats.stake - slash(params.rejectSlashBps));
      expect(await read('credits', [dapp.account.address]), what).toBe(before.credit + slash(params.rejectSlashBps));
      expect((await read<readonly [boolean]>('result', [id]))[0], what).toBe(false);
    }
    // the claimant that proved wrong lost its claim; the job is still open for a valid proof
    expect((await read<{ claimant: Address }>('getRequest', [id])).claimant).toBe('0x0000000000000000000000000000000000000000');
    expect((await prover(b)).locked).toBe(0n);
    await send(a, 'claim', [id]);
    expect((await send(a, 'fulfill', [id, outputs, proof])).status).toBe('success');
  });

  it('a claim that misses its window is slashed by the next claimant, who then fulfils', async () => {
    const id = await request();
    await send(a, 'claim', [id]);
    const { claimedUntil } = await read<{ claimedUntil: bigint }>('getRequest', [id]);
    expect((await revertName(simulate(nobody, 'reap', [id]))).name).toBe('NothingToReap');
    await advancePast(nobody, claimedUntil);
    const before = { a: await prover(a), credit: await read<bigint>('credits', [dapp.account.address]) };
    const r = await send(b, 'claim', [id]);
    expect(events(r, 'ClaimMissed').map((e) => [e.args.prover, e.args.slashed])).toEqual([[a.account.address, slash(params.missSlashBps)]]);
    const after = await prover(a);
    expect(after.missed).toBe(before.a.missed + 1);
    expect(after.stake).toBe(before.a.stake - slash(params.missSlashBps));
    expect(after.locked).toBe(before.a.locked - params.claimStake);
    expect(await read('credits', [dapp.account.address])).toBe(before.credit + slash(params.missSlashBps));
    const balB = await balance(b);
    const f = await send(b, 'fulfill', [id, outputs, proof]);
    expect(await balance(b)).toBe(balB + FEE - cost(f));

    // with no next claimant, anyone reaps the miss
    const id2 = await request();
    await send(a, 'claim', [id2]);
    await advancePast(nobody, (await read<{ claimedUntil: bigint }>('getRequest', [id2])).claimedUntil);
    const reaped = await send(nobody, 'reap', [id2]);
    expect(events(reaped, 'ClaimMissed').map((e) => e.args.prover)).toEqual([a.account.address]);
    expect((await prover(a)).missed).toBe(after.missed + 1);
    expect((await revertName(simulate(nobody, 'reap', [id2]))).name).toBe('NothingToReap');
  });

  it('an expired request is refunded to its requester once', async () => {
    const id = await request(2n);
    const { deadline } = await read<{ deadline: bigint }>('getRequest', [id]);
    expect(await revertName(simulate(nobody, 'refund', [id]))).toEqual({ name: 'NotExpired', args: [id, deadline] });
    await advancePast(nobody, deadline);
    expect((await revertName(simulate(a, 'fulfill', [id, outputs, proof]))).name).toBe('Expired');
    const before = await balance(dapp);
    const r = await send(nobody, 'refund', [id]);
    expect(events(r, 'Refunded').map((e) => e.args.fee)).toEqual([FEE]);
    expect(await balance(dapp)).toBe(before + FEE);
    expect(await revertName(simulate(nobody, 'refund', [id]))).toEqual({ name: 'AlreadyRefunded', args: [id] });
    const again = await send(nobody, 'refund', [id], undefined, 200_000n);
    expect(again.status).toBe('reverted');
    expect(await balance(dapp)).toBe(before + FEE);
  });

  it('stake is withdrawn only while free of claims; a live claim may still be fulfilled', async () => {
    await send(cc, 'registerProver', [], params.minStake);
    const id = await request();
    await send(cc, 'claim', [id]);
    const free = params.minStake - params.claimStake;
    expect(await revertName(simulate(cc, 'withdrawStake', [params.minStake]))).toEqual({ name: 'InsufficientFreeStake', args: [free, params.minStake] });
    const bal = await balance(cc);
    const w = await send(cc, 'withdrawStake', [free]);
    expect(await balance(cc)).toBe(bal + free - cost(w));
    expect((await prover(cc)).stake).toBe(params.claimStake);
    expect((await send(cc, 'fulfill', [id, outputs, proof])).status).toBe('success');
    await send(cc, 'withdrawStake', [params.claimStake]);
    expect(await prover(cc)).toMatchObject({ stake: 0n, locked: 0n, fulfilled: 1 });
    const next = await request();
    expect(await revertName(simulate(cc, 'claim', [next]))).toEqual({ name: 'NotRegistered', args: [cc.account.address, 0n, params.minStake] });
  });

  it('ai_getInferenceRequest and ai_listProvers answer from the index as the contract holds it; bad params are -32602', async () => {
    const call = async (method: string, params: unknown[]) => {
      const res = await fetch(node.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }) });
      return (await res.json()) as { result?: any; error?: { code: number; message: string } };
    };
    const count = await read<bigint>('requestCount');
    for (const id of [1n, count]) {
      const r = (await call('ai_getInferenceRequest', [`0x${id.toString(16)}`])).result;
      const onChain = await read<{ requester: string; fee: bigint; status: number; prover: string; outputs: readonly bigint[] }>('getRequest', [id]);
      expect(r.requester).toBe(onChain.requester);
      expect(BigInt(r.fee)).toBe(onChain.fee);
      expect(r.status).toBe(['none', 'open', 'fulfilled', 'refunded'][onChain.status]);
      expect(r.outputs.map(BigInt)).toEqual([...onChain.outputs]);
      // where it was asked for: the block whose InferenceRequested log names it
      const asked = await dapp.publicClient.getContractEvents({ address: INFERENCE_MARKET_ADDRESS, abi: marketAbi, eventName: 'InferenceRequested', args: { id }, fromBlock: 0n });
      expect(asked).toHaveLength(1);
      expect(r.requested).toMatchObject({ blockNumber: `0x${asked[0]!.blockNumber.toString(16)}`, blockHash: asked[0]!.blockHash, transactionHash: asked[0]!.transactionHash });
      if (r.status === 'fulfilled') expect(BigInt(r.fulfilled.blockNumber)).toBeGreaterThanOrEqual(BigInt(r.requested.blockNumber));
      else expect(r.fulfilled).toBeNull();
    }
    expect((await call('ai_getInferenceRequest', [`0x${(count + 1n).toString(16)}`])).result).toBeNull();

    const all = (await call('ai_listProvers', [])).result;
    expect(all.next).toBeNull();
    const addresses = all.provers.map((p: { address: string }) => getAddress(p.address));
    expect(addresses).toEqual(expect.arrayContaining([a, b, cc].map((x) => x.account.address)));
    expect([...addresses].sort((x: string, y: string) => (x.toLowerCase() < y.toLowerCase() ? -1 : 1))).toEqual(addresses); // address order
    for (const p of all.provers) {
      const onChain = await read<MarketProver>('getProver', [p.address]);
      expect({ stake: BigInt(p.stake), locked: BigInt(p.locked), fulfilled: p.fulfilled, missed: p.missed, rejected: p.rejected }).toEqual({ ...onChain });
    }
    // one page at a time, each starting after the last: the same list
    const paged: string[] = [];
    for (let after: string | null | undefined; after !== null; ) {
      const page = (await call('ai_listProvers', after === undefined ? [undefined, '0x1'] : [after, '0x1'])).result;
      expect(page.provers.length).toBeLessThanOrEqual(1);
      paged.push(...page.provers.map((p: { address: string }) => getAddress(p.address)));
      after = page.next;
    }
    expect(paged).toEqual(addresses);
    for (const params of [[undefined, '0x0'], [undefined, '0x65'], ['0x1234'], ['not an address']]) expect((await call('ai_listProvers', params)).error?.code).toBe(-32602);
    for (const params of [[], ['0x'], ['-1'], [`0x1${'0'.repeat(64)}`]]) expect((await call('ai_getInferenceRequest', params)).error?.code).toBe(-32602);
  });
});
