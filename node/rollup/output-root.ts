/**
 * Output roots (IRollup.sol) and the native read of L1Block's deposit fields (IL1Block.sol):
 *   outputRoot = keccak256(abi.encode(bytes32(0), stateRoot, messagePasserStorageRoot, blockHash))
 * A withdrawal proof on L1 needs the parts, so they are returned with the root.
 */
import type { Block } from '@ethereumjs/block';
import type { MerkleStateManager } from '@ethereumjs/statemanager';
import { KECCAK256_RLP, bytesToBigInt, bytesToHex, createAddressFromString, setLengthLeft } from '@ethereumjs/util';
import { encodeAbiParameters, keccak256 } from 'viem';
import type { Hex } from 'viem';
import { L1_BLOCK_ADDRESS, MESSAGE_PASSER_ADDRESS } from '../../contracts/predeploys.ts';
import { CodedError } from '../../precompiles/errors.ts';

/** IL1Block storage layout (a protocol constant): slot 5 depositCount, slot 6 depositHash. */
export const L1_BLOCK_DEPOSIT_COUNT_SLOT = 5n;
export const L1_BLOCK_DEPOSIT_HASH_SLOT = 6n;
export const OUTPUT_VERSION: Hex = `0x${'00'.repeat(32)}`;

const L1_BLOCK = createAddressFromString(L1_BLOCK_ADDRESS);
const MESSAGE_PASSER = createAddressFromString(MESSAGE_PASSER_ADDRESS);
const ZERO32: Hex = `0x${'00'.repeat(32)}`;

/** What output roots and deposit reads need of the chain (node/chain/chain.ts `Chain` fits). */
export interface ChainReader {
  readonly head: Block;
  readonly store: {
    getBlockByNumber(n: bigint): Promise<Block | undefined>;
    getBlockByHash(hash: Uint8Array): Promise<Block | undefined>;
    getCanonicalHash(n: bigint): Promise<Uint8Array | undefined>;
  };
  stateAt(root: Uint8Array): MerkleStateManager;
}

/** IBridge.OutputRootProof. */
export interface OutputRootParts {
  version: Hex;
  stateRoot: Hex;
  messagePasserStorageRoot: Hex;
  blockHash: Hex;
}

export interface L2Output {
  root: Hex;
  parts: OutputRootParts;
  blockNumber: bigint;
}

export class OutputRootError extends CodedError {
  constructor(
    override readonly code: 'UNKNOWN_BLOCK',
    message: string,
  ) {
    super(message);
    this.name = 'OutputRootError';
  }
}

export function computeOutputRoot(parts: OutputRootParts): Hex {
  return keccak256(
    encodeAbiParameters(
      [{ type: 'bytes32' }, { type: 'bytes32' }, { type: 'bytes32' }, { type: 'bytes32' }],
      [parts.version, parts.stateRoot, parts.messagePasserStorageRoot, parts.blockHash],
    ),
  );
}

async function blockAt(chain: ChainReader, n: bigint): Promise<Block> {
  const block = await chain.store.getBlockByNumber(n);
  if (block === undefined) throw new OutputRootError('UNKNOWN_BLOCK', `L2 block ${n} is not in the chain (head ${chain.head.header.number})`);
  return block;
}

/**
 * The output of L2 block `n`. Without a message passer account (a chain without the
 * predeploy) its storage root is the empty trie's, against which no withdrawal proves.
 */
export async function outputAt(chain: ChainReader, n: bigint): Promise<L2Output> {
  const block = await blockAt(chain, n);
  const account = await chain.stateAt(block.header.stateRoot).getAccount(MESSAGE_PASSER);
  const parts: OutputRootParts = {
    version: OUTPUT_VERSION,
    stateRoot: bytesToHex(block.header.stateRoot),
    messagePasserStorageRoot: bytesToHex(account?.storageRoot ?? KECCAK256_RLP),
    blockHash: bytesToHex(block.hash()),
  };
  return { root: computeOutputRoot(parts), parts, blockNumber: n };
}

export interface DepositCursor {
  /** Bridge deposits consumed by L2 up to and including the block. */
  count: bigint;
  /** The Bridge's rolling deposit hash after `count` deposits (zero for none). */
  hash: Hex;
}

/** L1Block's deposit count and hash in state `root`; zero when the predeploy or the values are absent. */
export async function depositCursorAtRoot(state: MerkleStateManager): Promise<DepositCursor> {
  if ((await state.getAccount(L1_BLOCK)) === undefined) return { count: 0n, hash: ZERO32 };
  const slot = (n: bigint) => setLengthLeft(new Uint8Array([Number(n)]), 32);
  const [count, hash] = await Promise.all([state.getStorage(L1_BLOCK, slot(L1_BLOCK_DEPOSIT_COUNT_SLOT)), state.getStorage(L1_BLOCK, slot(L1_BLOCK_DEPOSIT_HASH_SLOT))]);
  return { count: count.length === 0 ? 0n : bytesToBigInt(count), hash: bytesToHex(setLengthLeft(hash, 32)) };
}

/** L1Block's deposit fields after L2 block `n`. */
export async function depositCursorAt(chain: ChainReader, n: bigint): Promise<DepositCursor> {
  const block = await blockAt(chain, n);
  return depositCursorAtRoot(chain.stateAt(block.header.stateRoot));
}
