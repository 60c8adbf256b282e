/** One-byte prefixes of every record kind in the node's LevelDB. */
export const Prefix = {
  trieNode: 0x73, // 's' + node hash or code key -> trie node / contract code
  canonical: 0x68, // 'h' + be64(number) -> block hash
  block: 0x62, // 'b' + hash -> block RLP
  senders: 0x66, // 'f' + hash -> concatenated 20-byte senders of the block's txs
  receipts: 0x72, // 'r' + hash -> RLP list of encoded receipts
  txIndex: 0x74, // 't' + tx hash -> block hash ++ be32(index)
  bloom: 0x6c, // 'l' + be64(number) -> 256-byte logs bloom
  meta: 0x6d, // 'm' + name -> small metadata (head, chain id, ...)
  /** Derivation's L1 traversal: 'd' + be64(L1 number) -> L1 hash ++ be64(safe L2 number) ++ safe L2 hash after that L1 block [++ be64(invalidFrom)]; pruned below L1's finalized block. */
  derivedL1: 0x64,
  /** Derivation's cursor: 'c' + 'derivation' -> be64(last L1 block processed); its record (derivedL1) holds the rest. */
  derivationHead: 0x63,
  /** Indexed events (ChainOptions.indexedEvents): 'e' + address + topic0 + topic1 -> be64(number) ++ block hash ++ be32(log index in block); the newest write wins. */
  eventIndex: 0x65,
  /** Address index (node/chain/address-index.ts): 'a' + address + be64(number) + be32(tx index) -> tx hash, per address a transaction touched. */
  addressTx: 0x61,
  /** 'k' + contract address -> hash of the transaction that created it ++ its creator's address; the newest write wins. */
  contractCreator: 0x6b,
  /** 'n' + sender + be64(nonce) -> tx hash. */
  senderNonce: 0x6e,
} as const;

export function be64(n: bigint | number): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(n));
  return out;
}

export function readBe64(bytes: Uint8Array, offset = 0): bigint {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(offset);
}

export function key(prefix: number, ...parts: Uint8Array[]): Uint8Array {
  let len = 1;
  for (const p of parts) len += p.length;
  const out = new Uint8Array(len);
  out[0] = prefix;
  let off = 1;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

export const metaKey = (name: string): Uint8Array => key(Prefix.meta, new TextEncoder().encode(name));
