import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEther } from 'viem';
import type { Hex } from 'viem';
import { removeDir, startDevNode } from '../helpers/dev-node.ts';
import type { DevNode } from '../helpers/dev-node.ts';
import { txHash } from '../helpers/raw-tx.ts';
import { GWEI, addr, expectRejected, fund, must, newKeys, nonceOf, poolStatus, receipt, sendRaw, sign, waitFor, waitReceipt } from '../helpers/txs.ts';
import type { Key } from '../helpers/txs.ts';

const inPool = async (url: string, hash: Hex) => (await must(url, 'eth_getTransactionByHash', [hash])) !== null;

describe('per-sender limit (--txpool.max-per-sender 4)', () => {
  let node: DevNode;
  const [k] = newKeys(1) as [Key];

  beforeAll(async () => {
    node = await startDevNode({ args: ['--txpool.max-per-sender', '4'] });
    await fund(node, [k], parseEther('10'));
  });
  afterAll(async () => {
    await node?.stop();
    if (node !== undefined) await removeDir(node.datadir);
  });

  it('a fifth transaction is refused, a replacement is not; filling the gap drops the highest nonce', async () => {
    const { url } = node;
    const queued = await Promise.all([1, 2, 3, 4].map((nonce) => sign(k, { nonce })));
    for (const raw of queued) await sendRaw(node, raw);
    expect((await poolStatus(url)).queued).toBe(4);
    await expectRejected(node, await sign(k, { nonce: 5 }), 'account limit exceeded');
    // replacing one of the four takes no new slot
    const replacement = await sign(k, { nonce: 3, maxFeePerGas: 200n * GWEI, maxPriorityFeePerGas: 2n * GWEI });
    await sendRaw(node, replacement);
    expect(await inPool(url, txHash(queued[2]!))).toBe(false);

    // the sender must still be able to send the nonce everything waits for
    const gap = await sign(k, { nonce: 0 });
    await sendRaw(node, gap);
    expect(await inPool(url, txHash(queued[3]!))).toBe(false); // nonce 4, the highest, made room
    await waitReceipt(url, txHash(replacement));
    await waitFor('nonces 0-3 mined', async () => (await nonceOf(url, addr(k))) === 4);
    expect(await receipt(url, txHash(queued[3]!))).toBeNull();

    // the dropped nonce 4 can simply be sent again, with three more
    for (const nonce of [4, 5, 6, 7]) await sendRaw(node, await sign(k, { nonce }));
    await waitFor('nonces 4-7 mined', async () => (await nonceOf(url, addr(k))) === 8);
    expect(await poolStatus(url)).toEqual({ pending: 0, queued: 0 });
  });
});

describe('global limit (--txpool.max 8): eviction of the cheapest last-in-line transaction', () => {
  let node: DevNode;
  const keys = newKeys(7) as Key[];
  const [a, b, c, d, e, f, g] = keys as [Key, Key, Key, Key, Key, Key, Key];
  const fee = (gwei: number) => {
    const cap = BigInt(Math.round(gwei * 10)) * (GWEI / 10n);
    return { maxFeePerGas: cap, maxPriorityFeePerGas: cap < GWEI ? cap : GWEI };
  };

  beforeAll(async () => {
    node = await startDevNode({ args: ['--txpool.max', '8'] });
    await fund(node, keys, parseEther('10'), { chunk: 7 });
  });
  afterAll(async () => {
    await node?.stop();
    if (node !== undefined) await removeDir(node.datadir);
  });

  it('evicts for a better-paying newcomer, refuses one that pays less than every evictable one', async () => {
    const { url } = node;
    // every sender skips nonce 0, so nothing here is executable and the pool stays full
    const fill: [Key, number, number][] = [
      [a, 1, 3],
      [a, 2, 1.5], // cheapest last-in-line
      [b, 1, 1.2], // cheapest overall, but evicting it would strand b's nonce 2
      [b, 2, 3.2],
      [c, 1, 4],
      [c, 2, 4],
      [d, 1, 5],
      [d, 2, 5],
    ];
    const hashes: Hex[] = [];
    for (const [key, nonce, gwei] of fill) hashes.push(await sendRaw(node, await sign(key, { nonce, ...fee(gwei) })));
    expect(await poolStatus(url)).toEqual({ pending: 0, queued: 8 });
    const [a1, a2, b1, b2] = hashes as [Hex, Hex, Hex, Hex];

    // pays more than a's nonce 2: that one goes
    const e1 = await sendRaw(node, await sign(e, { nonce: 1, ...fee(10) }));
    expect(await poolStatus(url)).toEqual({ pending: 0, queued: 8 });
    expect(await inPool(url, a2)).toBe(false);
    expect(await inPool(url, e1)).toBe(true);
    expect(await inPool(url, b1)).toBe(true);

    // pays more than b's nonce 1 but less than every last-in-line one (a1 at 3 is the cheapest now)
    await expectRejected(node, await sign(f, { nonce: 1, ...fee(2) }), 'txpool is full');
    await expectRejected(node, await sign(f, { nonce: 0, ...fee(1.1) }), 'txpool is full');
    await expectRejected(node, await sign(f, { nonce: 0, ...fee(3) }), 'txpool is full'); // equal is not better
    expect(await poolStatus(url)).toEqual({ pending: 0, queued: 8 });

    // 3.5 beats a1 (3), which is now a's last
    const g1 = await sendRaw(node, await sign(g, { nonce: 1, ...fee(3.5) }));
    expect(await inPool(url, a1)).toBe(false);
    expect(await inPool(url, b2)).toBe(true);
    expect(await inPool(url, g1)).toBe(true);
    expect(await poolStatus(url)).toEqual({ pending: 0, queued: 8 });

    // a full pool does not stop a sender from replacing its own transaction
    const e1b = await sendRaw(node, await sign(e, { nonce: 1, maxFeePerGas: 11n * GWEI, maxPriorityFeePerGas: 2n * GWEI }));
    expect(await inPool(url, e1)).toBe(false);
    expect(await inPool(url, e1b)).toBe(true);

    // filling b's gap in a full pool: it evicts another sender's cheapest last-in-line one (g1 at 3.5), never b's own
    const b0 = await sendRaw(node, await sign(b, { nonce: 0, ...fee(20) }));
    expect(await inPool(url, g1)).toBe(false);
    await waitReceipt(url, b0);
    await waitFor('b1 and b2 mined', async () => (await nonceOf(url, addr(b))) === 3);
    expect(await receipt(url, b1)).not.toBeNull();
  });
});
