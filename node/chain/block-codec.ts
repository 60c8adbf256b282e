import { Block, createBlockHeaderFromBytesArray } from '@ethereumjs/block';
import type { Common } from '@ethereumjs/common';
import { RLP } from '@ethereumjs/rlp';
import { bytesToBigInt } from '@ethereumjs/util';
import { createTxFromBlockBodyData } from '@ethereumjs/tx';
import type { TypedTransaction } from '@ethereumjs/tx';
import { nativeKeccak256 } from './crypto.ts';
import { DEPOSIT_TX_TYPE, decodeDepositTx } from './deposit-tx.ts';
import { CodedError } from '../../precompiles/errors.ts';

export class BlockDecodeError extends CodedError {
  override name = 'BlockDecodeError';
}

/**
 * Decodes an L2 block's RLP. ethereumjs's block decoder refuses transaction types it does not
 * know, and L2 blocks carry deposits (type 0x7E), so the body is decoded here, one transaction
 * at a time; the header and every other transaction still go through ethereumjs.
 */
export function decodeBlock(bytes: Uint8Array, common: Common): Block {
  let values: unknown;
  try {
    values = RLP.decode(bytes);
  } catch (err) {
    throw new BlockDecodeError(`block is not valid RLP: ${(err as Error).message}`);
  }
  return blockFromValues(values, common);
}

/** A block from its RLP-decoded values (`RLP.decode(blockRlp)`), as decodeBlock checks them. */
export function blockFromValues(values: unknown, common: Common): Block {
  if (!Array.isArray(values) || values.length < 3 || values.length > 4) throw new BlockDecodeError('block must be an RLP list of 3 or 4 items');
  const [headerValues, txValues, uncles, withdrawals] = values as [Uint8Array[], (Uint8Array | Uint8Array[])[], unknown[], unknown[] | undefined];
  if (!Array.isArray(txValues) || !Array.isArray(uncles) || uncles.length > 0) throw new BlockDecodeError('block body is malformed (L2 blocks have no uncles)');
  if (withdrawals !== undefined && (!Array.isArray(withdrawals) || withdrawals.length > 0)) throw new BlockDecodeError('L2 blocks carry no withdrawals');
  try {
    const header = createBlockHeaderFromBytesArray(headerValues, { common, setHardfork: false });
    const txs: TypedTransaction[] = txValues.map((t) =>
      t instanceof Uint8Array && t[0] === DEPOSIT_TX_TYPE ? decodeDepositTx(t).asTyped() : createTxFromBlockBodyData(t, { common }),
    );
    return new Block(header, txs, [], withdrawals === undefined ? undefined : [], { common, setHardfork: false });
  } catch (err) {
    if (err instanceof BlockDecodeError) throw err;
    throw new BlockDecodeError(`invalid block: ${(err as Error).message}`);
  }
}

/** What a log needs of its block: number, hash, time and its transactions' hashes. */
export interface LogBlock {
  number: bigint;
  hash: Uint8Array;
  timestamp: bigint;
  txHash(index: number): Uint8Array;
}

/**
 * A stored block read for its logs only: the header's number and time, and each transaction's
 * hash from its own bytes (a typed one, deposits included, is hashed as it stands; a legacy one as
 * its RLP list), without building the header and transaction objects decodeBlock builds, which
 * cost several times more on a long eth_getLogs scan. `hash` is the block's, known to the caller.
 */
export function decodeLogBlock(bytes: Uint8Array, hash: Uint8Array): LogBlock {
  const values = RLP.decode(bytes) as unknown;
  if (!Array.isArray(values) || !Array.isArray(values[0]) || !Array.isArray(values[1])) throw new BlockDecodeError('block must be an RLP list of header and body');
  const header = values[0] as Uint8Array[];
  const txs = values[1] as (Uint8Array | Uint8Array[])[];
  const hashes: (Uint8Array | undefined)[] = [];
  return {
    number: bytesToBigInt(header[8]!),
    hash,
    timestamp: bytesToBigInt(header[11]!),
    txHash: (i) => {
      const t = txs[i];
      if (t === undefined) throw new BlockDecodeError(`block has no transaction ${i}`);
      hashes[i] ??= nativeKeccak256(t instanceof Uint8Array ? t : RLP.encode(t));
      return hashes[i];
    },
  };
}

/** The same from a decoded block (one the store has cached). */
export function logBlockOf(block: Block): LogBlock {
  return { number: block.header.number, hash: block.hash(), timestamp: block.header.timestamp, txHash: (i) => block.transactions[i]!.hash() };
}
