import { RLP } from '@ethereumjs/rlp';
import { Capability } from '@ethereumjs/tx';
import type { TypedTransaction } from '@ethereumjs/tx';
import { Address, bigIntToUnpaddedBytes, bytesToBigInt, bytesToHex, concatBytes, equalsBytes } from '@ethereumjs/util';
import { nativeKeccak256 } from './crypto.ts';
import { CodedError } from '../../precompiles/errors.ts';

/** EIP-2718 type of deposit transactions, as on OP Stack (so viem's op-stack formatters read them). */
export const DEPOSIT_TX_TYPE = 0x7e;

export class DepositTxError extends CodedError {
  override readonly code = 'DEPOSIT_TX_ERROR';

  override name = 'DepositTxError';
}

export interface DepositTxData {
  /** Unique per deposit: the Bridge's rolling hash after it, or an L1-info hash for system deposits. */
  sourceHash: Uint8Array;
  from: Address;
  /** undefined for a contract creation */
  to: Address | undefined;
  mint: bigint;
  value: bigint;
  gasLimit: bigint;
  isSystemTx: boolean;
  data: Uint8Array;
}

/**
 * An L1 -> L2 deposit (or the sequencer's L1-info system deposit) as it sits in an L2 block:
 * 0x7E || rlp([sourceHash, from, to, mint, value, gas, isSystemTx, data]), OP Stack's encoding.
 * It carries no signature: its authority is the L1 event (or the protocol) that produced it, and
 * every node derives the same one. It mimics the few parts of ethereumjs's transaction interface
 * that blocks, the block store and the RPC layer use.
 */
export class DepositTx implements DepositTxData {
  readonly type = DEPOSIT_TX_TYPE;
  readonly sourceHash: Uint8Array;
  readonly from: Address;
  readonly to: Address | undefined;
  readonly mint: bigint;
  readonly value: bigint;
  readonly gasLimit: bigint;
  readonly isSystemTx: boolean;
  readonly data: Uint8Array;
  /** Deposits have no nonce of their own; the sender's nonce is bumped on execution. */
  readonly nonce = 0n;
  readonly accessList: [] = [];
  private cachedHash: Uint8Array | undefined;

  constructor(d: DepositTxData) {
    if (d.sourceHash.length !== 32) throw new DepositTxError('deposit sourceHash must be 32 bytes');
    if (d.mint < 0n || d.value < 0n || d.gasLimit < 0n) throw new DepositTxError('deposit quantities must not be negative');
    this.sourceHash = d.sourceHash;
    this.from = d.from;
    this.to = d.to;
    this.mint = d.mint;
    this.value = d.value;
    this.gasLimit = d.gasLimit;
    this.isSystemTx = d.isSystemTx;
    this.data = d.data;
  }

  raw(): (Uint8Array | Uint8Array[])[] {
    return [
      this.sourceHash,
      this.from.bytes,
      this.to?.bytes ?? new Uint8Array(),
      bigIntToUnpaddedBytes(this.mint),
      bigIntToUnpaddedBytes(this.value),
      bigIntToUnpaddedBytes(this.gasLimit),
      this.isSystemTx ? Uint8Array.of(1) : new Uint8Array(),
      this.data,
    ];
  }

  serialize(): Uint8Array {
    return concatBytes(Uint8Array.of(DEPOSIT_TX_TYPE), RLP.encode(this.raw()));
  }

  hash(): Uint8Array {
    this.cachedHash ??= nativeKeccak256(this.serialize());
    return this.cachedHash;
  }

  supports(cap: number): boolean {
    return cap === Capability.EIP2718TypedTransaction;
  }

  getSenderAddress(): Address {
    return this.from;
  }

  isSigned(): boolean {
    return true;
  }

  toJSON(): Record<string, unknown> {
    return {
      sourceHash: bytesToHex(this.sourceHash),
      mint: `0x${this.mint.toString(16)}`,
      isSystemTx: this.isSystemTx,
      v: '0x0',
      r: '0x0',
      s: '0x0',
    };
  }

  /** Blocks hold ethereumjs transactions; a deposit travels among them through this view. */
  asTyped(): TypedTransaction {
    return this as unknown as TypedTransaction;
  }

  equals(other: DepositTx): boolean {
    return equalsBytes(this.serialize(), other.serialize());
  }
}

export function isDepositTx(tx: unknown): tx is DepositTx {
  return tx instanceof DepositTx;
}

function address(b: Uint8Array, field: string): Address {
  if (b.length !== 20) throw new DepositTxError(`deposit ${field} must be 20 bytes`);
  return new Address(b);
}

function quantity(b: Uint8Array, field: string): bigint {
  if (b.length > 32 || (b.length > 0 && b[0] === 0)) throw new DepositTxError(`deposit ${field} is not a canonical quantity`);
  return bytesToBigInt(b);
}

/** Decodes 0x7E || rlp([...]); throws DepositTxError on anything else. */
export function decodeDepositTx(bytes: Uint8Array): DepositTx {
  if (bytes[0] !== DEPOSIT_TX_TYPE) throw new DepositTxError('not a deposit transaction');
  let fields: unknown;
  try {
    fields = RLP.decode(bytes.subarray(1));
  } catch (err) {
    throw new DepositTxError(`deposit transaction is not valid RLP: ${(err as Error).message}`);
  }
  if (!Array.isArray(fields) || fields.length !== 8 || fields.some((f) => !(f instanceof Uint8Array))) {
    throw new DepositTxError('deposit transaction must be a list of 8 byte strings');
  }
  const [sourceHash, from, to, mint, value, gas, isSystem, data] = fields as Uint8Array[];
  if (isSystem!.length > 1 || (isSystem!.length === 1 && isSystem![0] !== 1)) throw new DepositTxError('deposit isSystemTx must be empty or 0x01');
  return new DepositTx({
    sourceHash: sourceHash!,
    from: address(from!, 'from'),
    to: to!.length === 0 ? undefined : address(to!, 'to'),
    mint: quantity(mint!, 'mint'),
    value: quantity(value!, 'value'),
    gasLimit: quantity(gas!, 'gas'),
    isSystemTx: isSystem!.length === 1,
    data: data!,
  });
}
