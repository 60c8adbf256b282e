import type { CustomCrypto } from '@ethereumjs/common';
import { calculateSigRecovery, concatBytes, setLengthLeft } from '@ethereumjs/util';
import createKeccakHash from 'keccak';
import native from 'secp256k1';

/**
 * Sender recovery dominates transaction admission; libsecp256k1 (the npm `secp256k1` addon,
 * prebuilt for linux-x64) recovers a key ~25x faster than the pure-JS curve the VM uses by default.
 */
export function nativeEcrecover(msgHash: Uint8Array, v: bigint, r: Uint8Array, s: Uint8Array, chainId?: bigint): Uint8Array {
  const recovery = calculateSigRecovery(v, chainId);
  if (recovery !== 0n && recovery !== 1n) throw new Error('Invalid signature v value');
  const sig = concatBytes(setLengthLeft(r, 32), setLengthLeft(s, 32));
  // The addon throws on an invalid signature, which is what callers expect of ecrecover.
  return native.ecdsaRecover(sig, Number(recovery), msgHash, false).slice(1);
}

/**
 * Keccak-256 through the npm `keccak` addon (the Keccak team's reference C, prebuilt for
 * linux-x64; pure JS where no binary loads). Trie hashing is a fifth of re-executing a block with
 * noble's JS keccak, and the addon is ~3x faster on a 32-byte input and ~6x on a 532-byte branch node.
 */
export function nativeKeccak256(data: Uint8Array): Uint8Array {
  const digest = createKeccakHash('keccak256')
    .update(Buffer.from(data.buffer, data.byteOffset, data.byteLength))
    .digest();
  // a plain Uint8Array, not a Buffer view into a shared pool
  return new Uint8Array(digest);
}

/** The node's Common crypto: the VM, the state trie, blocks and transactions all hash and recover through it. */
export const nodeCrypto: CustomCrypto = { ecrecover: nativeEcrecover, keccak256: nativeKeccak256 };
