import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import type { Common } from '@ethereumjs/common';
import type { Logger } from 'pino';
import { createAiPrecompiles } from '../precompiles/index.ts';
import { BlockProducer } from '../sequencer/block-producer.ts';
import { Mempool } from '../sequencer/mempool.ts';
import { CallExecutor } from './chain/call.ts';
import { Chain } from './chain/chain.ts';
import { createL2Common } from './chain/common.ts';
import { nodeCrypto } from './chain/crypto.ts';
import { devGenesis, readGenesisFile, withPredeploys } from './chain/genesis.ts';
import type { GenesisSpec } from './chain/genesis.ts';
import { openKV } from './db/kv.ts';
import type { KV } from './db/kv.ts';
import type { NodeOptions } from './options.ts';
import { ArtifactStore } from './ai/artifact-store.ts';
import { RpcBackend } from './rpc/backend.ts';
import { Dispatcher } from './rpc/dispatch.ts';
import { FilterManager } from './rpc/filters.ts';
import { allMethods } from './rpc/methods/index.ts';
import { RpcServer } from './rpc/server.ts';
import { createPublicClient, createWalletClient, defineChain, http } from 'viem';
import type { Hex, PublicClient } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { Batcher } from '../sequencer/batcher.ts';
import { Proposer } from '../sequencer/proposer.ts';
import type { L1BlockRef } from '../sequencer/l1-attributes.ts';
import { L1Watcher } from './l1/l1-watcher.ts';
import { RollupStatus } from './l1/rollup-status.ts';
import { SubscriptionHub } from './rpc/subscriptions.ts';
import { startNodeP2P } from './p2p-wiring.ts';
import type { NodeP2P } from './p2p-wiring.ts';

const pkg = createRequire(import.meta.url)('../package.json') as { version: string };
export const CLIENT_VERSION = `ai-rollup/v${pkg.version}/${process.platform}-${process.arch}/node${process.versions.node}`;

export interface NodeHooks {
  /** The node hit an error it cannot continue from (e.g. a block could not be written). */
  onFatal?(err: Error): void;
}

/**
 * The one assembly point: builds every service in dependency order, each with its options and
 * a child logger named after its module; `close()` tears them down in reverse.
 */
export class RollupNode {
  private constructor(
    readonly options: NodeOptions,
    readonly chain: Chain,
    readonly pool: Mempool,
    readonly producer: BlockProducer,
    private readonly server: RpcServer,
    private readonly filters: FilterManager,
    private readonly kv: KV,
    readonly rpcUrl: string,
    private readonly logger: Logger,
    /** L1-facing services (rollup mode), stopped after block production. */
    private readonly l1Services: { stop(): Promise<void> }[] = [],
    private readonly p2p?: NodeP2P,
  ) {}

  /** Full multiaddrs (`.../p2p/<peer id>`) of the p2p service; empty when p2p is off. */
  get p2pAddrs(): string[] {
    return this.p2p?.addrs ?? [];
  }

  static async init(options: NodeOptions, logger: Logger, hooks: NodeHooks = {}): Promise<RollupNode> {
    await mkdir(options.datadir, { recursive: true });
    const kv = await openKV(`${options.datadir}/chaindata`);
    try {
      return await RollupNode.assemble(options, logger, hooks, kv);
    } catch (err) {
      await kv.close();
      throw err;
    }
  }

  private static async assemble(options: NodeOptions, logger: Logger, hooks: NodeHooks, kv: KV): Promise<RollupNode> {
    const { spec: genesis, overridden } = withPredeploys(await loadGenesis(options));
    if (overridden.length > 0) logger.warn({ predeploys: overridden }, 'genesis file replaces the code of protocol predeploys');
    const common = createL2Common({ chainId: options.chainId, customCrypto: nodeCrypto });
    const precompiles = await createAiPrecompiles();
    const chain = await Chain.open({ common, genesis, precompiles }, { kv, logger: logger.child({ module: 'chain' }) });

    const pool = createPool(options, chain, common, logger);
    const calls = new CallExecutor(chain, options.rpc.gasCap);
    const artifacts = new ArtifactStore(options.modelsDir ?? join(options.datadir, 'models'), logger.child({ module: 'ai:artifacts' }));
    const p2p = options.p2p === undefined ? undefined : await startNodeP2P({ chainId: options.chainId, datadir: options.datadir, p2p: options.p2p }, { chain, calls, artifacts, logger });
    try {
      return await RollupNode.serve(options, logger, hooks, { kv, chain, pool, calls, artifacts, p2p });
    } catch (err) {
      await p2p?.stop();
      throw err;
    }
  }

  /** Everything after chain, pool and p2p: L1 services, block production, JSON-RPC. */
  private static async serve(options: NodeOptions, logger: Logger, hooks: NodeHooks, parts: Parts): Promise<RollupNode> {
    const { kv, chain, pool, calls, artifacts, p2p } = parts;
    const seq = options.sequencer;
    const l1 = options.rollup === undefined ? undefined : await startL1(options, chain, logger);
    let node: RollupNode | undefined;
    const producer = new BlockProducer(seq, {
      chain,
      pool,
      l1: l1?.producer,
      logger: logger.child({ module: 'sequencer' }),
      onFatal: (err) => {
        logger.fatal({ err }, 'cannot persist blocks; stopping');
        void node?.close();
        hooks.onFatal?.(err);
      },
    });

    const filters = new FilterManager(options.rpc.filterTimeout * 1000);
    const subscriptions = new SubscriptionHub();
    chain.onBlock((ev) => {
      filters.onBlock(ev);
      subscriptions.onBlock(ev);
    });
    pool.onAdded((p) => {
      filters.onPendingTx(p.hash);
      subscriptions.onPendingTx(p.hash);
    });

    const backend = new RpcBackend(chain, pool, calls, filters, options.rpc, CLIENT_VERSION, seq.minBaseFee, artifacts);
    backend.rollup = l1?.rpc;
    backend.jobs = p2p?.announcer;
    const rpcLogger = logger.child({ module: 'rpc' });
    const dispatcher = new Dispatcher(allMethods(), backend, rpcLogger, options.rpc.maxBatch);
    const server = new RpcServer(options.rpc, { dispatcher, subscriptions, logger: rpcLogger, artifacts });
    const rpcUrl = await server.start();
    producer.start();
    if (l1 !== undefined && seq.blockTime === 0) l1.watcher.onDeposits(() => void producer.mineOne());
    node = new RollupNode(options, chain, pool, producer, server, filters, kv, rpcUrl, logger, l1?.services ?? [], p2p);
    logger.info({ rpc: rpcUrl, chainId: options.chainId, head: chain.head.header.number, p2p: node.p2pAddrs }, 'node started');
    return node;
  }

  private closing: Promise<void> | undefined;

  /** Stops block production first so the last block is fully written, then the rest. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.producer.stop();
      for (const s of this.l1Services) await s.stop();
      await this.server.stop();
      await this.p2p?.stop();
      this.filters.close();
      await this.kv.close();
      this.logger.info('node stopped');
    })();
    return this.closing;
  }
}

interface Parts {
  kv: KV;
  chain: Chain;
  pool: Mempool;
  calls: CallExecutor;
  artifacts: ArtifactStore;
  p2p: NodeP2P | undefined;
}

function createPool(options: NodeOptions, chain: Chain, common: Common, logger: Logger): Mempool {
  const seq = options.sequencer;
  return new Mempool(seq.pool, {
    common,
    logger: logger.child({ module: 'mempool' }),
    state: {
      async account(address) {
        const acct = await chain.headState().getAccount(address);
        return { nonce: acct?.nonce ?? 0n, balance: acct?.balance ?? 0n };
      },
    },
    limits: () => ({ gasLimit: seq.gasLimit, minFee: seq.minBaseFee }),
  });
}

async function loadGenesis(options: NodeOptions): Promise<GenesisSpec> {
  if (options.genesisFile !== undefined) {
    const spec = await readGenesisFile(options.genesisFile);
    if (BigInt(spec.config.chainId) !== options.chainId) {
      throw new Error(`genesis file chain id ${spec.config.chainId} differs from --chain-id ${options.chainId}`);
    }
    return spec;
  }
  const spec = devGenesis(options.chainId, options.sequencer.gasLimit);
  if (!options.dev) spec.alloc = {};
  return spec;
}

/** The L1 side of a rollup node: the deposit/origin watcher and the Rollup contract's status. */
function l1Chain(id: bigint, url: string) {
  return defineChain({ id: Number(id), name: `l1-${id}`, nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 }, rpcUrls: { default: { http: [url] } } });
}

async function startL1(options: NodeOptions, chain: Chain, logger: Logger) {
  const r = options.rollup!;
  const cfg = r.config;
  if (cfg.l2ChainId !== options.chainId) throw new Error(`rollup config is for L2 chain ${cfg.l2ChainId}, this node runs chain ${options.chainId}`);
  // no retries inside viem: the watcher and status loops retry on their own schedule
  const client = createPublicClient({ transport: http(r.l1Rpc, { retryCount: 0, timeout: 10_000 }) });
  const l1Logger = logger.child({ module: 'l1' });
  try {
    const id = await client.getChainId();
    if (BigInt(id) !== cfg.l1ChainId) throw new Error(`L1 at ${r.l1Rpc} is chain ${id}, the rollup config says ${cfg.l1ChainId}`);
  } catch (err) {
    if ((err as Error).message.startsWith('L1 at')) throw err;
    l1Logger.warn({ l1: r.l1Rpc, err: (err as Error).message }, 'L1 unreachable at start; building on the L1 start block until it answers');
  }
  const watcher = new L1Watcher(
    client as PublicClient,
    { bridge: cfg.contracts.bridge, startBlock: cfg.l1Start.number, confirmations: cfg.l1Confirmations, pollMs: r.l1PollMs },
    logger.child({ module: 'l1:watcher' }),
  );
  const status = new RollupStatus(client as PublicClient, cfg.contracts.rollup, r.l1PollMs, logger.child({ module: 'l1:status' }));
  await watcher.start();
  await status.start();
  const services: { stop(): Promise<void> }[] = [watcher, status];
  const wallet = (key: Hex) =>
    createWalletClient({ account: privateKeyToAccount(key), chain: l1Chain(cfg.l1ChainId, r.l1Rpc), transport: http(r.l1Rpc, { retryCount: 0, timeout: 30_000 }) });
  let batcher: Batcher | undefined;
  if (r.batcherKey !== undefined) {
    batcher = new Batcher(
      { chain, l1: { public: client as PublicClient, wallet: wallet(r.batcherKey) }, rollup: cfg.contracts.rollup, logger: logger.child({ module: 'batcher' }) },
      { pollMs: r.l1PollMs, maxBatchAgeMs: r.batchMaxAgeMs, l1Confirmations: cfg.l1Confirmations },
    );
    batcher.onBatchConfirmed(() => void status.poll());
    batcher.start();
    services.unshift(batcher);
  }
  if (r.proposerKey !== undefined) {
    const proposer = new Proposer(
      { chain, l1: { public: client as PublicClient, wallet: wallet(r.proposerKey) }, rollup: cfg.contracts.rollup, logger: logger.child({ module: 'proposer' }) },
      { pollMs: r.l1PollMs, l1Confirmations: cfg.l1Confirmations },
    );
    batcher?.onBatchConfirmed(() => proposer.poke());
    proposer.onProposed(() => void status.poll());
    proposer.start();
    services.unshift(proposer);
  }
  const start: L1BlockRef = { number: cfg.l1Start.number, hash: cfg.l1Start.hash, timestamp: cfg.l1Start.timestamp, baseFee: 0n };
  return {
    watcher,
    producer: { view: watcher, start, onConsumed: (count: bigint) => watcher.consumed(count) },
    rpc: { config: cfg, status, client: client as PublicClient },
    services,
  };
}
