/**
 * The result tree of a batch, exactly as contracts/l1/InferenceOracle.sol builds and checks it
 * (see contracts/interfaces/IInferenceOracle.sol):
 *   leaf = keccak256(0x00 || vkHash || publicSignals as 32-byte words)
 *   node = keccak256(left || right); neighbours pair up level by level and an odd last node is
 *   carried up unchanged, so a proof for leaf i has a sibling only on the levels where i has one.
 * The zero byte keeps a leaf preimage (33 + 32n bytes) from ever having an inner node's size.
 */
import { concat, keccak256, numberToHex } from 'viem';
import type { Hex } from 'viem';
import { CodedError } from '../../precompiles/errors.ts';

export class MerkleError extends CodedError {
  override readonly code = 'MERKLE_ERROR';

  override name = 'MerkleError';
}

export function leafHash(vkHash: Hex, publicSignals: readonly bigint[]): Hex {
  return keccak256(concat(['0x00', vkHash, ...publicSignals.map((s) => numberToHex(s, { size: 32 }))]));
}

export function hashPair(left: Hex, right: Hex): Hex {
  return keccak256(concat([left, right]));
}

/** Every level of the tree, leaves first, the root level (one node) last. */
export function merkleLevels(leaves: readonly Hex[]): Hex[][] {
  if (leaves.length === 0) throw new MerkleError('a tree needs at least one leaf');
  const levels: Hex[][] = [[...leaves]];
  for (let level = levels[0]!; level.length > 1; ) {
    const next: Hex[] = [];
    for (let i = 0; i + 1 < level.length; i += 2) next.push(hashPair(level[i]!, level[i + 1]!));
    if (level.length % 2 === 1) next.push(level[level.length - 1]!);
    levels.push(next);
    level = next;
  }
  return levels;
}

export function merkleRoot(leaves: readonly Hex[]): Hex {
  const levels = merkleLevels(leaves);
  return levels[levels.length - 1]![0]!;
}

/** The siblings of leaf `index`, from the leaf up. */
export function merkleProof(leaves: readonly Hex[], index: number): Hex[] {
  return proofFromLevels(merkleLevels(leaves), index);
}

/** merkleProof on levels built once (merkleLevels), for proving many leaves of one tree. */
export function proofFromLevels(levels: readonly (readonly Hex[])[], index: number): Hex[] {
  const count = levels[0]?.length ?? 0;
  if (!Number.isInteger(index) || index < 0 || index >= count) throw new MerkleError(`leaf ${index} of ${count}`);
  const proof: Hex[] = [];
  let i = index;
  for (const level of levels.slice(0, -1)) {
    const sibling = i ^ 1;
    if (sibling < level.length) proof.push(level[sibling]!);
    i >>= 1;
  }
  return proof;
}

/** What the oracle's isLeafVerified computes, off chain. */
export function verifyMerkleProof(root: Hex, leaf: Hex, index: number, count: number, proof: readonly Hex[]): boolean {
  if (!Number.isInteger(index) || index < 0 || index >= count) return false;
  let node = leaf;
  let used = 0;
  for (let i = index, n = count; n > 1; i >>= 1, n = (n + 1) >> 1) {
    if (i % 2 === 0 && i + 1 >= n) continue; // odd last node: carried up
    const sibling = proof[used++];
    if (sibling === undefined) return false;
    node = i % 2 === 1 ? hashPair(sibling, node) : hashPair(node, sibling);
  }
  return used === proof.length && node.toLowerCase() === root.toLowerCase();
}

function popcount(x: number): number {
  let c = 0;
  for (let v = x; v !== 0; v &= v - 1) c++;
  return c;
}

/**
 * The root a proof leads to from `leaf` at `index` without knowing the leaf count, as
 * contracts/l1/lib/ResultTree.sol's rootFromProof walks it (the proof's length and the index fix
 * which levels have a sibling); undefined where that function returns zero (too short a proof).
 */
export function rootFromProof(leaf: Hex, index: number, proof: readonly Hex[]): Hex | undefined {
  if (!Number.isInteger(index) || index < 0) return undefined;
  const len = proof.length;
  let odd = popcount(index);
  if (len < odd) return undefined;
  let node = leaf;
  for (let used = 0, i = index; used < len; i = Math.floor(i / 2)) {
    if (i % 2 === 1) {
      node = hashPair(proof[used++]!, node);
      odd--;
    } else if (len - used > odd) {
      node = hashPair(node, proof[used++]!);
    }
  }
  return node;
}
