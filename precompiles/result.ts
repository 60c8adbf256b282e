/**
 * ExecResult builders for the AI precompiles, with ethereumjs v10's semantics:
 *
 * - success: `{ executionGasUsed, returnValue }`.
 * - revert: `exceptionError: new EVMError(REVERT)` with returnValue = the ABI-encoded custom
 *   error. The EVM then treats it like Solidity's REVERT: the caller's CALL pushes 0, its
 *   RETURNDATA holds our bytes (interpreter: returnBytes is kept for REVERT only), the frame's
 *   state changes are rolled back, and only `executionGasUsed` is taken from the gas passed in.
 * - out of gas: `OOGResult`-style, executionGasUsed = gasLimit, empty return data (an
 *   exceptional halt consumes all gas given to the frame, like any EVM out-of-gas).
 */
import { EVMError, type ExecResult } from '@ethereumjs/evm';
import { type Abi, encodeErrorResult, hexToBytes } from 'viem';

export function ok(gasUsed: bigint, returnValue: Uint8Array): ExecResult {
  return { executionGasUsed: gasUsed, returnValue };
}

export function revert(gasUsed: bigint, data: Uint8Array = new Uint8Array(0)): ExecResult {
  return { executionGasUsed: gasUsed, returnValue: data, exceptionError: new EVMError(EVMError.errorMessages.REVERT) };
}

export function outOfGas(gasLimit: bigint): ExecResult {
  return { executionGasUsed: gasLimit, returnValue: new Uint8Array(0), exceptionError: new EVMError(EVMError.errorMessages.OUT_OF_GAS) };
}

/** Reverts with an interface's custom error (ABI-encoded selector + arguments). */
export function revertWith(abi: Abi, gasUsed: bigint, errorName: string, args: readonly unknown[]): ExecResult {
  const data = encodeErrorResult({ abi, errorName, args } as Parameters<typeof encodeErrorResult>[0]);
  return revert(gasUsed, hexToBytes(data));
}

/**
 * Gas accounting for one call: charges accumulate, and a charge past the limit is an
 * out-of-gas halt. `charge` returns false when the limit is exceeded so the caller can stop.
 */
export class Meter {
  used = 0n;
  constructor(readonly limit: bigint) {}

  charge(gas: bigint): boolean {
    this.used += gas;
    return this.used <= this.limit;
  }

  /** Checks a future total without committing it (price the work before doing it). */
  affords(gas: bigint): boolean {
    return this.used + gas <= this.limit;
  }
}
