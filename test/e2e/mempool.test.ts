import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEther, toHex } from 'viem';
import type { Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { removeDir, startDevNode } from '../helpers/dev-node.ts';
import type { DevNode } from '../helpers/dev-node.ts';
import { SECP256K1_N, flipR, signed1559, txHash } from '../helpers/raw-tx.ts';
import {
  FEES,
  GWEI,
  addr,
  balanceOf,
  call,
  expectRejected,
  fund,
  must,
  newKeys,
  nonceOf,
  poolStatus,
  receipt,
  rejection,
  sendRaw,
  sign,
  waitBlocks,
  waitFor,
  waitReceipt,
} from '../helpers/txs.ts';
import type { Key } from '../helpers/txs.ts';

const GAS_LIMIT = 10_000_000n;
const MIN_BASE_FEE = 2n * GWEI;

describe('mempool admission over eth_sendRawTransaction', () => {
  let node: DevNode;
  let url: string;
  // fresh funded senders, one or more per test so no test sees another's nonces
  const keys: Key[] = newKeys(10);
  const [kNonce, kKnown, kReplace, kQueued, kFunds, kGas, kSize, kPrice, kSig] = keys as [Key, Key, Key, Key, Key, Key, Key, Key, Key];

  beforeAll(async () => {
    node = await startDevNode({ args: ['--gas-limit', GAS_LIMIT.toString(), '--min-base-fee', MIN_BASE_FEE.toString()] });
    url = node.url;
    await fund(node, keys, parseEther('10'));
  });
  afterAll(async () => {
    await node?.stop();
    if (node !== undefined) await removeDir(node.datadir);
  });

  it('"nonce too low" for a nonce the account has used (NonceTooLowError)', async () => {
    const first = await sign(kNonce, { nonce: 0, value: 1n });
    await waitReceipt(url, await sendRaw(node, first));
    const r = await expectRejected(node, await sign(kNonce, { nonce: 0, value: 2n }), 'nonce too low', 'NonceTooLowError');
    expect(r.message.toLowerCase()).toContain(addr(kNonce).toLowerCase());
    // the very transaction that was mined is no longer "known" to the pool: it is a used nonce
    await expectRejected(node, first, 'nonce too low', 'NonceTooLowError');
    expect(await nonceOf(url, addr(kNonce))).toBe(1);
  });

  it('"already known" for a transaction the pool holds', async () => {
    const raw = await sign(kKnown, { nonce: 1 }); // nonce 0 is missing, so it stays in the pool
    expect(await sendRaw(node, raw)).toBe(txHash(raw));
    await expectRejected(node, raw, 'already known', 'NonceTooLowError');
  });

  it('a replacement must bump both fee fields by 10%; then it replaces the old one', async () => {
    const fee = { maxFeePerGas: 10n * GWEI, maxPriorityFeePerGas: 2n * GWEI };
    const old = await sign(kReplace, { nonce: 1, ...fee });
    await sendRaw(node, old);
    const bumped = (feeBy: bigint, tipBy: bigint, value = 0n) =>
      sign(kReplace, { nonce: 1, value, maxFeePerGas: (fee.maxFeePerGas * feeBy) / 100n, maxPriorityFeePerGas: (fee.maxPriorityFeePerGas * tipBy) / 100n });
    for (const [feeBy, tipBy] of [
      [100n, 100n],
      [109n, 109n],
      [110n, 100n],
      [100n, 110n],
      [200n, 109n],
    ] as const) {
      await expectRejected(node, await bumped(feeBy, tipBy, 7n), 'replacement transaction underpriced');
    }
    const replacement = await bumped(110n, 110n, 7n);
    expect(await sendRaw(node, replacement)).toBe(txHash(replacement));
    expect(await must(url, 'eth_getTransactionByHash', [txHash(old)])).toBeNull();
    const pending = await must(url, 'eth_getTransactionByHash', [txHash(replacement)]);
    expect(pending).toMatchObject({ hash: txHash(replacement), blockHash: null, nonce: '0x1', value: '0x7' });
    // the old one is really gone: re-sending it is a (now underpriced) replacement, not "already known"
    await expectRejected(node, old, 'replacement transaction underpriced');

    await sendRaw(node, await sign(kReplace, { nonce: 0 }));
    const rc = await waitReceipt(url, txHash(replacement));
    expect(rc.status).toBe('0x1');
    expect(await receipt(url, txHash(old))).toBeNull();
    expect(await nonceOf(url, addr(kReplace))).toBe(2);
  });

  it('a future nonce waits queued (not counted by the pending nonce) and is mined once the gap fills', async () => {
    const before = await poolStatus(url);
    const later = await sign(kQueued, { nonce: 1 });
    await sendRaw(node, later);
    expect(await poolStatus(url)).toEqual({ pending: before.pending, queued: before.queued + 1 });
    expect(await nonceOf(url, addr(kQueued), 'pending')).toBe(0);
    await waitBlocks(url, 2);
    expect(await receipt(url, txHash(later))).toBeNull();
    expect(await poolStatus(url)).toEqual({ pending: before.pending, queued: before.queued + 1 });

    const gap = await sign(kQueued, { nonce: 0 });
    await sendRaw(node, gap);
    expect(await nonceOf(url, addr(kQueued), 'pending')).toBe(2);
    const [r0, r1] = [await waitReceipt(url, txHash(gap)), await waitReceipt(url, txHash(later))];
    expect([r0.status, r1.status]).toEqual(['0x1', '0x1']);
    expect(BigInt(r1.blockNumber) * 1000n + BigInt(r1.transactionIndex)).toBeGreaterThan(BigInt(r0.blockNumber) * 1000n + BigInt(r0.transactionIndex));
    expect(await nonceOf(url, addr(kQueued))).toBe(2);
    expect(await poolStatus(url)).toEqual(before);
  });

  it('"insufficient funds for gas * price + value" (InsufficientFundsError), exact at the boundary', async () => {
    const [broke] = newKeys(1) as [Key];
    const r = await expectRejected(node, await sign(broke, { nonce: 0, value: 1n }), 'insufficient funds for gas * price + value', 'InsufficientFundsError');
    expect(r.message.toLowerCase()).toContain(addr(broke).toLowerCase());
    const balance = await balanceOf(url, addr(kFunds));
    expect(balance).toBe(parseEther('10'));
    const maxValue = balance - 21_000n * FEES.maxFeePerGas;
    await expectRejected(node, await sign(kFunds, { nonce: 0, value: maxValue + 1n }), 'insufficient funds for gas * price + value', 'InsufficientFundsError');
    const ok = await sign(kFunds, { nonce: 0, value: maxValue, to: addr(kNonce) });
    expect((await waitReceipt(url, await sendRaw(node, ok))).status).toBe('0x1');
  });

  it('"intrinsic gas too low" (IntrinsicGasTooLowError) and "exceeds block gas limit" (--gas-limit)', async () => {
    await expectRejected(node, await sign(kGas, { nonce: 0, gas: 20_999n }), 'intrinsic gas too low', 'IntrinsicGasTooLowError');
    await expectRejected(node, await sign(kGas, { nonce: 0, gas: 21_000n, data: '0x01' }), 'intrinsic gas too low', 'IntrinsicGasTooLowError');
    await expectRejected(node, await sign(kGas, { nonce: 0, gas: 53_000n, to: null, data: '0x00' }), 'intrinsic gas too low', 'IntrinsicGasTooLowError');
    await expectRejected(node, await sign(kGas, { nonce: 0, gas: GAS_LIMIT + 1n }), 'exceeds block gas limit');
    const atLimit = await sign(kGas, { nonce: 0, gas: GAS_LIMIT });
    const rc = await waitReceipt(url, await sendRaw(node, atLimit));
    expect(rc.gasUsed).toBe(toHex(21_000n));
  });

  it('"invalid chain id" for EIP-1559, EIP-2930 and EIP-155 legacy transactions signed for another chain', async () => {
    for (const [type, chainId] of [
      ['eip1559', 1],
      ['eip2930', 31337],
      ['legacy', 1],
      ['legacy', 1338],
    ] as const) {
      const r = await expectRejected(node, await sign(kGas, { nonce: 5, type, chainId }), 'invalid chain id');
      expect(r.message).toContain(String(chainId));
    }
  });

  it('"oversized data" above 128 KiB; a large transaction below it is mined', async () => {
    const big = (bytes: number) => `0x${'01'.repeat(bytes)}` as Hex;
    const tooBig = await sign(kSize, { nonce: 0, gas: 6_000_000n, data: big(128 * 1024) });
    await expectRejected(node, tooBig, 'oversized data');
    const fits = await sign(kSize, { nonce: 0, gas: 6_000_000n, data: big(120 * 1024) });
    expect((fits.length - 2) / 2).toBeLessThan(128 * 1024);
    expect((await waitReceipt(url, await sendRaw(node, fits))).status).toBe('0x1');
  });

  it('"transaction underpriced" when the fee cap is below --min-base-fee; a cap equal to it is mined', async () => {
    await expectRejected(node, await sign(kPrice, { nonce: 0, maxFeePerGas: MIN_BASE_FEE - 1n, maxPriorityFeePerGas: 0n }), 'transaction underpriced');
    await expectRejected(node, await sign(kPrice, { nonce: 0, type: 'legacy', gasPrice: MIN_BASE_FEE - 1n }), 'transaction underpriced');
    const exact = await sign(kPrice, { nonce: 0, maxFeePerGas: MIN_BASE_FEE, maxPriorityFeePerGas: 0n });
    const rc = await waitReceipt(url, await sendRaw(node, exact));
    expect(BigInt(rc.effectiveGasPrice)).toBe(MIN_BASE_FEE);
  });

  it('"max priority fee per gas higher than max fee per gas" (TipAboveFeeCapError)', async () => {
    const raw = await signed1559(kPrice, { chainId: 1337n, nonce: 1n, maxPriorityFeePerGas: 5n * GWEI + 1n, maxFeePerGas: 5n * GWEI, gas: 21_000n, to: addr(kPrice), value: 0n });
    await expectRejected(node, raw, 'max priority fee per gas higher than max fee per gas', 'TipAboveFeeCapError');
  });

  it('bad signatures are refused and never attributed to the signer', async () => {
    const f = { chainId: 1337n, nonce: 0n, maxPriorityFeePerGas: GWEI, maxFeePerGas: 10n * GWEI, gas: 21_000n, to: addr(kSig), value: 1n };
    const good = await signed1559(kSig, f);
    const tampered = [
      await signed1559(kSig, f, (s) => ({ yParity: 1n - s.yParity, r: s.r, s: SECP256K1_N - s.s })), // high s (EIP-2)
      await signed1559(kSig, f, (s) => ({ ...s, r: 0n })),
      await signed1559(kSig, f, (s) => ({ ...s, s: 0n })),
      await signed1559(kSig, f, (s) => ({ ...s, r: SECP256K1_N })),
      await signed1559(kSig, f, (s) => ({ ...s, yParity: 2n })),
    ];
    for (const raw of tampered) {
      const r = await expectRejected(node, raw, 'invalid sender');
      expect(r.message.toLowerCase()).not.toContain(addr(kSig).toLowerCase());
    }
    // flipping bytes of r gives either no sender or some other (unfunded) one, never the signer
    const flipped = await rejection(node, flipR(good));
    expect(flipped.code).toBe(-32000);
    expect(flipped.message).toMatch(/^(invalid sender|insufficient funds for gas \* price \+ value)/);
    expect(flipped.message.toLowerCase()).not.toContain(addr(kSig).toLowerCase());
    expect(await nonceOf(url, addr(kSig), 'pending')).toBe(0);
    // the untampered one is fine
    expect((await waitReceipt(url, await sendRaw(node, good))).from).toBe(addr(kSig).toLowerCase());
  });

  it('undecodable bytes and unsupported transaction types', async () => {
    for (const raw of ['0xdeadbeef', '0x', '0x02', '0x02c0', '0xc0', '0x7f00', `0x${'ff'.repeat(40)}`] as const) {
      const r = await rejection(node, raw);
      expect(r.code, raw).toBe(-32000);
      expect(r.message, raw).toMatch(/^(invalid transaction|transaction type not supported)/);
    }
    // unknown type bytes and blob transactions (no blobs on this L2): geth's "transaction type not supported"
    for (const raw of ['0x05c0', '0x7fc0'] as const) await expectRejected(node, raw, 'transaction type not supported');
    const account = privateKeyToAccount(kSig);
    const blob = await account.signTransaction({
      type: 'eip4844',
      chainId: 1337,
      nonce: 1,
      to: account.address,
      gas: 21_000n,
      ...FEES,
      maxFeePerBlobGas: GWEI,
      blobVersionedHashes: [`0x01${'00'.repeat(31)}`],
    });
    await expectRejected(node, blob, 'transaction type not supported');
    // not even hex: a parameter error, not a pool error
    expect((await call(url, 'eth_sendRawTransaction', ['0xzz'])).error?.code).toBe(-32602);
  });

  it('nothing refused above entered the pool, and the node still mines', async () => {
    await waitFor('pool drained of pending', async () => (await poolStatus(url)).pending === 0);
    // what is left are the deliberately queued ones: kKnown nonce 1
    expect(await poolStatus(url)).toEqual({ pending: 0, queued: 1 });
    const raw = await sign(kKnown, { nonce: 0 });
    await sendRaw(node, raw);
    await waitReceipt(url, txHash(raw));
    await waitFor('queued kKnown tx mined', async () => (await nonceOf(url, addr(kKnown))) === 2);
    expect(await poolStatus(url)).toEqual({ pending: 0, queued: 0 });
  });
});
