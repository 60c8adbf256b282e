/** Why a block was not taken; callers branch on `code`, never on the message. */
import { CodedError } from '../../precompiles/errors.ts';
export const SyncErrorCode = {
  /** The gossip payload is not a signature followed by a block RLP. */
  Malformed: 'MALFORMED',
  /** Not a canonical 65-byte secp256k1 signature (r || s || v, low s, v 27 or 28), or nothing recovers from it. */
  BadSignature: 'BAD_SIGNATURE',
  /** A valid signature by someone other than the chain's block signer. */
  WrongSigner: 'WRONG_SIGNER',
  /** The body does not match the header's transactions root, so the signed hash would not cover it. */
  BodyMismatch: 'BODY_MISMATCH',
  /** Number or timestamp do not follow the parent. */
  BadHeader: 'BAD_HEADER',
  /** A transaction of the block cannot execute on the parent state. */
  InvalidTx: 'INVALID_TX',
  /** Re-executed, the block does not rebuild to the hash received (state root, receipts, gas used, ...). */
  ExecutionMismatch: 'EXECUTION_MISMATCH',
  /** The block is already in the chain. */
  Known: 'KNOWN',
  /** A different block at a height this node already has (kept and caught up to, as a reorg of the unsafe chain, when signed). */
  Conflict: 'CONFLICT',
  /** The parent is not this node's head: kept as an orphan while the range in between is fetched. */
  UnknownParent: 'UNKNOWN_PARENT',
  /** A blocks-by-range answer that is not the requested, chained range. */
  BadRange: 'BAD_RANGE',
  /** The blocks leading to a signed block do not lead back to this node's chain (another genesis, a fork). */
  NotConnected: 'NOT_CONNECTED',
  /** A signed chain that forks below the safe head (derived from L1, which wins) or deeper than maxReorgDepth. */
  ReorgTooDeep: 'REORG_TOO_DEEP',
  /** No connected peer served the range. */
  NoPeer: 'NO_PEER',
  Stopped: 'STOPPED',
} as const;
export type SyncErrorCode = (typeof SyncErrorCode)[keyof typeof SyncErrorCode];

/** Codes that prove the sender wrong: the gossip message is rejected and its relayer scored down. */
export const REJECT_CODES: ReadonlySet<SyncErrorCode> = new Set([
  SyncErrorCode.Malformed,
  SyncErrorCode.BadSignature,
  SyncErrorCode.WrongSigner,
  SyncErrorCode.BodyMismatch,
  SyncErrorCode.BadHeader,
  SyncErrorCode.InvalidTx,
  SyncErrorCode.ExecutionMismatch,
]);

export class SyncError extends CodedError {
  override name = 'SyncError';
  constructor(
    override readonly code: SyncErrorCode,
    message: string = code,
  ) {
    super(message);
  }
}

export function isSyncError(err: unknown, code?: SyncErrorCode): err is SyncError {
  return err instanceof SyncError && (code === undefined || err.code === code);
}
