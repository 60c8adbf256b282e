/**
 * The `blocks` gossip message: every block the sequencer commits, signed by its block key.
 *
 *   payload      = signature (65 bytes) || blockRlp (`block.serialize()`, as in batches)
 *   signature    = secp256k1 over signingHash: r (32) || s (32) || v (1 byte, 27 or 28), low s (EIP-2)
 *   signingHash  = keccak256(BLOCK_SIGNING_DOMAIN || uint256be(chainId) || blockHash)   (96 bytes in)
 *   BLOCK_SIGNING_DOMAIN = keccak256("ai-rollup/unsafe-block/1")
 *
 * The shape is op-node's (domain || chainId || payload hash), over the block hash. The hash
 * commits to the header only, so a receiver first checks the body against the header's
 * transactions root (`checkBlockBody`, before any state is touched): with that the signature
 * covers the whole block. The chain id stops a signature from being replayed on another chain
 * that uses the same key; the domain stops it from being read as a signature over anything else
 * the key may sign. The signer is the rollup config's `unsafeBlockSigner` (or `--sequencer-address`).
 * A canonical encoding only (v 27/28, low s), so one signed block is one message id in gossipsub.
 */
import type { Block } from '@ethereumjs/block';
import type { Common } from '@ethereumjs/common';
import { bigIntToBytes, bytesToHex, concatBytes, equalsBytes, setLengthLeft } from '@ethereumjs/util';
import { keccak256, recoverAddress, toBytes } from 'viem';
import type { Hex } from 'viem';
import { sign } from 'viem/accounts';
import { decodeBlock } from '../chain/block-codec.ts';
import { orderedTrieRoot } from '../chain/ordered-trie.ts';
import { SyncError, SyncErrorCode } from './errors.ts';

export const BLOCK_SIGNING_DOMAIN: Uint8Array = toBytes(keccak256(toBytes('ai-rollup/unsafe-block/1')));
export const SIGNATURE_BYTES = 65;

/** secp256k1 group order n, and n / 2: an s above it is the malleable twin of a valid signature. */
const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const HALF_N = N >> 1n;

export function blockSigningHash(chainId: bigint, blockHash: Uint8Array): Hex {
  return keccak256(concatBytes(BLOCK_SIGNING_DOMAIN, setLengthLeft(bigIntToBytes(chainId), 32), blockHash));
}

/** The 65-byte signature of `blockHash` on `chainId` by `privateKey`. */
export async function signBlockHash(privateKey: Hex, chainId: bigint, blockHash: Uint8Array): Promise<Uint8Array> {
  const sig = await sign({ hash: blockSigningHash(chainId, blockHash), privateKey });
  return concatBytes(toBytes(sig.r, { size: 32 }), toBytes(sig.s, { size: 32 }), Uint8Array.of(27 + sig.yParity!));
}

export function encodeBlockGossip(signature: Uint8Array, blockRlp: Uint8Array): Uint8Array {
  if (signature.length !== SIGNATURE_BYTES) throw new RangeError(`a block signature is ${SIGNATURE_BYTES} bytes`);
  return concatBytes(signature, blockRlp);
}

/** Splits a payload; the block RLP is decoded by the caller (it needs the chain's Common). */
export function splitBlockGossip(bytes: Uint8Array): { signature: Uint8Array; blockRlp: Uint8Array } {
  if (bytes.length <= SIGNATURE_BYTES) throw new SyncError(SyncErrorCode.Malformed, `a blocks message is a 65-byte signature and a block, got ${bytes.length} bytes`);
  return { signature: bytes.subarray(0, SIGNATURE_BYTES), blockRlp: bytes.subarray(SIGNATURE_BYTES) };
}

/** The signer's address (lowercase); BAD_SIGNATURE for a non-canonical or unrecoverable signature. */
export async function recoverBlockSigner(chainId: bigint, blockHash: Uint8Array, signature: Uint8Array): Promise<Hex> {
  if (signature.length !== SIGNATURE_BYTES) throw new SyncError(SyncErrorCode.BadSignature, 'signature is not 65 bytes');
  const r = BigInt(bytesToHex(signature.subarray(0, 32)));
  const s = BigInt(bytesToHex(signature.subarray(32, 64)));
  const v = signature[64]!;
  if (v !== 27 && v !== 28) throw new SyncError(SyncErrorCode.BadSignature, `signature v is ${v}, want 27 or 28`);
  if (r === 0n || r >= N || s === 0n || s > HALF_N) throw new SyncError(SyncErrorCode.BadSignature, 'signature r or s out of range (s must be low, EIP-2)');
  try {
    return (await recoverAddress({ hash: blockSigningHash(chainId, blockHash), signature })).toLowerCase() as Hex;
  } catch (err) {
    throw new SyncError(SyncErrorCode.BadSignature, `no key recovers from the signature: ${(err as Error).message}`);
  }
}

/** BODY_MISMATCH unless the transactions hash to the header's transactions root (the body is what the signed hash covers). */
export function checkBlockBody(block: Block): void {
  const root = orderedTrieRoot(block.transactions.map((tx) => tx.serialize()));
  if (!equalsBytes(root, block.header.transactionsTrie)) {
    throw new SyncError(
      SyncErrorCode.BodyMismatch,
      `block ${block.header.number}: transactions root ${bytesToHex(root)} differs from the header's ${bytesToHex(block.header.transactionsTrie)}`,
    );
  }
}

export interface GossipBlock {
  block: Block;
  signature: Uint8Array;
}

/** A blocks message as far as it can be checked without state: MALFORMED or BODY_MISMATCH otherwise. */
export function decodeGossipBlock(bytes: Uint8Array, common: Common): GossipBlock {
  const { signature, blockRlp } = splitBlockGossip(bytes);
  let block: Block;
  try {
    block = decodeBlock(blockRlp, common);
  } catch (err) {
    throw new SyncError(SyncErrorCode.Malformed, (err as Error).message);
  }
  checkBlockBody(block);
  return { block, signature };
}
