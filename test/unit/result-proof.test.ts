/**
 * The pieces of ai_getInferenceProof a consumer relies on without the node: the proof walk that
 * needs no leaf count (ResultTree.sol's rootFromProof, ported), and the answer's JSON form read back.
 */
import { describe, expect, it } from 'vitest';
import { keccak256, numberToHex } from 'viem';
import type { Hex } from 'viem';
import { merkleLevels, proofFromLevels, rootFromProof } from '../../node/rollup/oracle-merkle.ts';
import { inferenceProofJson, parseInferenceProof } from '../../node/rollup/result-proof.ts';
import type { InferenceProof } from '../../node/rollup/result-proof.ts';

const leaves = (n: number): Hex[] => Array.from({ length: n }, (_, i) => keccak256(numberToHex(i + 1, { size: 32 })));
const h = (i: number) => keccak256(numberToHex(1000 + i, { size: 32 }));

describe('rootFromProof (no leaf count)', () => {
  it("leads every leaf of every tree of 1..40 leaves to the tree's root, and a proof missing a sibling elsewhere", () => {
    for (let n = 1; n <= 40; n++) {
      const ls = leaves(n);
      const levels = merkleLevels(ls);
      const root = levels[levels.length - 1]![0]!;
      for (let i = 0; i < n; i++) {
        const proof = proofFromLevels(levels, i);
        expect(rootFromProof(ls[i]!, i, proof)).toBe(root);
        if (proof.length > 0) expect(rootFromProof(ls[i]!, i, proof.slice(0, -1))).not.toBe(root);
        if ((i ^ 1) < n) expect(rootFromProof(ls[i]!, i ^ 1, proof)).not.toBe(root); // the leaf claimed at its neighbour's place
      }
    }
  });

  it('refuses a proof too short for the odd levels of the index, and a negative index', () => {
    expect(rootFromProof(h(0), 3, [h(1)])).toBeUndefined();
    expect(rootFromProof(h(0), -1, [])).toBeUndefined();
  });
});

const sample = (): InferenceProof => ({
  requestId: 42n,
  l2Block: { number: 17n, hash: h(1) },
  result: { chainId: 42069n, requestId: 42n, modelId: h(2), vkHash: h(3), inputHash: h(4), prover: '0x00000000000000000000000000000000009407e5', outputs: [1n, 200n] },
  inputSignals: [5n, 6n],
  leaf: h(5),
  batch: {
    index: 3n,
    l1Block: 90n,
    l1TransactionHash: h(6),
    header: { index: 3n, prevBatchHash: h(7), firstBlock: 10n, lastBlock: 20n, dataHash: h(8), depositCount: 2n, depositHash: h(9), resultsRoot: h(10) },
    leafIndex: 1,
    leafCount: 3,
    proof: [h(11), h(12)],
  },
  oracle: { submitter: '0x0000000000000000000000000000000000000005', root: h(13), l1Block: 95n, l1TransactionHash: h(14), leaf: h(15), leafIndex: 0, leafCount: 1, proof: [] },
  attested: true,
  output: {
    index: 2n,
    batchIndex: 3n,
    l2Block: 20n,
    root: h(16),
    outputRootProof: { version: h(17), stateRoot: h(18), messagePasserStorageRoot: h(19), blockHash: h(20) },
    finalized: true,
  },
  final: true,
});

describe('ai_getInferenceProof answers as JSON', () => {
  it('read back to the same values (quantities as hex), with and without a batch', () => {
    const p = sample();
    const json = JSON.parse(JSON.stringify(inferenceProofJson(p)));
    expect(json.batch.header.firstBlock).toBe('0xa');
    expect(json.result.outputs).toEqual(['0x1', '0xc8']);
    expect(parseInferenceProof(json)).toEqual(p);
    const unbatched = { ...p, batch: null, oracle: null, attested: false, output: null, final: false };
    expect(parseInferenceProof(JSON.parse(JSON.stringify(inferenceProofJson(unbatched))))).toEqual(unbatched);
  });

  it('refuse malformed fields with their path: numbers, short hashes, leading zeros, huge indexes', () => {
    const json = () => JSON.parse(JSON.stringify(inferenceProofJson(sample())));
    const bad: [string, (j: Record<string, any>) => void][] = [
      ['result.outputs.0', (j) => (j.result.outputs[0] = 1)],
      ['batch.header.resultsRoot', (j) => (j.batch.header.resultsRoot = '0x1234')],
      ['requestId', (j) => (j.requestId = '0x01')],
      ['batch.leafIndex', (j) => (j.batch.leafIndex = '0x100000000')],
      ['result.prover', (j) => (j.result.prover = '0x1234')],
      ['final', (j) => delete j.final],
      ['attested', (j) => (j.attested = 'yes')],
    ];
    for (const [path, edit] of bad) {
      const j = json();
      edit(j);
      let err: unknown;
      try {
        parseInferenceProof(j);
      } catch (e) {
        err = e;
      }
      expect((err as { issues: { path: (string | number)[] }[] }).issues[0]!.path.join('.')).toBe(path);
    }
  });
});
