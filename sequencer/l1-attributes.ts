import { bytesToHex, createAddressFromString, hexToBytes } from '@ethereumjs/util';
import { encodeAbiParameters, encodeFunctionData, keccak256, parseAbi } from 'viem';
import type { Hex } from 'viem';
import { DEPOSITOR_ADDRESS, L1_BLOCK_ADDRESS } from '../contracts/predeploys.ts';
import { DepositTx } from '../node/chain/deposit-tx.ts';
import type { L1BlockInfo } from '../node/chain/l1-block-info.ts';

/** An L1 block an L2 block can take as its origin. */
export interface L1BlockRef {
  number: bigint;
  hash: Hex;
  timestamp: bigint;
  baseFee: bigint;
}

/** A Bridge DepositQueued event (contracts/interfaces/IBridge.sol). */
export interface L1Deposit {
  index: bigint;
  l1Block: bigint;
  from: Hex;
  to: Hex;
  mint: bigint;
  value: bigint;
  gasLimit: bigint;
  isCreation: boolean;
  data: Hex;
  /** the rolling hash after this deposit */
  depositHash: Hex;
}

/** What the sequencer knows of L1 at the moment it builds a block (node/l1/l1-watcher.ts). */
export interface L1View {
  /** The newest L1 block (past the confirmation depth) seen; undefined before L1 answered once. */
  latest(): L1BlockRef | undefined;
  /** Known deposits with index >= fromIndex, contiguous, from L1 blocks <= upTo. */
  deposits(fromIndex: bigint, upTo: bigint): L1Deposit[];
}

export const L1_INFO_GAS = 1_000_000n;
/** L1Block.setL1BlockValues, the system deposit's call (derivation decodes it to check a block's L1 side). */
export const l1BlockAbi = parseAbi([
  'function setL1BlockValues(uint256 number, uint256 timestamp, uint256 basefee, bytes32 hash, uint256 sequenceNumber, uint256 depositCount, bytes32 depositHash)',
]);
const DEPOSITOR = createAddressFromString(DEPOSITOR_ADDRESS);
const L1_BLOCK = createAddressFromString(L1_BLOCK_ADDRESS);

/** IBridge's rolling hash: h' = keccak256(abi.encode(h, index, from, to, mint, value, gasLimit, isCreation, keccak256(data))). */
export function nextDepositHash(prev: Hex, d: Omit<L1Deposit, 'depositHash' | 'l1Block'>): Hex {
  return keccak256(
    encodeAbiParameters(
      [
        { type: 'bytes32' },
        { type: 'uint256' },
        { type: 'address' },
        { type: 'address' },
        { type: 'uint256' },
        { type: 'uint256' },
        { type: 'uint64' },
        { type: 'bool' },
        { type: 'bytes32' },
      ],
      [prev, d.index, d.from, d.to, d.mint, d.value, d.gasLimit, d.isCreation, keccak256(d.data)],
    ),
  );
}

export function depositToTx(d: L1Deposit): DepositTx {
  return new DepositTx({
    sourceHash: hexToBytes(d.depositHash),
    from: createAddressFromString(d.from),
    to: d.isCreation ? undefined : createAddressFromString(d.to),
    mint: d.mint,
    value: d.value,
    gasLimit: d.gasLimit,
    isSystemTx: false,
    data: hexToBytes(d.data),
  });
}

export interface BlockAttributes {
  origin: L1BlockRef;
  sequenceNumber: bigint;
  l1InfoTx: DepositTx;
  deposits: DepositTx[];
  depositCount: bigint;
  depositHash: Hex;
}

/**
 * The L1 part of the next L2 block: its origin (the newest L1 block not after the L2 timestamp,
 * never going back), the system deposit that records it in L1Block, and the Bridge deposits
 * that fit in `gasBudget`, in index order, each checked against the rolling hash so a lying L1
 * endpoint cannot make the sequencer include a deposit that L1 does not have.
 */
export function nextAttributes(prev: L1BlockInfo, start: L1BlockRef, view: L1View, timestamp: bigint, gasBudget: bigint): BlockAttributes {
  const prevRef: L1BlockRef =
    prev.number === 0n && prev.timestamp === 0n
      ? start
      : { number: prev.number, hash: bytesToHex(prev.hash), timestamp: prev.timestamp, baseFee: prev.basefee };
  const latest = view.latest();
  const advance = latest !== undefined && latest.number > prevRef.number && latest.timestamp <= timestamp;
  const origin = advance ? latest : prevRef;
  const first = prev.number === 0n && prev.timestamp === 0n;
  const sequenceNumber = advance || first ? 0n : prev.sequenceNumber + 1n;

  let count = prev.depositCount;
  let hash = bytesToHex(prev.depositHash) as Hex;
  const deposits: DepositTx[] = [];
  let gas = 0n;
  for (const d of view.deposits(count, origin.number)) {
    if (d.index !== count || gas + d.gasLimit > gasBudget) break;
    const expected = nextDepositHash(hash, d);
    if (expected !== d.depositHash) throw new L1DataError(`deposit ${d.index} does not extend the rolling hash (L1 says ${d.depositHash}, computed ${expected})`);
    deposits.push(depositToTx(d));
    gas += d.gasLimit;
    count += 1n;
    hash = expected;
  }
  return { origin, sequenceNumber, l1InfoTx: l1InfoTx(origin, sequenceNumber, count, hash), deposits, depositCount: count, depositHash: hash };
}

export class L1DataError extends Error {
  override name = 'L1DataError';
}

function l1InfoTx(origin: L1BlockRef, seq: bigint, count: bigint, hash: Hex): DepositTx {
  const source = keccak256(encodeAbiParameters([{ type: 'uint256' }, { type: 'bytes32' }, { type: 'uint256' }], [1n, origin.hash, seq]));
  return new DepositTx({
    sourceHash: hexToBytes(source),
    from: DEPOSITOR,
    to: L1_BLOCK,
    mint: 0n,
    value: 0n,
    gasLimit: L1_INFO_GAS,
    isSystemTx: true,
    data: hexToBytes(
      encodeFunctionData({
        abi: l1BlockAbi,
        functionName: 'setL1BlockValues',
        args: [origin.number, origin.timestamp, origin.baseFee, origin.hash, seq, count, hash],
      }),
    ),
  });
}
