/**
 * ModelRegistry storage words for a model, laid out as the registry writes them
 * (precompiles/registry-layout.ts): for a genesis allocation or an eth_call stateDiff, so a test
 * can hold a model with published weights without going through the registration transactions.
 */
import { bytesToBigInt } from '@ethereumjs/util';
import { keccak_256 } from '@noble/hashes/sha3.js';
import type { Hex } from 'viem';
import { bytesToHex, hexToBytes, padHex, toHex } from 'viem';
import { PACKED_OFFSET, recordSlot, weightsSlot } from '../../precompiles/registry-layout.ts';

const word = (v: bigint): Hex => padHex(toHex(v), { size: 32 });

/** Solidity `bytes` in storage: a long value's length word at `slot`, its data from keccak256(slot). */
export function bytesStorage(slot: bigint, data: Uint8Array): Record<Hex, Hex> {
  const out: Record<Hex, Hex> = {};
  if (data.length < 32) {
    const w = new Uint8Array(32);
    w.set(data);
    w[31] = data.length * 2;
    out[word(slot)] = bytesToHex(w);
    return out;
  }
  out[word(slot)] = word(BigInt(data.length) * 2n + 1n);
  const base = bytesToBigInt(keccak_256(hexToBytes(word(slot))));
  for (let i = 0; i * 32 < data.length; i++) {
    const chunk = new Uint8Array(32);
    chunk.set(data.subarray(i * 32, i * 32 + 32));
    out[word(base + BigInt(i))] = bytesToHex(chunk);
  }
  return out;
}

/** The record word of a registered model version 1 with published weights. */
export function recordWord(owner: Hex, opts: { hasWeights?: boolean; deprecated?: boolean } = {}): Hex {
  let v = BigInt(owner);
  v |= 1n << BigInt(8 * PACKED_OFFSET.version);
  if (opts.deprecated === true) v |= 1n << BigInt(8 * PACKED_OFFSET.deprecated);
  if (opts.hasWeights !== false) v |= 1n << BigInt(8 * PACKED_OFFSET.hasWeights);
  return word(v);
}

/** Storage of a model registered by `owner` with `weights` published under id = keccak256(weights). */
export function modelStorage(owner: Hex, weights: Uint8Array): { id: Hex; storage: Record<Hex, Hex> } {
  const id = bytesToHex(keccak_256(weights));
  const idBytes = keccak_256(weights);
  return { id, storage: { [word(recordSlot(idBytes))]: recordWord(owner), ...bytesStorage(weightsSlot(idBytes), weights) } };
}
