/**
 * What `ai_getInferenceProof(requestId)` answers: one L2 inference result with everything an L1
 * contract (contracts/l1/lib/InferenceResults.sol) or an off-chain checker needs to prove it.
 * JSON numbers are hex quantities, as everywhere in JSON-RPC; `parseInferenceProof` reads an
 * answer back (a CLI file, another node's reply) into bigints, refusing anything malformed.
 */
import { isAddress, isHex } from 'viem';
import type { Address, Hex } from 'viem';
import { z } from 'zod';
import type { BatchHeader } from './batch-codec.ts';
import type { OutputRootParts } from './output-root.ts';
import type { InferenceResult } from './result-leaf.ts';

/** Where the leaf is: its batch (as the Rollup stores it) and its place in the results tree. */
export interface ResultInclusion {
  index: bigint;
  l1Block: bigint;
  l1TransactionHash: Hex;
  header: BatchHeader;
  leafIndex: number;
  leafCount: number;
  proof: Hex[];
}

/** The oracle's record of the result's own (single-inference) proof for that batch. */
export interface ResultOracleEvidence {
  submitter: Address;
  root: Hex;
  l1Block: bigint;
  l1TransactionHash: Hex;
  leaf: Hex;
  leafIndex: number;
  leafCount: number;
  proof: Hex[];
}

/** The first output over the leaf's batch, once proposed. */
export interface ResultOutput {
  index: bigint;
  batchIndex: bigint;
  l2Block: bigint;
  root: Hex;
  /** The root's preimage at l2Block (as rollup_outputAtBlock gives it). */
  outputRootProof: OutputRootParts;
  finalized: boolean;
}

export interface InferenceProof {
  requestId: bigint;
  l2Block: { number: bigint; hash: Hex };
  result: InferenceResult;
  /** The request's input signals: inputHash's preimage, the oracle leaf's inputs. */
  inputSignals: bigint[];
  leaf: Hex;
  /** null until a batch holding the result's block is on L1. */
  batch: ResultInclusion | null;
  /** null until a single-inference proof of the result is verified for the batch. */
  oracle: ResultOracleEvidence | null;
  /** The oracle attested the batch's results (IInferenceOracle.attestBatch): verifyAttested holds. */
  attested: boolean;
  output: ResultOutput | null;
  final: boolean;
}

const hex32 = z.string().refine((s) => isHex(s) && s.length === 66, 'expected 32 bytes of hex') as unknown as z.ZodType<Hex>;
const address = z.string().refine((s) => isAddress(s, { strict: false }), 'expected an address') as unknown as z.ZodType<Address>;
const quantity = z
  .string()
  .regex(/^0x(0|[1-9a-fA-F][0-9a-fA-F]{0,63})$/, 'expected a hex quantity')
  .transform((s) => BigInt(s));
const index = quantity.refine((n) => n < 2n ** 32n, 'index too large').transform(Number);
const proof = z.array(hex32).max(64);

const schema = z.object({
  requestId: quantity,
  l2Block: z.object({ number: quantity, hash: hex32 }),
  result: z.object({
    chainId: quantity,
    requestId: quantity,
    modelId: hex32,
    vkHash: hex32,
    inputHash: hex32,
    prover: address,
    outputs: z.array(quantity).max(1024),
  }),
  inputSignals: z.array(quantity).max(1 << 16),
  leaf: hex32,
  batch: z
    .object({
      index: quantity,
      l1Block: quantity,
      l1TransactionHash: hex32,
      header: z.object({
        index: quantity,
        prevBatchHash: hex32,
        firstBlock: quantity,
        lastBlock: quantity,
        dataHash: hex32,
        depositCount: quantity,
        depositHash: hex32,
        resultsRoot: hex32,
      }),
      leafIndex: index,
      leafCount: index,
      proof,
    })
    .nullable(),
  oracle: z
    .object({
      submitter: address,
      root: hex32,
      l1Block: quantity,
      l1TransactionHash: hex32,
      leaf: hex32,
      leafIndex: index,
      leafCount: index,
      proof,
    })
    .nullable(),
  attested: z.boolean(),
  output: z
    .object({
      index: quantity,
      batchIndex: quantity,
      l2Block: quantity,
      root: hex32,
      outputRootProof: z.object({ version: hex32, stateRoot: hex32, messagePasserStorageRoot: hex32, blockHash: hex32 }),
      finalized: z.boolean(),
    })
    .nullable(),
  final: z.boolean(),
});

/** Reads an ai_getInferenceProof answer (JSON); throws a zod error naming the bad field. */
export function parseInferenceProof(json: unknown): InferenceProof {
  return schema.parse(json) as InferenceProof;
}

const q = (n: bigint | number) => `0x${n.toString(16)}`;

/** The JSON form ai_getInferenceProof answers with (parseInferenceProof's inverse). */
export function inferenceProofJson(p: InferenceProof): Record<string, unknown> {
  const { result: r, batch: b, oracle: o, output: out } = p;
  return {
    requestId: q(p.requestId),
    l2Block: { number: q(p.l2Block.number), hash: p.l2Block.hash },
    result: { ...r, chainId: q(r.chainId), requestId: q(r.requestId), outputs: r.outputs.map(q) },
    inputSignals: p.inputSignals.map(q),
    leaf: p.leaf,
    batch:
      b === null
        ? null
        : {
            index: q(b.index),
            l1Block: q(b.l1Block),
            l1TransactionHash: b.l1TransactionHash,
            header: {
              ...b.header,
              index: q(b.header.index),
              firstBlock: q(b.header.firstBlock),
              lastBlock: q(b.header.lastBlock),
              depositCount: q(b.header.depositCount),
            },
            leafIndex: q(b.leafIndex),
            leafCount: q(b.leafCount),
            proof: b.proof,
          },
    oracle: o === null ? null : { ...o, l1Block: q(o.l1Block), leafIndex: q(o.leafIndex), leafCount: q(o.leafCount) },
    attested: p.attested,
    output: out === null ? null : { ...out, index: q(out.index), batchIndex: q(out.batchIndex), l2Block: q(out.l2Block) },
    final: p.final,
  };
}
