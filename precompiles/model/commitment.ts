/**
 * Model id: keccak256 of the canonical serialization (codec.ts). Because the encoding is
 * canonical and covers the input shape, every layer's geometry, every weight, bias, shift and
 * activation, the id commits to exactly the computation the executor and the circuit perform;
 * metadata (name, version, description) is deliberately left out. The "AIMF" magic and format
 * version at the head of the bytes act as a domain separator from other keccak256 preimages.
 */
import { keccak_256 } from '@noble/hashes/sha3.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { serializeModel } from './codec.ts';
import type { Model } from './format.ts';

export type Hex = `0x${string}`;

/** keccak256 of arbitrary bytes as 0x-hex (lowercase, 32 bytes). */
export function keccakHex(bytes: Uint8Array): Hex {
  return `0x${bytesToHex(keccak_256(bytes))}`;
}

/** The model id. Throws ModelFormatError for an invalid model: it has no id. */
export function modelId(model: Model): Hex {
  return keccakHex(serializeModel(model));
}
