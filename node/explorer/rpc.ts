/**
 * The explorer's only source: a node's JSON-RPC over HTTP (its own, or a remote node's with
 * `ai-rollup explorer --rpc`), through viem with request batching, so a page's few dozen reads
 * travel in a handful of HTTP requests.
 */
import { CodedError } from '../../precompiles/errors.ts';
import { type Abi, type Address, type Hex, type PublicClient, createPublicClient, http, toHex } from 'viem';

/** The thing a page asked for does not exist: a not-found page, not an error. */
export class NotFound extends CodedError<'NOT_FOUND'> {
  override readonly code = 'NOT_FOUND';

  constructor(readonly what: string) {
    super(`${what} not found`);
  }
}

export interface RpcBlock {
  number: Hex;
  hash: Hex;
  parentHash: Hex;
  timestamp: Hex;
  gasUsed: Hex;
  gasLimit: Hex;
  baseFeePerGas?: Hex;
  miner: Hex;
  size: Hex;
  stateRoot: Hex;
  transactions: (Hex | RpcTx)[];
}

export interface RpcTx {
  hash: Hex;
  from: Hex;
  to: Hex | null;
  value: Hex;
  nonce: Hex;
  input: Hex;
  gas: Hex;
  type: Hex;
  blockNumber: Hex | null;
  blockHash: Hex | null;
  transactionIndex: Hex | null;
  gasPrice?: Hex;
  maxFeePerGas?: Hex;
}

export interface RpcLog {
  address: Hex;
  topics: Hex[];
  data: Hex;
  logIndex: Hex;
  blockNumber?: Hex;
  transactionHash?: Hex;
}

export interface RpcReceipt {
  transactionHash: Hex;
  status: Hex;
  gasUsed: Hex;
  effectiveGasPrice: Hex;
  contractAddress: Hex | null;
  from: Hex;
  to: Hex | null;
  logs: RpcLog[];
  blockNumber: Hex;
  timestamp?: Hex;
}

export class ExplorerRpc {
  readonly client: PublicClient;

  /**
   * `url`: the node's JSON-RPC. `artifactBase`: where a browser fetches the node's `/artifacts/`
   * (empty when the explorer is served by that node, so links stay on the host the browser used).
   */
  constructor(
    readonly url: string,
    private readonly artifactBase = url.replace(/\/+$/, ''),
  ) {
    this.client = createPublicClient({ transport: http(url, { batch: { batchSize: 100, wait: 0 }, retryCount: 0, timeout: 15_000 }) });
  }

  artifactUrl(path: string): string {
    return `${this.artifactBase}${path}`;
  }

  /** Any method, by name: the node's eth_, ots_, ai_ and rollup_ methods alike. */
  call<T>(method: string, params: unknown[] = []): Promise<T> {
    return this.client.request({ method, params } as never) as Promise<T>;
  }

  /** Like `call`, but a method this node does not serve (a chain without rollup_, say) is undefined. */
  async optional<T>(method: string, params: unknown[] = []): Promise<T | undefined> {
    try {
      return await this.call<T>(method, params);
    } catch (err) {
      if (/-32601|not (found|served)|does not exist|needs a rollup node/i.test(String((err as Error).message) + String((err as { code?: number }).code))) return undefined;
      throw err;
    }
  }

  /** A view function of a contract at the head (eth_call through viem's ABI coding). */
  read<T>(address: Address, abi: Abi, functionName: string, args: unknown[] = []): Promise<T> {
    return this.client.readContract({ address, abi, functionName, args } as never) as Promise<T>;
  }

  async logs(filter: { address: Address; topics: (Hex | Hex[] | null)[]; fromBlock: bigint; toBlock: bigint }): Promise<RpcLog[]> {
    return this.call<RpcLog[]>('eth_getLogs', [{ address: filter.address, topics: filter.topics, fromBlock: toHex(filter.fromBlock), toBlock: toHex(filter.toBlock) }]);
  }

  /**
   * The newest logs matching `filter` in the last `window` blocks up to `head`, read backwards in
   * chunks and stopped once `max` are found: a page's cost is bounded by both the blocks and the
   * logs it reads, however busy the chain. `from` is the oldest block read; `capped` says it
   * stopped early.
   */
  async recentLogs(
    filter: { address: Address; topics: (Hex | Hex[] | null)[] },
    head: bigint,
    opts: { window: bigint; chunk?: bigint; max: number },
  ): Promise<{ logs: RpcLog[]; from: bigint; capped: boolean }> {
    const chunk = opts.chunk ?? 1_000n;
    const floor = head >= opts.window ? head - opts.window + 1n : 0n;
    const logs: RpcLog[] = [];
    let to = head;
    for (;;) {
      const from = to - chunk + 1n > floor ? to - chunk + 1n : floor;
      logs.unshift(...(await this.logs({ ...filter, fromBlock: from, toBlock: to })));
      if (logs.length >= opts.max && from > floor) return { logs, from, capped: true };
      if (from === floor) return { logs, from, capped: false };
      to = from - 1n;
    }
  }

  async head(): Promise<bigint> {
    return BigInt(await this.call<Hex>('eth_blockNumber'));
  }

  async block(id: bigint | Hex | 'latest', full = false): Promise<RpcBlock> {
    const b =
      typeof id === 'string' && id.length === 66
        ? await this.call<RpcBlock | null>('eth_getBlockByHash', [id, full])
        : await this.call<RpcBlock | null>('eth_getBlockByNumber', [typeof id === 'bigint' ? toHex(id) : id, full]);
    if (b === null) throw new NotFound(`block ${typeof id === 'bigint' ? id : id}`);
    return b;
  }
}
