import { bytesToHex, createAddressFromString, hexToBytes } from '@ethereumjs/util';
import { decodeFunctionData, encodeAbiParameters, encodeFunctionData, keccak256, parseAbi } from 'viem';
import type { Hex } from 'viem';
import { DEPOSITOR_ADDRESS, L1_BLOCK_ADDRESS } from '../../contracts/predeploys.ts';
import type { Block } from '@ethereumjs/block';
import { DepositTx, isDepositTx } from '../chain/deposit-tx.ts';
import type { L1BlockInfo } from '../chain/l1-block-info.ts';
import { CodedError } from '../../precompiles/errors.ts';

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

/** Gas limit of the L1-info system deposit that opens every L2 block (the Bridge's `systemTxMaxGas`). */
export const L1_INFO_GAS = 1_000_000n;
/** L1Block.setL1BlockValues, the system deposit's call (decodeL1InfoCall reads it back). */
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
 *
 * Why this placement meets every inclusion deadline, even under a flood: not only the first L2
 * block of an origin takes deposits, every block does, as many of the visible ones (L1 block <=
 * origin) as fit in `gasBudget` (block gas limit - L1_INFO_GAS; deposits count their full gas
 * limit, the L1-info deposit at most L1_INFO_GAS, so everything chosen fits). The Bridge caps the
 * deposits of one L1 block at maxResourceLimit in all, and `checkDepositCapacity` makes the
 * budget at least that. So the rest of the oldest L1 block's deposits always fits an empty
 * budget: each L2 block with deposits waiting takes all deposits of at least one more L1 block,
 * in order. L2 blocks (1 s) come at least as often as L1 blocks (>= 1 s, 12 s on Ethereum), so
 * the waiting deposits never pile up beyond the L1 blocks not yet visible, and each deposit is in
 * L2 a few seconds after its L1 block: in a batch long before depositTime + inclusionWindow.
 */
export function nextAttributes(prev: L1BlockInfo, start: L1BlockRef, view: L1View, timestamp: bigint, gasBudget: bigint): BlockAttributes {
  const prevRef: L1BlockRef =
    prev.number === 0n && prev.timestamp === 0n ? start : { number: prev.number, hash: bytesToHex(prev.hash), timestamp: prev.timestamp, baseFee: prev.basefee };
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

export class L1DataError extends CodedError {
  override readonly code = 'L1_DATA_ERROR';

  override name = 'L1DataError';
}

/** The block gas limit cannot hold what the Bridge lets one L1 block's deposits ask for. */
export class DepositCapacityError extends CodedError {
  override readonly code = 'DEPOSIT_CAPACITY_ERROR';

  override name = 'DepositCapacityError';
}

/**
 * The deposits of one L1 block may ask for `maxResourceLimit` L2 gas in all (the Bridge's
 * resourceConfig()); they must fit one L2 block beside the L1-info deposit, or a flood at the cap
 * outgrows the chain and deposits miss their inclusion deadline (see nextAttributes).
 */
export function checkDepositCapacity(blockGasLimit: bigint, maxResourceLimit: bigint): void {
  const needed = maxResourceLimit + L1_INFO_GAS;
  if (blockGasLimit < needed) {
    throw new DepositCapacityError(
      `block gas limit ${blockGasLimit} is below ${needed}: the Bridge lets one L1 block's deposits ask for ${maxResourceLimit} gas, plus ${L1_INFO_GAS} for the L1-info deposit`,
    );
  }
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

/** What a block's system deposit records: its L1 origin and the deposits consumed up to it. */
export interface L1InfoValues {
  number: bigint;
  timestamp: bigint;
  basefee: bigint;
  hash: Hex;
  sequenceNumber: bigint;
  depositCount: bigint;
  depositHash: Hex;
}

/** The values of an L1Block.setL1BlockValues call (the system deposit's data); throws when it is not one. */
export function decodeL1InfoCall(data: Uint8Array): L1InfoValues {
  const { args } = decodeFunctionData({ abi: l1BlockAbi, data: bytesToHex(data) as Hex });
  const [number, timestamp, basefee, hash, sequenceNumber, depositCount, depositHash] = args;
  return { number, timestamp, basefee, hash, sequenceNumber, depositCount, depositHash };
}

/** The L1 origin a rollup block's first transaction (the L1-info system deposit) records; undefined without one (genesis). */
export function l1OriginOf(block: Block): { number: bigint; hash: Hex } | undefined {
  // a block's transaction list is typed without the deposit type, which the node adds
  const sys = (block.transactions as unknown[])[0];
  if (sys === undefined || !isDepositTx(sys) || !sys.isSystemTx) return undefined;
  const { number, hash } = decodeL1InfoCall(sys.data);
  return { number, hash };
}
