import { describe, expect, it } from 'vitest';
import { decodeFunctionData, encodePacked, keccak256, toEventSelector, toFunctionSelector } from 'viem';
import type { Abi, AbiEvent, AbiFunction, Hex } from 'viem';
import { loadL1Artifact } from '../../contracts/l1-artifacts.ts';
import { BN254_P, BN254_R, type G1, type G2, vkToBytes } from '../../precompiles/groth16/encoding.ts';
import { BatchProofError, type InferenceProofInput, buildBatchSubmission } from '../../node/rollup/oracle-submission.ts';
import { MerkleError, hashPair, leafHash, merkleLevels, merkleProof, merkleRoot, verifyMerkleProof } from '../../node/rollup/oracle-merkle.ts';
import { inferenceOracleAbi } from '../../contracts/abi/oracle.ts';

const leavesOf = (n: number, salt = 0): Hex[] => Array.from({ length: n }, (_, i) => keccak256(encodePacked(['uint256', 'uint256'], [BigInt(salt), BigInt(i)])));

/** The tree by its recursive definition: pair neighbours, carry an odd last node, repeat. */
function referenceRoot(level: Hex[]): Hex {
  if (level.length === 1) return level[0]!;
  const up: Hex[] = [];
  for (let i = 0; i < level.length; i += 2) up.push(i + 1 < level.length ? keccak256(`0x${level[i]!.slice(2)}${level[i + 1]!.slice(2)}`) : level[i]!);
  return referenceRoot(up);
}

describe('result tree (the oracle tree, off chain)', () => {
  it('root = the recursive definition, for 1..40 leaves', () => {
    for (let n = 1; n <= 40; n++) expect(merkleRoot(leavesOf(n)), `${n} leaves`).toBe(referenceRoot(leavesOf(n)));
  });

  it('every leaf of every tree up to 33 leaves has a proof that verifies, of at most ceil(log2 n) siblings', () => {
    for (let n = 1; n <= 33; n++) {
      const leaves = leavesOf(n, n);
      const root = merkleRoot(leaves);
      for (let i = 0; i < n; i++) {
        const proof = merkleProof(leaves, i);
        expect(proof.length).toBeLessThanOrEqual(Math.ceil(Math.log2(n)));
        expect(verifyMerkleProof(root, leaves[i]!, i, n, proof), `leaf ${i} of ${n}`).toBe(true);
      }
    }
  });

  it('a wrong leaf, index, count or sibling, or a proof a sibling short or long, does not verify', () => {
    const leaves = leavesOf(13);
    const root = merkleRoot(leaves);
    const proof = merkleProof(leaves, 6);
    expect(verifyMerkleProof(root, leaves[7]!, 6, 13, proof)).toBe(false);
    expect(verifyMerkleProof(root, leaves[6]!, 7, 13, proof)).toBe(false);
    expect(verifyMerkleProof(root, leaves[6]!, 6, 13, [...proof, leaves[0]!])).toBe(false);
    expect(verifyMerkleProof(root, leaves[6]!, 6, 13, proof.slice(1))).toBe(false);
    expect(verifyMerkleProof(root, leaves[6]!, 6, 13, [proof[0]!, hashPair(proof[0]!, proof[0]!), ...proof.slice(2)])).toBe(false);
    expect(verifyMerkleProof(root, leaves[6]!, 13, 13, proof)).toBe(false);
    // the odd last leaf is carried up: its proof skips that level
    expect(merkleProof(leaves, 12).length).toBe(merkleLevels(leaves).length - 1 - 2);
    expect(() => merkleRoot([])).toThrow(MerkleError);
    expect(() => merkleProof(leaves, 13)).toThrow(MerkleError);
  });

  it('leaf = keccak256(abi.encodePacked(uint8(0), vkHash, uint256[] signals))', () => {
    const vkHash = keccak256('0x1234');
    const signals = [0n, 255n, BN254_R - 1n];
    expect(leafHash(vkHash, signals)).toBe(keccak256(encodePacked(['uint8', 'bytes32', 'uint256[]'], [0, vkHash, signals])));
  });
});

const pt = (a: bigint): G1 => [a, a + 1n];
const g2 = (a: bigint): G2 => [
  [a, a + 1n],
  [a + 2n, a + 3n],
];
/** Structurally valid key bytes (the points need not be on the curve for the encoder). */
const fakeKey = (n: number, seed: bigint): Hex =>
  `0x${Buffer.from(vkToBytes({ alpha: pt(seed), beta: g2(seed), gamma: g2(seed + 10n), delta: g2(seed + 20n), ic: Array.from({ length: n + 1 }, (_, i) => pt(seed + 100n + BigInt(i))) })).toString('hex')}`;

const KEY_A = fakeKey(2, 1n);
const KEY_B = fakeKey(3, 2n);
const proof = (i: number): bigint[] => Array.from({ length: 8 }, (_, w) => BigInt(i * 10 + w + 1));
const item = (vk: Hex, n: number, i: number): InferenceProofInput => ({
  vk,
  modelId: keccak256(vk),
  publicSignals: Array.from({ length: n }, (_, j) => String(i * 100 + j)),
  proofWords: proof(i).map((w) => `0x${w.toString(16)}` as Hex),
});

describe('batch submission (node/rollup/oracle-submission.ts)', () => {
  const items = [item(KEY_A, 2, 0), item(KEY_B, 3, 1), item(KEY_A, 2, 2), item(KEY_B, 3, 3), item(KEY_A, 2, 4)];

  it('groups by key in order of first appearance, proofs in input order; leaves follow the groups', () => {
    const sub = buildBatchSubmission(7n, items);
    expect(sub.groups.map((g) => g.vkHash)).toEqual([keccak256(KEY_A), keccak256(KEY_B)]);
    expect(sub.groups[0]!.proofs).toEqual([proof(0), proof(2), proof(4)]);
    expect(sub.groups[0]!.publicInputs).toEqual([0n, 1n, 200n, 201n, 400n, 401n]);
    expect(sub.groups[1]!.publicInputs).toEqual([100n, 101n, 102n, 300n, 301n, 302n]);
    expect(sub.placed.map((p) => p.item)).toEqual([0, 1, 2, 3, 4]);
    expect(sub.placed.map((p) => p.leafIndex)).toEqual([0, 3, 1, 4, 2]);
    expect(sub.root).toBe(merkleRoot(sub.leaves));
    for (const p of sub.placed) {
      expect(p.leaf).toBe(leafHash(p.vkHash, p.publicSignals));
      expect(sub.leaves[p.leafIndex]).toBe(p.leaf);
      expect(verifyMerkleProof(sub.root, p.leaf, p.leafIndex, sub.leaves.length, p.merkleProof)).toBe(true);
      expect(p.modelId).toBe(p.vkHash); // carried through for bookkeeping
    }
  });

  const decode = (data: Hex) => {
    const d = decodeFunctionData({ abi: inferenceOracleAbi, data });
    if (d.functionName !== 'submitBatchProofs') throw new Error(`calldata of ${d.functionName}`);
    return d.args;
  };

  it('calldata is submitBatchProofs(batchIndex, groups); stored keys go without their bytes', () => {
    const [index, groups] = decode(buildBatchSubmission(7n, items).calldata);
    expect(index).toBe(7n);
    expect(groups.map((g) => g.vk)).toEqual([KEY_A, KEY_B]);
    const stored = buildBatchSubmission(7n, items, { storedKeys: [keccak256(KEY_B)] });
    const [, storedGroups] = decode(stored.calldata);
    expect(storedGroups.map((g) => g.vk)).toEqual([KEY_A, '0x']);
    expect(storedGroups[1]!.proofs).toEqual([proof(1), proof(3)]);
    expect(stored.root).toBe(buildBatchSubmission(7n, items).root); // leaves do not depend on how keys travel
  });

  it('refuses what the contract would refuse, naming the inference', () => {
    const refuse = (xs: InferenceProofInput[], code: string, at?: number) => {
      try {
        buildBatchSubmission(0n, xs);
        throw new Error('accepted');
      } catch (e) {
        expect(e).toBeInstanceOf(BatchProofError);
        expect((e as BatchProofError).code).toBe(code);
        expect((e as BatchProofError).item).toBe(at);
      }
    };
    refuse([], 'EMPTY');
    refuse(
      Array.from({ length: 1025 }, () => items[0]!),
      'TOO_MANY',
    );
    refuse([items[0]!, { ...items[1]!, publicSignals: ['1', '2'] }], 'SIGNAL_COUNT', 1);
    refuse([items[0]!, { ...items[2]!, publicSignals: ['1', BN254_R.toString()] }], 'BAD_SIGNAL', 1);
    refuse([{ ...items[0]!, proofWords: proof(0).slice(1) }], 'BAD_PROOF', 0);
    refuse([items[1]!, { ...items[0]!, proofWords: [...proof(0).slice(0, 7), BN254_P] }], 'BAD_PROOF', 1);
    refuse([{ ...items[0]!, proofWords: ['0xzz', ...proof(0).slice(1)] as Hex[] }], 'BAD_PROOF', 0);
    refuse([{ ...items[0]!, vk: `${KEY_A}00` }], 'BAD_KEY', 0);
    refuse([{ ...items[0]!, vk: `0x${BN254_P.toString(16).padStart(64, '0')}${KEY_A.slice(66)}` }], 'BAD_KEY', 0);
    // degenerate: gamma = delta (the oracle's InvalidVerifyingKey code 5), and two equal inputs
    const gammaIsDelta = vkToBytes({ alpha: pt(1n), beta: g2(1n), gamma: g2(21n), delta: g2(21n), ic: [pt(100n), pt(101n), pt(102n)] });
    refuse([items[1]!, { ...items[0]!, vk: `0x${Buffer.from(gammaIsDelta).toString('hex')}` }], 'BAD_KEY', 1);
    const sameInputs = vkToBytes({ alpha: pt(1n), beta: g2(1n), gamma: g2(11n), delta: g2(21n), ic: [pt(100n), pt(101n), [101n, 7n]] });
    refuse([{ ...items[0]!, vk: `0x${Buffer.from(sameInputs).toString('hex')}` }], 'BAD_KEY', 0);
  });
});

/** Selector (with return types for functions) of every function, event and error. */
function signatures(abi: Abi): Set<string> {
  return new Set(
    abi.flatMap((i) => {
      if (i.type === 'function')
        return [`function ${toFunctionSelector(i as AbiFunction)} ${(i as AbiFunction).stateMutability} -> ${(i as AbiFunction).outputs.map((o) => o.type).join(',')}`];
      if (i.type === 'event') return [`event ${toEventSelector(i as AbiEvent)}`];
      if (i.type === 'error') return [`error ${toFunctionSelector(i as unknown as AbiFunction)}`];
      return [];
    }),
  );
}

describe('typed InferenceOracle ABI', () => {
  it('has exactly the entries of the committed artifact', () => {
    expect(signatures(inferenceOracleAbi as Abi)).toEqual(signatures(loadL1Artifact('InferenceOracle').abi));
  });
});
