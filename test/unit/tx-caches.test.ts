import { createFeeMarket1559Tx, createTx, createTxFromRLP } from '@ethereumjs/tx';
import { bytesToHex, hexToBytes, privateToAddress } from '@ethereumjs/util';
import { describe, expect, it } from 'vitest';
import { createL2Common } from '../../node/chain/common.ts';
import { nodeCrypto } from '../../node/chain/crypto.ts';

const common = createL2Common({ chainId: 1337n, customCrypto: nodeCrypto });
const KEY_A = hexToBytes(`0x${'11'.repeat(32)}`);
const KEY_B = hexToBytes(`0x${'22'.repeat(32)}`);
const signed = (key: Uint8Array, nonce: bigint) =>
  createFeeMarket1559Tx({ to: `0x${'bb'.repeat(20)}`, value: 1n, gasLimit: 21_000n, maxFeePerGas: 10n, maxPriorityFeePerGas: 1n, nonce, chainId: 1337n }, { common }).sign(key);

describe('transaction caches (node/chain/tx-caches.ts)', () => {
  it('the cached sender address is the signer, asked any number of times', () => {
    const tx = createTxFromRLP(signed(KEY_A, 0n).serialize(), { common });
    for (let i = 0; i < 3; i++) expect(tx.getSenderAddress().bytes).toEqual(privateToAddress(KEY_A));
  });

  it('follows the cached key when another is put there (sender recovery fills it from a thread)', () => {
    const tx = createTxFromRLP(signed(KEY_A, 0n).serialize(), { common });
    expect(tx.getSenderAddress().bytes).toEqual(privateToAddress(KEY_A));
    const other = createTxFromRLP(signed(KEY_B, 0n).serialize(), { common });
    tx.cache.senderPubKey = other.getSenderPublicKey();
    expect(tx.getSenderAddress().bytes).toEqual(privateToAddress(KEY_B));
  });

  it('an unfrozen transaction caches neither its address nor its encoding', () => {
    const raw = signed(KEY_A, 5n).serialize();
    const tx = createTxFromRLP(raw, { common, freeze: false });
    expect(bytesToHex(tx.serialize())).toBe(bytesToHex(raw));
    expect(tx.getSenderAddress().bytes).toEqual(privateToAddress(KEY_A));
    expect((tx.cache as { serialized?: unknown }).serialized).toBeUndefined();
    expect((tx.cache as { senderAddress?: unknown }).senderAddress).toBeUndefined();
  });

  it('the cached encoding is the bytes the transaction was decoded from, for types 0, 1, 2 and 4', () => {
    const base = { to: `0x${'bb'.repeat(20)}` as const, value: 1n, gasLimit: 100_000n, nonce: 1n, chainId: 1337n };
    const fees = { maxFeePerGas: 10n, maxPriorityFeePerGas: 1n };
    const auth = { chainId: '0x539', address: `0x${'cc'.repeat(20)}`, nonce: '0x0', yParity: '0x1', r: `0x${'01'.repeat(32)}`, s: `0x${'02'.repeat(32)}` };
    const made = [
      createTx({ ...base, type: 0, gasPrice: 10n }, { common }),
      createTx({ ...base, type: 1, gasPrice: 10n, accessList: [] }, { common }),
      createTx({ ...base, type: 2, ...fees }, { common }),
      createTx({ ...base, type: 4, ...fees, authorizationList: [auth] } as never, { common }),
    ];
    for (const unsigned of made) {
      const raw = unsigned.sign(KEY_A).serialize();
      const tx = createTxFromRLP(raw, { common });
      const first = tx.serialize();
      expect(bytesToHex(first)).toBe(bytesToHex(raw));
      expect(tx.serialize()).toBe(first);
      expect(tx.getSenderAddress().bytes).toEqual(privateToAddress(KEY_A));
    }
  });
});
