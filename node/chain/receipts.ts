import { RLP } from '@ethereumjs/rlp';
import { bigIntToUnpaddedBytes, bytesToBigInt } from '@ethereumjs/util';
import type { TxReceipt } from '@ethereumjs/vm';

/** A log as Ethereum encodes it: [address, topics, data]. */
export type RawLog = [Uint8Array, Uint8Array[], Uint8Array];

/** What the node keeps per transaction; gasUsed, bloom and addresses are derived on read. */
export interface StoredReceipt {
  status: 0 | 1;
  cumulativeGasUsed: bigint;
  logs: RawLog[];
  /** Deposits only: the sender's nonce before the deposit (OP Stack's receipt field). */
  depositNonce?: bigint;
}

export function fromVmReceipt(r: TxReceipt): StoredReceipt {
  const status = 'status' in r ? r.status : 1;
  return { status, cumulativeGasUsed: r.cumulativeBlockGasUsed, logs: r.logs as RawLog[] };
}

export function encodeReceipts(receipts: StoredReceipt[]): Uint8Array {
  return RLP.encode(
    receipts.map((r) => [
      r.status === 1 ? Uint8Array.of(1) : new Uint8Array(),
      bigIntToUnpaddedBytes(r.cumulativeGasUsed),
      r.logs,
      ...(r.depositNonce === undefined ? [] : [bigIntToUnpaddedBytes(r.depositNonce)]),
    ]),
  );
}

export function decodeReceipts(bytes: Uint8Array): StoredReceipt[] {
  const list = RLP.decode(bytes) as unknown as [Uint8Array, Uint8Array, RawLog[], Uint8Array?][];
  return list.map(([status, cum, logs, depositNonce]) => ({
    status: status.length > 0 && status[0] === 1 ? 1 : 0,
    cumulativeGasUsed: bytesToBigInt(cum),
    logs,
    ...(depositNonce === undefined ? {} : { depositNonce: bytesToBigInt(depositNonce) }),
  }));
}
