import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import type { CustomCrypto } from '@ethereumjs/common';
import { calculateSigRecovery, concatBytes, setLengthLeft } from '@ethereumjs/util';
import { keccak_256 } from '@noble/hashes/sha3.js';
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

/** The `keccak` addon's sponge (absorb/squeeze over the Keccak team's reference C). */
interface KeccakState {
  initialize(rate: number, capacity: number): void;
  absorb(data: Buffer): void;
  squeeze(bytes: number): Buffer;
}

/**
 * The npm `keccak` package's native sponge, loaded the way the package loads it (node-gyp-build
 * from its own directory, prebuilt for linux-x64), or undefined where no binary loads. Its public
 * API wraps every hash in a Node stream (Transform), which cost more than the hashing: the bare
 * sponge, reused, takes ~3 us for a 32-byte input against ~8 us through the stream.
 */
function loadSponge(): KeccakState | undefined {
  try {
    const pkg = createRequire(import.meta.url).resolve('keccak/package.json');
    const load = createRequire(pkg)('node-gyp-build') as (dir: string) => unknown;
    const Ctor = load(dirname(pkg));
    return typeof Ctor === 'function' ? new (Ctor as new () => KeccakState)() : undefined;
  } catch {
    return undefined;
  }
}

const sponge = loadSponge();
/** False where the addon did not load (hashing then runs in JS, ~3x slower). */
export const keccakIsNative = sponge !== undefined;

/**
 * Keccak-256 through the `keccak` addon's sponge (noble's JS keccak where the addon does not
 * load). Trie hashing was a fifth of re-executing a block with noble's keccak; the addon is ~3x
 * faster on a 32-byte input and ~6x on a 532-byte branch node. One sponge serves every call: the
 * function is synchronous, so calls never interleave.
 */
export function nativeKeccak256(data: Uint8Array): Uint8Array {
  if (sponge === undefined) return keccak_256(data);
  sponge.initialize(1088, 512);
  sponge.absorb(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  // a plain Uint8Array, not a Buffer view into a shared pool
  return new Uint8Array(sponge.squeeze(32));
}

/** The node's Common crypto: the VM, the state trie, blocks and transactions all hash and recover through it. */
export const nodeCrypto: CustomCrypto = { ecrecover: nativeEcrecover, keccak256: nativeKeccak256 };
