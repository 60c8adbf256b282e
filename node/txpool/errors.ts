/** Why the pool refused a transaction. Messages start with geth's text, which viem and ethers match on. */
import { CodedError } from '../../precompiles/errors.ts';
export const TxPoolErrorCode = {
  InvalidTx: 'INVALID_TX',
  TxTypeNotSupported: 'TX_TYPE_NOT_SUPPORTED',
  InvalidSender: 'INVALID_SENDER',
  InvalidChainId: 'INVALID_CHAIN_ID',
  Oversized: 'OVERSIZED',
  NonceTooLow: 'NONCE_TOO_LOW',
  AlreadyKnown: 'ALREADY_KNOWN',
  ReplacementUnderpriced: 'REPLACEMENT_UNDERPRICED',
  Underpriced: 'UNDERPRICED',
  TipAboveFeeCap: 'TIP_ABOVE_FEE_CAP',
  InsufficientFunds: 'INSUFFICIENT_FUNDS',
  IntrinsicGas: 'INTRINSIC_GAS',
  GasLimit: 'GAS_LIMIT',
  PoolFull: 'POOL_FULL',
  AccountLimit: 'ACCOUNT_LIMIT',
} as const;
export type TxPoolErrorCode = (typeof TxPoolErrorCode)[keyof typeof TxPoolErrorCode];

export class TxPoolError extends CodedError {
  constructor(
    override readonly code: TxPoolErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'TxPoolError';
  }
}
