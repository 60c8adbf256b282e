import type { MerkleStateManager } from '@ethereumjs/statemanager';
import { bytesToBigInt, createAddressFromString, setLengthLeft } from '@ethereumjs/util';
import { L1_BLOCK_ADDRESS } from '../../contracts/predeploys.ts';

/** What the L1Block predeploy holds after a block (contracts/interfaces/IL1Block.sol). */
export interface L1BlockInfo {
  number: bigint;
  timestamp: bigint;
  basefee: bigint;
  hash: Uint8Array;
  sequenceNumber: bigint;
  /** Bridge deposits consumed by L2 up to and including this block. */
  depositCount: bigint;
  depositHash: Uint8Array;
}

const L1_BLOCK = createAddressFromString(L1_BLOCK_ADDRESS);
const slot = (i: number): Uint8Array => setLengthLeft(Uint8Array.of(i), 32);

/** Reads the L1Block predeploy's storage (its layout is a protocol constant); all zero before the first rollup block. */
export async function readL1BlockInfo(state: MerkleStateManager): Promise<L1BlockInfo> {
  const word = async (i: number) => setLengthLeft(await state.getStorage(L1_BLOCK, slot(i)), 32);
  // one at a time: the trie is not meant for concurrent walks
  const words: Uint8Array[] = [];
  for (let i = 0; i < 7; i++) words.push(await word(i));
  const [number, timestamp, basefee, hash, sequenceNumber, depositCount, depositHash] = words;
  return {
    number: bytesToBigInt(number!),
    timestamp: bytesToBigInt(timestamp!),
    basefee: bytesToBigInt(basefee!),
    hash: hash!,
    sequenceNumber: bytesToBigInt(sequenceNumber!),
    depositCount: bytesToBigInt(depositCount!),
    depositHash: depositHash!,
  };
}
