/** Why a p2p operation failed; callers branch on `code`, never on the message. */
import { CodedError } from '../../precompiles/errors.ts';
export const P2PErrorCode = {
  /** The key file exists but does not hold a libp2p private key. */
  InvalidKeyFile: 'INVALID_KEY_FILE',
  /** A multiaddr in the options is malformed or lacks the /p2p/<peer id> it needs. */
  InvalidMultiaddr: 'INVALID_MULTIADDR',
  /** A listen address could not be bound (port in use, malformed, no transport for it). */
  ListenFailed: 'LISTEN_FAILED',
  NotStarted: 'NOT_STARTED',
  /** A stopped service cannot start again: libp2p keeps no clean restart path, so create a new one. */
  Stopped: 'STOPPED',
  UnknownTopic: 'UNKNOWN_TOPIC',
  /** A second handler for a topic or protocol: one handler each, so the validation result has one owner. */
  DuplicateHandler: 'DUPLICATE_HANDLER',
  MessageTooLarge: 'MESSAGE_TOO_LARGE',
  /** Request/response: the peer answered "not found". */
  NotFound: 'NOT_FOUND',
  /** The peer refused our request as malformed. */
  InvalidRequest: 'INVALID_REQUEST',
  /** The peer failed to answer (its own error). */
  ServerError: 'SERVER_ERROR',
  /** The response (or request) declared more bytes than the cap; the stream was cut. */
  ResponseTooLarge: 'RESPONSE_TOO_LARGE',
  /** The peer broke the framing: bad status, truncated body, bytes past the declared length. */
  ProtocolError: 'PROTOCOL_ERROR',
  /** The stream broke underneath (reset, connection lost): not proof of misbehaviour. */
  StreamFailed: 'STREAM_FAILED',
  Timeout: 'TIMEOUT',
  Aborted: 'ABORTED',
  /** Content-addressed fetch: the bytes do not hash to what was asked for. */
  HashMismatch: 'HASH_MISMATCH',
  /** Could not reach the peer, or it does not speak the protocol. */
  DialFailed: 'DIAL_FAILED',
} as const;
export type P2PErrorCode = (typeof P2PErrorCode)[keyof typeof P2PErrorCode];

export class P2PError extends CodedError {
  override name = 'P2PError';
  constructor(
    override readonly code: P2PErrorCode,
    message: string,
    readonly peer?: string,
  ) {
    super(message);
  }
}

export function isP2PError(err: unknown, code?: P2PErrorCode): err is P2PError {
  return err instanceof P2PError && (code === undefined || err.code === code);
}
