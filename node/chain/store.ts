import type { Block } from '@ethereumjs/block';
import type { Common } from '@ethereumjs/common';
import { Address, bytesToHex, concatBytes, equalsBytes } from '@ethereumjs/util';
import { Prefix, be64, key, metaKey, readBe64 } from '../db/keys.ts';
import { kvGet } from '../db/kv.ts';
import type { KV, KVOp } from '../db/kv.ts';
import { AddressIndex, type TxActivity, addressIndexOps } from './address-index.ts';
import { type LogBlock, decodeBlock, decodeLogBlock, logBlockOf } from './block-codec.ts';
import { isDepositTx } from './deposit-tx.ts';
import { decodeReceipts, encodeReceipts } from './receipts.ts';
import type { StoredReceipt } from './receipts.ts';

const HEAD = metaKey('head');
const CACHE_BLOCKS = 512;
/** Blooms read per LevelDB call by `blooms` (256 bytes each). */
const BLOOM_PAGE = 1024;

/**
 * An event kind the store indexes by its first indexed argument (topic1), e.g. the market's
 * InferenceFulfilled by request id: one lookup instead of a log scan over the whole chain.
 */
export interface IndexedEvent {
  address: Uint8Array;
  topic0: Uint8Array;
}

/** Where an indexed event was logged: a canonical block and the log's index in it. */
export interface EventLocation {
  number: bigint;
  blockHash: Uint8Array;
  logIndex: number;
}

export interface TxLocation {
  blockHash: Uint8Array;
  index: number;
}

/** Everything one block writes; `commitBlock` puts it on disk in a single LevelDB batch. */
export interface BlockRecord {
  block: Block;
  senders: Address[];
  receipts: StoredReceipt[];
  /** State trie writes produced while building or executing the block. */
  stateOps: KVOp[];
  /** What each transaction touched, for the address index (absent for genesis). */
  activity?: readonly TxActivity[];
}

/** Blocks, receipts, indexes and the head pointer. Knows nothing of execution. */
export class ChainStore {
  private blockCache = new Map<string, Block>();
  readonly addresses: AddressIndex;
  private receiptCache = new Map<string, StoredReceipt[]>();

  constructor(
    private readonly kv: KV,
    private readonly common: Common,
    private readonly indexed: readonly IndexedEvent[] = [],
  ) {
    this.addresses = new AddressIndex(kv, (h, n, i) => this.isCanonicalTx(h, n, i));
  }

  /** Whether the transaction `hash` is in the canonical chain (at `number`, `index` when given). */
  private async isCanonicalTx(hash: Uint8Array, number?: bigint, index?: number): Promise<boolean> {
    const loc = await this.getTxLocation(hash);
    if (loc === undefined || (index !== undefined && loc.index !== index)) return false;
    const at = number ?? (await this.getBlockByHash(loc.blockHash))?.header.number;
    const canonical = at === undefined ? undefined : await this.getCanonicalHash(at);
    return canonical !== undefined && equalsBytes(canonical, loc.blockHash);
  }

  async commitBlock(rec: BlockRecord, setHead = true): Promise<void> {
    const { block } = rec;
    const hash = block.hash();
    const num = be64(block.header.number);
    const ops: KVOp[] = [...rec.stateOps];
    ops.push({ type: 'put', key: key(Prefix.block, hash), value: block.serialize() });
    ops.push({ type: 'put', key: key(Prefix.senders, hash), value: concatBytes(...rec.senders.map((s) => s.bytes)) });
    ops.push({ type: 'put', key: key(Prefix.receipts, hash), value: encodeReceipts(rec.receipts) });
    ops.push({ type: 'put', key: key(Prefix.canonical, num), value: hash });
    ops.push({ type: 'put', key: key(Prefix.bloom, num), value: block.header.logsBloom });
    block.transactions.forEach((tx, i) => {
      const loc = new Uint8Array(36);
      loc.set(hash, 0);
      new DataView(loc.buffer).setUint32(32, i);
      ops.push({ type: 'put', key: key(Prefix.txIndex, tx.hash()), value: loc });
    });
    if (this.indexed.length > 0) ops.push(...this.eventIndexOps(rec.receipts, hash, num));
    if (rec.activity !== undefined) {
      const txs = block.transactions.map((tx, i) => ({
        hash: tx.hash(),
        sender: rec.senders[i]!,
        activity: rec.activity?.[i],
        nonce: isDepositTx(tx as unknown) ? undefined : tx.nonce,
      }));
      ops.push(...addressIndexOps(block.header.number, txs));
    }
    if (setHead) ops.push({ type: 'put', key: HEAD, value: hash });
    await this.kv.batch(ops);
    this.remember(block);
    bounded(this.receiptCache, bytesToHex(hash), rec.receipts);
  }

  async getHeadHash(): Promise<Uint8Array | undefined> {
    return kvGet(this.kv, HEAD);
  }

  async getMeta(name: string): Promise<Uint8Array | undefined> {
    return kvGet(this.kv, metaKey(name));
  }

  async putMeta(name: string, value: Uint8Array): Promise<void> {
    await this.kv.put(metaKey(name), value);
  }

  async getCanonicalHash(n: bigint): Promise<Uint8Array | undefined> {
    return kvGet(this.kv, key(Prefix.canonical, be64(n)));
  }

  async getBlockByHash(hash: Uint8Array): Promise<Block | undefined> {
    const hex = bytesToHex(hash);
    const cached = this.blockCache.get(hex);
    if (cached !== undefined) return cached;
    const raw = await kvGet(this.kv, key(Prefix.block, hash));
    if (raw === undefined) return undefined;
    const block = decodeBlock(raw, this.common);
    this.remember(block);
    return block;
  }

  /**
   * Canonical blocks as logs need them, with their receipts, many at once: three LevelDB reads
   * (hashes, blocks, receipts) rather than three per block. A block the cache holds is used as it
   * is; the others are decoded lightly and not cached, so a long eth_getLogs scan neither pays for
   * whole blocks nor pushes the recent ones out. A number past the head comes back undefined.
   */
  async getLogBlocks(ns: bigint[]): Promise<({ block: LogBlock; receipts: StoredReceipt[] } | undefined)[]> {
    const hashes = await this.kv.getMany(ns.map((n) => key(Prefix.canonical, be64(n))));
    const cached = hashes.map((h) => (h === undefined ? undefined : this.blockCache.get(bytesToHex(h))));
    const missing = hashes.flatMap((h, i) => (h !== undefined && cached[i] === undefined ? [h] : []));
    const raws = missing.length === 0 ? [] : await this.kv.getMany(missing.map((h) => key(Prefix.block, h)));
    const rawOf = new Map(missing.map((h, i) => [bytesToHex(h), raws[i]]));
    // receipts the cache holds are not read again
    const unread = hashes.flatMap((h) => (h !== undefined && !this.receiptCache.has(bytesToHex(h)) ? [h] : []));
    const rawReceipts = unread.length === 0 ? [] : await this.kv.getMany(unread.map((h) => key(Prefix.receipts, h)));
    const receiptsOf = new Map(unread.map((h, i) => [bytesToHex(h), rawReceipts[i]]));
    return hashes.map((h, i) => {
      if (h === undefined) return undefined;
      const hex = bytesToHex(h);
      const c = cached[i];
      const raw = c === undefined ? rawOf.get(hex) : undefined;
      if (c === undefined && raw === undefined) return undefined;
      const block = c === undefined ? decodeLogBlock(raw!, h) : logBlockOf(c);
      const stored = receiptsOf.get(hex);
      return { block, receipts: this.receiptCache.get(hex) ?? (stored === undefined ? [] : decodeReceipts(stored)) };
    });
  }

  async getBlockByNumber(n: bigint): Promise<Block | undefined> {
    const hash = await this.getCanonicalHash(n);
    return hash === undefined ? undefined : this.getBlockByHash(hash);
  }

  async getSenders(hash: Uint8Array): Promise<Address[]> {
    const raw = await kvGet(this.kv, key(Prefix.senders, hash));
    if (raw === undefined) return [];
    const out: Address[] = [];
    for (let i = 0; i < raw.length; i += 20) out.push(new Address(raw.slice(i, i + 20)));
    return out;
  }

  async getReceipts(hash: Uint8Array): Promise<StoredReceipt[] | undefined> {
    const hex = bytesToHex(hash);
    const cached = this.receiptCache.get(hex);
    if (cached !== undefined) return cached;
    const raw = await kvGet(this.kv, key(Prefix.receipts, hash));
    if (raw === undefined) return undefined;
    const receipts = decodeReceipts(raw);
    bounded(this.receiptCache, hex, receipts);
    return receipts;
  }

  async getTxLocation(txHash: Uint8Array): Promise<TxLocation | undefined> {
    const raw = await kvGet(this.kv, key(Prefix.txIndex, txHash));
    if (raw === undefined) return undefined;
    return { blockHash: raw.slice(0, 32), index: new DataView(raw.buffer, raw.byteOffset).getUint32(32) };
  }

  /**
   * The canonical block that logged the indexed event (address, topic0, topic1). A rewound
   * block's entry stays until a new block logs the same event, and reads as absent meanwhile.
   */
  async findEvent(address: Uint8Array, topic0: Uint8Array, topic1: Uint8Array): Promise<EventLocation | undefined> {
    const raw = await kvGet(this.kv, key(Prefix.eventIndex, address, topic0, topic1));
    if (raw === undefined) return undefined;
    const number = readBe64(raw, 0);
    const blockHash = raw.slice(8, 40);
    const canonical = await this.getCanonicalHash(number);
    if (canonical === undefined || !equalsBytes(canonical, blockHash)) return undefined;
    return { number, blockHash, logIndex: new DataView(raw.buffer, raw.byteOffset).getUint32(40) };
  }

  /**
   * The topic1 values of indexed event (address, topic0) whose newest log is canonical, in key
   * order, from `after` (exclusive) on: a walk of the index, never of the chain.
   */
  async *indexedKeys(address: Uint8Array, topic0: Uint8Array, after?: Uint8Array): AsyncGenerator<{ topic1: Uint8Array; location: EventLocation }> {
    const prefix = key(Prefix.eventIndex, address, topic0);
    const end = key(Prefix.eventIndex, address, topic0, new Uint8Array(32).fill(0xff));
    const it = this.kv.iterator(after === undefined ? { gte: prefix, lte: end } : { gt: key(Prefix.eventIndex, address, topic0, after), lte: end });
    try {
      for await (const [k] of it) {
        const topic1 = k.slice(prefix.length);
        const location = await this.findEvent(address, topic0, topic1);
        if (location !== undefined) yield { topic1, location };
      }
    } finally {
      await it.close();
    }
  }

  private eventIndexOps(receipts: readonly StoredReceipt[], hash: Uint8Array, num: Uint8Array): KVOp[] {
    const ops: KVOp[] = [];
    let logIndex = 0;
    for (const r of receipts) {
      for (const [address, topics] of r.logs) {
        const [topic0, topic1] = topics;
        if (topic0 !== undefined && topic1 !== undefined && this.indexed.some((e) => equalsBytes(e.address, address) && equalsBytes(e.topic0, topic0))) {
          const value = new Uint8Array(44);
          value.set(num, 0);
          value.set(hash, 8);
          new DataView(value.buffer).setUint32(40, logIndex);
          ops.push({ type: 'put', key: key(Prefix.eventIndex, address, topic0, topic1), value });
        }
        logIndex++;
      }
    }
    return ops;
  }

  /**
   * The logs blooms of canonical blocks `from`..`to`, in pages of up to BLOOM_PAGE, each read by
   * one LevelDB call: one await per entry cost more than the bloom tests on a long range.
   */
  async *blooms(from: bigint, to: bigint): AsyncGenerator<{ number: bigint; bloom: Uint8Array }[]> {
    const it = this.kv.iterator({ gte: key(Prefix.bloom, be64(from)), lte: key(Prefix.bloom, be64(to)) });
    try {
      for (;;) {
        const entries = await it.nextv(BLOOM_PAGE);
        if (entries.length === 0) return;
        yield entries.map(([k, v]) => ({ number: readBe64(k, 1), bloom: v }));
      }
    } finally {
      await it.close();
    }
  }

  private remember(block: Block): void {
    bounded(this.blockCache, bytesToHex(block.hash()), block);
  }
}

/** Insertion-ordered cache of the most recent CACHE_BLOCKS entries (recent blocks are the hot ones). */
function bounded<V>(cache: Map<string, V>, k: string, v: V): void {
  cache.set(k, v);
  if (cache.size > CACHE_BLOCKS) {
    const oldest = cache.keys().next().value;
    if (oldest !== undefined) cache.delete(oldest);
  }
}
