/**
 * The result leaf and results root the batcher commits to and derivation recomputes, against the
 * layout contracts/l1/lib/InferenceResults.sol hashes (keccak256(abi.encode(Result)): a dynamic
 * struct, so an offset word first), written out word by word here.
 */
import { describe, expect, it } from 'vitest';
import { concat, keccak256, numberToHex, pad } from 'viem';
import type { Hex } from 'viem';
import { EMPTY_RESULTS_ROOT, inputHash, resultLeaf, resultsRoot } from '../../node/rollup/result-leaf.ts';
import type { InferenceResult } from '../../node/rollup/result-leaf.ts';
import { hashPair } from '../../node/rollup/oracle-merkle.ts';

const word = (x: bigint) => numberToHex(x, { size: 32 });

const result = (requestId: bigint, outputs: bigint[]): InferenceResult => ({
  chainId: 42069n,
  requestId,
  modelId: keccak256('0x01'),
  vkHash: keccak256('0x02'),
  inputHash: inputHash([5n, 6n]),
  prover: '0x00000000000000000000000000000000009407e5',
  outputs,
});

describe('inference result leaves', () => {
  it('hash abi.encode(Result) word for word, and the input as abi.encodePacked(uint256[])', () => {
    const r = result(7n, [114n, 137n, 107n, 100n]);
    const encoded = concat([
      word(0x20n), // the struct is dynamic: its offset
      word(r.chainId),
      word(r.requestId),
      r.modelId,
      r.vkHash,
      r.inputHash,
      pad(r.prover),
      word(7n * 32n), // outputs: offset from the tuple's start
      word(BigInt(r.outputs.length)),
      ...r.outputs.map(word),
    ]);
    expect(resultLeaf(r)).toBe(keccak256(encoded));
    expect(r.inputHash).toBe(keccak256(concat([word(5n), word(6n)])));
    // every field is in the leaf
    expect(resultLeaf({ ...r, outputs: [114n, 137n, 107n, 101n] })).not.toBe(resultLeaf(r));
    expect(resultLeaf({ ...r, chainId: 1n })).not.toBe(resultLeaf(r));
    expect(resultLeaf({ ...r, prover: '0x00000000000000000000000000000000009407e6' })).not.toBe(resultLeaf(r));
  });

  it('roots: zero without results, the leaf alone, and the oracle tree (odd last node carried up)', () => {
    const leaves: Hex[] = [1n, 2n, 3n].map((i) => resultLeaf(result(i, [i])));
    expect(resultsRoot([])).toBe(EMPTY_RESULTS_ROOT);
    expect(EMPTY_RESULTS_ROOT).toBe(word(0n));
    expect(resultsRoot(leaves.slice(0, 1))).toBe(leaves[0]);
    expect(resultsRoot(leaves)).toBe(hashPair(hashPair(leaves[0]!, leaves[1]!), leaves[2]!));
  });
});
