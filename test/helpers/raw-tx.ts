import { concatHex, fromRlp, keccak256, toHex, toRlp } from 'viem';
import type { Hex } from 'viem';
import { sign } from 'viem/accounts';
import type { Key } from './txs.ts';

/** secp256k1 group order. */
export const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

/** RLP integer: minimal big-endian bytes, zero is the empty string. */
const int = (n: bigint): Hex => {
  const h = n.toString(16);
  return n === 0n ? '0x' : `0x${h.length % 2 === 1 ? `0${h}` : h}`;
};

export interface Fields1559 {
  chainId: bigint;
  nonce: bigint;
  maxPriorityFeePerGas: bigint;
  maxFeePerGas: bigint;
  gas: bigint;
  to: Hex;
  value: bigint;
  data?: Hex;
}

export interface Signature {
  yParity: bigint;
  r: bigint;
  s: bigint;
}

/**
 * Builds and signs a type-2 transaction by hand, so that fields viem refuses to serialize
 * (tip above fee cap) and tampered signatures can be sent to the node.
 */
export async function signed1559(key: Key, f: Fields1559, tamper?: (sig: Signature) => Signature): Promise<Hex> {
  const body: Hex[] = [int(f.chainId), int(f.nonce), int(f.maxPriorityFeePerGas), int(f.maxFeePerGas), int(f.gas), f.to, int(f.value), f.data ?? '0x'];
  const payload = [...body, [] as Hex[]];
  const hash = keccak256(concatHex(['0x02', toRlp(payload)]));
  const sig = await sign({ hash, privateKey: key });
  let s: Signature = { yParity: BigInt(sig.yParity ?? 0), r: BigInt(sig.r), s: BigInt(sig.s) };
  if (tamper !== undefined) s = tamper(s);
  return concatHex(['0x02', toRlp([...payload, int(s.yParity), int(s.r), int(s.s)])]);
}

/** Flips the lowest byte of r in a serialized type-2 transaction, keeping everything else. */
export function flipR(raw: Hex): Hex {
  if (!raw.startsWith('0x02')) throw new Error('not a type-2 transaction');
  const fields = fromRlp(`0x${raw.slice(4)}`, 'hex') as (Hex | Hex[])[];
  const r = BigInt(fields[10] as Hex) ^ 0xffn;
  fields[10] = toHex(r, { size: 32 });
  return concatHex(['0x02', toRlp(fields as Hex[])]);
}

export const txHash = (raw: Hex): Hex => keccak256(raw);
