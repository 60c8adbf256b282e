/**
 * The sequencer's pool in-process, with a fake state reader: admission rules (geth's messages),
 * replacement, per-sender and total caps, pending nonces, and what block inclusion removes. The
 * end-to-end view of the same rules is test/e2e/mempool*.test.ts.
 */
import { hexToBytes } from '@ethereumjs/util';
import type { Address } from '@ethereumjs/util';
import pino from 'pino';
import { generatePrivateKey } from 'viem/accounts';
import { describe, expect, it } from 'vitest';
import { createL2Common } from '../../node/chain/common.ts';
import { TxPoolError } from '../../node/txpool/errors.ts';
import { Mempool } from '../../sequencer/mempool.ts';
import { defaultPoolOptions } from '../../sequencer/options.ts';
import type { PoolOptions } from '../../sequencer/options.ts';
import { FEES, addr, sign } from '../helpers/txs.ts';
import type { Key } from '../helpers/txs.ts';

const common = createL2Common({ chainId: 1337n });

function pool(opts: Partial<PoolOptions> = {}, accounts = new Map<string, { nonce: bigint; balance: bigint }>()) {
  return new Mempool(
    { ...defaultPoolOptions, ...opts },
    {
      common,
      logger: pino({ level: 'silent' }),
      state: { account: async (a: Address) => accounts.get(a.toString()) ?? { nonce: 0n, balance: 10n ** 21n } },
      limits: () => ({ gasLimit: 30_000_000n, minFee: 1_000_000n }),
    },
  );
}

const add = async (p: Mempool, key: Key, f: Parameters<typeof sign>[1]) => p.addRaw(hexToBytes(await sign(key, f)));
const refusal = async (p: Mempool, key: Key, f: Parameters<typeof sign>[1]): Promise<string> => {
  const err = await add(p, key, f).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TxPoolError);
  return `${(err as TxPoolError).code}: ${(err as TxPoolError).message}`;
};

describe('Mempool (in-process)', () => {
  it('admits a signed transaction once; a second copy is already known', async () => {
    const p = pool();
    const key = generatePrivateKey();
    const tx = await add(p, key, { nonce: 0 });
    expect(p.get(tx.hash)?.senderHex).toBe(addr(key).toLowerCase());
    expect(await refusal(p, key, { nonce: 0 })).toMatch(/^ALREADY_KNOWN: already known/);
    expect(p.status()).toEqual({ pending: 1, queued: 0 });
  });

  it("refuses what geth refuses, with geth's words", async () => {
    const key = generatePrivateKey();
    const accounts = new Map([[addr(key).toLowerCase(), { nonce: 5n, balance: 10n ** 15n }]]);
    const p = pool({}, accounts);
    expect(await refusal(p, key, { nonce: 4 })).toMatch(/^NONCE_TOO_LOW: nonce too low/);
    expect(await refusal(p, key, { nonce: 5, value: 10n ** 18n })).toMatch(/^INSUFFICIENT_FUNDS: insufficient funds/);
    expect(await refusal(p, key, { nonce: 5, gas: 20_000n })).toMatch(/^INTRINSIC_GAS: intrinsic gas too low/);
    expect(await refusal(p, key, { nonce: 5, gas: 31_000_000n })).toMatch(/^GAS_LIMIT: exceeds block gas limit/);
    expect(await refusal(p, key, { nonce: 5, maxFeePerGas: 1n, maxPriorityFeePerGas: 1n })).toMatch(/^UNDERPRICED: transaction underpriced/);
    expect(await refusal(p, key, { nonce: 5, chainId: 1 })).toMatch(/^INVALID_CHAIN_ID: invalid chain id/);
    expect(p.size).toBe(0);
  });

  it('replaces a transaction only for a fee bump on both fields', async () => {
    const p = pool();
    const key = generatePrivateKey();
    const first = await add(p, key, { nonce: 0 });
    const bump = (pct: bigint) => ({ nonce: 0, maxFeePerGas: (FEES.maxFeePerGas * (100n + pct)) / 100n, maxPriorityFeePerGas: (FEES.maxPriorityFeePerGas * (100n + pct)) / 100n });
    expect(await refusal(p, key, bump(5n))).toMatch(/^REPLACEMENT_UNDERPRICED: replacement transaction underpriced/);
    const second = await add(p, key, bump(10n));
    expect(p.get(first.hash)).toBeUndefined();
    expect(p.get(second.hash)).toBeDefined();
    expect(p.size).toBe(1);
  });

  it('counts a gap as queued, fills pending nonces past the pool, and drops what a block included', async () => {
    const p = pool();
    const key = generatePrivateKey();
    const a = addr(key).toLowerCase();
    await add(p, key, { nonce: 0 });
    await add(p, key, { nonce: 1 });
    await add(p, key, { nonce: 3 });
    expect(p.status()).toEqual({ pending: 2, queued: 1 });
    expect(p.pendingNonce(a, 0n)).toBe(2n);
    p.onBlockIncluded(new Map([[a, 2n]]));
    expect(p.status()).toEqual({ pending: 0, queued: 1 });
    expect(p.size).toBe(1);
    expect(p.pendingNonce(a, 2n)).toBe(2n);
  });

  it('holds at most maxPerSender per sender and maxTotal in all', async () => {
    const p = pool({ maxPerSender: 3, maxTotal: 5 });
    const key = generatePrivateKey();
    for (let n = 0; n < 3; n++) await add(p, key, { nonce: n });
    expect(await refusal(p, key, { nonce: 3 })).toMatch(/^ACCOUNT_LIMIT:/);
    const other = generatePrivateKey();
    await add(p, other, { nonce: 0 });
    await add(p, other, { nonce: 1 });
    // a full pool takes a better-paying transaction only by evicting a worse one; an equal one is refused
    expect(await refusal(p, generatePrivateKey(), { nonce: 0 })).toMatch(/^POOL_FULL:|^UNDERPRICED:/);
    expect(p.size).toBe(5);
  });

  it('tells listeners of each admitted transaction', async () => {
    const p = pool();
    const seen: string[] = [];
    const off = p.onAdded((tx) => seen.push(tx.hash));
    const key = generatePrivateKey();
    const tx = await add(p, key, { nonce: 0 });
    off();
    await add(p, key, { nonce: 1 });
    expect(seen).toEqual([tx.hash]);
  });
});
