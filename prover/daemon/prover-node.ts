/**
 * Assembly of `ai-rollup prover`: a process run by a third party that contributes compute. It
 * joins the p2p network (jobs by gossip, model packages by content hash), watches the chain for
 * requests as well, and proves in a pool of threads; claims and fulfilments go over JSON-RPC.
 * Built in dependency order, closed in reverse; constructors only store what they are given.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Hex } from 'viem';
import type { Logger } from 'pino';
import { initMcl } from '../../precompiles/groth16/verify.ts';
import { ChainJobs } from './chain-jobs.ts';
import { JobIntake, defaultIntakeOptions } from './job-intake.ts';
import { JobRunner } from './job-runner.ts';
import type { RunnerOptions } from './job-runner.ts';
import { ModelFetcher } from './model-fetcher.ts';
import type { FetchByHash } from './model-fetcher.ts';
import { ProverChain } from './prover-chain.ts';
import { ProverPool } from '../worker/pool.ts';
import { P2PService, TopicKind, p2pOptions } from '../../node/p2p/index.ts';
import { CodedError } from '../../precompiles/errors.ts';

export interface ProverNodeOptions {
  rpcUrl: string;
  privateKey: Hex;
  /** Model packages, the p2p key and the chain-scan cursor live here. */
  datadir: string;
  concurrency: number;
  /** Stake to put up when this account is not registered yet (wei); none: refuse to start unregistered. */
  stake?: bigint;
  runner: RunnerOptions;
  /** Milliseconds between chain scans for requests. */
  pollMs: number;
  p2p: { listen: string[]; bootnodes: string[] };
}

export class ProverStartError extends CodedError {
  override readonly code = 'PROVER_START_ERROR';

  override name = 'ProverStartError';
}

export class ProverNode {
  private constructor(
    readonly chain: ProverChain,
    readonly p2p: P2PService,
    readonly pool: ProverPool,
    readonly runner: JobRunner,
    readonly intake: JobIntake,
    private readonly scanner: ChainJobs,
    private readonly logger: Logger,
  ) {}

  static async init(options: ProverNodeOptions, logger: Logger): Promise<ProverNode> {
    await mkdir(options.datadir, { recursive: true });
    const chainId = await ProverChain.chainIdOf(options.rpcUrl);
    const chain = new ProverChain({ rpcUrl: options.rpcUrl, chainId, privateKey: options.privateKey });
    await ensureStake(chain, options.stake, logger);
    await initMcl();

    const p2p = await P2PService.create(p2pOptions(BigInt(chainId), { listen: options.p2p.listen, bootstrap: options.p2p.bootnodes, keyFile: join(options.datadir, 'p2p-key') }), {
      logger,
    });
    const pool = new ProverPool({ concurrency: options.concurrency }, { logger: logger.child({ module: 'prover:pool' }) });
    const models = new ModelFetcher(
      { dir: join(options.datadir, 'models') },
      { fetch: fetchFromPeers(p2p, options.rpcUrl, logger), logger: logger.child({ module: 'prover:models' }) },
    );
    const runner = new JobRunner(options.runner, {
      chain,
      models,
      prove: (dir, input) => pool.prove(dir, input),
      restake: restaker(chain, options.stake, logger),
      logger: logger.child({ module: 'prover:jobs' }),
    });
    const intake = new JobIntake(defaultIntakeOptions, { chain, runner, logger: logger.child({ module: 'prover:intake' }) });
    p2p.gossip.subscribe(TopicKind.Jobs, intake.handler(BigInt(chainId)));
    const scanner = new ChainJobs(
      { pollMs: options.pollMs, stateFile: join(options.datadir, `scan-${chainId}.json`), maxRange: 10_000n },
      { chain, found: (request) => intake.fromChain(request), scanned: () => intake.recheck(), logger: logger.child({ module: 'prover:scan' }) },
    );
    await p2p.start();
    await scanner.start();
    logger.info({ prover: chain.address, chainId, concurrency: options.concurrency, p2p: p2p.listenAddrs }, 'prover started');
    return new ProverNode(chain, p2p, pool, runner, intake, scanner, logger);
  }

  async close(): Promise<void> {
    await this.scanner.stop();
    this.runner.close();
    await this.pool.close();
    await this.p2p.stop();
    const { intake, runner } = this;
    this.logger.info({ ...runner.stats, earned: runner.stats.earned.toString(), open: runner.pending, held: intake.heldCount, heldPeak: intake.heldPeak }, 'prover stopped');
  }
}

/** Registers with `stake` when the account's stake is below the market's minimum. */
async function ensureStake(chain: ProverChain, stake: bigint | undefined, logger: Logger): Promise<void> {
  const [info, params] = await Promise.all([chain.proverInfo(), chain.parameters()]);
  if (info.stake >= params.minStake) return;
  if (stake === undefined) throw new ProverStartError(`${chain.address} has ${info.stake} wei staked, the market needs ${params.minStake}: pass --stake`);
  if (info.stake + stake < params.minStake) throw new ProverStartError(`--stake ${stake} wei leaves ${info.stake + stake} staked, the market needs ${params.minStake}`);
  await chain.register(stake);
  logger.info({ prover: chain.address, stake: (info.stake + stake).toString(), slashedTo: info.stake.toString() }, 'registered as a prover');
}

/**
 * ensureStake again once slashes take the stake below the minimum, with --stake as at start
 * (one top-up at a time: every job refused at once asks together).
 */
function restaker(chain: ProverChain, stake: bigint | undefined, logger: Logger): (() => Promise<boolean>) | undefined {
  if (stake === undefined) return undefined;
  let running: Promise<boolean> | undefined;
  return () => {
    running ??= ensureStake(chain, stake, logger)
      .then(() => true)
      .catch((err: Error) => {
        logger.error({ err: err.message }, 'could not restake after slashes');
        return false;
      })
      .finally(() => {
        running = undefined;
      });
    return running;
  };
}

/**
 * Asks every connected peer in turn (each answer is hash-checked by the p2p layer, and a peer
 * that lies is penalised there); the node's HTTP artifact endpoint is the last resort, for a
 * prover whose peers do not hold the package yet.
 */
function fetchFromPeers(p2p: P2PService, rpcUrl: string, logger: Logger): FetchByHash {
  return async (sha256) => {
    const errors: string[] = [];
    for (const peer of p2p.libp2p.getPeers()) {
      try {
        return await p2p.artifacts.fetch(peer, sha256);
      } catch (err) {
        errors.push(`${peer.toString()}: ${(err as Error).message}`);
      }
    }
    const res = await fetch(new URL(`/artifacts/${sha256}`, rpcUrl));
    if (!res.ok) throw new Error(`no peer has ${sha256} (${errors.join('; ') || 'no peers'}) and the node answered HTTP ${res.status}`);
    logger.warn({ sha256, peers: errors.length }, 'artifact fetched over HTTP: no peer served it');
    return new Uint8Array(await res.arrayBuffer());
  };
}
