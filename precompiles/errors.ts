/**
 * The base of every error the project throws on purpose: a stable `code` a caller branches on (a
 * string such as `NONCE_TOO_LOW`, or a JSON-RPC number for RpcError) and a message for people,
 * which may change. It lives on the ground floor (precompiles/) so every folder can extend it.
 */
export class CodedError<Code extends string | number = string> extends Error {
  /** Set by each subclass: a constructor parameter, or a constant for errors of one kind. */
  declare readonly code: Code;

  constructor(message?: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}
