/**
 * Batch data, the calldata `data` of Rollup.submitBatch (contracts/interfaces/IRollup.sol):
 *
 *   data = 0x00 || brotli(RLP([blockRlp_first, ..., blockRlp_last]))
 *
 * Each list item is an RLP byte string holding one L2 block's full RLP (`block.serialize()`), so
 * the decoder hands back the exact bytes whose keccak is the block hash without re-encoding, and
 * can do so for blocks whose transactions ethereumjs cannot parse (the 0x7E deposit type).
 * The header commits to keccak256(data); batchHash = keccak256(abi.encode(BatchHeader)).
 */
import { promisify } from 'node:util';
import { brotliCompress, brotliDecompress, constants as zlib } from 'node:zlib';
import type { Block } from '@ethereumjs/block';
import type { Common } from '@ethereumjs/common';
import { RLP } from '@ethereumjs/rlp';
import { encodeAbiParameters, keccak256 } from 'viem';
import type { Hex } from 'viem';
import { decodeBlock } from '../chain/block-codec.ts';
import { CodedError } from '../../precompiles/errors.ts';

export const BATCH_VERSION = 0x00;

/**
 * Most bytes a batch may decompress to: a protocol constant shared by the batcher (it never
 * builds a larger batch) and every decoder (so a batch that compresses 1000:1 cannot exhaust a
 * replica's memory). 16 MiB holds two worst-case 30M-gas blocks of zero calldata.
 */
export const MAX_BATCH_RAW_BYTES = 16 * 1024 * 1024;

/**
 * Brotli quality of posted batches. Measured by `npm run bench:l1` on 1,000 ERC-20 transfers
 * (192 KB of RLP, 2 cores): quality 11 gives 82.1 KB in ~680 ms, 10: +0.4% in 200 ms, 9: +2.1%
 * in 33 ms, 5: +2.3% in 7 ms. L1 calldata is the rollup's main cost and compression runs on the
 * libuv pool once per batch, so the posted batch gets 11; FIT_QUALITY sizes batches cheaply.
 */
export const BROTLI_QUALITY = 11;
/** Quality for finding how many blocks fit: quality 11 output is never meaningfully larger. */
export const FIT_QUALITY = 5;
/** A 4 MiB window: a 16 MiB one gave the same bytes on every measured batch. */
const BROTLI_LGWIN = 22;

const compress = promisify(brotliCompress);
const decompress = promisify(brotliDecompress);

export const BatchCodecErrorCode = {
  Empty: 'EMPTY',
  BadVersion: 'BAD_VERSION',
  Brotli: 'BROTLI',
  TooLarge: 'TOO_LARGE',
  Rlp: 'RLP',
  Block: 'BLOCK',
} as const;
export type BatchCodecErrorCode = (typeof BatchCodecErrorCode)[keyof typeof BatchCodecErrorCode];

export class BatchCodecError extends CodedError {
  constructor(
    override readonly code: BatchCodecErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'BatchCodecError';
  }
}

/** RLP of the list of block RLPs: the payload before compression. */
export function encodeBatchPayload(blockRlps: Uint8Array[]): Uint8Array {
  return RLP.encode(blockRlps);
}

/** Batch data from already-serialized blocks. */
export async function encodeBatchData(blockRlps: Uint8Array[], quality = BROTLI_QUALITY): Promise<Uint8Array> {
  if (blockRlps.length === 0) throw new BatchCodecError(BatchCodecErrorCode.Empty, 'a batch holds at least one block');
  const payload = encodeBatchPayload(blockRlps);
  if (payload.length > MAX_BATCH_RAW_BYTES) {
    throw new BatchCodecError(BatchCodecErrorCode.TooLarge, `batch payload is ${payload.length} bytes, over the ${MAX_BATCH_RAW_BYTES} limit`);
  }
  const compressed = await compress(payload, {
    params: {
      [zlib.BROTLI_PARAM_QUALITY]: quality,
      [zlib.BROTLI_PARAM_LGWIN]: BROTLI_LGWIN,
      [zlib.BROTLI_PARAM_SIZE_HINT]: payload.length,
    },
  });
  const out = new Uint8Array(compressed.length + 1);
  out[0] = BATCH_VERSION;
  out.set(compressed, 1);
  return out;
}

/** Batch data of a list of blocks (serialized with `block.serialize()`). */
export function encodeBatch(blocks: Block[], quality = BROTLI_QUALITY): Promise<Uint8Array> {
  return encodeBatchData(
    blocks.map((b) => b.serialize()),
    quality,
  );
}

/**
 * The block RLPs of batch data, byte for byte as posted. Only the envelope is checked here
 * (version, brotli, size cap, a list of byte strings, each one RLP item); parsing blocks is
 * decodeBatchBlocks's job, so this keeps working whatever transaction types the blocks carry.
 */
export async function decodeBatchData(data: Uint8Array, maxRawBytes = MAX_BATCH_RAW_BYTES): Promise<Uint8Array[]> {
  if (data.length === 0) throw new BatchCodecError(BatchCodecErrorCode.Empty, 'batch data is empty');
  if (data[0] !== BATCH_VERSION) throw new BatchCodecError(BatchCodecErrorCode.BadVersion, `unknown batch version 0x${data[0]!.toString(16).padStart(2, '0')}`);
  let payload: Uint8Array;
  try {
    payload = await decompress(data.subarray(1), { maxOutputLength: maxRawBytes });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ERR_BUFFER_TOO_LARGE' || e instanceof RangeError) {
      throw new BatchCodecError(BatchCodecErrorCode.TooLarge, `batch decompresses to more than ${maxRawBytes} bytes`);
    }
    throw new BatchCodecError(BatchCodecErrorCode.Brotli, `batch is not valid brotli: ${e.message}`);
  }
  let items: unknown;
  try {
    items = RLP.decode(payload);
  } catch (err) {
    throw new BatchCodecError(BatchCodecErrorCode.Rlp, `batch payload is not RLP: ${(err as Error).message}`);
  }
  if (!Array.isArray(items)) throw new BatchCodecError(BatchCodecErrorCode.Rlp, 'batch payload is not an RLP list');
  if (items.length === 0) throw new BatchCodecError(BatchCodecErrorCode.Empty, 'batch holds no blocks');
  return items.map((item, i) => {
    if (!(item instanceof Uint8Array)) throw new BatchCodecError(BatchCodecErrorCode.Rlp, `batch item ${i} is a list, not a block's bytes`);
    try {
      // each item must be exactly one RLP list (a block), nothing after it
      if (item.length === 0 || item[0]! < 0xc0 || !Array.isArray(RLP.decode(item))) throw new Error('not an RLP list');
    } catch (err) {
      throw new BatchCodecError(BatchCodecErrorCode.Rlp, `batch item ${i} is not one RLP list: ${(err as Error).message}`);
    }
    return item;
  });
}

/** Blocks of batch data, parsed with the node's block decoder (which knows 0x7E deposit transactions). */
export async function decodeBatchBlocks(data: Uint8Array, common: Common, maxRawBytes = MAX_BATCH_RAW_BYTES): Promise<Block[]> {
  const rlps = await decodeBatchData(data, maxRawBytes);
  return rlps.map((rlp, i) => {
    try {
      return decodeBlock(rlp, common);
    } catch (err) {
      throw new BatchCodecError(BatchCodecErrorCode.Block, `batch item ${i} is not a valid block: ${(err as Error).message}`);
    }
  });
}

/** IRollup.BatchHeader, field for field. */
export interface BatchHeader {
  index: bigint;
  prevBatchHash: Hex;
  firstBlock: bigint;
  lastBlock: bigint;
  dataHash: Hex;
  depositCount: bigint;
  depositHash: Hex;
  /** Root of the batch's inference result leaves (node/rollup/result-leaf.ts); zero: none. */
  resultsRoot: Hex;
}

export const BATCH_HEADER_ABI = {
  type: 'tuple',
  components: [
    { name: 'index', type: 'uint64' },
    { name: 'prevBatchHash', type: 'bytes32' },
    { name: 'firstBlock', type: 'uint64' },
    { name: 'lastBlock', type: 'uint64' },
    { name: 'dataHash', type: 'bytes32' },
    { name: 'depositCount', type: 'uint64' },
    { name: 'depositHash', type: 'bytes32' },
    { name: 'resultsRoot', type: 'bytes32' },
  ],
} as const;

/** keccak256 of the batch data, as the Rollup checks it. */
export function batchDataHash(data: Uint8Array): Hex {
  return keccak256(data);
}

/** keccak256(abi.encode(header)): the value the Rollup chains batches with. */
export function batchHash(header: BatchHeader): Hex {
  return keccak256(encodeAbiParameters([BATCH_HEADER_ABI], [header]));
}
