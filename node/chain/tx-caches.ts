import { AccessList2930Tx, Blob4844Tx, EOACode7702Tx, FeeMarket1559Tx, LegacyTx } from '@ethereumjs/tx';
import { Address } from '@ethereumjs/util';
import { keccak_256 } from '@noble/hashes/sha3.js';

/**
 * What ethereumjs recomputes on every call for a frozen transaction (whose fields cannot change,
 * so its hash is already cached the same way), kept in the transaction's own `cache`:
 *  - its sender's address: ethereumjs caches the recovered public key but hashes it into an
 *    address again on every getSenderAddress() (with noble's JS keccak, ignoring the Common's
 *    crypto): the pool, runTx, the block assembler and the store each ask. Trusted only while the
 *    key it came from is the one cached (an unfrozen transaction caches neither);
 *  - its encoding: serialize() RLP-encodes the fields again each time (~50 us), and sealing a block
 *    (transactions root), storing it and serving it each ask. Callers only read the bytes.
 */

interface TxCache {
  senderPubKey?: Uint8Array;
  senderAddress?: { key: Uint8Array; address: Address };
  serialized?: Uint8Array;
}

interface TxLike {
  cache: TxCache;
  common: { customCrypto: { keccak256?: (data: Uint8Array) => Uint8Array } };
  getSenderPublicKey(): Uint8Array;
}

const MARK = Symbol.for('ai-rollup.tx-caches');

function cachedSenderAddress(this: TxLike): Address {
  const key = this.getSenderPublicKey();
  const hit = this.cache.senderAddress;
  if (hit !== undefined && hit.key === key) return hit.address;
  const hash = (this.common.customCrypto.keccak256 ?? keccak_256)(key);
  const address = new Address(hash.slice(12));
  if (this.cache.senderPubKey === key) this.cache.senderAddress = { key, address };
  return address;
}

function cachedSerialize(serialize: (this: TxLike) => Uint8Array) {
  return function (this: TxLike): Uint8Array {
    const hit = this.cache.serialized;
    if (hit !== undefined) return hit;
    const bytes = serialize.call(this);
    if (Object.isFrozen(this)) this.cache.serialized = bytes;
    return bytes;
  };
}

for (const cls of [LegacyTx, AccessList2930Tx, FeeMarket1559Tx, Blob4844Tx, EOACode7702Tx]) {
  const proto = cls.prototype as unknown as Record<PropertyKey, unknown>;
  if (proto[MARK] === true) continue;
  proto.getSenderAddress = cachedSenderAddress;
  proto.serialize = cachedSerialize(proto.serialize as (this: TxLike) => Uint8Array);
  proto[MARK] = true;
}
