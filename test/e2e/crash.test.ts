import { afterAll, describe, expect, it } from 'vitest';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseEther } from 'viem';
import type { Hex } from 'viem';
import { DEV_KEYS, removeDir, startDevNode } from '../helpers/dev-node.ts';
import type { DevNode } from '../helpers/dev-node.ts';
import { auditChain, totalBalance } from '../helpers/chain-audit.ts';
import type { ChainAudit } from '../helpers/chain-audit.ts';
import { sendLoad, waitForTxBlocks } from '../helpers/load.ts';
import type { LoadTx } from '../helpers/load.ts';
import { txHash } from '../helpers/raw-tx.ts';
import { addr, blockNumber, fund, must, newKeys, nonceOf, sign, waitBlocks, waitFor, waitReceipt } from '../helpers/txs.ts';
import type { Key } from '../helpers/txs.ts';

const DEFAULT_COINBASE = '0x4200000000000000000000000000000000000011';
const SENDERS = 16;
const PER_SENDER = 125; // 2,000 transactions in the first wave
const SECOND_WAVE = 25; // 400 more, sent during the second crash
const hex = (n: bigint) => `0x${n.toString(16)}`;

const nodes: DevNode[] = [];
const dirs: string[] = [];

/** 300 transfers per block, so the load spans several blocks and a kill lands mid-load. */
const GAS_LIMIT = 300n * 21_000n;

/**
 * Without the pool journal: the test resends whatever the chain lacks after a crash, as clients do,
 * and a pool restored from the journal would answer "already known" (test/e2e/pool-journal.test.ts).
 */
async function start(datadir: string): Promise<DevNode> {
  const node = await startDevNode({ datadir, blockTime: 1, args: ['--gas-limit', GAS_LIMIT.toString(), '--txpool.nolocals'] });
  nodes.push(node);
  return node;
}

afterAll(async () => {
  for (const n of nodes) await n.kill9();
  for (const d of dirs) await removeDir(d);
});

describe('crash safety: kill -9 under load, restart on the same datadir', () => {
  it('recovers a complete, consistent chain after two kills at different moments of a 2,000-transaction load', async () => {
    const datadir = await mkdtemp(join(tmpdir(), 'ai-rollup-crash-'));
    dirs.push(datadir);
    let node = await start(datadir);
    const keys = newKeys(SENDERS);
    await fund(node, keys, parseEther('10'));
    const senders = keys.map((k) => addr(k).toLowerCase());
    const accounts = [addr(DEV_KEYS[0]).toLowerCase(), ...senders, DEFAULT_COINBASE];
    const initial = await totalBalance(node.url, accounts, '0x0');

    // nonce-major, so every batch advances every sender; transfers stay among the senders
    const load: LoadTx[] = [];
    for (let n = 0; n < PER_SENDER + SECOND_WAVE; n++) {
      for (let s = 0; s < SENDERS; s++) {
        const raw = await sign(keys[s]!, { nonce: n, to: addr(keys[(s + 1 + (n % (SENDERS - 1))) % SENDERS]!), value: 1_000_000n + BigInt(n) });
        load.push({ raw, hash: txHash(raw) });
      }
    }
    const ours = new Set(load.map((t) => t.hash));

    /** Everything a restarted node must show; returns what it included. */
    const verify = async (n: DevNode, survived: Map<bigint, string>): Promise<ChainAudit> => {
      const audit = await auditChain(n.url);
      for (const [num, hash] of survived) {
        expect(num <= audit.head, `block ${num} served before the crash is gone`).toBe(true);
        expect(audit.blocks[Number(num)].hash, `block ${num} changed across the crash`).toBe(hash);
      }
      const at = hex(audit.head);
      // the head state is the sum of the blocks: nothing created or lost except the burned base fees
      expect(await totalBalance(n.url, accounts, at)).toBe(initial - audit.burned);
      expect(BigInt(await must(n.url, 'eth_getBalance', [DEFAULT_COINBASE, at])) - BigInt(await must(n.url, 'eth_getBalance', [DEFAULT_COINBASE, '0x0']))).toBe(audit.tips);
      for (const a of accounts.slice(0, -1)) expect(await nonceOf(n.url, a, at), `nonce of ${a}`).toBe(audit.included.get(a) ?? 0);
      // a complete head: latest with full transactions works and matches the audit
      const latest = await must(n.url, 'eth_getBlockByNumber', ['latest', true]);
      expect(BigInt(latest.number)).toBeGreaterThanOrEqual(audit.head);
      await waitBlocks(n.url, 2); // and it keeps producing
      return audit;
    };

    const resend = (audit: ChainAudit) => load.filter((t) => !audit.hashes.has(t.hash));
    const report: string[] = [];

    const wave1 = load.slice(0, PER_SENDER * SENDERS);
    const wave2 = load.slice(PER_SENDER * SENDERS);

    // kill 1: mid-load, as soon as two blocks carry some of the first wave (the sealer is busy with the rest)
    const from = await blockNumber(node.url);
    let sending = sendLoad(node.url, wave1);
    const seen = await waitForTxBlocks(node.url, from, 2, ours);
    await node.kill9();
    let sent = await sending;
    expect(sent.refused).toEqual([]);
    node = await start(datadir);
    let audit = await verify(node, seen);
    report.push(`kill 1: ${sent.accepted.size} of ${wave1.length} accepted, ${audit.hashes.size} txs in the chain`);
    expect(wave1.filter((t) => audit.hashes.has(t.hash)).length).toBeGreaterThan(0);

    // kill 2: in the middle of sending what is left of wave 1 plus wave 2, whatever the sealer is doing
    let pending = resend(audit);
    let kill2: Promise<void> | undefined;
    const offered = pending.length;
    const half = Math.floor(offered / 2);
    const victim = node;
    sending = sendLoad(node.url, pending, 25, (answered) => {
      if (answered >= half) kill2 ??= victim.kill9();
    });
    sent = await sending;
    await kill2;
    expect(kill2).toBeDefined();
    expect(sent.cutOff).toBeDefined();
    // "already known" would mean the pool outlived the crash, "nonce too low" that a block was lost
    expect(sent.refused).toEqual([]);
    node = await start(datadir);
    audit = await verify(node, new Map());
    pending = resend(audit);
    report.push(`kill 2: ${sent.accepted.size} of ${offered} accepted, ${audit.hashes.size} txs in the chain`);

    // the rest is accepted again and everything gets mined, each exactly once
    sent = await sendLoad(node.url, pending);
    expect(sent.refused).toEqual([]);
    expect(sent.accepted.size).toBe(pending.length);
    const total = PER_SENDER + SECOND_WAVE;
    await waitFor('all mined', async () => (await Promise.all(senders.map((s) => nonceOf(node.url, s)))).every((x) => x === total), 180_000);
    audit = await verify(node, new Map());
    for (const t of load) expect(audit.hashes.has(t.hash)).toBe(true);
    for (const s of senders) expect(audit.included.get(s)).toBe(total);
    const statuses = audit.receipts
      .flat()
      .filter((r) => ours.has(r.transactionHash))
      .map((r) => r.status);
    expect(statuses).toEqual(Array(load.length).fill('0x1'));
    expect(wave2.every((t) => audit.hashes.has(t.hash))).toBe(true);
    console.log(`crash test: ${report.join('; ')}`);
    await node.stop();
  }, 400_000);

  it('a clean stop and restart keeps head hash, state root, receipts, logs and balances', async () => {
    const datadir = await mkdtemp(join(tmpdir(), 'ai-rollup-restart-'));
    dirs.push(datadir);
    let node = await start(datadir);
    const keys = newKeys(4) as Key[];
    await fund(node, keys, parseEther('1'));
    // a contract whose every call logs one word with topic = caller: CALLER PUSH1 32 PUSH1 0 LOG1 STOP
    const deployer = keys[0]!;
    const deploy = await sign(deployer, { nonce: 0, to: null, gas: 100_000n, data: '0x663360206000a10060005260076019f3' });
    await must(node.url, 'eth_sendRawTransaction', [deploy]);
    const contract = (await waitReceipt(node.url, txHash(deploy))).contractAddress as Hex;
    expect(await must(node.url, 'eth_getCode', [contract, 'latest'])).toBe('0x3360206000a100');
    const txs: Hex[] = [];
    for (const [i, k] of keys.entries()) {
      const base = i === 0 ? 1 : 0;
      for (let n = 0; n < 5; n++) txs.push(await sign(k, { nonce: base + n, to: n % 2 === 0 ? contract : addr(keys[(i + 1) % 4]!), gas: 50_000n, value: 7n }));
    }
    for (const raw of txs) await must(node.url, 'eth_sendRawTransaction', [raw]);
    await waitFor('all mined', async () => (await Promise.all(txs.map((t) => must(node.url, 'eth_getTransactionReceipt', [txHash(t)])))).every((r) => r !== null));

    const before = await auditChain(node.url);
    const at = hex(before.head);
    const logsOf = (n: DevNode) => must(n.url, 'eth_getLogs', [{ fromBlock: '0x0', toBlock: at }]);
    const logs = await logsOf(node);
    expect(logs).toHaveLength(12);
    const accounts = [...keys.map(addr), contract, DEFAULT_COINBASE];
    const balances = await totalBalance(node.url, accounts, at);
    expect(await node.stop()).toBe(0);

    node = await start(datadir);
    expect(await blockNumber(node.url)).toBeGreaterThanOrEqual(before.head);
    const after = await auditChain(node.url, before.head);
    expect(after.blocks).toEqual(before.blocks); // hashes, state roots, transactions
    expect(after.receipts).toEqual(before.receipts);
    expect(await logsOf(node)).toEqual(logs);
    expect(await totalBalance(node.url, accounts, at)).toBe(balances);
    expect(await must(node.url, 'eth_getCode', [contract, 'latest'])).toBe('0x3360206000a100');
    // the chain continues on top of the old head, and the senders' nonces carried over
    const next = await waitFor('a block on top', async () => (await must(node.url, 'eth_getBlockByNumber', [hex(before.head + 1n), false])) ?? undefined);
    expect(next.parentHash).toBe(before.blocks[Number(before.head)].hash);
    expect(await nonceOf(node.url, addr(deployer))).toBe(6);
    const more = await sign(deployer, { nonce: 6, to: contract, gas: 50_000n });
    await must(node.url, 'eth_sendRawTransaction', [more]);
    const rc = await waitReceipt(node.url, txHash(more));
    expect(rc.logs).toHaveLength(1);
    await node.stop();
  }, 120_000);
});
