/**
 * Typed errors of the SDK: a contract's custom error decoded (name and arguments, from the
 * market's, the registry's, the precompiles' and the Bridge's ABIs), and the SDK's own waits.
 */
import { BaseError, ContractFunctionRevertedError } from 'viem';

/** A call or transaction reverted with a custom error of the rollup's contracts or precompiles. */
export class AiRollupContractError extends Error {
  constructor(
    readonly errorName: string,
    readonly args: readonly unknown[],
    options?: ErrorOptions,
  ) {
    super(`${errorName}(${args.map((a) => String(a)).join(', ')})`, options);
    this.name = 'AiRollupContractError';
  }
}

/** A request ended without a result (refunded), or the wait ran out. */
export class InferenceWaitError extends Error {
  constructor(
    readonly code: 'TIMEOUT' | 'REFUNDED' | 'UNKNOWN_REQUEST',
    message: string,
  ) {
    super(message);
    this.name = 'InferenceWaitError';
  }
}

/** A bridge wait that ran out, or a withdrawal that cannot be finalized yet. */
export class BridgeWaitError extends Error {
  constructor(
    readonly code: 'TIMEOUT' | 'NOT_FINALIZABLE' | 'UNKNOWN_WITHDRAWAL',
    message: string,
  ) {
    super(message);
    this.name = 'BridgeWaitError';
  }
}

/** Rethrows viem's revert as AiRollupContractError when it names a custom error. */
export function decodeRevert(err: unknown): never {
  const r = err instanceof BaseError ? (err.walk((e) => e instanceof ContractFunctionRevertedError) as ContractFunctionRevertedError | null) : null;
  if (r?.data?.errorName !== undefined) throw new AiRollupContractError(r.data.errorName, r.data.args ?? [], { cause: err });
  throw err;
}
