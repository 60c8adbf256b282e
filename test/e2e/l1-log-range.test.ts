/**
 * getLogsInRanges (node/l1/log-range.ts) against a real anvil behind the fault proxy playing a
 * provider that caps eth_getLogs ranges: the logs of a long range all come back, in order and
 * identical to an uncapped getLogs, whichever way the provider words its refusal or times out.
 */
import { createPublicClient, createWalletClient, getAddress, http, keccak256, parseAbiItem, toBytes } from 'viem';
import type { Hex, PublicClient } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { chainAt } from '../../contracts/abi/chain.ts';
import { startAnvil } from '../../devnet/anvil.ts';
import type { Anvil } from '../../devnet/anvil.ts';
import { LogRangeError, getLogsInRanges } from '../../node/l1/log-range.ts';
import { L1Rpc } from '../../node/l1/l1-transport.ts';
import type { L1TransportOptions } from '../../node/l1/l1-transport.ts';
import { startL1FaultProxy } from '../helpers/l1-fault-proxy.ts';
import type { L1FaultProxy } from '../helpers/l1-fault-proxy.ts';

const ping = parseAbiItem('event Ping(address indexed from)');
/** Runtime: LOG2(0, 0, keccak("Ping(address)"), CALLER); STOP. Init code copies it out. */
const runtime = `33 7f${keccak256(toBytes('Ping(address)')).slice(2)} 6000 6000 a2 00`.replace(/ /g, '');
const initCode = `0x6028600c60003960286000f3${runtime}` as Hex;

let anvil: Anvil;
let proxy: L1FaultProxy;
let emitter: Hex;
let head: bigint;
let direct: PublicClient;
const senders: Hex[] = [];

beforeAll(async () => {
  anvil = await startAnvil();
  proxy = await startL1FaultProxy(anvil.url, { seed: 3 });
  direct = createPublicClient({ transport: http(anvil.url) }) as PublicClient;
  const chain = chainAt(BigInt(anvil.chainId), anvil.url, 'l1');
  const wallets = [6, 7].map((i) => createWalletClient({ account: privateKeyToAccount(anvil.accounts[i]!), chain, transport: http(anvil.url) }));
  const deploy = await wallets[0]!.sendTransaction({ data: initCode });
  emitter = (await direct.waitForTransactionReceipt({ hash: deploy })).contractAddress!;
  // logs every ~100 blocks over ~600, from two senders (anvil mines thousands of blocks slowly)
  for (let i = 0; i < 6; i++) {
    const w = wallets[i % 2]!;
    senders.push(w.account.address);
    await direct.waitForTransactionReceipt({ hash: await w.sendTransaction({ to: emitter }) });
    await direct.request({ method: 'anvil_mine' as never, params: ['0x63'] as never });
  }
  // uncached: viem keeps a block number for a few seconds, and receipts were just awaited
  head = await direct.getBlockNumber({ cacheTime: 0 });
});
afterAll(async () => {
  await proxy?.stop();
  await anvil?.stop();
});
afterEach(() => proxy.clearRules());

function client(opts: Partial<L1TransportOptions> = {}): PublicClient {
  return createPublicClient({ transport: new L1Rpc(proxy.url, { backoffMs: 20, maxBackoffMs: 100, ...opts }).transport() }) as PublicClient;
}

describe('getLogsInRanges', () => {
  it('a provider capping ranges at 70 blocks (Infura -32005 wording): every log, in order, as an uncapped getLogs', async () => {
    proxy.addRule({ fault: { kind: 'logRange', maxBlocks: 70 }, method: 'eth_getLogs' });
    const l1 = client();
    await expect(l1.getLogs({ address: emitter, event: ping, fromBlock: 0n, toBlock: head })).rejects.toThrow(/more than 10000 results/);
    const before = proxy.count('eth_getLogs');
    const logs = await getLogsInRanges(l1, { address: emitter, event: ping, fromBlock: 0n, toBlock: head, strict: true }, { maxRange: 200n });
    const want = await direct.getLogs({ address: emitter, event: ping, fromBlock: 0n, toBlock: head, strict: true });
    expect(logs).toHaveLength(6);
    expect(logs).toEqual(want);
    expect(logs.map((l) => getAddress(l.args.from))).toEqual(senders.map((s) => getAddress(s)));
    // chunks grow back after successes, but not so eagerly that most requests are refused
    const requests = proxy.count('eth_getLogs') - before;
    expect(requests).toBeLessThan(30);
  });

  it('"block range is too wide" (-32602) and an args filter', async () => {
    proxy.addRule({ fault: { kind: 'logRange', maxBlocks: 150, code: -32602, message: 'block range is too wide' }, method: 'eth_getLogs' });
    const logs = await getLogsInRanges(client(), { address: emitter, event: ping, args: { from: senders[1] }, fromBlock: 0n, toBlock: head }, { maxRange: 400n });
    expect(logs).toHaveLength(3);
  });

  it('a timed-out chunk is halved, even with retries off', async () => {
    proxy.addRule({ fault: { kind: 'delay', ms: 1_000 }, method: 'eth_getLogs', times: 1 });
    const l1 = client({ timeoutMs: 300, retries: 0 });
    await expect(l1.getLogs({ address: emitter, fromBlock: 0n, toBlock: head })).rejects.toThrow(/took too long/);
    proxy.addRule({ fault: { kind: 'delay', ms: 1_000 }, method: 'eth_getLogs', times: 1 });
    expect(await getLogsInRanges(l1, { address: emitter, fromBlock: 0n, toBlock: head }, { maxRange: 10_000n })).toHaveLength(6);
  });

  it('a provider refusing even one block: LogRangeError; an aborted signal stops the scan', async () => {
    proxy.addRule({ fault: { kind: 'logRange', maxBlocks: 0 }, method: 'eth_getLogs' });
    await expect(getLogsInRanges(client(), { address: emitter, fromBlock: 0n, toBlock: 10n })).rejects.toBeInstanceOf(LogRangeError);
    proxy.clearRules();
    await expect(getLogsInRanges(client(), { address: emitter, fromBlock: 0n, toBlock: head }, { signal: AbortSignal.abort() })).rejects.toThrow();
  });
});
