/**
 * Attaches metrics and health to the node's services. Services know nothing of metrics: this
 * assembly code reads their status() and listens to their events, and hands the RPC server two
 * GET routes and an observer.
 */
import { bytesToHex } from '@ethereumjs/util';
import { createRequire } from 'node:module';
import type { Logger } from 'pino';
import { Batcher } from '../../sequencer/batcher.ts';
import { InferencePoster } from '../../sequencer/inference-poster.ts';
import type { Mempool } from '../../sequencer/mempool.ts';
import { Proposer } from '../../sequencer/proposer.ts';
import type { Chain } from '../chain/chain.ts';
import type { Challenger } from '../derivation/challenger.ts';
import { readL1BlockInfo } from '../chain/l1-block-info.ts';
import type { L1Parts } from './sequencer-l1.ts';
import type { NodeOptions } from './options.ts';
import type { NodeP2P } from './p2p.ts';
import { allMethods } from '../rpc/methods/index.ts';
import type { HttpRoute, RpcObserver } from '../rpc/server.ts';
import { chainMetrics } from '../metrics/chain-metrics.ts';
import { type SealSource, producerMetrics } from '../metrics/producer-metrics.ts';
import { challengerMetrics } from '../metrics/challenger-metrics.ts';
import { derivationMetrics } from '../metrics/derivation-metrics.ts';
import type { DerivationSource } from '../metrics/derivation-metrics.ts';
import { l1RpcMetrics } from '../metrics/l1-rpc-metrics.ts';
import type { L1RpcCounts } from '../l1/l1-rpc-stats.ts';
import { type ReorgSource, reorgMetrics } from '../metrics/reorg-metrics.ts';
import { evaluateHealth } from '../metrics/health.ts';
import type { HealthReport } from '../metrics/health.ts';
import { L1Probe } from '../metrics/l1-probe.ts';
import { l1Metrics } from '../metrics/l1-metrics.ts';
import type { L1Watch } from '../metrics/l1-metrics.ts';
import { listenRoutes } from '../metrics/listener.ts';
import type { RouteListener } from '../metrics/listener.ts';
import { defaultMetricsOptions } from '../metrics/options.ts';
import { p2pMetrics } from '../metrics/p2p-metrics.ts';
import { PROMETHEUS_CONTENT_TYPE, Registry } from '../metrics/registry.ts';
import { rpcLoadMetrics, rpcMetrics } from '../metrics/rpc-metrics.ts';
import type { RpcLoad } from '../metrics/rpc-metrics.ts';

const pkg = createRequire(import.meta.url)('../../package.json') as { version: string };

export interface MetricsDeps {
  chain: Chain;
  pool: Pick<Mempool, 'status'>;
  p2p?: NodeP2P;
  l1?: L1Parts;
  logger: Logger;
  /** This node seals its blocks (default); a replica imports them. */
  sealing?: boolean;
  /** A replica behind its source reports true; a sequencer never syncs. */
  syncing?: () => boolean;
  /** A replica's output challenger (startReplicaL1). */
  challenger?: Challenger;
  /** A replica's derivation from L1 (startReplicaL1). */
  derivation?: DerivationSource;
  /** Filters, subscriptions and WebSockets open now. */
  rpcLoad?: () => RpcLoad;
  /** The sequencer's block producer: per-block phase times. */
  producer?: SealSource;
  /** The sequencer's L1 reorg handling (rollup mode). */
  reorgs?: ReorgSource;
  /** A replica's L1 transport (a sequencer's is in `l1`). */
  l1Rpc?: { stats: L1RpcCounts };
}

export interface NodeMetrics {
  /** Spread into the RpcServer's deps: `/metrics`, `/health` and the per-call observer. */
  rpc: { routes: HttpRoute[]; observer: RpcObserver };
  /** Records an error the node cannot continue from: `/health` answers 503 while it shuts down. */
  fatal(err: Error): void;
  /** The current health (what `/health` answers). */
  health(): HealthReport;
  stop(): Promise<void>;
}

export async function wireMetrics(options: NodeOptions, deps: MetricsDeps): Promise<NodeMetrics> {
  const opts = { ...defaultMetricsOptions, ...options.metrics };
  const logger = deps.logger.child({ module: 'metrics' });
  const reg = new Registry((err) => logger.warn({ err: err.message }, 'a metrics collector failed; its gauges keep their last values'));
  const startedAtMs = Date.now();
  const sealing = deps.sealing ?? true;
  reg
    .gauge({ name: 'ai_rollup_info', help: 'Always 1; the labels describe this node', labels: ['version', 'chain_id', 'mode'] })
    .set({ version: pkg.version, chain_id: options.chainId.toString(), mode: options.rollup === undefined ? 'standalone' : 'rollup' }, 1);
  const chainWatch = chainMetrics(reg, { chain: deps.chain, pool: deps.pool, sealing });
  const observer = rpcMetrics(reg, new Set([...Object.keys(allMethods()), 'eth_subscribe', 'eth_unsubscribe']));
  if (deps.rpcLoad !== undefined) rpcLoadMetrics(reg, deps.rpcLoad);
  const unwatchProducer = deps.producer === undefined ? undefined : producerMetrics(reg, deps.producer);
  if (deps.reorgs !== undefined) reorgMetrics(reg, deps.reorgs);
  if (deps.p2p !== undefined) p2pMetrics(reg, deps.p2p.service);
  const l1Rpc = deps.l1?.l1Rpc ?? deps.l1Rpc;
  if (l1Rpc !== undefined) l1RpcMetrics(reg, l1Rpc.stats);
  const l1 = deps.l1 === undefined ? undefined : wireL1(reg, options, deps.chain, deps.l1);
  const challenger = deps.challenger;
  const unwatchChallenger = challenger === undefined ? undefined : challengerMetrics(reg, challenger);
  const derivation = deps.derivation === undefined ? undefined : derivationMetrics(reg, deps.derivation);
  let fatal: string | undefined;
  const health = (): HealthReport => {
    const head = deps.chain.head;
    return evaluateHealth(
      {
        nowMs: Date.now(),
        startedAtMs,
        head: { number: head.header.number, hash: bytesToHex(head.hash()), timestamp: head.header.timestamp },
        lastBlockAtMs: chainWatch.lastBlockAtMs,
        sealing,
        blockTime: options.sequencer.blockTime,
        pendingTxs: deps.pool.status().pending,
        peers: deps.p2p?.service.connectedPeers ?? null,
        syncing: deps.syncing?.() ?? false,
        fatal,
        l1: l1?.watch.health(),
        derivation: derivation?.health(),
      },
      opts,
    );
  };
  const healthy = reg.gauge({ name: 'ai_rollup_healthy', help: '1 when /health answers 200, else 0' });
  reg.collect(() => healthy.set(undefined, health().status === 'ok' ? 1 : 0));
  const routes = httpRoutes(reg, health);
  let listener: RouteListener | undefined;
  if (opts.port !== undefined) {
    listener = await listenRoutes(opts.host ?? options.rpc.host, opts.port, routes);
    logger.info({ url: listener.url }, 'metrics listening');
  }
  return {
    rpc: { routes, observer },
    fatal(err) {
      fatal ??= err.message;
    },
    health,
    async stop() {
      chainWatch.stop();
      l1?.probe.stop();
      l1?.watch.stop();
      unwatchChallenger?.();
      derivation?.stop();
      unwatchProducer?.();
      await listener?.close();
    },
  };
}

function httpRoutes(reg: Registry, health: () => HealthReport): HttpRoute[] {
  return [
    { path: '/metrics', get: async () => ({ status: 200, contentType: PROMETHEUS_CONTENT_TYPE, body: await reg.exposition() }) },
    {
      path: '/health',
      get: async () => {
        const h = health();
        return { status: h.status === 'ok' ? 200 : 503, contentType: 'application/json', body: JSON.stringify(h) };
      },
    },
  ];
}

/** The sequencer's L1 side: the probe of its endpoint, the Rollup's status and its posters. */
function wireL1(reg: Registry, options: NodeOptions, chain: Chain, l1: L1Parts): { probe: L1Probe; watch: L1Watch } {
  const r = options.rollup!;
  const probe = new L1Probe({ url: r.l1Rpc, everyMs: r.l1PollMs, timeoutMs: 10_000 });
  probe.start();
  const watch = l1Metrics(reg, {
    status: l1.rpc.status,
    probe,
    batcher: l1.batcher,
    proposer: l1.proposer,
    poster: l1.poster,
    depositsConsumed: async () => (await readL1BlockInfo(chain.headState())).depositCount,
  });
  return { probe, watch };
}
