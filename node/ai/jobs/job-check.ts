/**
 * A job message against the chain: what every node checks before it relays a job, and every
 * prover before it queues one. A message names a market request; the request is the truth, so a
 * message is worth passing on only when it says what the chain says of that request.
 *
 *  - No such request (yet): IGNORE. The sender may be ahead of us (the request is in a block we
 *    have not imported), so it is not penalised, but nothing unverified is relayed or worked on.
 *  - The request exists and the message contradicts it (model, input signals, fee, deadline or
 *    output count): REJECT, the sender is scored down. An honest announcer copies these from the
 *    request's log and none of them ever changes on chain. The `input` of a private-input job was
 *    already checked against the signals by decodeJob, so against the request's commitment here.
 *  - The request is closed or expired: IGNORE (an honest announcement can cross its fulfilment).
 *
 * The `manifest` hash cannot be checked against anything on chain (two honest nodes may hold
 * different packages of one model); it stays a hint that a prover tries and falls back from.
 */
import type { Hex } from 'viem';
import type { JobMessage } from './job-message.ts';

/** A market request as the checker needs it (a node reads its head state, a prover its RPC). */
export interface RequestOnChain {
  modelId: Hex;
  open: boolean;
  deadline: bigint;
  fee: bigint;
  outputCount: number;
  inputSignals: readonly bigint[];
}

export type JobCheckCode = 'UNKNOWN_REQUEST' | 'WRONG_MODEL' | 'WRONG_INPUTS' | 'WRONG_TERMS' | 'CLOSED' | 'EXPIRED';

export type JobVerdict = { ok: true } | { ok: false; action: 'ignore' | 'reject'; code: JobCheckCode; message: string };

const ignore = (code: JobCheckCode, message: string): JobVerdict => ({ ok: false, action: 'ignore', code, message });
const reject = (code: JobCheckCode, message: string): JobVerdict => ({ ok: false, action: 'reject', code, message });

/** `req` undefined: no request with the job's id on this node's chain. */
export function checkJob(job: JobMessage, req: RequestOnChain | undefined, nowSeconds: bigint): JobVerdict {
  const id = job.requestId;
  if (req === undefined) return ignore('UNKNOWN_REQUEST', `request ${id} is not on this node's chain (yet)`);
  if (req.modelId.toLowerCase() !== job.modelId.toLowerCase()) return reject('WRONG_MODEL', `request ${id} is for model ${req.modelId}, the job names ${job.modelId}`);
  const signals = job.inputSignals;
  if (signals.length !== req.inputSignals.length || req.inputSignals.some((s, i) => s.toString() !== signals[i])) {
    return reject('WRONG_INPUTS', `the job's input signals are not request ${id}'s`);
  }
  if (BigInt(job.fee) !== req.fee || BigInt(job.deadline) !== req.deadline || job.outputCount !== req.outputCount) {
    return reject('WRONG_TERMS', `the job's fee, deadline or output count are not request ${id}'s`);
  }
  if (!req.open) return ignore('CLOSED', `request ${id} is closed`);
  if (req.deadline < nowSeconds) return ignore('EXPIRED', `request ${id} expired at ${req.deadline}`);
  return { ok: true };
}

export const nowSeconds = (): bigint => BigInt(Math.floor(Date.now() / 1000));
