/**
 * Senders of transactions arriving over JSON-RPC, recovered on the sender-recovery thread
 * (node/txpool/ingest-recovery.ts): arrivals in one task go as one message; each gets the key the
 * main thread would compute; a bad signature, a high-s signature and bytes that do not decode get
 * undefined (the pool then recovers on the main thread and gives the proper error); and with the
 * thread down every arrival gets undefined at once.
 */
import { createFeeMarket1559Tx, createTxFromRLP } from '@ethereumjs/tx';
import { RLP } from '@ethereumjs/rlp';
import { Address, bigIntToUnpaddedBytes, bytesToHex, concatBytes, hexToBytes } from '@ethereumjs/util';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createL2Common } from '../../node/chain/common.ts';
import { nodeCrypto } from '../../node/chain/crypto.ts';
import { SenderRecovery } from '../../node/sync/sender-recovery.ts';
import { IngestRecovery } from '../../node/txpool/ingest-recovery.ts';

const CHAIN_ID = 1337n;
const common = createL2Common({ chainId: CHAIN_ID, customCrypto: nodeCrypto });
const TO = new Address(hexToBytes(`0x${'11'.repeat(20)}`));
const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const fields = (nonce: bigint) => ({ to: TO, value: 1n, gasLimit: 21_000n, maxFeePerGas: 10n, maxPriorityFeePerGas: 1n, nonce, chainId: CHAIN_ID });
const signed = (nonce: bigint, k: number) =>
  createFeeMarket1559Tx(fields(nonce), { common })
    .sign(hexToBytes(`0x${k.toString(16).padStart(64, '0')}`))
    .serialize();

let recovery: SenderRecovery | undefined;
afterEach(async () => {
  await recovery?.stop();
  recovery = undefined;
});

describe('IngestRecovery', () => {
  it('recovers a batch of arrivals in one message, as the main thread would, and refuses what does not recover', async () => {
    recovery = new SenderRecovery({ chainId: CHAIN_ID }, { logger: pino({ level: 'silent' }) });
    await recovery.start();
    expect(recovery.available).toBe(true);
    const ingest = new IngestRecovery(recovery);
    const good = Array.from({ length: 50 }, (_, i) => signed(BigInt(i), (i % 7) + 1));
    const noCurvePoint = createFeeMarket1559Tx({ ...fields(0n), v: 0n, r: N, s: 1n }, { common }).serialize();
    const ok = createTxFromRLP(signed(9n, 3), { common });
    // the same signature with s' = n - s (and the other parity): ethereumjs refuses it at decode or recovery
    const raw = ok.raw() as Uint8Array[];
    const highS = concatBytes(Uint8Array.of(2), RLP.encode([...raw.slice(0, 9), bigIntToUnpaddedBytes(1n - ok.v!), raw[10]!, bigIntToUnpaddedBytes(N - ok.s!)]));
    const garbage = Uint8Array.of(2, 0xc1, 0x80);
    const all = [...good, noCurvePoint, highS, garbage];
    const keys = await Promise.all(all.map((raw) => ingest.key(raw)));
    good.forEach((raw, i) => expect(bytesToHex(keys[i]!)).toBe(bytesToHex(createTxFromRLP(raw, { common }).getSenderPublicKey())));
    expect(keys.slice(good.length)).toEqual([undefined, undefined, undefined]);
  });

  it('answers undefined at once when the thread is not up', async () => {
    recovery = new SenderRecovery({ chainId: CHAIN_ID }, { logger: pino({ level: 'silent' }) });
    const ingest = new IngestRecovery(recovery);
    expect(await ingest.key(signed(0n, 1))).toBeUndefined();
    await recovery.start();
    await recovery.stop();
    expect(await ingest.key(signed(0n, 1))).toBeUndefined();
  });
});
