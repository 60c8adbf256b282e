import { AccessList2930Tx, Blob4844Tx, EOACode7702Tx, FeeMarket1559Tx, LegacyTx } from '@ethereumjs/tx';
import { Address } from '@ethereumjs/util';
import { keccak_256 } from '@noble/hashes/sha3.js';

/**
 * ethereumjs caches a frozen transaction's recovered public key but hashes it into an address
 * again on every getSenderAddress() (with noble's JS keccak, ignoring the Common's crypto): the
 * pool, runTx, the block assembler and the store each ask, ~4 hashes per transaction. The
 * address is now kept beside the key in the transaction's own cache, and trusted only while
 * that key is the one cached (an unfrozen transaction caches neither).
 */

interface SenderCache {
  senderPubKey?: Uint8Array;
  senderAddress?: { key: Uint8Array; address: Address };
}

interface TxLike {
  cache: SenderCache;
  common: { customCrypto: { keccak256?: (data: Uint8Array) => Uint8Array } };
  getSenderPublicKey(): Uint8Array;
}

const MARK = Symbol.for('ai-rollup.tx-sender-cache');

function cachedSenderAddress(this: TxLike): Address {
  const key = this.getSenderPublicKey();
  const hit = this.cache.senderAddress;
  if (hit !== undefined && hit.key === key) return hit.address;
  const hash = (this.common.customCrypto.keccak256 ?? keccak_256)(key);
  const address = new Address(hash.slice(12));
  if (this.cache.senderPubKey === key) this.cache.senderAddress = { key, address };
  return address;
}

for (const cls of [LegacyTx, AccessList2930Tx, FeeMarket1559Tx, Blob4844Tx, EOACode7702Tx]) {
  const proto = cls.prototype as unknown as Record<PropertyKey, unknown>;
  if (proto[MARK] === true) continue;
  proto.getSenderAddress = cachedSenderAddress;
  proto[MARK] = true;
}
