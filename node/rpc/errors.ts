import { TxPoolError } from '../txpool/errors.ts';
import { ExecutionError } from '../chain/call.ts';
import { ExecutionTimeoutError } from '../chain/execution-budget.ts';
import { TraceTooLargeError } from '../trace/prestate-tracer.ts';
import { CodedError } from '../../precompiles/errors.ts';

/** JSON-RPC error codes as geth uses them; viem and ethers classify errors by these. */
export const RpcCode = {
  ParseError: -32700,
  InvalidRequest: -32600,
  MethodNotFound: -32601,
  InvalidParams: -32602,
  Internal: -32603,
  Server: -32000,
  LimitExceeded: -32005,
  ExecutionReverted: 3,
} as const;

export class RpcError extends CodedError<number> {
  constructor(
    override readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
    this.name = 'RpcError';
  }
}

export const invalidParams = (msg: string): RpcError => new RpcError(RpcCode.InvalidParams, msg);
export const headerNotFound = (): RpcError => new RpcError(RpcCode.Server, 'header not found');

export interface RpcErrorBody {
  code: number;
  message: string;
  data?: unknown;
}

/** The one place a thrown error becomes a JSON-RPC error object. */
export function toRpcError(err: unknown): RpcErrorBody {
  if (err instanceof RpcError) return withData({ code: err.code, message: err.message }, err.data);
  if (err instanceof TxPoolError) return { code: RpcCode.Server, message: err.message };
  if (err instanceof ExecutionTimeoutError) return { code: RpcCode.Server, message: err.message };
  if (err instanceof TraceTooLargeError) return { code: RpcCode.LimitExceeded, message: err.message };
  if (err instanceof ExecutionError) {
    return withData({ code: err.reverted ? RpcCode.ExecutionReverted : RpcCode.Server, message: err.message }, err.data);
  }
  return { code: RpcCode.Internal, message: err instanceof Error ? err.message : String(err) };
}

function withData(body: RpcErrorBody, data: unknown): RpcErrorBody {
  return data === undefined ? body : { ...body, data };
}
