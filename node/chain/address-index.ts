/**
 * The address index Otterscan's `ots_` methods need (and the explorer's address pages): for each
 * address, the transactions whose calls touched it (sender, recipient, every call frame's caller,
 * callee and code address, every contract created), who created each contract, and each sender's
 * transaction by nonce. Written in the block's own batch (store.ts commitBlock), so it is exactly
 * as durable as the block; read by ordered key scans, never a scan of the chain.
 *
 * The touched addresses come from the EVM's message events while the block executes (the
 * producer's build and a replica's import both run the BlockAssembler, which records them); a
 * rewound block's entries stay on disk and are told apart by checking each hit against the
 * canonical transaction index.
 */
import type { EVMInterface, Message } from '@ethereumjs/evm';
import { type Address, bytesToHex, hexToBytes } from '@ethereumjs/util';
import { Prefix, be64, key, readBe64 } from '../db/keys.ts';
import { type KV, kvGet } from '../db/kv.ts';

/** What one transaction's execution touched. Addresses as lowercase hex. */
export interface TxActivity {
  addresses: Set<string>;
  /** Contracts created, each with the address that created it (the sender, or a factory contract). */
  created: { address: string; creator: string }[];
}

/** Records a transaction's activity from the EVM's message events (attach for the block, take per transaction). */
export class ActivityRecorder {
  private current: TxActivity = { addresses: new Set(), created: [] };
  private readonly callers: string[] = [];
  private readonly before = (m: Message) => {
    const caller = m.caller.toString();
    this.current.addresses.add(caller);
    if (m.to !== undefined) this.current.addresses.add(m.to.toString());
    if (m._codeAddress !== undefined) this.current.addresses.add(m._codeAddress.toString());
    this.callers.push(caller);
  };
  private readonly after = () => {
    this.callers.pop();
  };
  private readonly created = (e: { address: Address }) => {
    const address = e.address.toString();
    this.current.addresses.add(address);
    this.current.created.push({ address, creator: this.callers.at(-1) ?? address });
  };

  attach(evm: EVMInterface): void {
    evm.events?.on('beforeMessage', this.before);
    evm.events?.on('afterMessage', this.after);
    evm.events?.on('newContract', this.created);
  }

  detach(evm: EVMInterface): void {
    evm.events?.off('beforeMessage', this.before);
    evm.events?.off('afterMessage', this.after);
    evm.events?.off('newContract', this.created);
  }

  /** Starts a transaction's record afresh (what a refused transaction left is dropped). */
  reset(): void {
    this.current = { addresses: new Set(), created: [] };
    this.callers.length = 0;
  }

  /** The finished transaction's record, with its sender and recipient, which a deposit may not message. */
  take(sender: Address, to: Address | undefined): TxActivity {
    const done = this.current;
    done.addresses.add(sender.toString());
    if (to !== undefined) done.addresses.add(to.toString());
    this.reset();
    return done;
  }
}

/** Where an index hit points: a transaction at (number, index), by hash. */
export interface IndexedTx {
  number: bigint;
  index: number;
  hash: Uint8Array;
}

/** The index writes of one block, in its batch. */
export function addressIndexOps(
  number: bigint,
  txs: readonly { hash: Uint8Array; sender: Address; nonce?: bigint; activity?: TxActivity }[],
): { type: 'put'; key: Uint8Array; value: Uint8Array }[] {
  const ops: { type: 'put'; key: Uint8Array; value: Uint8Array }[] = [];
  const num = be64(number);
  txs.forEach((t, i) => {
    const at = new Uint8Array(4);
    new DataView(at.buffer).setUint32(0, i);
    for (const a of t.activity?.addresses ?? [t.sender.toString()]) ops.push({ type: 'put', key: key(Prefix.addressTx, hexToBytes(a as `0x${string}`), num, at), value: t.hash });
    for (const c of t.activity?.created ?? []) {
      ops.push({ type: 'put', key: key(Prefix.contractCreator, hexToBytes(c.address as `0x${string}`)), value: concat(t.hash, hexToBytes(c.creator as `0x${string}`)) });
    }
    if (t.nonce !== undefined) ops.push({ type: 'put', key: key(Prefix.senderNonce, t.sender.bytes, be64(t.nonce)), value: t.hash });
  });
  return ops;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** Decodes an addressTx key's (number, index) and its value. */
export function readIndexedTx(k: Uint8Array, v: Uint8Array): IndexedTx {
  return { number: readBe64(k, 21), index: new DataView(k.buffer, k.byteOffset).getUint32(29), hash: v };
}

/** Key bounds of `address`'s entries in blocks [from, to]. */
export function addressRange(address: Uint8Array, from: bigint, to: bigint): { gte: Uint8Array; lte: Uint8Array } {
  return { gte: key(Prefix.addressTx, address, be64(from), new Uint8Array(4)), lte: key(Prefix.addressTx, address, be64(to), new Uint8Array(4).fill(0xff)) };
}

/** Reads the index, answering only what the canonical chain holds. */
export class AddressIndex {
  constructor(
    private readonly kv: KV,
    private readonly isCanonical: (hash: Uint8Array, number?: bigint, index?: number) => Promise<boolean>,
  ) {}

  /** `address`'s transactions in blocks [from, to], newest first (or oldest first with `ascending`). */
  async *transactions(address: Uint8Array, from: bigint, to: bigint, ascending = false): AsyncGenerator<IndexedTx> {
    if (from > to) return;
    const it = this.kv.iterator({ ...addressRange(address, from, to), reverse: !ascending });
    try {
      for await (const [k, v] of it) {
        const t = readIndexedTx(k, v);
        if (await this.isCanonical(t.hash, t.number, t.index)) yield t;
      }
    } finally {
      await it.close();
    }
  }

  async creator(address: Uint8Array): Promise<{ hash: string; creator: string } | undefined> {
    const raw = await kvGet(this.kv, key(Prefix.contractCreator, address));
    if (raw === undefined || !(await this.isCanonical(raw.slice(0, 32)))) return undefined;
    return { hash: bytesToHex(raw.slice(0, 32)), creator: bytesToHex(raw.slice(32)) };
  }

  async bySenderAndNonce(sender: Uint8Array, nonce: bigint): Promise<string | undefined> {
    const raw = await kvGet(this.kv, key(Prefix.senderNonce, sender, be64(nonce)));
    return raw !== undefined && (await this.isCanonical(raw)) ? bytesToHex(raw) : undefined;
  }
}
