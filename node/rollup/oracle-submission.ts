/**
 * One L1 submission per rollup batch: from the inference proofs of a batch (each with its
 * verifying key in the on-chain layout), the calldata of InferenceOracle.submitBatchProofs, the
 * result tree and, per inference, the leaf index and Merkle proof an L1 consumer passes to
 * isVerified. See contracts/interfaces/IInferenceOracle.sol for what the contract checks.
 *
 * Grouping: one group per distinct key (keccak256 of its bytes), groups in order of first
 * appearance and proofs in input order inside a group, so the leaf order is a function of the
 * input order alone. Everything the contract would refuse is refused here first, with the
 * input's position, so a prover never pays L1 gas to learn that an input was malformed.
 */
import { bytesToHex, encodeFunctionData, hexToBytes, keccak256 } from 'viem';
import type { Hex } from 'viem';
import { BN254_P, EncodingError, decodeVk, publicSignalsToWords } from '../../precompiles/groth16/encoding.ts';
import type { G2, VerifyingKey } from '../../precompiles/groth16/encoding.ts';
import { leafHash, merkleLevels, proofFromLevels } from './oracle-merkle.ts';
import { inferenceOracleAbi } from '../../contracts/abi/oracle.ts';
import { CodedError } from '../../precompiles/errors.ts';

/** The contract's MAX_PROOFS. */
export const MAX_PROOFS_PER_SUBMISSION = 1024;

export interface InferenceProofInput {
  /** Verifying key bytes (the registry's vk.bin layout), as bytes or 0x-hex. */
  vk: Uint8Array | Hex;
  /** The L2 model id: bookkeeping only, never part of a leaf (the oracle cannot check it). */
  modelId?: Hex;
  /** snarkjs order (IInferenceVerifier), decimal strings or numbers. */
  publicSignals: readonly (string | bigint | number)[];
  /** uint256[8] in EIP-197 order (prove.ts's proofWords). */
  proofWords: readonly (Hex | bigint)[];
}

export type BatchProofErrorCode = 'EMPTY' | 'TOO_MANY' | 'BAD_KEY' | 'SIGNAL_COUNT' | 'BAD_SIGNAL' | 'BAD_PROOF';

export class BatchProofError extends CodedError {
  override name = 'BatchProofError';
  constructor(
    override readonly code: BatchProofErrorCode,
    /** Position of the offending input, when one is to blame. */
    readonly item: number | undefined,
    message: string,
  ) {
    super(item === undefined ? message : `inference ${item}: ${message}`);
  }
}

export type ProofWords = readonly [bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint];

/** One ProofGroup argument of submitBatchProofs. */
export interface ProofGroupArg {
  vkHash: Hex;
  /** The key bytes, or 0x when the key is stored on L1 (addKey). */
  vk: Hex;
  publicInputs: bigint[];
  proofs: ProofWords[];
}

export interface PlacedInference {
  /** Position in the list given to buildBatchSubmission. */
  item: number;
  leafIndex: number;
  leaf: Hex;
  vkHash: Hex;
  modelId?: Hex;
  publicSignals: bigint[];
  /** Siblings for isVerified(batchIndex, vkHash, publicSignals, leafIndex, merkleProof). */
  merkleProof: Hex[];
}

export interface BatchSubmission {
  batchIndex: bigint;
  groups: ProofGroupArg[];
  /** Leaf-index order (what the BatchProofsVerified event carries). */
  leaves: Hex[];
  root: Hex;
  /** One per input, in input order. */
  placed: PlacedInference[];
  /** submitBatchProofs(batchIndex, groups), ABI-encoded with the selector. */
  calldata: Hex;
}

export interface BuildOptions {
  /** vkHashes stored on L1 with addKey: their groups carry the hash only (no key bytes). */
  storedKeys?: Iterable<Hex>;
}

interface Checked {
  item: number;
  vkHash: Hex;
  vkHex: Hex;
  modelId?: Hex;
  signals: bigint[];
  words: ProofWords;
}

/**
 * What the oracle refuses as degenerate (InvalidVerifyingKey code 5, contracts/l1/lib/Groth16Key.sol):
 * an identity point, two of beta, gamma, delta with the same x (equal up to sign), or two of
 * IC[1..n] with the same x. Every key the L2 registry accepts passes (it refuses more).
 */
export function degenerateKey(key: VerifyingKey): string | undefined {
  const g2 = [key.beta, key.gamma, key.delta];
  const zero = (...w: bigint[]) => w.every((x) => x === 0n);
  const sameX = (a: G2, b: G2) => a[0][0] === b[0][0] && a[0][1] === b[0][1];
  if (zero(...key.alpha) || g2.some((p) => zero(...p[0], ...p[1]))) return 'a point is the identity';
  if (g2.some((a, i) => g2.some((b, j) => j > i && sameX(a, b)))) return 'two of beta, gamma, delta are equal up to sign';
  if (key.ic.some((p) => zero(...p))) return 'an IC point is the identity';
  const xs = new Set(key.ic.slice(1).map((p) => p[0]));
  if (xs.size !== key.ic.length - 1) return 'two IC points (inputs) are equal up to sign';
  return undefined;
}

function checkKey(vk: Uint8Array | Hex, item: number, seen: Map<Hex, number>): { vkHash: Hex; vkHex: Hex; n: number } {
  const vkHex = typeof vk === 'string' ? (vk.toLowerCase() as Hex) : bytesToHex(vk);
  const vkHash = keccak256(vkHex);
  let n = seen.get(vkHash);
  if (n === undefined) {
    try {
      const key = decodeVk(hexToBytes(vkHex));
      const words = [key.alpha, key.beta[0], key.beta[1], key.gamma[0], key.gamma[1], key.delta[0], key.delta[1], ...key.ic].flat();
      if (words.some((w) => w >= BN254_P)) throw new EncodingError('a coordinate is not below the field modulus p');
      const degenerate = degenerateKey(key);
      if (degenerate !== undefined) throw new EncodingError(`degenerate key: ${degenerate}`);
      n = key.ic.length - 1;
    } catch (err) {
      if (err instanceof EncodingError) throw new BatchProofError('BAD_KEY', item, err.message);
      throw err;
    }
    seen.set(vkHash, n);
  }
  return { vkHash, vkHex, n };
}

function checkProofWords(words: readonly (Hex | bigint)[], item: number): ProofWords {
  if (words.length !== 8) throw new BatchProofError('BAD_PROOF', item, `a proof is 8 words, got ${words.length}`);
  const out = words.map((w, i) => {
    const v = typeof w === 'bigint' ? w : /^0x[0-9a-fA-F]{1,64}$/.test(w) ? BigInt(w) : -1n;
    if (v < 0n || v >= BN254_P) throw new BatchProofError('BAD_PROOF', item, `proof word ${i} is not a coordinate below p`);
    return v;
  });
  return out as unknown as ProofWords;
}

function checkItem(x: InferenceProofInput, item: number, keys: Map<Hex, number>): Checked {
  const { vkHash, vkHex, n } = checkKey(x.vk, item, keys);
  let signals: bigint[];
  try {
    signals = publicSignalsToWords(x.publicSignals);
  } catch (err) {
    if (err instanceof EncodingError) throw new BatchProofError('BAD_SIGNAL', item, err.message);
    throw err;
  }
  if (signals.length !== n) throw new BatchProofError('SIGNAL_COUNT', item, `${signals.length} public signals, the key takes ${n}`);
  return { item, vkHash, vkHex, modelId: x.modelId, signals, words: checkProofWords(x.proofWords, item) };
}

/** Groups in order of first appearance, items in input order inside each. */
function groupByKey(items: readonly Checked[]): Checked[][] {
  const groups = new Map<Hex, Checked[]>();
  for (const c of items) {
    const g = groups.get(c.vkHash);
    if (g === undefined) groups.set(c.vkHash, [c]);
    else g.push(c);
  }
  return [...groups.values()];
}

export function buildBatchSubmission(batchIndex: bigint, inferences: readonly InferenceProofInput[], opts: BuildOptions = {}): BatchSubmission {
  if (inferences.length === 0) throw new BatchProofError('EMPTY', undefined, 'a submission needs at least one proof');
  if (inferences.length > MAX_PROOFS_PER_SUBMISSION) {
    throw new BatchProofError('TOO_MANY', undefined, `${inferences.length} proofs, the oracle takes at most ${MAX_PROOFS_PER_SUBMISSION} per submission`);
  }
  const stored = new Set([...(opts.storedKeys ?? [])].map((h) => h.toLowerCase()));
  const keys = new Map<Hex, number>();
  const grouped = groupByKey(inferences.map((x, i) => checkItem(x, i, keys)));
  const ordered = grouped.flat();
  const groups = grouped.map(
    (g): ProofGroupArg => ({
      vkHash: g[0]!.vkHash,
      vk: stored.has(g[0]!.vkHash) ? '0x' : g[0]!.vkHex,
      publicInputs: g.flatMap((c) => c.signals),
      proofs: g.map((c) => c.words),
    }),
  );
  const leaves = ordered.map((c) => leafHash(c.vkHash, c.signals));
  const levels = merkleLevels(leaves);
  const placed: PlacedInference[] = ordered.map((c, leafIndex) => ({
    item: c.item,
    leafIndex,
    leaf: leaves[leafIndex]!,
    vkHash: c.vkHash,
    ...(c.modelId === undefined ? {} : { modelId: c.modelId }),
    publicSignals: c.signals,
    merkleProof: proofFromLevels(levels, leafIndex),
  }));
  placed.sort((a, b) => a.item - b.item);
  const calldata = encodeFunctionData({ abi: inferenceOracleAbi, functionName: 'submitBatchProofs', args: [batchIndex, groups] });
  return { batchIndex, groups, leaves, root: levels[levels.length - 1]![0]!, placed, calldata };
}

/** One inference a batch's blocks accepted, with the L2 proof the market checked. */
/** One inference a batch accepted, as the L2 logs and state give it. */
export interface FulfilledInference {
  requestId: bigint;
  modelId: Hex;
  /** The single circuit's output signals the L2 proof showed. */
  outputs: readonly bigint[];
  /** The request's input signals: the input values, or the input's Poseidon hash. */
  inputSignals: readonly bigint[];
  /** Its L2 proof, as buildBatchSubmission takes it. */
  single: InferenceProofInput;
  /** Who fulfilled it (the InferenceFulfilled log's prover). */
  prover: Hex;
  /** keccak256 of the verifying key the L2 verifier used. */
  vkHash: Hex;
}

/** A batch's proofs as they go to L1: aggregate (k-inference) proofs where a prover made them, single L2 proofs for the rest. */
export interface AggregatedBatch {
  /** The aggregate proofs (plan order), then the single proofs (batch order). */
  proofs: InferenceProofInput[];
  /** Per inference (batch order): its proof's index in `proofs`, and its slot in an aggregate one. */
  placement: { proof: number; slot?: number }[];
  aggregateProofs: number;
  /** Inferences covered by aggregate proofs. */
  aggregated: number;
}

/** Every inference with its own L2 proof: what goes to L1 without aggregation. */
export function singleProofs(inferences: readonly FulfilledInference[]): AggregatedBatch {
  return { proofs: inferences.map((x) => x.single), placement: inferences.map((_, i) => ({ proof: i })), aggregateProofs: 0, aggregated: 0 };
}
