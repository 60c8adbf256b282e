import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import type { Logger } from 'pino';
import { createAiPrecompiles } from '../../precompiles/index.ts';
import type { BlockProducer } from '../../sequencer/block-producer.ts';
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
import { FULFILMENT_EVENT, PROVER_EVENT, REQUEST_EVENT, chainFulfilledInferences } from '../ai/fulfilled-inferences.ts';
import { InferenceProofs } from '../ai/inference-proof.ts';
import { RollupBatches } from '../l1/rollup-batches.ts';
import type { RollupContext } from '../rpc/backend.ts';
import { RpcBackend } from '../rpc/backend.ts';
import { SyncProgress } from '../sync/progress.ts';
import { CallGate } from '../rpc/call-gate.ts';
import { Dispatcher } from '../rpc/dispatch.ts';
import { FilterManager } from '../rpc/filters.ts';
import { Retention } from '../rpc/retention.ts';
import { RpcServer } from '../rpc/server.ts';
import type { HttpPlugin } from '../rpc/server.ts';
import { explorerRoutes } from '../explorer/routes.ts';
import { ExplorerRpc } from '../explorer/rpc.ts';
import { SubscriptionHub } from '../rpc/subscriptions.ts';
import { startNodeP2P } from './p2p.ts';
import { blockSync, replicaImporter, replicaRole } from './replica.ts';
import type { RoleServices, SharedParts, Stoppable } from './role.ts';
import { sequencerRole } from './sequencer.ts';
import type { TxPoolView } from '../txpool/view.ts';
import { wireMetrics } from './metrics.ts';
import type { NodeP2P } from './p2p.ts';

const pkg = createRequire(import.meta.url)('../../package.json') as { version: string };
export const CLIENT_VERSION = `ai-rollup/v${pkg.version}/${process.platform}-${process.arch}/node${process.versions.node}`;

export interface NodeHooks {
  /** The node hit an error it cannot continue from (e.g. a block could not be written). */
  onFatal?(err: Error): void;
}

/**
 * The one assembly point: builds the node both roles share (storage, chain, calls, artifacts,
 * p2p, JSON-RPC, metrics) and the role's services (node/assembly/sequencer.ts or replica.ts) in
 * dependency order, each with its options and a child logger named after its module; `close()`
 * is the one shutdown path, in reverse.
 */
export class RollupNode {
  private constructor(
    readonly options: NodeOptions,
    readonly chain: Chain,
    private readonly role: RoleServices,
    private readonly server: RpcServer,
    private readonly filters: FilterManager,
    private readonly kv: KV,
    readonly rpcUrl: string,
    private readonly logger: Logger,
    private readonly metrics: Stoppable,
    private readonly p2p?: NodeP2P,
  ) {}

  /** eth_sendRawTransaction's pool: the sequencer's mempool, a replica's empty view. */
  get pool(): TxPoolView {
    return this.role.pool;
  }

  /** The sequencer's block producer (mineOne for tools and benchmarks); a replica has none. */
  get producer(): BlockProducer {
    if (this.role.producer === undefined) throw new Error('a replica produces no blocks');
    return this.role.producer;
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

  /** Chain, p2p (with block sync set up before it starts), then the role; then serve. */
  private static async assemble(options: NodeOptions, logger: Logger, hooks: NodeHooks, kv: KV): Promise<RollupNode> {
    const { spec: genesis, overridden } = withPredeploys(await loadGenesis(options));
    if (overridden.length > 0) logger.warn({ predeploys: overridden }, 'genesis file replaces the code of protocol predeploys');
    const common = createL2Common({ chainId: options.chainId, customCrypto: nodeCrypto });
    const precompiles = await createAiPrecompiles();
    const chain = await Chain.open(
      { common, genesis, precompiles, indexedEvents: [FULFILMENT_EVENT, REQUEST_EVENT, PROVER_EVENT] },
      { kv, logger: logger.child({ module: 'chain' }) },
    );
    const calls = new CallExecutor(chain, options.rpc.gasCap);
    const artifacts = new ArtifactStore(options.modelsDir ?? join(options.datadir, 'models'), logger.child({ module: 'ai:artifacts' }));
    // a block write can fail before the node exists: serve() sets the full handler
    const fatal = { report: (err: Error) => hooks.onFatal?.(err) };
    const onFatal = (err: Error) => fatal.report(err);
    const importer = replicaImporter(options, { chain, logger, onFatal });
    const progress = options.role === 'replica' ? new SyncProgress(() => chain.head.header.number) : undefined;
    const blocks = blockSync(options, { chain, logger, onFatal, importer, progress });
    const p2p =
      options.p2p === undefined
        ? undefined
        : await startNodeP2P({ chainId: options.chainId, datadir: options.datadir, p2p: options.p2p }, { chain, calls, artifacts, logger, blocks });
    let role: RoleServices | undefined;
    try {
      const shared: SharedParts = { kv, chain, calls, artifacts, p2p, logger, fatal: onFatal, importer, progress };
      role = options.role === 'sequencer' ? await sequencerRole(options, shared) : await replicaRole(options, shared);
      return await RollupNode.serve(options, hooks, shared, role, fatal);
    } catch (err) {
      // a node that fails to start leaves nothing running (threads, timers) behind
      for (const s of role?.services ?? []) await s.stop().catch(() => undefined);
      await p2p?.stop();
      throw err;
    }
  }

  /** JSON-RPC and metrics over the shared parts and the role; the role runs once RPC serves. */
  private static async serve(options: NodeOptions, hooks: NodeHooks, shared: SharedParts, role: RoleServices, fatal: { report(err: Error): void }): Promise<RollupNode> {
    const { kv, chain, calls, artifacts, p2p, logger } = shared;
    const { filters, subscriptions, retention } = rpcHolders(options, logger.child({ module: 'rpc:delivery' }));
    let server: RpcServer | undefined;
    const rpcLoad = () => ({ filters: filters.size, subscriptions: subscriptions.total, webSockets: server?.webSockets ?? 0, heldBytes: retention.bytes });
    const metrics = await wireMetrics(options, { chain, pool: role.pool, p2p, logger, rpcLoad, ...role.metrics });
    let node: RollupNode | undefined;
    fatal.report = (err) => {
      metrics.fatal(err);
      logger.fatal({ err }, 'cannot persist blocks; stopping');
      void node?.close();
      hooks.onFatal?.(err);
    };

    chain.onBlock((ev) => {
      filters.onBlock(ev);
      subscriptions.onBlock(ev);
    });
    chain.onRewind((dropped) => {
      filters.onRewind(dropped);
      subscriptions.onRewind(dropped);
    });
    role.pool.onAdded((p) => {
      filters.onPendingTx(p.hash);
      subscriptions.onPendingTx(p.hash);
    });

    const backend = new RpcBackend(chain, role.pool, calls, filters, options.rpc, CLIENT_VERSION, options.sequencer.minBaseFee, artifacts);
    backend.rollup = role.rollup;
    backend.inferenceProofs = inferenceProofs(chain, calls, options.chainId, role.rollup);
    backend.jobs = p2p?.announcer;
    backend.sync = shared.progress;
    backend.peerCount = () => p2p?.service.connectedPeers ?? 0;
    backend.callGate = callGate(options, role.producer);
    const rpcLogger = logger.child({ module: 'rpc' });
    const dispatcher = new Dispatcher(role.methods, backend, rpcLogger, options.rpc.maxBatch, options.rpc.requestTimeoutMs);
    let rpcUrl = '';
    const plugins = options.explorer === false ? [] : [explorerPlugin(() => rpcUrl, logger.child({ module: 'explorer' }))];
    server = new RpcServer(options.rpc, { dispatcher, subscriptions, logger: rpcLogger, artifacts, ...metrics.rpc, plugins, onClientGone: (c) => filters.dropClient(c) });
    rpcUrl = await server.start();
    role.run();
    node = new RollupNode(options, chain, role, server, filters, kv, rpcUrl, logger, metrics, p2p);
    logger.info({ rpc: rpcUrl, chainId: options.chainId, head: chain.head.header.number, p2p: node.p2pAddrs, role: options.role }, 'node started');
    return node;
  }

  private closing: Promise<void> | undefined;

  /** Stops the role first (block production before the rest, so the last block is fully written), then metrics, RPC, p2p, storage. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      for (const s of this.role.services) await s.stop();
      await this.metrics.stop();
      await this.server.stop();
      await this.p2p?.stop();
      this.filters.close();
      await this.kv.close();
      this.logger.info('node stopped');
    })();
    return this.closing;
  }
}

/**
 * The explorer on the node's own port, reading the node's own JSON-RPC over loopback (its URL is
 * known once the server listens); artifact links stay relative, on the host the browser used.
 */
function explorerPlugin(url: () => string, logger: Logger): HttpPlugin {
  let rpc: ExplorerRpc | undefined;
  const loopback = () => url().replace('//0.0.0.0:', '//127.0.0.1:').replace('//[::]:', '//[::1]:');
  return { prefix: '/explorer', register: (app) => explorerRoutes(app, { rpc: () => (rpc ??= new ExplorerRpc(loopback(), '')), logger }) };
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
function callGate(options: NodeOptions, producer: Pick<BlockProducer, 'building'> | undefined): CallGate {
  const o = options.rpc;
  return new CallGate(
    { timeoutMs: o.evmTimeoutMs, maxConcurrent: o.callConcurrency, perClient: o.callConcurrencyPerClient, maxQueuedPerClient: o.callQueuePerClient, maxQueued: o.callQueue },
    () => producer?.building(),
  );
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

/** ai_getInferenceProof's source: this node's chain, and in rollup mode the L1 it reads. */
function inferenceProofs(chain: Chain, calls: CallExecutor, chainId: number | bigint, rollup: RollupContext | undefined): InferenceProofs {
  const l1 =
    rollup === undefined
      ? undefined
      : {
          batches: new RollupBatches(rollup.client, rollup.config.contracts.rollup, rollup.config.contracts.inferenceOracle),
          status: () => rollup.status.snapshot,
        };
  return new InferenceProofs({ chain, fulfilled: chainFulfilledInferences(chain, calls), chainId: BigInt(chainId), l1 });
}
