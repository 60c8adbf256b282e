/**
 * Native reads of the ModelRegistry predeploy's storage (contracts/l2/ModelRegistry.sol). The
 * layout is a protocol constant, checked against solc's storageLayout by
 * test/unit/registry-layout.test.ts:
 *
 *   slot 0: mapping(bytes32 => Record) records      Record at keccak256(id . 0):
 *     +0: owner (low 20 bytes) | version uint32 | deprecated bool | hasWeights bool | registeredAt uint48
 *     +1: parent  +2: latest  +3: metadataURI (string)  +4: verifyingKey (bytes)
 *   slot 1: mapping(bytes32 => bytes) encodings     value at keccak256(id . 1)
 *   slot 2: bytes32[] ids
 *   slot 3: mapping(bytes32 => uint256) revealFrom   first block a registration commitment c may be
 *           revealed in (its block + 1; 0: none), at keccak256(c . 3)
 *
 * Reading a `bytes` value is split in two (header, then body) so that a caller can price the
 * read from the length before paying for it.
 */
import { keccak_256 } from '@noble/hashes/sha3.js';
import { type Address, bigIntToBytes, bytesToBigInt, createAddressFromString, setLengthLeft } from '@ethereumjs/util';

/** The ModelRegistry predeploy (contracts/predeploys.ts MODEL_REGISTRY_ADDRESS). */
export const REGISTRY_ADDRESS_HEX = '0x4200000000000000000000000000000000000a00' as const;
export const REGISTRY_ACCOUNT: Address = createAddressFromString(REGISTRY_ADDRESS_HEX);

export const RECORDS_SLOT = 0n;
export const ENCODINGS_SLOT = 1n;
export const IDS_SLOT = 2n;
/** Read by no precompile; `model register` overrides it to simulate a reveal in the commit's block. */
export const REVEAL_FROM_SLOT = 3n;
/** Word offsets inside a Record. */
export const RECORD_WORD = { packed: 0n, parent: 1n, latest: 2n, metadataURI: 3n, verifyingKey: 4n } as const;
/** Byte offsets (from the right, as solc's storageLayout reports them) inside the packed word. */
export const PACKED_OFFSET = { owner: 0, version: 20, deprecated: 24, hasWeights: 25, registeredAt: 26 } as const;

/** What a precompile needs of the state: ethereumjs's StateManagerInterface.getStorage. */
export interface StorageReader {
  getStorage(address: Address, key: Uint8Array): Promise<Uint8Array>;
  /**
   * True when the state holds writes no transaction made (eth_call state overrides; the node's
   * L2StateManager sets it): nothing derived from it may be cached or trusted by key.
   */
  readonly foreignWrites?: boolean;
}

export interface RegistryRecord {
  /** Lower-case 0x-prefixed address; never the zero address (that means "no model"). */
  owner: string;
  version: number;
  deprecated: boolean;
  hasWeights: boolean;
  registeredAt: bigint;
}

export interface BytesHeader {
  /** Slot holding the length (and, for a short value, the data). */
  slot: bigint;
  length: number;
  /** Short values (< 32 bytes) live in the header slot itself. */
  long: boolean;
  /** The header word, kept so a short value needs no second read. */
  word: Uint8Array;
}

const U256 = (1n << 256n) - 1n;

function slotKey(slot: bigint): Uint8Array {
  return setLengthLeft(bigIntToBytes(slot & U256), 32);
}

function concatKey(id: Uint8Array, slot: bigint): Uint8Array {
  if (id.length !== 32) throw new Error('a mapping key (model id, commitment) is 32 bytes');
  const buf = new Uint8Array(64);
  buf.set(id, 0);
  buf.set(slotKey(slot), 32);
  return buf;
}

/** keccak256(key . slot): where Solidity puts mapping[key]. */
export function mappingSlot(id: Uint8Array, slot: bigint): bigint {
  return bytesToBigInt(keccak_256(concatKey(id, slot)));
}

export function recordSlot(id: Uint8Array): bigint {
  return mappingSlot(id, RECORDS_SLOT);
}

export function verifyingKeySlot(id: Uint8Array): bigint {
  return (recordSlot(id) + RECORD_WORD.verifyingKey) & U256;
}

export function weightsSlot(id: Uint8Array): bigint {
  return mappingSlot(id, ENCODINGS_SLOT);
}

/** Where the registry keeps the first block a registration commitment may be revealed in. */
export function revealFromSlot(commitment: Uint8Array): bigint {
  return mappingSlot(commitment, REVEAL_FROM_SLOT);
}

/** One storage word, always 32 bytes (ethereumjs returns values with leading zeros trimmed). */
export async function readWord(sm: StorageReader, slot: bigint, address: Address = REGISTRY_ACCOUNT): Promise<Uint8Array> {
  const v = await sm.getStorage(address, slotKey(slot));
  return v.length === 32 ? v : setLengthLeft(v, 32);
}

export function decodeRecordWord(word: Uint8Array): RegistryRecord | undefined {
  const v = bytesToBigInt(word);
  const field = (offset: number, bytes: number): bigint => (v >> BigInt(offset * 8)) & ((1n << BigInt(bytes * 8)) - 1n);
  const owner = field(PACKED_OFFSET.owner, 20);
  if (owner === 0n) return undefined;
  return {
    owner: `0x${owner.toString(16).padStart(40, '0')}`,
    version: Number(field(PACKED_OFFSET.version, 4)),
    deprecated: field(PACKED_OFFSET.deprecated, 1) !== 0n,
    hasWeights: field(PACKED_OFFSET.hasWeights, 1) !== 0n,
    registeredAt: field(PACKED_OFFSET.registeredAt, 6),
  };
}

/** The record of a model, or undefined when it is not registered. One storage read. */
export async function readRecord(sm: StorageReader, id: Uint8Array): Promise<RegistryRecord | undefined> {
  return decodeRecordWord(await readWord(sm, recordSlot(id)));
}

/** Solidity `bytes` header: short form `data | len*2`, long form `len*2 + 1`. One read. */
export async function readBytesHeader(sm: StorageReader, slot: bigint): Promise<BytesHeader> {
  const word = await readWord(sm, slot);
  const v = bytesToBigInt(word);
  if ((v & 1n) === 0n) return { slot, length: Number((v & 0xffn) >> 1n), long: false, word };
  // a registry-written length is far below 2^53; clamp a corrupt one so callers price it out
  const len = (v - 1n) >> 1n;
  return { slot, length: len > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(len), long: true, word };
}

/** Storage words a full read of the value takes, header included. */
export function bytesReadWords(h: BytesHeader): number {
  return h.long ? 1 + Math.ceil(h.length / 32) : 1;
}

/** The value's bytes: long data sits in consecutive slots from keccak256(slot). */
export async function readBytesBody(sm: StorageReader, h: BytesHeader): Promise<Uint8Array> {
  if (!h.long) return h.word.slice(0, h.length);
  const out = new Uint8Array(h.length);
  const base = bytesToBigInt(keccak_256(slotKey(h.slot)));
  const words = Math.ceil(h.length / 32);
  // one at a time: the state manager's storage-trie cache is not made for concurrent readers
  for (let i = 0; i < words; i++) {
    const w = await readWord(sm, (base + BigInt(i)) & U256);
    out.set(w.subarray(0, Math.min(32, h.length - i * 32)), i * 32);
  }
  return out;
}

export async function readBytes(sm: StorageReader, slot: bigint): Promise<Uint8Array> {
  return readBytesBody(sm, await readBytesHeader(sm, slot));
}
