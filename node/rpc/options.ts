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
  /** Most addresses, and most alternatives at one topic position, in a log query, filter or subscription (geth: --rpc.logquerylimit, 1000). */
  logQueryLimit: number;
  /** Installed filters, all clients together. */
  maxFilters: number;
  /** Installed filters per client: a WebSocket connection, or an IP over HTTP. */
  maxFiltersPerClient: number;
  /** Bytes (JSON estimate) of changes one filter buffers between polls before it is dropped. */
  filterMaxBytes: number;
  /** eth_subscribe subscriptions, all connections together. */
  maxSubscriptions: number;
  /** Subscriptions per WebSocket connection (reth: --rpc.max-subscriptions-per-connection). */
  maxSubscriptionsPerConnection: number;
  /** Open WebSocket connections, all clients together. */
  wsMaxConnections: number;
  /** Open WebSocket connections from one IP. */
  wsMaxConnectionsPerIp: number;
  /** Bytes waiting to go out on one WebSocket (notifications, answers) before the socket is closed. */
  wsMaxQueuedBytes: number;
  /** Bytes of logs and hashes kept for all filters and WebSocket queues together; past it the largest holders of the heaviest client go. */
  maxHeldBytes: number;
  /** Wall-clock limit of one eth_call / eth_estimateGas, ms (geth --rpc.evmtimeout: 5 s). */
  evmTimeoutMs: number;
  /** How long one request (a batch as a whole) may keep calls waiting, ms (geth's HTTP write timeout: 30 s). */
  requestTimeoutMs: number;
  /** eth_call / eth_estimateGas executing at once, all clients. */
  callConcurrency: number;
  /** ... of one client at once; its others wait their turn. */
  callConcurrencyPerClient: number;
  /** ... one client may have waiting (a full batch fits). */
  callQueuePerClient: number;
  /** ... waiting, all clients. */
  callQueue: number;
}

const MiB = 1024 * 1024;

export const defaultRpcOptions: RpcOptions = {
  host: '127.0.0.1',
  port: 8545,
  maxBodyBytes: 5 * 1024 * 1024,
  maxBatch: 1000,
  logsMaxRange: 100_000,
  logsMaxResults: 10_000,
  gasCap: 50_000_000n,
  filterTimeout: 300,
  logQueryLimit: 1000,
  maxFilters: 4096,
  maxFiltersPerClient: 128,
  filterMaxBytes: 8 * MiB,
  maxSubscriptions: 4096,
  maxSubscriptionsPerConnection: 256,
  wsMaxConnections: 256,
  wsMaxConnectionsPerIp: 64,
  wsMaxQueuedBytes: 16 * MiB,
  maxHeldBytes: 256 * MiB,
  evmTimeoutMs: 5_000,
  requestTimeoutMs: 30_000,
  callConcurrency: 4,
  callConcurrencyPerClient: 2,
  callQueuePerClient: 1_000,
  callQueue: 8_192,
};
