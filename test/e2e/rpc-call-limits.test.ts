/**
 * eth_call and eth_estimateGas are EVM work anyone can ask for without paying: each is bounded in
 * wall time (--rpc.evmtimeout), they cannot hold up block production, and how much of it one
 * client can have running or waiting is bounded, with clients taking turns.
 *
 * Attacks: a loop at the 50M-gas cap (before: it held the event loop for as long as it ran, and
 * nothing else, blocks included, happened meanwhile); a batch of such calls; a flood past the
 * per-client queue; a request whose calls outlive it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keccak256 } from 'viem';
import type { Hex } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { DEV_KEYS, removeDir, startDevNode } from '../helpers/dev-node.ts';
import type { DevNode } from '../helpers/dev-node.ts';
import { sendLoad } from '../helpers/load.ts';
import { batch, call, must, sign, waitReceipt } from '../helpers/txs.ts';
import { WsRpc } from '../helpers/ws-rpc.ts';

/**
 * An endless loop, placed by a state override (no deployment needed), that calls the identity
 * precompile each turn: JUMPDEST PUSH1 0 DUP1 DUP1 DUP1 PUSH1 4 GAS STATICCALL POP PUSH1 0 JUMP.
 * ~143 gas per turn, a call frame each: 30M gas of it takes seconds, where a bare JUMP loop
 * (12 gas per turn) ran through 30M gas in under the 1 s timeout once the EVM got faster, and
 * the estimate ended "gas required exceeds allowance" instead of timing out.
 */
const LOOP = '0x5b600080808060045afa50600056';
const LOOPER = privateKeyToAccount(generatePrivateKey()).address;
const loopCall = (gas = '0x2faf080') => ({ method: 'eth_call', params: [{ to: LOOPER, gas }, 'latest', { [LOOPER]: { code: LOOP } }] });

describe('eth_call work is bounded and cannot hold up the chain', () => {
  let node: DevNode;

  beforeAll(async () => {
    node = await startDevNode({
      blockTime: 1,
      args: ['--rpc.evmtimeout', '1s', '--rpc.call-concurrency', '2', '--rpc.call-concurrency-per-client', '1', '--rpc.call-queue-per-client', '8', '--rpc.request-timeout', '6s'],
    });
  }, 60_000);

  afterAll(async () => {
    await node?.stop();
    if (node !== undefined) await removeDir(node.datadir);
  }, 60_000);

  it("a loop at the gas cap ends with geth's timeout error, and eth_estimateGas too", async () => {
    const r = await call(node.url, loopCall().method, loopCall().params);
    expect(r.error).toEqual({ code: -32000, message: 'execution aborted (timeout = 1s)' });
    const e = await call(node.url, 'eth_estimateGas', [{ to: LOOPER }, 'latest', { [LOOPER]: { code: LOOP } }]);
    expect(e.error).toEqual({ code: -32000, message: 'execution aborted (timeout = 1s)' });
  }, 60_000);

  it('while a batch of such loops runs, a transaction sent meanwhile is mined and other clients are answered', async () => {
    let settled = false;
    const attack = batch(
      node.url,
      Array.from({ length: 5 }, () => loopCall()),
    ).finally(() => {
      settled = true;
    });
    // a transfer sent after the attack started is included while the attack's calls still run
    const raw = await sign(DEV_KEYS[1], { nonce: Number(await must(node.url, 'eth_getTransactionCount', [privateKeyToAccount(DEV_KEYS[1]).address, 'pending'])), value: 1n });
    const sent = await sendLoad(node.url, [{ raw, hash: keccak256(raw) }]);
    expect(sent.refused).toEqual([]);
    const rcpt = await waitReceipt(node.url, [...sent.accepted][0] as Hex);
    expect(rcpt.status).toBe('0x1');
    // another client (its own WebSocket) gets a cheap call answered in its own turn
    const ws = await WsRpc.connect(node.wsUrl);
    try {
      expect(await ws.request('eth_call', [{ to: LOOPER, data: '0x' }, 'latest'])).toBe('0x');
    } finally {
      await ws.close();
    }
    expect(settled).toBe(false);
    const replies = await attack;
    for (const r of replies) expect(r.error?.message).toBe('execution aborted (timeout = 1s)');
  }, 90_000);

  it("calls past a client's queue are refused at once with -32005, the rest run", async () => {
    const replies = await batch(
      node.url,
      Array.from({ length: 12 }, () => loopCall('0x100000')),
    );
    const limited = replies.filter((r) => r.error?.code === -32005);
    // one running and eight waiting for this client: the other three are refused
    expect(limited).toHaveLength(3);
    expect(limited[0]!.error!.message).toBe('too many pending calls from this client: 8 waiting');
    for (const r of replies.filter((x) => x.error?.code !== -32005)) expect(r.error?.code === -32000 || r.result !== undefined).toBe(true);
  }, 90_000);

  it('calls that cannot start before their request ends answer "request timed out" (-32002)', async () => {
    // eight 1-second loops, one at a time for this client, in a 6-second request
    const replies = await batch(
      node.url,
      Array.from({ length: 8 }, () => loopCall()),
    );
    const timedOut = replies.filter((r) => r.error?.code === -32002);
    expect(timedOut.length).toBeGreaterThan(0);
    expect(timedOut[0]!.error!.message).toBe('request timed out');
    expect(replies.filter((r) => r.error?.message === 'execution aborted (timeout = 1s)').length).toBeGreaterThan(0);
  }, 90_000);

  it("eth_getProof takes turns like calls: a batch of them is bounded by the client's queue, and the chain goes on", async () => {
    const keys = Array.from({ length: 1024 }, (_, i) => `0x${i.toString(16).padStart(64, '0')}`);
    const who = privateKeyToAccount(DEV_KEYS[0]).address;
    const attack = batch(
      node.url,
      Array.from({ length: 60 }, () => ({ method: 'eth_getProof', params: [who, keys, 'latest'] })),
    );
    const raw = await sign(DEV_KEYS[2], { nonce: Number(await must(node.url, 'eth_getTransactionCount', [privateKeyToAccount(DEV_KEYS[2]).address, 'pending'])), value: 1n });
    expect((await sendLoad(node.url, [{ raw, hash: keccak256(raw) }])).refused).toEqual([]);
    expect((await waitReceipt(node.url, keccak256(raw))).status).toBe('0x1');
    const replies = await attack;
    // one running and eight waiting: the other 51 are refused at once. On a slow machine one of
    // the nine taken may outrun --rpc.evmtimeout, or not start before the request's deadline:
    // the bounds working, each with its own error
    const answered = replies.filter((r) => r.result !== undefined);
    const bounded = replies.filter((r) => r.error?.code === -32002 || r.error?.message === 'execution aborted (timeout = 1s)');
    expect(answered.length).toBeGreaterThan(0);
    expect(answered.length + bounded.length).toBe(9);
    for (const r of answered) expect(r.result.storageProof).toHaveLength(1024);
    const refused = replies.filter((r) => r.error?.code === -32005);
    expect(refused).toHaveLength(51);
    expect(refused[0]!.error!.message).toBe('too many pending calls from this client: 8 waiting');
  }, 120_000);
});
