/** JSON-RPC server settings; the CLI maps its flags onto these. */
export interface RpcOptions {
  host: string;
  port: number;
  /** Largest request body accepted, bytes (geth: 5 MiB). */
  maxBodyBytes: number;
  /** Most calls in one batch (geth: 1000). */
  maxBatch: number;
  /** Widest block range of one eth_getLogs. */
  logsMaxRange: number;
  /** Most logs one eth_getLogs returns before it asks for a narrower range. */
  logsMaxResults: number;
  /** Gas ceiling of eth_call and eth_estimateGas (geth: 50M). */
  gasCap: bigint;
  /** Seconds an unpolled filter lives (geth: 5 minutes). */
  filterTimeout: number;
}

export const defaultRpcOptions: RpcOptions = {
  host: '127.0.0.1',
  port: 8545,
  maxBodyBytes: 5 * 1024 * 1024,
  maxBatch: 1000,
  logsMaxRange: 100_000,
  logsMaxResults: 10_000,
  gasCap: 50_000_000n,
  filterTimeout: 300,
};
