/**
 * Fixture of the InferenceOracle's Foundry tests: real Groth16 proofs of the 16-16-4 example
 * model (precompiles/model/examples/tiny-16-16-4.json) made with snarkjs, in three circuits (so a
 * submission has three key groups): private input (5 public signals), public input (20), and four
 * inferences in one circuit (prover/circuit/multi.ts, 8 signals).
 *
 * Two files in contracts/test/foundry/fixtures/:
 *  - InferenceOracleProofs.json: keys, inputs, public signals and proof words. A Groth16 setup
 *    is random, so proofs cannot be regenerated bit for bit: this file is the source of truth,
 *    rewritten only by `npx tsx contracts/tools/oracle-fixture.ts --reprove` (compiles and sets up
 *    the circuits, cached in .cache/aggregate; the 4-inference circuit needs a K=13 ptau, made
 *    locally in ~4 min if none is cached).
 *  - InferenceOracleFixture.sol: generated from the JSON by node/rollup/oracle-submission.ts
 *    (groups, submission calldata, Merkle root and proofs), so the Foundry tests also check the
 *    TypeScript encoding against the contract. Deterministic: `npm run contracts:build` rewrites
 *    it and test/unit/aggregate-fixture.test.ts checks the committed file is current.
 *    It also holds a stranger's submission: made-up statements (the private-input proofs' claims
 *    with their first output changed) "proven" under a key whose trapdoor its maker knows
 *    (stranger-key.ts), as anyone can submit them for a batch before the honest poster does.
 */
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { bn254 } from '@noble/curves/bn254.js';
import { bytesToHex, keccak256, numberToHex } from 'viem';
import type { Hex } from 'viem';
import { type InferenceProofInput, buildBatchSubmission } from '../../node/rollup/oracle-submission.ts';
import { mulberry32, randomInput } from '../../precompiles/model/random.ts';
import { parseModelSpecText } from '../../precompiles/model/spec.ts';
import { CONTRACTS_DIR } from '../compile.ts';
import { strangerKey } from './stranger-key.ts';

const FIXTURES = join(CONTRACTS_DIR, 'test/foundry/fixtures');
export const ORACLE_PROOFS_PATH = join(FIXTURES, 'InferenceOracleProofs.json');
export const ORACLE_FIXTURE_PATH = join(FIXTURES, 'InferenceOracleFixture.sol');
const TINY_SPEC = join(CONTRACTS_DIR, '../precompiles/model/examples/tiny-16-16-4.json');

export type FixtureKey = 'private' | 'public' | 'multi4';

export interface OracleProofs {
  model: string;
  modelId: Hex;
  keys: Record<FixtureKey, { circuit: string; vk: Hex }>;
  /** In submission order; batch-proof.ts groups them by key. */
  inferences: { key: FixtureKey; inputs: number[][]; publicSignals: string[]; proofWords: Hex[] }[];
}

/** The proofs in the order the fixture lists them: keys interleaved, so grouping is exercised. */
const PLAN: readonly FixtureKey[] = ['private', 'public', 'multi4', 'private', 'public', 'private'];

export async function generateOracleProofs(): Promise<OracleProofs> {
  // loaded here only: `npm run contracts:build` regenerates the Solidity without circuits or snarkjs
  const { cachedModel, cachedMultiCircuit, proveMulti } = await import('../../prover/aggregate/circuits.ts');
  const { proveInference } = await import('../../prover/pipeline/prove.ts');
  const spec = parseModelSpecText(readFileSync(TINY_SPEC, 'utf8'));
  const priv = await cachedModel(spec, 'private');
  const pub = await cachedModel(spec, 'public');
  const multi = await cachedMultiCircuit(spec, 4);
  const rng = mulberry32(5_0001);
  const inferences: OracleProofs['inferences'] = [];
  for (const key of PLAN) {
    if (key === 'multi4') {
      const inputs = Array.from({ length: 4 }, () => randomInput(rng, spec.model));
      const p = await proveMulti(spec, multi, inputs);
      inferences.push({ key, inputs: inputs.map((i) => Array.from(i)), publicSignals: p.publicSignals, proofWords: p.proofWords });
    } else {
      const input = Array.from(randomInput(rng, spec.model));
      const p = await proveInference(key === 'private' ? priv : pub, input);
      inferences.push({ key, inputs: [input], publicSignals: p.publicSignals, proofWords: p.proofWords });
    }
  }
  const vk = (dir: string): Hex => bytesToHex(readFileSync(join(dir, 'vk.bin')));
  return {
    model: spec.name,
    modelId: priv.manifest.modelId,
    keys: {
      private: { circuit: 'private input: outputs, inputHash', vk: vk(priv.dir) },
      public: { circuit: 'public input: outputs, 16 input values', vk: vk(pub.dir) },
      multi4: { circuit: 'prover/circuit/multi.ts, k = 4: per slot packed outputs, inputHash', vk: vk(multi.dir) },
    },
    inferences,
  };
}

export function loadOracleProofs(): OracleProofs {
  return JSON.parse(readFileSync(ORACLE_PROOFS_PATH, 'utf8')) as OracleProofs;
}

export function fixtureInferences(f: OracleProofs): InferenceProofInput[] {
  return f.inferences.map((x) => ({ vk: f.keys[x.key].vk, modelId: f.modelId, publicSignals: x.publicSignals, proofWords: x.proofWords }));
}

/** A point on the BN254 twist outside its order-r subgroup (the first x = 1, 2, ... that has one). */
export function g2OffSubgroup(): bigint[] {
  const { Fp2 } = bn254.fields;
  const G2 = bn254.G2.Point;
  const b = Fp2.div(Fp2.create({ c0: 3n, c1: 0n }), Fp2.create({ c0: 9n, c1: 1n }));
  for (let i = 1n; ; i++) {
    const x = Fp2.create({ c0: i, c1: 0n });
    const rhs = Fp2.add(Fp2.mul(Fp2.sqr(x), x), b);
    let y: typeof x;
    try {
      y = Fp2.sqrt(rhs);
    } catch {
      continue; // not a square: no point with this x
    }
    if (!G2.fromAffine({ x, y }).isTorsionFree()) return [x.c1, x.c0, y.c1, y.c0]; // EIP-197 order
  }
}

const word = (v: bigint | string): Hex => numberToHex(BigInt(v), { size: 32 });
const hexLit = (h: Hex): string => `hex"${h.slice(2)}"`;
const upper = (k: string): string => `VK_${k.toUpperCase()}`;

function groupsFunction(sub: ReturnType<typeof buildBatchSubmission>, nameOf: Map<string, string>, fn = 'groups'): string {
  const lines: string[] = [
    `    function ${fn}() internal pure returns (IInferenceOracle.ProofGroup[] memory g) {`,
    `        g = new IInferenceOracle.ProofGroup[](${sub.groups.length});`,
  ];
  sub.groups.forEach((grp, gi) => {
    const name = upper(nameOf.get(grp.vkHash)!);
    lines.push(`        g[${gi}].vkHash = ${name}_HASH;`, `        g[${gi}].vk = ${name};`);
    lines.push(`        g[${gi}].publicInputs = new uint256[](${grp.publicInputs.length});`);
    grp.publicInputs.forEach((x, i) => lines.push(`        g[${gi}].publicInputs[${i}] = ${x};`));
    lines.push(`        g[${gi}].proofs = new uint256[8][](${grp.proofs.length});`);
    grp.proofs.forEach((p, i) => lines.push(`        g[${gi}].proofs[${i}] = [${p.map((w, j) => (j === 0 ? `uint256(${word(w)})` : word(w))).join(', ')}];`));
  });
  return [...lines, '    }'].join('\n');
}

/** The stranger's submission: each private-input claim with its first output one higher. */
export function strangerSubmission(f: OracleProofs): ReturnType<typeof buildBatchSubmission> {
  const claims = f.inferences.filter((x) => x.key === 'private').map((x) => x.publicSignals.map((v, j) => (j === 0 ? BigInt(v) + 1n : BigInt(v))));
  const key = strangerKey(claims[0]!.length);
  return buildBatchSubmission(
    0n,
    claims.map((c) => ({ vk: key.vk, ...key.prove(c) })),
  );
}

function strangerSource(f: OracleProofs): string {
  const sub = strangerSubmission(f);
  const vk = sub.groups[0]!.vk;
  const placed = [...sub.placed].sort((a, b) => a.leafIndex - b.leafIndex);
  return `    /// @notice a stranger's key: not degenerate, but its maker knows the trapdoor (contracts/tools/stranger-key.ts)
    bytes internal constant VK_STRANGER = ${hexLit(vk)};
    bytes32 internal constant VK_STRANGER_HASH = ${sub.groups[0]!.vkHash};
    uint256 internal constant STRANGER_LEAF_COUNT = ${sub.leaves.length};
    bytes32 internal constant STRANGER_ROOT = ${sub.root};

    /// @notice made-up claims (the private-input ones, first output + 1) "proven" under VK_STRANGER
${groupsFunction(sub, new Map([[sub.groups[0]!.vkHash, 'stranger']]), 'strangerGroups')}

${bytes32Switch(
  'strangerStatement',
  "stranger's leaf i as [vkHash, public signals...]",
  placed.map((p) => [p.vkHash, ...p.publicSignals.map(word)]),
)}

${bytes32Switch(
  'strangerMerkleProof',
  "siblings of the stranger's leaf i",
  placed.map((p) => p.merkleProof),
)}`;
}

function bytes32Switch(fn: string, doc: string, values: Hex[][]): string {
  const cases = values.map((v, i) => {
    const items = v.map((h, j) => `            a[${j}] = ${h};`).join('\n');
    return `        if (i == ${i}) {\n            a = new bytes32[](${v.length});\n${items}\n        }`;
  });
  return `    /// @notice ${doc}\n    function ${fn}(uint256 i) internal pure returns (bytes32[] memory a) {\n${cases.join('\n')}\n    }`;
}

export function oracleFixtureSource(f: OracleProofs = loadOracleProofs()): string {
  const items = fixtureInferences(f);
  const inline = buildBatchSubmission(0n, items);
  const keyHashes = Object.fromEntries(Object.entries(f.keys).map(([k, v]) => [k, keccak256(v.vk)])) as Record<FixtureKey, Hex>;
  const stored = buildBatchSubmission(1n, items, { storedKeys: Object.values(keyHashes) });
  const nameOf = new Map(Object.entries(keyHashes).map(([k, h]) => [h, k as FixtureKey]));
  const byLeaf = [...inline.placed].sort((a, b) => a.leafIndex - b.leafIndex);
  const keys = (Object.keys(f.keys) as FixtureKey[])
    .map(
      (k) =>
        `    /// @notice ${f.keys[k].circuit}\n    bytes internal constant ${upper(k)} = ${hexLit(f.keys[k].vk)};\n    bytes32 internal constant ${upper(k)}_HASH = ${keyHashes[k]};`,
    )
    .join('\n');
  const signals = byLeaf.map((p) => [p.vkHash, ...p.publicSignals.map(word)]);
  return `// SPDX-License-Identifier: MIT
// GENERATED by contracts/tools/oracle-fixture.ts from InferenceOracleProofs.json (npm run contracts:build): do not edit.
pragma solidity ^0.8.24;

import { IInferenceOracle } from "../../../interfaces/IInferenceOracle.sol";

/// @notice Real snarkjs proofs of ${f.model} (model id ${f.modelId}): ${f.inferences.length} proofs of ${f.inferences.reduce((n, x) => n + x.inputs.length, 0)} inferences under ${Object.keys(f.keys).length} keys, grouped and encoded by node/rollup/oracle-submission.ts.
library OracleFixture {
${keys}

    uint256 internal constant LEAF_COUNT = ${inline.leaves.length};
    uint256 internal constant GROUP_COUNT = ${inline.groups.length};
    bytes32 internal constant ROOT = ${inline.root};
    /// @notice submitBatchProofs(0, groups()) as batch-proof.ts encodes it
    bytes internal constant SUBMISSION = ${hexLit(inline.calldata)};
    /// @notice submitBatchProofs(1, groups() without key bytes): every key stored with addKey
    bytes internal constant SUBMISSION_STORED_KEYS = ${hexLit(stored.calldata)};

${groupsFunction(inline, nameOf)}

${bytes32Switch('leafStatement', 'leaf i as [vkHash, public signals...]', signals)}

${bytes32Switch(
  'merkleProof',
  'siblings of leaf i, as batch-proof.ts computes them',
  byLeaf.map((p) => p.merkleProof),
)}

    function leaves() internal pure returns (bytes32[] memory a) {
        a = new bytes32[](${inline.leaves.length});
${inline.leaves.map((l, i) => `        a[${i}] = ${l};`).join('\n')}
    }

    /// @notice on the twist (EIP-197 word order) but outside the order-r subgroup
    function g2OffSubgroup() internal pure returns (uint256[4] memory) {
        return [${g2OffSubgroup()
          .map((w, j) => (j === 0 ? `uint256(${word(w)})` : word(w)))
          .join(', ')}];
    }

${strangerSource(f)}
}
`;
}

export async function writeOracleFixture(): Promise<string> {
  await writeFile(ORACLE_FIXTURE_PATH, oracleFixtureSource());
  return `wrote ${ORACLE_FIXTURE_PATH}`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  if (process.argv.includes('--reprove')) {
    await writeFile(ORACLE_PROOFS_PATH, `${JSON.stringify(await generateOracleProofs(), null, 2)}\n`);
    process.stdout.write(`wrote ${ORACLE_PROOFS_PATH}\n`);
  }
  process.stdout.write(`${await writeOracleFixture()}\n`);
}
