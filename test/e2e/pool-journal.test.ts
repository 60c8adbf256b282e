/**
 * The pool journal on a real node (`--txpool.journal`, default DATADIR/transactions.rlp): pending
 * transactions (a nonce gap; blocks an hour apart, so nothing is mined unasked) survive a clean
 * restart and a kill -9 and are then mined; a journal written by hand with garbage, a forged
 * signature, a fee under the floor, an oversized transaction, more than the pool's limits and a
 * torn tail loads only what admission takes, and the node starts. One data directory, restarted.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { hexToBytes } from '@ethereumjs/util';
import type { Hex } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeEntry, readJournal } from '../../sequencer/pool-journal.ts';
import { DEV_KEYS, removeDir, startDevNode } from '../helpers/dev-node.ts';
import type { DevNode } from '../helpers/dev-node.ts';
import { signed1559, txHash } from '../helpers/raw-tx.ts';
import { addr, must, nonceOf, poolStatus, receipt, sign } from '../helpers/txs.ts';

const [k0, k1, k2, k3] = DEV_KEYS;
const ARGS = ['--txpool.max-per-sender', '4', '--txpool.max', '8'];

const inPool = async (url: string, hash: Hex) => {
  const tx = await must(url, 'eth_getTransactionByHash', [hash]);
  return tx !== null && tx.blockNumber === null;
};

/** The transactions the journal file holds, as hex. */
async function journaled(path: string): Promise<Hex[]> {
  const out: Hex[] = [];
  for await (const e of readJournal(path, 1 << 20)) if ('raw' in e) out.push(`0x${Buffer.from(e.raw).toString('hex')}`);
  return out;
}

/** The `loaded local transaction journal` line of this start. */
function loadLine(node: DevNode): { transactions: number; dropped: number } {
  for (const l of node.logs) if (l.includes('"loaded local transaction journal"')) return JSON.parse(l);
  throw new Error(`no journal load logged:\n${node.logs.join('\n')}`);
}

describe('pool journal: local transactions survive restarts, and the journal bypasses no rule', () => {
  let node: DevNode;
  let datadir: string;
  let journal: string;
  const restart = async (how: 'stop' | 'kill9') => {
    if (how === 'stop') expect(await node.stop()).toBe(0);
    else await node.kill9();
    node = await startDevNode({ blockTime: 3600, datadir, args: ARGS });
  };

  beforeAll(async () => {
    node = await startDevNode({ blockTime: 3600, args: ARGS });
    datadir = node.datadir;
    journal = join(datadir, 'transactions.rlp');
  });
  afterAll(async () => {
    await node?.kill9();
    if (datadir !== undefined) await removeDir(datadir);
  });

  it('pending and queued transactions survive a clean restart and are then mined', async () => {
    const pending = [await sign(k1, { nonce: 0 }), await sign(k1, { nonce: 1 })];
    const queued = await sign(k1, { nonce: 3 }); // waits for nonce 2
    for (const raw of [...pending, queued]) await must(node.url, 'eth_sendRawTransaction', [raw]);
    // signed by the node for a dev account (eth_sendTransaction): local as well
    const viaNode = (await must(node.url, 'eth_sendTransaction', [{ from: addr(k2), to: addr(k3), value: '0x7' }])) as Hex;
    expect(await poolStatus(node.url)).toEqual({ pending: 3, queued: 1 });

    await restart('stop');
    expect(loadLine(node)).toMatchObject({ transactions: 4, dropped: 0 });
    expect(await poolStatus(node.url)).toEqual({ pending: 3, queued: 1 });
    for (const h of [...pending.map(txHash), txHash(queued), viaNode]) expect(await inPool(node.url, h), h).toBe(true);
    // rewritten at the stop with exactly the pool's local transactions
    expect((await journaled(journal)).map(txHash).sort()).toEqual([...pending.map(txHash), txHash(queued), viaNode].sort());

    const gap = await sign(k1, { nonce: 2 });
    await must(node.url, 'eth_sendRawTransaction', [gap]);
    await must(node.url, 'evm_mine');
    for (const h of [...pending.map(txHash), txHash(gap), txHash(queued), viaNode]) expect((await receipt(node.url, h))?.status, h).toBe('0x1');
    expect(await poolStatus(node.url)).toEqual({ pending: 0, queued: 0 });
  });

  it('survives a kill -9: what was admitted is in the journal before JSON-RPC answered', async () => {
    const pending = [await sign(k1, { nonce: 4 }), await sign(k1, { nonce: 5 })];
    const queued = await sign(k3, { nonce: 1 });
    for (const raw of [...pending, queued]) await must(node.url, 'eth_sendRawTransaction', [raw]);

    await restart('kill9');
    // the four rewritten at the last stop, nonce 2 and these three appended; five are mined already
    expect(loadLine(node)).toMatchObject({ transactions: 8, dropped: 5 });
    expect(await poolStatus(node.url)).toEqual({ pending: 2, queued: 1 });
    await must(node.url, 'evm_mine');
    for (const raw of pending) expect((await receipt(node.url, txHash(raw)))?.status).toBe('0x1');
    expect(await nonceOf(node.url, addr(k1))).toBe(6);
    expect(await inPool(node.url, txHash(queued))).toBe(true);
  });

  it('a hand-written journal loads only what admission takes: garbage, forged, underpriced, oversized, stale and over-limit ones are dropped, a torn tail is ignored', async () => {
    expect(await node.stop()).toBe(0);
    const n2 = 1; // k2's next nonce (its eth_sendTransaction above used 0)
    const fields = { chainId: 1337n, maxPriorityFeePerGas: 10n ** 9n, maxFeePerGas: 10n ** 11n, gas: 21_000n, to: addr(k0), value: 1n };
    const forged = await signed1559(k0, { ...fields, nonce: 0n }, (s) => ({ ...s, r: 0n }));
    const underpriced = await sign(k0, { nonce: 0, maxFeePerGas: 1000n, maxPriorityFeePerGas: 1000n }); // the floor is 1,000,000 wei
    const oversized = await sign(k0, { nonce: 0, data: `0x${'00'.repeat(130 * 1024)}`, gas: 6_000_000n }); // over 128 KiB
    const stale = await sign(k1, { nonce: 0 }); // mined in the first test
    const perSender = await Promise.all([0, 1, 2, 3, 4, 5].map((i) => sign(k2, { nonce: n2 + i }))); // 4 fit
    const fillGap = await sign(k3, { nonce: 0 }); // k3's nonce 1 waits in the pool already
    const more = await Promise.all([2, 3].map((nonce) => sign(k3, { nonce }))); // k3 at 4: the pool at 8
    const overTotal = await sign(k0, { nonce: 0 }); // pays no more than anyone: the full pool keeps what it has
    const junk = Uint8Array.from([0x05, 0x83, 1, 2, 3, 0xc2, 0x80, 0x80]);
    const torn = encodeEntry(hexToBytes(await sign(k0, { nonce: 1 }))).subarray(0, 40);
    const before = await readFile(journal);
    const entries = [stale, forged, underpriced, oversized, ...perSender, fillGap, ...more, overTotal].map((h) => encodeEntry(hexToBytes(h)));
    await writeFile(journal, Buffer.concat([before, junk, ...entries, torn]));

    node = await startDevNode({ blockTime: 3600, datadir, args: ARGS });
    // the journal's own entry, three junk items, the fourteen above (the torn tail is no entry)
    expect(loadLine(node)).toMatchObject({ transactions: 18, dropped: 10 });
    const admitted = [...perSender.slice(0, 4), fillGap, ...more];
    // the journal's own k3 nonce 1 is the eighth
    expect(await poolStatus(node.url)).toEqual({ pending: 8, queued: 0 });
    for (const raw of admitted) expect(await inPool(node.url, txHash(raw))).toBe(true);
    for (const raw of [forged, underpriced, oversized, ...perSender.slice(4), overTotal]) {
      expect(await must(node.url, 'eth_getTransactionByHash', [txHash(raw)]), raw.slice(0, 20)).toBeNull();
    }
    expect(await inPool(node.url, txHash(stale))).toBe(false);
    // rewritten at start with the admitted ones only
    expect((await journaled(journal)).length).toBe(8);
    await must(node.url, 'evm_mine');
    for (const raw of admitted) expect((await receipt(node.url, txHash(raw)))?.status).toBe('0x1');
  });
});
