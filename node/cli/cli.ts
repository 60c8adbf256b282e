import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { multiaddr } from '@multiformats/multiaddr';
import { devAccounts, readGenesisFile, DEV_MNEMONIC } from '../chain/genesis.ts';
import { modelCommand } from './model.ts';
import { proverCommand } from './prover.ts';
import { inferenceCommand } from './inference.ts';
import { explorerCommand } from './explorer.ts';
import { createLogger } from '../logger.ts';
import type { LogLevel } from '../logger.ts';
import { DEFAULT_CHAIN_ID, DEFAULT_P2P_LISTEN, defaultNodeOptions, defaultNodeP2POptions } from '../assembly/options.ts';
import type { NodeOptions, NodeP2POptions, ReplicaNodeOptions, ReplicaOptions, SequencerNodeOptions } from '../assembly/options.ts';
import { defaultSyncOptions } from '../sync/options.ts';
import { readRollupConfig } from '../rollup-config.ts';
import { defaultMetricsOptions } from '../metrics/options.ts';
import type { Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { limitHeapGrowth } from './heap-growth.ts';
import { count, fallbackUrls, l1TransportOptions } from './l1-flags.ts';
import { defaultL1TransportOptions as l1d } from '../l1/l1-transport.ts';
import { JOURNAL_FILE, poolJournalOptions } from './txpool.ts';
import { stopOnSignals } from './signals.ts';
import { DEFAULT_REJOURNAL_MS } from '../../sequencer/options.ts';

const int = (name: string) => (v: string) => {
  if (!/^[0-9]+$/.test(v)) throw new InvalidArgumentError(`${name} must be a non-negative integer`);
  return Number(v);
};
const big = (name: string) => (v: string) => {
  if (!/^(0x[0-9a-fA-F]+|[0-9]+)$/.test(v)) throw new InvalidArgumentError(`${name} must be an integer`);
  return BigInt(v);
};

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
/** A duration as geth writes one (5s, 1.5s, 500ms, 1m, 1h); a bare number is seconds. Milliseconds out. */
const duration = (name: string) => (v: string) => {
  const m = /^([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)?$/.exec(v);
  if (m === null) throw new InvalidArgumentError(`${name} must be a duration such as 5s, 500ms, 1m or 1h`);
  return Math.round(Number(m[1]) * UNIT_MS[m[2] ?? 's']!);
};
const showMs = (ms: number) => (ms % 3_600_000 === 0 ? `${ms / 3_600_000}h` : ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`);

/** Multiaddrs, repeatable and comma-separated; checked here so a typo fails before anything starts. */
const multiaddrs =
  (name: string, needPeerId: boolean) =>
  (v: string, prev: string[] = []) => {
    const given = v
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
    for (const a of given) {
      try {
        multiaddr(a);
      } catch (err) {
        throw new InvalidArgumentError(`${name}: ${a} is not a multiaddr (${(err as Error).message})`);
      }
      if (needPeerId && !a.includes('/p2p/')) throw new InvalidArgumentError(`${name}: ${a} lacks /p2p/<peer id>`);
    }
    return [...prev, ...given];
  };

/** bigint defaults need a description: commander would JSON.stringify them for --help. */
function bigOption(flags: string, description: string, dflt: bigint): Option {
  const name = flags.split(' ')[0]!;
  return new Option(flags, description).argParser(big(name)).default(dflt, dflt.toString());
}

export function buildCli(): Command {
  const program = new Command('ai-rollup').description('An AI-specific Ethereum L2 rollup node').showHelpAfterError();
  const d = defaultNodeOptions;
  program
    .command('node')
    .description('run a sequencer node (or with --replica, a replica of one) with Ethereum JSON-RPC (HTTP and WebSocket on one port)')
    .option('--dev', 'fund the 10 accounts of the test mnemonic with 10,000 ETH each (like anvil)', false)
    .option('--datadir <dir>', 'data directory (default: ./data, or a temporary one with --dev)')
    .option('--rpc.addr <host>', 'JSON-RPC listen address', d.rpc.host)
    .option('--rpc.port <port>', 'JSON-RPC port (0 picks a free one)', int('--rpc.port'), d.rpc.port)
    .option('--block-time <seconds>', 'seconds between blocks; 0 seals one block per transaction', int('--block-time'), d.sequencer.blockTime)
    .option('--chain-id <id>', `chain id (default: the genesis file's, else ${DEFAULT_CHAIN_ID})`, big('--chain-id'))
    .option('--genesis <file>', 'geth-style genesis JSON (config.chainId, alloc, gasLimit, baseFeePerGas, timestamp)')
    .addOption(bigOption('--gas-limit <gas>', 'block gas limit', d.sequencer.gasLimit))
    .option('--coinbase <address>', 'address receiving the fees', d.sequencer.coinbase)
    .addOption(bigOption('--min-base-fee <wei>', 'base fee floor; cheaper transactions are refused', d.sequencer.minBaseFee))
    .option('--txpool.max <n>', 'most transactions in the pool', int('--txpool.max'), d.sequencer.pool.maxTotal)
    .option('--txpool.max-per-sender <n>', 'most transactions per sender in the pool', int('--txpool.max-per-sender'), d.sequencer.pool.maxPerSender)
    .option(
      '--txpool.journal <file>',
      `journal of the transactions submitted over JSON-RPC, replayed into the pool at start (default: <datadir>/${JOURNAL_FILE}; none for --dev without --datadir); a relative file is inside the datadir`,
    )
    .addOption(
      new Option('--txpool.rejournal <duration>', "how often the journal is rewritten with the pool's local transactions (geth: 1h); also at a clean stop")
        .argParser(duration('--txpool.rejournal'))
        .default(DEFAULT_REJOURNAL_MS, showMs(DEFAULT_REJOURNAL_MS)),
    )
    .option('--txpool.nolocals', "treat no transaction as local: nothing is journaled (geth's flag; locals have no other privilege here)")
    .option('--rpc.max-batch <n>', 'most calls in one JSON-RPC batch', int('--rpc.max-batch'), d.rpc.maxBatch)
    .option('--rpc.logs-max-range <blocks>', 'widest block range of eth_getLogs', int('--rpc.logs-max-range'), d.rpc.logsMaxRange)
    .option(
      '--rpc.logquerylimit <n>',
      "most addresses, and most alternatives at one topic position, in eth_getLogs, a filter or a logs subscription (geth's flag)",
      int('--rpc.logquerylimit'),
      d.rpc.logQueryLimit,
    )
    .option('--rpc.filter-timeout <seconds>', 'an unpolled filter is removed after this long (geth: 5 minutes)', int('--rpc.filter-timeout'), d.rpc.filterTimeout)
    .option('--rpc.max-filters <n>', 'most installed filters (eth_newFilter & co.), all clients together', int('--rpc.max-filters'), d.rpc.maxFilters)
    .option(
      '--rpc.max-filters-per-client <n>',
      'most installed filters of one client (a WebSocket connection, or an IP over HTTP)',
      int('--rpc.max-filters-per-client'),
      d.rpc.maxFiltersPerClient,
    )
    .option(
      '--rpc.filter-max-bytes <bytes>',
      'bytes of changes a filter buffers between polls; past it the filter is dropped and its next poll answers "filter not found: dropped, ..."',
      int('--rpc.filter-max-bytes'),
      d.rpc.filterMaxBytes,
    )
    .option('--rpc.max-subscriptions <n>', 'most eth_subscribe subscriptions, all connections together', int('--rpc.max-subscriptions'), d.rpc.maxSubscriptions)
    .option(
      '--rpc.max-subscriptions-per-connection <n>',
      'most eth_subscribe subscriptions of one WebSocket connection',
      int('--rpc.max-subscriptions-per-connection'),
      d.rpc.maxSubscriptionsPerConnection,
    )
    .option('--rpc.ws-max-connections <n>', 'most open WebSocket connections; more are refused with HTTP 503', int('--rpc.ws-max-connections'), d.rpc.wsMaxConnections)
    .option(
      '--rpc.ws-max-connections-per-ip <n>',
      'most open WebSocket connections from one IP; more are refused with HTTP 429',
      int('--rpc.ws-max-connections-per-ip'),
      d.rpc.wsMaxConnectionsPerIp,
    )
    .option(
      '--rpc.ws-max-queued-bytes <bytes>',
      'bytes of notifications and answers waiting for one WebSocket client; past it the socket is closed (1008)',
      int('--rpc.ws-max-queued-bytes'),
      d.rpc.wsMaxQueuedBytes,
    )
    .option(
      '--rpc.max-held-bytes <bytes>',
      'bytes of logs and hashes kept for all filters and WebSocket queues; past it the largest holders of the client holding most are dropped',
      int('--rpc.max-held-bytes'),
      d.rpc.maxHeldBytes,
    )
    .addOption(
      new Option('--rpc.evmtimeout <duration>', 'wall-clock limit of one eth_call / eth_estimateGas (geth: 5s); 0: none')
        .argParser(duration('--rpc.evmtimeout'))
        .default(d.rpc.evmTimeoutMs, showMs(d.rpc.evmTimeoutMs)),
    )
    .addOption(
      new Option('--rpc.request-timeout <duration>', 'how long one request (a batch as a whole) may keep calls waiting; later ones answer -32002 "request timed out"')
        .argParser(duration('--rpc.request-timeout'))
        .default(d.rpc.requestTimeoutMs, showMs(d.rpc.requestTimeoutMs)),
    )
    .option('--rpc.call-concurrency <n>', 'eth_call / eth_estimateGas executing at once, all clients together', int('--rpc.call-concurrency'), d.rpc.callConcurrency)
    .option(
      '--rpc.call-concurrency-per-client <n>',
      'eth_call / eth_estimateGas of one client executing at once; the rest wait their turn',
      int('--rpc.call-concurrency-per-client'),
      d.rpc.callConcurrencyPerClient,
    )
    .option(
      '--rpc.call-queue-per-client <n>',
      'eth_call / eth_estimateGas one client may have waiting; more answer -32005',
      int('--rpc.call-queue-per-client'),
      d.rpc.callQueuePerClient,
    )
    .option('--rpc.call-queue <n>', 'eth_call / eth_estimateGas waiting, all clients together; more answer -32005', int('--rpc.call-queue'), d.rpc.callQueue)
    .option('--rollup-config <file>', 'rollup config (L1 contracts, chain ids, L1 start, block signer; `devnet` writes one): run as a rollup sequencer, or the replica of one')
    .option('--l1-rpc <url>', 'L1 JSON-RPC endpoint (with --rollup-config)')
    .option('--batcher-key <key>', 'L1 key that posts batches (or env AI_ROLLUP_BATCHER_KEY); without it no batches are posted')
    .option('--proposer-key <key>', 'L1 key that posts output roots (or env AI_ROLLUP_PROPOSER_KEY)')
    .option('--inference-poster-key <key>', "L1 key that posts each batch's inference proofs to the InferenceOracle (or env AI_ROLLUP_INFERENCE_POSTER_KEY)")
    .option('--l1-poll-ms <ms>', 'milliseconds between L1 polls', int('--l1-poll-ms'), 1000)
    .option(
      '--l1.fallback-rpc <urls>',
      "L1 endpoints to switch to, in order, when --l1-rpc keeps failing (comma-separated or repeated; each must serve the rollup config's L1 chain); --l1-rpc is tried again after a minute",
      fallbackUrls,
    )
    .option(
      '--l1.max-rps <n>',
      'most L1 requests per second, all L1 clients of the node together, retries included (0: unbounded); more wait',
      count('--l1.max-rps', 0),
      l1d.maxRps,
    )
    .option('--l1.timeout-ms <ms>', 'milliseconds one L1 request may take before it counts as failed', count('--l1.timeout-ms', 1), l1d.timeoutMs)
    .option(
      '--l1.retries <n>',
      'retries of an L1 request after a transient failure (connection, timeout, 5xx, 429, rate-limit errors), with backoff; 0: none',
      count('--l1.retries', 0),
      l1d.retries,
    )
    .option('--batch-max-age <ms>', 'post a batch once its oldest block is this old, even if not full', int('--batch-max-age'), 30_000)
    .option(
      '--batch-origin-depth <blocks>',
      'L1 blocks above the L1 origin of an L2 block before it is batched (an L1 reorg up to this deep never invalidates a batch)',
      int('--batch-origin-depth'),
      0,
    )
    .option('--models <dir>', 'compiled models whose circuits and keys the node serves (ai_modelArtifacts, GET /artifacts/<sha256>); default <datadir>/models')
    .option(
      '--p2p.listen <multiaddr>',
      `turn p2p on, listening here (repeatable or comma-separated; e.g. ${DEFAULT_P2P_LISTEN}, /tcp/0 picks a free port); key in <datadir>/p2p-key`,
      multiaddrs('--p2p.listen', false),
    )
    .option(
      '--p2p.bootnodes <multiaddrs>',
      'peers to dial and keep connected, comma-separated /ip4/.../tcp/.../p2p/<id> (needs --p2p.listen, except with --replica)',
      multiaddrs('--p2p.bootnodes', true),
    )
    .option('--no-p2p', 'p2p off even with --p2p.listen')
    .option(
      '--sequencer-key <key>',
      "sign every block with this key and gossip it to replicas (or env AI_ROLLUP_SEQUENCER_KEY; needs p2p); its address is the rollup config's unsafeBlockSigner",
    )
    .option(
      '--replica',
      'follow a sequencer instead of producing blocks: gossiped blocks are checked against the block signer and re-executed (--p2p.bootnodes), and with --rollup-config and --l1-rpc the chain is derived from L1 batches',
      false,
    )
    .option('--sequencer-rpc <url>', 'replica: forward eth_sendRawTransaction (and pending nonces) to this sequencer JSON-RPC')
    .option(
      '--challenger-key <key>',
      "replica with --l1-rpc: the Rollup's challenger L1 key (or env AI_ROLLUP_CHALLENGER_KEY); output roots that differ from the derived chain's are deleted while not final",
    )
    .option('--sequencer-address <address>', "replica of a chain whose rollup config names no unsafeBlockSigner (or that has none, e.g. `node --dev`): the block signer's address")
    .option(
      '--metrics.port <port>',
      'also serve /metrics and /health on this port, on --rpc.addr (0 picks a free one); they are always on the JSON-RPC port',
      int('--metrics.port'),
    )
    .option(
      '--health.max-l1-down <seconds>',
      'rollup mode: /health answers 503 once L1 has not answered for this long',
      int('--health.max-l1-down'),
      defaultMetricsOptions.maxL1DownSeconds,
    )
    .option('--no-explorer', 'do not serve the block explorer at /explorer on the JSON-RPC port')
    .addOption(new Option('--log-level <level>', 'log level').choices(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'))
    .action(async (flags: Record<string, unknown>) => runNode(flags));
  program
    .command('devnet')
    .description('one-command local rollup: anvil as L1, the L1 contracts, the sequencer with batcher and proposer')
    .option('--datadir <dir>', 'keep L1 state, deployment and L2 chain here across runs (default: a temporary directory, removed on exit)')
    .addOption(bigOption('--chain-id <id>', 'L2 chain id', 901n))
    .option('--l1-rpc <url>', 'use this L1 instead of starting anvil')
    .option('--l1-key <key>', 'with --l1-rpc: the key that deploys the contracts and funds the batcher and proposer')
    .option('--l1-port <port>', 'anvil port (0 picks a free one)', int('--l1-port'), 8545)
    .option('--l1-block-time <seconds>', 'anvil block time', int('--l1-block-time'), 2)
    .option('--rpc.addr <host>', 'L2 JSON-RPC listen address', d.rpc.host)
    .option('--rpc.port <port>', 'L2 JSON-RPC port (0 picks a free one)', int('--rpc.port'), 9545)
    .option('--block-time <seconds>', 'L2 seconds between blocks', int('--block-time'), 1)
    .addOption(bigOption('--challenge-window <seconds>', 'seconds before an output root is final', 10n))
    .addOption(bigOption('--inclusion-window <seconds>', 'seconds within which a batch must include each deposit', 300n))
    .option('--no-example-models', 'do not compile and register the example model')
    .option('--p2p.listen <multiaddr>', `L2 p2p listen address (repeatable or comma-separated; default ${DEFAULT_P2P_LISTEN})`, multiaddrs('--p2p.listen', false))
    .option('--p2p.bootnodes <multiaddrs>', 'peers the L2 node dials, comma-separated /ip4/.../tcp/.../p2p/<id>', multiaddrs('--p2p.bootnodes', true))
    .option('--no-p2p', 'run the L2 node without p2p (no job announcements to provers)')
    .option('--no-explorer', 'do not serve the block explorer at /explorer on the L2 JSON-RPC port')
    .addOption(new Option('--log-level <level>', 'log level').choices(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'))
    .action(async (flags: Record<string, unknown>) => runDevnet(flags));
  program.addCommand(modelCommand());
  program.addCommand(proverCommand());
  program.addCommand(inferenceCommand());
  program.addCommand(explorerCommand());
  return program;
}

async function runNode(f: Record<string, unknown>): Promise<void> {
  const logger = createLogger(f.logLevel as LogLevel);
  const p2p = nodeP2POptions(f, false);
  const replica = await replicaOptions(f);
  let tempDir: string | undefined;
  let datadir = f.datadir as string | undefined;
  if (datadir === undefined && f.dev === true) datadir = tempDir = await mkdtemp(join(tmpdir(), 'ai-rollup-dev-'));
  const genesisFile = f.genesis as string | undefined;
  const fileChainId = genesisFile === undefined ? undefined : BigInt((await readGenesisFile(genesisFile)).config.chainId);
  const rollup = replica === undefined ? await rollupOptions(f) : undefined;
  const role: Pick<SequencerNodeOptions, 'role' | 'rollup' | 'sequencerKey'> | Pick<ReplicaNodeOptions, 'role' | 'replica'> =
    replica === undefined ? { role: 'sequencer', rollup, sequencerKey: sequencerKey(f, rollup, p2p) } : { role: 'replica', replica };
  const opts: NodeOptions = {
    ...role,
    p2p,
    datadir: datadir ?? defaultNodeOptions.datadir,
    chainId: (f.chainId as bigint | undefined) ?? fileChainId ?? rollup?.config.l2ChainId ?? replica?.rollup?.config.l2ChainId ?? DEFAULT_CHAIN_ID,
    genesisFile,
    dev: f.dev === true,
    logLevel: f.logLevel as LogLevel,
    modelsDir: f.models as string | undefined,
    explorer: f.explorer !== false,
    metrics: { ...defaultMetricsOptions, port: f['metrics.port'] as number | undefined, maxL1DownSeconds: f['health.maxL1Down'] as number },
    rpc: {
      ...defaultNodeOptions.rpc,
      host: f['rpc.addr'] as string,
      port: f['rpc.port'] as number,
      maxBatch: f['rpc.maxBatch'] as number,
      logsMaxRange: f['rpc.logsMaxRange'] as number,
      ...rpcLimits(f),
    },
    sequencer: {
      ...defaultNodeOptions.sequencer,
      blockTime: f.blockTime as number,
      gasLimit: f.gasLimit as bigint,
      coinbase: f.coinbase as string,
      minBaseFee: f.minBaseFee as bigint,
      pool: {
        ...defaultNodeOptions.sequencer.pool,
        maxTotal: f['txpool.max'] as number,
        maxPerSender: f['txpool.maxPerSender'] as number,
        journal: poolJournalOptions(f, datadir ?? defaultNodeOptions.datadir, tempDir !== undefined),
      },
    },
  };
  const cleanup = async () => {
    if (tempDir !== undefined) await rm(tempDir, { recursive: true, force: true });
  };
  const signals = stopOnSignals(logger, 'shutting down');
  // loaded here so `--help` and the model commands do not pay for the whole node
  const { RollupNode } = await import('../assembly/node.ts');
  const node = await RollupNode.init(opts, logger, {
    onFatal: () => void cleanup().finally(() => process.exit(1)),
  }).catch(async (err: unknown) => {
    await cleanup(); // e.g. a port in use: leave no temporary datadir behind
    throw err;
  });
  if (opts.dev) printDevBanner(node.rpcUrl, opts.datadir, node.p2pAddrs);
  signals.up(() => node.close().then(cleanup));
}

/** The filter, subscription and WebSocket caps (commander camel-cases after the dot). */
function rpcLimits(f: Record<string, unknown>): Partial<NodeOptions['rpc']> {
  const n = (key: string) => f[key] as number;
  return {
    logQueryLimit: n('rpc.logquerylimit'),
    filterTimeout: n('rpc.filterTimeout'),
    maxFilters: n('rpc.maxFilters'),
    maxFiltersPerClient: n('rpc.maxFiltersPerClient'),
    filterMaxBytes: n('rpc.filterMaxBytes'),
    maxSubscriptions: n('rpc.maxSubscriptions'),
    maxSubscriptionsPerConnection: n('rpc.maxSubscriptionsPerConnection'),
    wsMaxConnections: n('rpc.wsMaxConnections'),
    wsMaxConnectionsPerIp: n('rpc.wsMaxConnectionsPerIp'),
    wsMaxQueuedBytes: n('rpc.wsMaxQueuedBytes'),
    maxHeldBytes: n('rpc.maxHeldBytes'),
    evmTimeoutMs: n('rpc.evmtimeout'),
    requestTimeoutMs: n('rpc.requestTimeout'),
    callConcurrency: n('rpc.callConcurrency'),
    callConcurrencyPerClient: n('rpc.callConcurrencyPerClient'),
    callQueuePerClient: n('rpc.callQueuePerClient'),
    callQueue: n('rpc.callQueue'),
  };
}

const KEY = /^0x[0-9a-fA-F]{64}$/;

async function runDevnet(f: Record<string, unknown>): Promise<void> {
  const logger = createLogger(f.logLevel as LogLevel);
  const l1Key = f.l1Key as string | undefined;
  if (l1Key !== undefined && !KEY.test(l1Key)) throw new Error('--l1-key must be a 0x-prefixed 32-byte hex private key');
  const { startDevnet, devnetBanner } = await import('../../devnet/devnet.ts');
  const signals = stopOnSignals(logger, 'stopping the devnet');
  const devnet = await startDevnet(
    {
      datadir: f.datadir as string | undefined,
      l2ChainId: f.chainId as bigint,
      l1Rpc: f.l1Rpc as string | undefined,
      l1Key: l1Key as Hex | undefined,
      l1Port: f.l1Port as number,
      l1BlockTime: f.l1BlockTime as number,
      rpcHost: f['rpc.addr'] as string,
      rpcPort: f['rpc.port'] as number,
      blockTime: f.blockTime as number,
      challengeWindow: f.challengeWindow as bigint,
      inclusionWindow: f.inclusionWindow as bigint,
      logLevel: f.logLevel as LogLevel,
      exampleModels: f.exampleModels !== false,
      p2p: nodeP2POptions(f, true),
      explorer: f.explorer !== false,
    },
    logger,
  );
  process.stdout.write(`${devnetBanner(devnet)}\n`);
  logger.info({ l1: devnet.l1Url, l2: devnet.l2Url }, 'devnet started');
  signals.up(() => devnet.stop());
}

/**
 * p2p is on by default for `devnet` (on a fixed loopback port, so a local prover finds it) and
 * for `node` only when told where to listen: a sequencer should not open a port unasked.
 */
function nodeP2POptions(f: Record<string, unknown>, onByDefault: boolean): NodeP2POptions | undefined {
  const listen = f['p2p.listen'] as string[] | undefined;
  const bootstrap = (f['p2p.bootnodes'] as string[] | undefined) ?? [];
  if (f.replica === true) {
    // with an L1 a replica derives its chain from L1 alone; gossip then only adds the unsafe head
    const fromL1 = f.rollupConfig !== undefined && f.l1Rpc !== undefined;
    if (fromL1 && (f.p2p === false || (bootstrap.length === 0 && listen === undefined))) return undefined;
    if (f.p2p === false) throw new Error('--replica needs p2p (or --rollup-config with --l1-rpc): its blocks come from peers');
    if (bootstrap.length === 0) throw new Error('--replica needs --p2p.bootnodes (the sequencer, or another replica), or --l1-rpc to derive from L1');
    return { ...defaultNodeP2POptions, listen: listen ?? [REPLICA_P2P_LISTEN], bootstrap };
  }
  if (f.p2p === false) return undefined;
  if (listen === undefined && !onByDefault) {
    if (bootstrap.length > 0) throw new Error('--p2p.bootnodes needs --p2p.listen (p2p is off without it)');
    return undefined;
  }
  return { ...defaultNodeP2POptions, listen: listen ?? defaultNodeP2POptions.listen, bootstrap };
}

/** A replica dials out to its bootnodes; it listens (for other replicas) on a free loopback port unless told otherwise. */
const REPLICA_P2P_LISTEN = '/ip4/127.0.0.1/tcp/0';
const ADDRESS = /^0x[0-9a-fA-F]{40}$/;
const flagName = (key: string) => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

/** --replica: the block signer from the rollup config or --sequencer-address; no sequencer keys, only the challenger's. */
async function replicaOptions(f: Record<string, unknown>): Promise<ReplicaOptions | undefined> {
  const address = f.sequencerAddress as string | undefined;
  const sequencerRpc = f.sequencerRpc as string | undefined;
  if (f.replica !== true) {
    if (address !== undefined || sequencerRpc !== undefined) throw new Error(`${flagName(address !== undefined ? 'sequencerAddress' : 'sequencerRpc')} is for --replica`);
    if (f.challengerKey !== undefined) throw new Error('--challenger-key is for --replica (with --l1-rpc): the challenger checks outputs against the chain it derives from L1');
    return undefined;
  }
  for (const k of ['batcherKey', 'proposerKey', 'inferencePosterKey', 'sequencerKey']) {
    if (f[k] !== undefined) throw new Error(`${flagName(k)} is for the sequencer: a replica signs and posts nothing`);
  }
  if (address !== undefined && !ADDRESS.test(address)) throw new Error('--sequencer-address must be a 0x-prefixed 20-byte address');
  const file = f.rollupConfig as string | undefined;
  const l1Rpc = f.l1Rpc as string | undefined;
  if (file === undefined && l1Rpc !== undefined) throw new Error('--l1-rpc needs --rollup-config');
  const config = file === undefined ? undefined : await readRollupConfig(file);
  const configured = config?.unsafeBlockSigner;
  if (configured !== undefined && address !== undefined && configured.toLowerCase() !== address.toLowerCase()) {
    throw new Error(`--sequencer-address ${address} is not the rollup config's unsafeBlockSigner ${configured}`);
  }
  return {
    signer: (configured ?? address) as Hex | undefined,
    sequencerRpc,
    rollup: config === undefined ? undefined : { config, l1Rpc, l1PollMs: f.l1PollMs as number, challengerKey: challengerKey(f, l1Rpc), l1Transport: l1TransportOptions(f) },
    sync: defaultSyncOptions,
  };
}

/** Only a replica deriving from L1 knows which output roots are right; the env variable alone is ignored elsewhere. */
function challengerKey(f: Record<string, unknown>, l1Rpc: string | undefined): Hex | undefined {
  const flag = f.challengerKey as string | undefined;
  const v = flag ?? process.env.AI_ROLLUP_CHALLENGER_KEY;
  if (v === undefined || v === '') return undefined;
  if (!KEY.test(v)) throw new Error('--challenger-key must be a 0x-prefixed 32-byte hex private key');
  if (l1Rpc === undefined) {
    if (flag !== undefined) throw new Error('--challenger-key needs --l1-rpc: outputs are checked against the chain derived from L1');
    return undefined;
  }
  return v as Hex;
}

/** The block key: its address must be the rollup config's unsafeBlockSigner, else every replica would refuse every block. */
function sequencerKey(f: Record<string, unknown>, rollup: NodeOptions['rollup'], p2p: NodeP2POptions | undefined): Hex | undefined {
  if (f.replica === true) return undefined;
  const flag = f.sequencerKey as string | undefined;
  const v = flag ?? process.env.AI_ROLLUP_SEQUENCER_KEY;
  if (v === undefined || v === '') return undefined;
  if (!KEY.test(v)) throw new Error('--sequencer-key must be a 0x-prefixed 32-byte hex private key');
  if (p2p === undefined) {
    if (flag !== undefined) throw new Error('--sequencer-key needs p2p (--p2p.listen): blocks are gossiped to replicas');
    return undefined;
  }
  const address = privateKeyToAccount(v as Hex).address;
  const signer = rollup?.config.unsafeBlockSigner;
  if (signer !== undefined && signer.toLowerCase() !== address.toLowerCase()) {
    throw new Error(`--sequencer-key belongs to ${address}, the rollup config's unsafeBlockSigner is ${signer}: replicas would refuse every block`);
  }
  return v as Hex;
}

async function rollupOptions(f: Record<string, unknown>): Promise<NodeOptions['rollup']> {
  const file = f.rollupConfig as string | undefined;
  const l1Rpc = f.l1Rpc as string | undefined;
  if (file === undefined) {
    if (l1Rpc !== undefined) throw new Error('--l1-rpc needs --rollup-config');
    return undefined;
  }
  if (l1Rpc === undefined) throw new Error('--rollup-config needs --l1-rpc');
  const key = (flag: string, env: string): Hex | undefined => {
    const v = (f[flag] as string | undefined) ?? process.env[env];
    if (v === undefined || v === '') return undefined;
    if (!KEY.test(v)) throw new Error(`--${flag.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} must be a 0x-prefixed 32-byte hex private key`);
    return v as Hex;
  };
  return {
    config: await readRollupConfig(file),
    l1Rpc,
    batcherKey: key('batcherKey', 'AI_ROLLUP_BATCHER_KEY'),
    proposerKey: key('proposerKey', 'AI_ROLLUP_PROPOSER_KEY'),
    inferencePosterKey: key('inferencePosterKey', 'AI_ROLLUP_INFERENCE_POSTER_KEY'),
    l1PollMs: f.l1PollMs as number,
    l1Transport: l1TransportOptions(f),
    batchMaxAgeMs: f.batchMaxAge as number,
    batchOriginDepth: f.batchOriginDepth as number,
  };
}

function printDevBanner(rpcUrl: string, datadir: string, p2p: string[]): void {
  const lines = ['', 'Available accounts (10,000 ETH each)', '=================='];
  const accts = devAccounts();
  accts.forEach((a, i) => lines.push(`(${i}) ${a.address}`));
  lines.push('', 'Private keys', '==================');
  accts.forEach((a, i) => lines.push(`(${i}) ${a.privateKey}`));
  lines.push('', `Mnemonic: ${DEV_MNEMONIC}`, `Datadir:  ${datadir}`, `JSON-RPC: ${rpcUrl}  (WebSocket on the same port)`);
  for (const a of p2p) lines.push(`P2P:      ${a}`);
  lines.push('');
  process.stdout.write(`${lines.join('\n')}\n`);
}

export async function main(argv: string[]): Promise<void> {
  limitHeapGrowth();
  try {
    await buildCli().parseAsync(argv);
  } catch (err) {
    // a user error (bad file, refused transaction) is one line, not a stack trace
    process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  }
}
