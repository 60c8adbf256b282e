/**
 * A proof job on the jobs gossip topic: an open InferenceMarket request, with what a prover
 * needs beyond the chain: the raw input (a private-input request carries only its hash on chain)
 * and the hash of the model's package manifest (to fetch circuit and keys by content hash).
 *
 * JSON, because it is small and every field is checked here before anything acts on it. The
 * checks need no chain access, so every peer runs them before relaying: the input must be the one
 * the request's public signals name (equal values for a public-input model, the Poseidon hash for
 * a private-input one). Whether the request exists and is still open is the prover's to check on
 * chain before it claims.
 */
import { z } from 'zod';
import { inputHash } from '../../../precompiles/model/input-hash.ts';
import { CodedError } from '../../../precompiles/errors.ts';

export const JOB_MESSAGE_VERSION = 1;

const uint = z.string().regex(/^(0|[1-9][0-9]{0,77})$/, 'a decimal integer');
const bytes32 = z.string().regex(/^0x[0-9a-fA-F]{64}$/, 'a 0x-prefixed 32-byte hex string');

const jobSchema = z.strictObject({
  v: z.literal(JOB_MESSAGE_VERSION),
  chainId: uint,
  requestId: uint,
  modelId: bytes32,
  inputSignals: z.array(uint).min(1).max(4096),
  /** uint8 values; absent when the prover can take them from inputSignals (public input). */
  input: z
    .array(z.number().int().min(0).max(255))
    .max(1 << 16)
    .optional(),
  fee: uint,
  deadline: z.number().int().nonnegative(),
  outputCount: z.number().int().positive().max(4096),
  /** sha256 (hex) of the model package's manifest.json, when the announcer holds the package. */
  manifest: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional(),
});

export type JobMessage = z.infer<typeof jobSchema>;

export class JobMessageError extends CodedError {
  override name = 'JobMessageError';
  constructor(
    override readonly code: 'MALFORMED' | 'WRONG_CHAIN' | 'INPUT_MISMATCH',
    message: string,
  ) {
    super(message);
  }
}

export function encodeJob(job: JobMessage): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(jobSchema.parse(job)));
}

/** Parses and checks a job message; throws JobMessageError (a reason to reject the message). */
export function decodeJob(bytes: Uint8Array, chainId: bigint): JobMessage {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (err) {
    throw new JobMessageError('MALFORMED', `not UTF-8 JSON: ${(err as Error).message}`);
  }
  const parsed = jobSchema.safeParse(json);
  if (!parsed.success) throw new JobMessageError('MALFORMED', parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  const job = parsed.data;
  if (BigInt(job.chainId) !== chainId) throw new JobMessageError('WRONG_CHAIN', `job for chain ${job.chainId}, this is chain ${chainId}`);
  jobInput(job);
  return job;
}

/**
 * The raw input a job's proof must be made from: its `input` checked against the public signals,
 * else the signals themselves when they can be an input (a public-input request).
 */
export function jobInput(job: Pick<JobMessage, 'inputSignals' | 'input'>): number[] {
  const signals = job.inputSignals.map(BigInt);
  if (job.input === undefined) {
    if (signals.some((s) => s > 255n)) throw new JobMessageError('INPUT_MISMATCH', 'the signals are not input values (a private-input request) and the job carries no input');
    return signals.map(Number);
  }
  const asValues = signals.length === job.input.length && signals.every((s, i) => s === BigInt(job.input![i]!));
  const asHash = signals.length === 1 && inputHash(Uint8Array.from(job.input)) === signals[0];
  if (!asValues && !asHash) throw new JobMessageError('INPUT_MISMATCH', 'the input is not the one the request names (neither its values nor its Poseidon hash)');
  return job.input;
}
