/**
 * The L1 side of a rollup node, assembled: the deposit/origin watcher and the Rollup's status
 * always; the batcher, the proposer and the inference poster when their L1 keys are given (each
 * its own key, so their transactions never race for a nonce).
 */
import { dirname } from 'node:path';
import { bytesToHex, createPublicClient, createWalletClient } from 'viem';
import type { Hex, PublicClient } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import type { Logger } from 'pino';
import { Batcher } from '../../sequencer/batcher.ts';
import { InferencePoster } from '../../sequencer/inference-poster.ts';
import { checkDepositCapacity } from '../rollup/l1-attributes.ts';
import type { L1BlockRef } from '../rollup/l1-attributes.ts';
import { bridgeAbi, rollupAbi } from '../../contracts/abi/rollup.ts';
import { readL1BlockInfo } from '../chain/l1-block-info.ts';
import { Proposer } from '../../sequencer/proposer.ts';
import { posterAggregation } from '../../prover/aggregate/batch-aggregator.ts';
import type { ArtifactStore } from '../ai/artifact-store.ts';
import { chainFulfilledInferences } from '../ai/fulfilled-inferences.ts';
import { chainResultsRoot } from '../ai/batch-results.ts';
import type { JobInputs } from '../ai/job-inputs.ts';
import type { CallExecutor } from '../chain/call.ts';
import type { Chain } from '../chain/chain.ts';
import { L1Rpc } from '../l1/l1-transport.ts';
import { L1Watcher } from '../l1/l1-watcher.ts';
import { RollupStatus } from '../l1/rollup-status.ts';
import type { RollupNodeOptions, SequencerNodeOptions } from './options.ts';
import { chainAt } from '../../contracts/abi/chain.ts';

function l1Chain(id: bigint, url: string) {
  return chainAt(id, url, `l1-${id}`);
}

export type L1Parts = Awaited<ReturnType<typeof startL1>>;

/** What the inference poster needs from the node's AI side to prove k inferences per L1 proof. */
export interface L1AiParts {
  /** The node's own chain reads: the poster reads fulfilled inferences in-process. */
  calls: Pick<CallExecutor, 'call'>;
  artifacts?: Pick<ArtifactStore, 'model'>;
  /** Present when p2p is on (ai_submitJobInput needs it). */
  jobInputs?: JobInputs;
}

export async function startL1(options: SequencerNodeOptions & { rollup: RollupNodeOptions }, chain: Chain, logger: Logger, ai: L1AiParts) {
  const r = options.rollup;
  const cfg = r.config;
  if (cfg.l2ChainId !== options.chainId) throw new Error(`rollup config is for L2 chain ${cfg.l2ChainId}, this node runs chain ${options.chainId}`);
  // one transport for every L1 client: its retries, fallbacks and rate bound cover them all
  const l1Rpc = new L1Rpc(r.l1Rpc, { ...r.l1Transport, chainId: cfg.l1ChainId }, logger.child({ module: 'l1:rpc' }));
  const client = createPublicClient({ transport: l1Rpc.transport() });
  const l1Logger = logger.child({ module: 'l1' });
  let reachable = false;
  try {
    const id = await client.getChainId();
    if (BigInt(id) !== cfg.l1ChainId) throw new Error(`L1 at ${r.l1Rpc} is chain ${id}, the rollup config says ${cfg.l1ChainId}`);
    reachable = true;
  } catch (err) {
    if ((err as Error).message.startsWith('L1 at')) throw err;
    l1Logger.warn({ l1: r.l1Rpc, err: (err as Error).message }, 'L1 unreachable at start; building on the L1 start block until it answers');
  }
  if (reachable) await depositCapacity(client as PublicClient, cfg.contracts.bridge, options.sequencer.gasLimit, l1Logger);
  const watcher = new L1Watcher(
    client as PublicClient,
    { bridge: cfg.contracts.bridge, startBlock: cfg.l1Start.number, confirmations: cfg.l1Confirmations, pollMs: r.l1PollMs },
    logger.child({ module: 'l1:watcher' }),
  );
  const status = new RollupStatus(client as PublicClient, cfg.contracts.rollup, r.l1PollMs, logger.child({ module: 'l1:status' }));
  // deposits are read from where the first one L2 has not consumed can be, not from the Bridge's deployment
  watcher.resume((await readL1BlockInfo(chain.headState())).depositCount);
  await watcher.start();
  await status.start();
  const services: { stop(): Promise<void> }[] = [watcher, status];
  // what an idle poster pass reads: L1 (the status's head, read once per poll for all of them)
  // and the L2 chain; ten polls without a pass at most, for what neither shows (proofs, ages)
  const l1Changes = () => String(status.snapshot.l1Head);
  const changes = () => `${l1Changes()}:${chain.head.header.number}:${bytesToHex(chain.head.hash())}`;
  const quietMs = 10 * r.l1PollMs;
  const wallet = (key: Hex) => createWalletClient({ account: privateKeyToAccount(key), chain: l1Chain(cfg.l1ChainId, r.l1Rpc), transport: l1Rpc.transport() });
  let batcher: Batcher | undefined;
  if (r.batcherKey !== undefined) {
    batcher = new Batcher(
      {
        chain,
        l1: { public: client as PublicClient, wallet: wallet(r.batcherKey) },
        rollup: cfg.contracts.rollup,
        logger: logger.child({ module: 'batcher' }),
        resultsRoot: chainResultsRoot(chainFulfilledInferences(chain, ai.calls), chain.common.chainId()),
      },
      { pollMs: r.l1PollMs, maxBatchAgeMs: r.batchMaxAgeMs, l1Confirmations: cfg.l1Confirmations, originDepth: r.batchOriginDepth ?? 0 },
    );
    // a batch comes due by its oldest block's age, which neither head shows
    batcher.quietWhileUnchanged({ key: changes, maxMs: Math.min(quietMs, r.batchMaxAgeMs ?? quietMs) });
    batcher.onBatchConfirmed(() => void status.poll());
    // started by the sequencer once its start-up L1 reorg check is done (startBatcher): a first
    // pass before it could batch blocks whose origin an L1 reorg took while the node was down
    services.unshift(batcher);
  }
  let proposer: Proposer | undefined;
  if (r.proposerKey !== undefined) {
    const p = new Proposer(
      { chain, l1: { public: client as PublicClient, wallet: wallet(r.proposerKey) }, rollup: cfg.contracts.rollup, logger: logger.child({ module: 'proposer' }) },
      { pollMs: r.l1PollMs, l1Confirmations: cfg.l1Confirmations },
    );
    // outputs are over batches: only L1 makes one due (the sequencer holds every batched block)
    p.quietWhileUnchanged({ key: l1Changes, maxMs: quietMs });
    batcher?.onBatchConfirmed(() => p.poke());
    p.onProposed(() => void status.poll());
    p.start();
    services.unshift(p);
    proposer = p;
  }
  const poster = inferencePoster(options, client as PublicClient, wallet, logger, chain, ai);
  if (poster !== undefined) {
    poster.quietWhileUnchanged({ key: changes, maxMs: quietMs });
    batcher?.onBatchConfirmed(() => poster.poke());
    services.unshift(poster);
  }
  const start: L1BlockRef = { number: cfg.l1Start.number, hash: cfg.l1Start.hash, timestamp: cfg.l1Start.timestamp, baseFee: 0n };
  return {
    watcher,
    batcher,
    proposer,
    poster,
    producer: { view: watcher, start, onConsumed: (count: bigint) => watcher.consumed(count) },
    rpc: { config: cfg, status, client: client as PublicClient },
    l1Rpc,
    /** The newest L2 block a batch on L1 covers (the sequencer never rewinds below it). */
    async batchedUpTo(): Promise<bigint> {
      const next = await client.readContract({ address: cfg.contracts.rollup, abi: rollupAbi, functionName: 'nextBlock' });
      return BigInt(next) - 1n;
    },
    services,
    /** Starts the batcher: after the sequencer checked its head's L1 origin (sequencer/l1-reorg.ts). */
    startBatcher() {
      batcher?.start();
    },
    /** Starts what waits for the node to serve (the inference poster). */
    startPoster() {
      poster?.start();
    },
  };
}

/** Refuses a block gas limit too small for the deposits of one L1 block (checkDepositCapacity); unknown while L1 does not answer. */
async function depositCapacity(client: PublicClient, bridge: Hex, gasLimit: bigint, logger: Logger): Promise<void> {
  let cap: bigint;
  try {
    cap = BigInt((await client.readContract({ address: bridge, abi: bridgeAbi, functionName: 'resourceConfig' })).maxResourceLimit);
  } catch (err) {
    logger.warn({ bridge, err: (err as Error).message }, 'cannot read the Bridge deposit gas cap; block gas limit not checked against it');
    return;
  }
  checkDepositCapacity(gasLimit, cap);
}

function inferencePoster(
  options: SequencerNodeOptions & { rollup: RollupNodeOptions },
  l1: PublicClient,
  wallet: (key: Hex) => ReturnType<typeof createWalletClient>,
  logger: Logger,
  chain: Chain,
  ai: L1AiParts,
): InferencePoster | undefined {
  const r = options.rollup;
  const oracle = r.config.contracts.inferenceOracle;
  if (r.inferencePosterKey === undefined) return undefined;
  if (oracle === undefined) {
    logger.warn('an inference poster key is set but the rollup config names no inferenceOracle: no inference proofs are posted');
    return undefined;
  }
  const posterLogger = logger.child({ module: 'inference-poster' });
  const aggregation =
    ai.artifacts === undefined
      ? undefined
      : posterAggregation({ modelDir: artifactModelDir(ai.artifacts), jobInput: (id) => ai.jobInputs?.get(id), logger: posterLogger, threads: 1 });
  return new InferencePoster(
    {
      l1: { public: l1, wallet: wallet(r.inferencePosterKey) as never },
      rollup: r.config.contracts.rollup,
      oracle,
      logger: posterLogger,
      inferences: chainFulfilledInferences(chain, ai.calls),
      aggregation,
      chainId: r.config.l2ChainId,
      jobInputs: ai.jobInputs,
    },
    { pollMs: r.l1PollMs },
  );
}

/** The poster's model lookup: a package's directory is where its manifest is (the store checked every file's hash). */
export function artifactModelDir(artifacts: Pick<ArtifactStore, 'model'>): (modelId: Hex) => Promise<string | undefined> {
  return async (id) => {
    const m = await artifacts.model(id);
    return m === undefined ? undefined : dirname(m.manifestEntry.path);
  };
}
