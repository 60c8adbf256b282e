import { verifyMerkleProof } from '@ethereumjs/mpt';
import { RLP } from '@ethereumjs/rlp';
import { bytesToHex, hexToBytes, keccak256 } from 'viem';
import type { Hex } from 'viem';

/** keccak256 of the empty string: the code hash of an account without code. */
export const EMPTY_CODE_HASH: Hex = '0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470';
/** Root of an empty trie: the storage root of an account without storage. */
export const EMPTY_TRIE_ROOT: Hex = '0x56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421';

/** A leaf's value (or null for a proof of absence), checked against `root` without trusting the node. */
export async function verifyProof(root: Hex, key: Hex, proof: readonly Hex[]): Promise<Uint8Array | null> {
  // The secure trie keys are keccak256(key); hashing here keeps the verification independent of the node.
  return verifyMerkleProof(
    hexToBytes(keccak256(key)),
    proof.map((p) => hexToBytes(p)),
    { root: hexToBytes(root) },
  );
}

export interface DecodedAccount {
  nonce: bigint;
  balance: bigint;
  storageHash: Hex;
  codeHash: Hex;
}

/** The account RLP [nonce, balance, storageRoot, codeHash] of the state trie. */
export function decodeAccount(rlp: Uint8Array): DecodedAccount {
  const [nonce, balance, storageRoot, codeHash] = RLP.decode(rlp) as Uint8Array[];
  const big = (b: Uint8Array) => (b.length === 0 ? 0n : BigInt(bytesToHex(b)));
  return { nonce: big(nonce!), balance: big(balance!), storageHash: bytesToHex(storageRoot!), codeHash: bytesToHex(codeHash!) };
}

/** A storage leaf holds the RLP of the value with leading zeros stripped. */
export function decodeStorageValue(rlp: Uint8Array): bigint {
  const v = RLP.decode(rlp) as Uint8Array;
  return v.length === 0 ? 0n : BigInt(bytesToHex(v));
}
