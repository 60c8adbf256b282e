/**
 * Sender recovery on a worker thread: keys land in the transactions' caches equal to what the
 * main thread computes; deposits and transactions whose signature does not recover are left to
 * the main thread; stop() ends the worker; and a catch-up (RangeSync) hands the blocks ahead of
 * the one it imports to the worker, never more than recoveryLookahead of them.
 */
import { Block, createBlock } from '@ethereumjs/block';
import { RLP } from '@ethereumjs/rlp';
import { createFeeMarket1559Tx, createLegacyTx, createTxFromRLP } from '@ethereumjs/tx';
import type { TypedTransaction } from '@ethereumjs/tx';
import { Address, bytesToHex, hexToBytes } from '@ethereumjs/util';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { Chain } from '../../node/chain/chain.ts';
import { decodeBlock } from '../../node/chain/block-codec.ts';
import { createL2Common } from '../../node/chain/common.ts';
import { nodeCrypto } from '../../node/chain/crypto.ts';
import { DepositTx, isDepositTx } from '../../node/chain/deposit-tx.ts';
import { orderedTrieRoot } from '../../node/chain/ordered-trie.ts';
import type { ReqResp } from '../../node/p2p/reqresp.ts';
import type { BlockImporter } from '../../node/sync/block-importer.ts';
import { decodeRangeRequest } from '../../node/sync/blocks-by-range.ts';
import { defaultSyncOptions } from '../../node/sync/options.ts';
import { RangeSync } from '../../node/sync/range-sync.ts';
import { SenderRecovery, applyKeys } from '../../node/sync/sender-recovery.ts';
import type { RecoveryItem } from '../../node/sync/sender-recovery.ts';

const CHAIN_ID = 1337n;
const common = createL2Common({ chainId: CHAIN_ID, customCrypto: nodeCrypto });
const silent = pino({ level: 'silent' });
const KEYS = [1, 2, 3].map((i) => hexToBytes(`0x${i.toString(16).padStart(64, '0')}`));
const TO = new Address(hexToBytes(`0x${'11'.repeat(20)}`));
/** The secp256k1 group order: no signature has an r this large, so recovery must fail. */
const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

function signed(nonce: bigint, key: Uint8Array, legacy = false): TypedTransaction {
  if (legacy) return createLegacyTx({ to: TO, value: 1n, gasLimit: 21_000n, gasPrice: 10n, nonce }, { common }).sign(key);
  return createFeeMarket1559Tx({ to: TO, value: 1n, gasLimit: 21_000n, maxFeePerGas: 10n, maxPriorityFeePerGas: 1n, nonce, chainId: CHAIN_ID }, { common }).sign(key);
}

function badSignature(nonce: bigint): TypedTransaction {
  return createFeeMarket1559Tx({ to: TO, gasLimit: 21_000n, maxFeePerGas: 10n, maxPriorityFeePerGas: 1n, nonce, chainId: CHAIN_ID, v: 0n, r: N, s: 1n }, { common });
}

const deposit = () =>
  new DepositTx({ sourceHash: new Uint8Array(32).fill(7), from: TO, to: TO, mint: 5n, value: 0n, gasLimit: 100_000n, isSystemTx: false, data: new Uint8Array() }).asTyped();

/** Encoded and decoded again, as a catch-up receives it: no transaction has a cached key yet. */
function received(number: bigint, txs: TypedTransaction[], parentHash: Uint8Array = new Uint8Array(32)): Block {
  const header = { number, parentHash, timestamp: number, gasLimit: 30_000_000n, baseFeePerGas: 7n, transactionsTrie: orderedTrieRoot(txs.map((t) => t.serialize())) };
  const built = txs.some(isDepositTx)
    ? new Block(createBlock({ header }, { common, setHardfork: false }).header, txs, [], undefined, { common, setHardfork: false })
    : createBlock({ header, transactions: txs }, { common, setHardfork: false });
  return decodeBlock(built.serialize(), common);
}

const item = (b: Block): RecoveryItem => ({ number: b.header.number, txs: b.transactions.map((t) => t.serialize()) });
const freshKey = (tx: TypedTransaction) => bytesToHex(createTxFromRLP(tx.serialize(), { common }).getSenderPublicKey());
const cached = (tx: TypedTransaction) => (isDepositTx(tx) ? undefined : tx.cache.senderPubKey);

describe('sender recovery thread', () => {
  const started: SenderRecovery[] = [];
  afterEach(async () => {
    for (const s of started.splice(0)) await s.stop();
  });
  async function recovery(): Promise<SenderRecovery> {
    const s = new SenderRecovery({ chainId: CHAIN_ID }, { logger: silent });
    started.push(s);
    await s.start();
    return s;
  }

  it('finds the key the main thread would compute and the transactions root, skipping deposits and signatures that do not recover', async () => {
    const s = await recovery();
    const a = received(1n, [deposit(), signed(0n, KEYS[0]!), badSignature(1n), signed(0n, KEYS[1]!, true), signed(5n, KEYS[2]!)]);
    const b = received(2n, [signed(1n, KEYS[0]!), signed(2n, KEYS[0]!)]);
    for (const tx of [...a.transactions, ...b.transactions]) expect(cached(tx)).toBeUndefined();
    const [ia, ib] = [item(a), item(b)];
    s.prime([ia, ib]);
    for (const [block, it] of [
      [a, ia],
      [b, ib],
    ] as const) {
      const got = (await s.ready(it))!;
      expect(bytesToHex(got.txRoot)).toBe(bytesToHex(block.header.transactionsTrie));
      applyKeys(block, got.keys);
    }
    const [dep, ok1, bad, legacy, ok2] = a.transactions as TypedTransaction[];
    expect(isDepositTx(dep)).toBe(true);
    for (const tx of [ok1!, legacy!, ok2!, ...b.transactions]) {
      expect(cached(tx)).toBeInstanceOf(Uint8Array);
      expect(bytesToHex(cached(tx)!)).toBe(freshKey(tx));
    }
    expect(cached(bad!)).toBeUndefined();
    // the main thread still reports the bad signature itself
    expect(() => bad!.getSenderPublicKey()).toThrow(/Invalid Signature/);
    // three distinct senders, each one's own key
    expect(new Set([ok1, legacy, ok2].map((tx) => bytesToHex(cached(tx!)!))).size).toBe(3);
  });

  it('resolves at once, with nothing, for a block never primed, and after stop()', async () => {
    const s = await recovery();
    const never = received(1n, [signed(0n, KEYS[0]!)]);
    expect(await s.ready(item(never))).toBeUndefined();
    await s.stop();
    const late = item(received(2n, [signed(1n, KEYS[0]!)]));
    s.prime([late]);
    // had it waited for the worker, it would wait its 10 s cap, past this test's 5 s timeout
    expect(await s.ready(late)).toBeUndefined();
  });

  /** Catches blocks 1..12 up from a fake peer; per imported block, whether its keys were cached and what was primed by then. */
  async function catchUp(s: SenderRecovery, lookahead: number, catchUpBodyBytes: number) {
    const genesis = createBlock({ header: { number: 0n, gasLimit: 30_000_000n, baseFeePerGas: 7n } }, { common, setHardfork: false });
    const blocks = [genesis];
    for (let n = 1n; n <= 12n; n++) blocks.push(received(n, [signed(2n * n, KEYS[0]!), signed(2n * n + 1n, KEYS[0]!)], blocks[blocks.length - 1]!.hash()));
    const primed: bigint[] = [];
    const prime = s.prime.bind(s);
    s.prime = (items) => {
      primed.push(...items.map((i) => i.number));
      prime(items);
    };
    const seen: { n: bigint; cached: boolean; primedMax: bigint }[] = [];
    const importer = {
      safeFloor: () => 0n,
      import: async (block: Block) => {
        seen.push({ n: block.header.number, cached: block.transactions.every((tx) => cached(tx) !== undefined), primedMax: primed.reduce((a, b) => (a > b ? a : b), 0n) });
      },
    } as unknown as BlockImporter;
    const reqresp = {
      request: async (_peer: string, _spec: unknown, payload: Uint8Array) => {
        const req = decodeRangeRequest(payload, 64);
        if (typeof req === 'string') throw new Error(req);
        return RLP.encode(blocks.slice(Number(req.start), Number(req.start) + req.count).map((b) => b.serialize()));
      },
      penalize: () => undefined,
    } as unknown as ReqResp;
    const chain = { head: genesis, common } as unknown as Chain;
    const opts = { ...defaultSyncOptions, rangeMaxBlocks: 4, catchUpBodyBytes, recoveryLookahead: lookahead };
    await new RangeSync(opts, { chain, importer, reqresp, peers: () => ['p'], logger: silent, senders: s }).syncTo(blocks[12]!, 'p');
    expect(seen.map((x) => x.n)).toEqual(blocks.slice(1).map((b) => b.header.number));
    expect(new Set(primed).size).toBe(primed.length);
    for (const x of seen) expect(x.primedMax).toBeLessThanOrEqual(x.n + BigInt(lookahead));
    return seen;
  }

  it('a catch-up primes the blocks ahead of the one it imports, at most recoveryLookahead of them', async () => {
    const seen = await catchUp(await recovery(), 3, defaultSyncOptions.catchUpBodyBytes);
    // the first block is recovered by the import itself; every later one arrives with its keys
    expect(seen.filter((x) => !x.cached).map((x) => x.n)).toEqual([1n]);
  });

  it('a catch-up whose bodies are fetched again primes each refetched range after its first block', async () => {
    const seen = await catchUp(await recovery(), 3, 1);
    // bodies come back 4 at a time (rangeMaxBlocks): 1-4, 5-8, 9-11, then the anchor
    expect(seen.filter((x) => !x.cached).map((x) => x.n)).toEqual([1n, 5n, 9n]);
  });

  it('a catch-up without a worker still imports every block', async () => {
    const s = new SenderRecovery({ chainId: CHAIN_ID }, { logger: silent });
    await s.stop();
    const seen = await catchUp(s, 3, defaultSyncOptions.catchUpBodyBytes);
    expect(seen.every((x) => !x.cached)).toBe(true);
  });
});
