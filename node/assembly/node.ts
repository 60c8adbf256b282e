import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import type { Common } from '@ethereumjs/common';
import type { Logger } from 'pino';
import { createAiPrecompiles } from '../../precompiles/index.ts';
import { BlockProducer } from '../../sequencer/block-producer.ts';
import { Mempool } from '../../sequencer/mempool.ts';
import { CallExecutor } from '../chain/call.ts';
import { Chain } from '../chain/chain.ts';
import { createL2Common } from '../chain/common.ts';
import { nodeCrypto } from '../chain/crypto.ts';
import { devGenesis, readGenesisFile, withPredeploys } from '../chain/genesis.ts';
import type { GenesisSpec } from '../chain/genesis.ts';
import { openKV } from '../db/kv.ts';
import type { KV } from '../db/kv.ts';
import type { NodeOptions } from './options.ts';
import { ArtifactStore } from '../ai/artifact-store.ts';
import { RpcBackend } from '../rpc/backend.ts';
import { SyncProgress } from '../sync/progress.ts';
import { CallGate } from '../rpc/call-gate.ts';
import { Dispatcher } from '../rpc/dispatch.ts';
import { FilterManager } from '../rpc/filters.ts';
import { Retention } from '../rpc/retention.ts';
import { allMethods } from '../rpc/methods/index.ts';
import { RpcServer } from '../rpc/server.ts';
import { SubscriptionHub } from '../rpc/subscriptions.ts';
import { startL1 } from './sequencer-l1.ts';
import { startNodeP2P } from './p2p.ts';
import { blockSync, replicaImporter, replicaMethods, startReplicaL1 } from './replica.ts';
import { wireMetrics } from './metrics.ts';
import type { NodeP2P } from './p2p.ts';
import type { SerialImporter } from '../derivation/index.ts';

const pkg = createRequire(import.meta.url)('../../package.json') as { version: string };
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
    /** undefined on a replica: its blocks come from the sequencer (node/sync). */
    private readonly blockProducer: BlockProducer | undefined,
    private readonly server: RpcServer,
    private readonly filters: FilterManager,
    private readonly kv: KV,
    readonly rpcUrl: string,
    private readonly logger: Logger,
    /** L1-facing services (rollup mode), stopped after block production. */
    private readonly l1Services: { stop(): Promise<void> }[] = [],
    private readonly p2p?: NodeP2P,
  ) {}

  /** The sequencer's block producer (mineOne for tools and benchmarks); a replica has none. */
  get producer(): BlockProducer {
    if (this.blockProducer === undefined) throw new Error('a replica produces no blocks');
    return this.blockProducer;
  }

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
    // a replica's importer can hit a failed write before the node exists: serve() sets the full handler
    const fatal: Parts['fatal'] = { report: (err) => hooks.onFatal?.(err) };
    const importer = replicaImporter(options, { chain, logger, onFatal: (err) => fatal.report(err) });
    const progress = options.replica === undefined ? undefined : new SyncProgress(() => chain.head.header.number);
    const blocks = blockSync(options, { chain, logger, onFatal: (err) => fatal.report(err), importer, progress });
    const p2p =
      options.p2p === undefined
        ? undefined
        : await startNodeP2P({ chainId: options.chainId, datadir: options.datadir, p2p: options.p2p }, { chain, calls, artifacts, logger, blocks });
    try {
      return await RollupNode.serve(options, logger, hooks, { kv, chain, pool, calls, artifacts, p2p, fatal, importer, progress });
    } catch (err) {
      await p2p?.stop();
      throw err;
    }
  }

  /** Everything after chain, pool and p2p: L1 services, block production, JSON-RPC. */
  private static async serve(options: NodeOptions, logger: Logger, hooks: NodeHooks, parts: Parts): Promise<RollupNode> {
    const { kv, chain, pool, calls, artifacts, p2p } = parts;
    const seq = options.sequencer;
    const replica = options.replica;
    const l1 = options.rollup === undefined ? undefined : await startL1(options, chain, logger, { calls, artifacts, jobInputs: p2p?.inputs });
    const replicaL1 = replica === undefined ? undefined : await startReplicaL1(replica, options.chainId, logger, { kv, chain, importer: parts.importer, progress: parts.progress });
    const { filters, subscriptions, retention } = rpcHolders(options, logger.child({ module: 'rpc:delivery' }));
    let server: RpcServer | undefined;
    const rpcLoad = () => ({ filters: filters.size, subscriptions: subscriptions.total, webSockets: server?.webSockets ?? 0, heldBytes: retention.bytes });
    const metrics = await wireMetrics(options, { chain, pool, p2p, l1, logger, replicaServices: replicaL1?.services, rpcLoad });
    let node: RollupNode | undefined;
    parts.fatal.report = (err) => {
      metrics.fatal(err);
      logger.fatal({ err }, 'cannot persist blocks; stopping');
      void node?.close();
      hooks.onFatal?.(err);
    };
    const producer =
      replica !== undefined
        ? undefined
        : new BlockProducer(seq, { chain, pool, l1: l1?.producer, logger: logger.child({ module: 'sequencer' }), onFatal: (err) => parts.fatal.report(err) });

    chain.onBlock((ev) => {
      filters.onBlock(ev);
      subscriptions.onBlock(ev);
    });
    chain.onRewind((dropped) => {
      filters.onRewind(dropped);
      subscriptions.onRewind(dropped);
    });
    pool.onAdded((p) => {
      filters.onPendingTx(p.hash);
      subscriptions.onPendingTx(p.hash);
    });

    const backend = new RpcBackend(chain, pool, calls, filters, options.rpc, CLIENT_VERSION, seq.minBaseFee, artifacts);
    backend.rollup = l1?.rpc ?? replicaL1?.rpc;
    backend.jobs = p2p?.announcer;
    backend.sync = parts.progress;
    backend.peerCount = () => p2p?.service.connectedPeers ?? 0;
    backend.callGate = callGate(options, producer);
    const rpcLogger = logger.child({ module: 'rpc' });
    const dispatcher = new Dispatcher(replica === undefined ? allMethods() : replicaMethods(replica), backend, rpcLogger, options.rpc.maxBatch, options.rpc.requestTimeoutMs);
    server = new RpcServer(options.rpc, { dispatcher, subscriptions, logger: rpcLogger, artifacts, ...metrics.rpc, onClientGone: (c) => filters.dropClient(c) });
    const rpcUrl = await server.start();
    producer?.start();
    l1?.startPoster();
    if (l1 !== undefined && seq.blockTime === 0) l1.watcher.onDeposits(() => void producer?.mineOne());
    node = new RollupNode(options, chain, pool, producer, server, filters, kv, rpcUrl, logger, [...(l1?.services ?? []), ...(replicaL1?.services ?? []), metrics], p2p);
    const role = replica === undefined ? 'sequencer' : 'replica';
    logger.info({ rpc: rpcUrl, chainId: options.chainId, head: chain.head.header.number, p2p: node.p2pAddrs, role }, 'node started');
    return node;
  }

  private closing: Promise<void> | undefined;

  /** Stops block production first so the last block is fully written, then the rest. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.blockProducer?.stop();
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
  /** Where a failed block write is reported (the producer's, or a replica's importer). */
  fatal: { report(err: Error): void };
  /** A replica's block writer (gossip and derivation). */
  importer: SerialImporter | undefined;
  /** A replica's eth_syncing. */
  progress: SyncProgress | undefined;
}

/** Filters and subscriptions, with the one budget of what they hold for clients. */
function rpcHolders(options: NodeOptions, logger: Logger): { filters: FilterManager; subscriptions: SubscriptionHub; retention: Retention } {
  const o = options.rpc;
  const retention = new Retention(o.maxHeldBytes);
  const onError = (err: unknown) => logger.error({ err }, 'delivering a chain event to clients failed');
  const filters = new FilterManager(
    { timeoutMs: o.filterTimeout * 1000, maxTotal: o.maxFilters, maxPerClient: o.maxFiltersPerClient, maxBytes: o.filterMaxBytes },
    retention,
    onError,
  );
  const subscriptions = new SubscriptionHub(
    { maxTotal: o.maxSubscriptions, maxPerConnection: o.maxSubscriptionsPerConnection, maxQueuedBytes: o.wsMaxQueuedBytes, logQueryLimit: o.logQueryLimit },
    retention,
    onError,
  );
  return { filters, subscriptions, retention };
}

/** eth_call / eth_estimateGas admission; on a sequencer, calls wait while a block is being built. */
function callGate(options: NodeOptions, producer: BlockProducer | undefined): CallGate {
  const o = options.rpc;
  return new CallGate(
    { timeoutMs: o.evmTimeoutMs, maxConcurrent: o.callConcurrency, perClient: o.callConcurrencyPerClient, maxQueuedPerClient: o.callQueuePerClient, maxQueued: o.callQueue },
    () => producer?.building(),
  );
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
