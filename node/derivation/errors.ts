/** Why derivation stopped or retries; callers branch on `code`, never on the message. */
import { CodedError } from '../../precompiles/errors.ts';
export const DerivationErrorCode = {
  /** The L1 block at the rollup config's l1Start has another hash: the config is for another L1. */
  WrongL1: 'WRONG_L1',
  /** L1 reorganised below the oldest L1 block derivation remembers. */
  ReorgTooDeep: 'REORG_TOO_DEEP',
  /** L1 changed under a read (a block's logs or transaction are gone): retried from the checkpoint. */
  L1Moved: 'L1_MOVED',
  /** A BatchSubmitted log whose transaction is not a direct submitBatch call to the Rollup. */
  NotDirect: 'NOT_DIRECT',
  /**
   * The calldata's header is not the one the log names, or keccak256(data) is not its dataHash
   * (thrown: L1 cannot hold that); or its data is not blocks that build on the derived chain
   * (undecodable, another count than the header's range, parent hashes not linking): an invalid batch.
   */
  BadBatch: 'BAD_BATCH',
  /** A batch whose blocks do not continue the derived chain (numbers, parent hashes). */
  Discontinuous: 'DISCONTINUOUS',
  /** A block's L1 side (origin, deposits, the system deposit recording them) is not L1's (attributes-check.ts). */
  BadAttributes: 'BAD_ATTRIBUTES',
  /** A derived block could not be imported (re-execution failed): L1 holds a block this node cannot execute. */
  ImportFailed: 'IMPORT_FAILED',
  /** The header's resultsRoot is not the root of its blocks' inference results (node/ai/batch-results.ts). */
  BadResults: 'BAD_RESULTS',
} as const;
export type DerivationErrorCode = (typeof DerivationErrorCode)[keyof typeof DerivationErrorCode];

export class DerivationError extends CodedError {
  override name = 'DerivationError';
  constructor(
    override readonly code: DerivationErrorCode,
    message: string = code,
  ) {
    super(message);
  }
}

/**
 * Errors that stop derivation for good: this node's rollup config does not fit its L1 (retrying
 * would give the same answer, and no later L1 block can change it).
 */
export const FATAL_CODES: ReadonlySet<DerivationErrorCode> = new Set([DerivationErrorCode.WrongL1, DerivationErrorCode.ReorgTooDeep]);

/**
 * Errors that prove one batch invalid (no valid chain has its blocks): the batch is refused and
 * derivation goes on with L1 (docs/protocol/derivation.md, "Invalid batches").
 */
export const INVALID_BATCH_CODES: ReadonlySet<DerivationErrorCode> = new Set([
  DerivationErrorCode.BadBatch,
  DerivationErrorCode.BadAttributes,
  DerivationErrorCode.ImportFailed,
  DerivationErrorCode.BadResults,
]);

export function isDerivationError(err: unknown, code?: DerivationErrorCode): err is DerivationError {
  return err instanceof DerivationError && (code === undefined || err.code === code);
}
