/**
 * Block sync on a node's p2p service (node/sync), assembled: every node with p2p serves its
 * canonical blocks over blocks-by-range; a sequencer with `--sequencer-key` signs and gossips
 * every block it commits; a replica (`--replica`) follows those blocks, re-executing each, and
 * catches up over ranges. Also the replica's JSON-RPC differences (transactions forwarded to the
 * sequencer) and its optional L1 view: with --l1-rpc, derivation of the chain from L1
 * (node/derivation), which gives the safe/finalized tags, and the rollup_ methods.
 */
import { bytesToHex } from '@ethereumjs/util';
import { createPublicClient, createWalletClient } from 'viem';
import type { Hex, PublicClient, Transport } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import type { Logger } from 'pino';
import { chainResultsRoot } from '../ai/batch-results.ts';
import { chainFulfilledInferences } from '../ai/fulfilled-inferences.ts';
import type { CallExecutor } from '../chain/call.ts';
import type { Chain } from '../chain/chain.ts';
import type { KV } from '../db/kv.ts';
import { Challenger } from '../derivation/challenger.ts';
import type { ChallengerDeps } from '../derivation/challenger.ts';
import { Derivation, DerivedRollupStatus, SerialImporter, defaultDerivationOptions } from '../derivation/index.ts';
import { L1Rpc } from '../l1/l1-transport.ts';
import { RollupStatus } from '../l1/rollup-status.ts';
import type { NodeOptions, ReplicaOptions } from './options.ts';
import { TopicKind } from '../p2p/index.ts';
import type { P2PService } from '../p2p/index.ts';
import type { RollupContext } from '../rpc/backend.ts';
import { RpcCode, RpcError } from '../rpc/errors.ts';
import type { MethodDef } from '../rpc/method.ts';
import { method } from '../rpc/method.ts';
import { allMethods } from '../rpc/methods/index.ts';
import { zData } from '../rpc/schemas.ts';
import { BlockFollower, signedBlocksOnly } from '../sync/block-follower.ts';
import { BlockImporter } from '../sync/block-importer.ts';
import { BlockPublisher } from '../sync/block-publisher.ts';
import { serveBlocksByRange } from '../sync/blocks-by-range.ts';
import { defaultSyncOptions } from '../sync/options.ts';
import { RangeSync } from '../sync/range-sync.ts';
import { SenderRecovery } from '../sync/sender-recovery.ts';
import { HeadPoller, serveSignedHead } from '../sync/signed-head.ts';
import type { SignedHeadSource } from '../sync/signed-head.ts';
import type { SyncProgress } from '../sync/progress.ts';

import { emptyPool } from '../txpool/view.ts';
import type { ReplicaNodeOptions } from './options.ts';
import type { RoleServices, SharedParts, Stoppable } from './role.ts';
import { chainAt } from '../../contracts/abi/chain.ts';

export type { Stoppable } from './role.ts';

export interface BlockSyncDeps {
  chain: Chain;
  /** The node's logger; services name their children (`sync`, `sync:import`, `sync:publish`). */
  logger: Logger;
  /** A verified block could not be written. */
  onFatal(err: Error): void;
  /** A replica's one block writer, shared by gossip and derivation (replicaImporter). */
  importer?: SerialImporter;
  /** A replica's eth_syncing: the follower adds the highest signed block it saw. */
  progress?: SyncProgress;
}

/** A replica's block writer: gossip, catch-up and derivation all import through it, one at a time. */
export function replicaImporter(options: NodeOptions, deps: BlockSyncDeps): SerialImporter | undefined {
  if (options.role !== 'replica') return undefined;
  return new SerialImporter({ chain: deps.chain, logger: deps.logger.child({ module: 'sync:import' }), onFatal: deps.onFatal });
}

/** Sets block sync up on `service` before it starts; `stop()` ends it (before the service stops). */
export function blockSync(options: NodeOptions, deps: BlockSyncDeps): (service: P2PService) => Promise<Stoppable> {
  return async (service) => {
    const { chain, logger } = deps;
    const sync = options.replica?.sync ?? defaultSyncOptions;
    const parts: Stoppable[] = [];
    let signedHead: SignedHeadSource = async () => undefined;
    await serveSignedHead(service.reqresp, () => signedHead(), sync);
    await serveBlocksByRange(service.reqresp, { headNumber: () => chain.head.header.number, blockRlp: async (n) => (await chain.store.getBlockByNumber(n))?.serialize() }, sync);
    if (options.sequencerKey !== undefined) {
      const key = options.sequencerKey;
      const publisher = new BlockPublisher(
        { chainId: options.chainId, key },
        { chain, publish: (data) => service.gossip.publish(TopicKind.Blocks, data), logger: logger.child({ module: 'sync:publish' }) },
      );
      service.gossip.subscribe(TopicKind.Blocks, signedBlocksOnly(options.chainId, privateKeyToAccount(key).address, chain.common));
      publisher.start();
      signedHead = () => publisher.signedHead();
      parts.push(publisher);
    } else if (options.role === 'sequencer' && options.rollup?.config.unsafeBlockSigner !== undefined) {
      logger
        .child({ module: 'sync' })
        .warn({ unsafeBlockSigner: options.rollup.config.unsafeBlockSigner }, 'no --sequencer-key: blocks are not gossiped, replicas cannot follow this sequencer');
    }
    if (options.role === 'replica') {
      const following = follow(options.chainId, options.replica, service, deps);
      if (following !== undefined) {
        signedHead = async () => following.follower.signedHead;
        parts.push(...following.parts);
      }
    }
    return {
      async stop() {
        for (const p of parts) await p.stop();
      },
    };
  };
}

function follow(chainId: bigint, replica: ReplicaOptions, service: P2PService, deps: BlockSyncDeps): { follower: BlockFollower; parts: Stoppable[] } | undefined {
  const log = deps.logger.child({ module: 'sync' });
  if (replica.signer === undefined) {
    log.warn('no block signer known (the rollup config has no unsafeBlockSigner and no --sequencer-address was given): this replica cannot follow the sequencer by gossip');
    return undefined;
  }
  const peers = () => service.libp2p.getPeers().map((p) => p.toString());
  const importer = deps.importer ?? new BlockImporter({ chain: deps.chain, logger: deps.logger.child({ module: 'sync:import' }), onFatal: deps.onFatal });
  // the import never waits for the thread to come up (~250 ms): until then it recovers alone
  const senders = new SenderRecovery({ chainId: deps.chain.common.chainId() }, { logger: deps.logger });
  void senders.start();
  const range = new RangeSync(replica.sync, {
    chain: deps.chain,
    importer,
    reqresp: service.reqresp,
    peers,
    logger: log,
    senders,
  });
  const follower = new BlockFollower({ ...replica.sync, chainId, signer: replica.signer }, { chain: deps.chain, importer, range, logger: log });
  service.gossip.subscribe(TopicKind.Blocks, follower.handler());
  deps.progress?.track(() => follower.highestSigned);
  const heads = new HeadPoller(replica.sync, { chain: deps.chain, reqresp: service.reqresp, offer: (gb, peer) => follower.offer(gb, peer), peers, logger: log });
  service.libp2p.addEventListener('peer:connect', (ev) => heads.onConnect(ev.detail.toString()));
  heads.start();
  log.info({ signer: replica.signer, head: deps.chain.head.header.number }, 'following the block signer');
  // the poller and the follower first: their catch-ups and orphans import through the importer;
  // the recovery thread last, once no import can wait for it
  return { follower, parts: [heads, follower, importer, senders] };
}

/** The replica's method table: the node's, with transactions (and `pending` nonces) forwarded to the sequencer. */
export function replicaMethods(replica: ReplicaOptions): Record<string, MethodDef> {
  const url = replica.sequencerRpc;
  const nonce = allMethods().eth_getTransactionCount!;
  return allMethods({
    eth_sendRawTransaction: method([zData], async ([raw]) => {
      if (url === undefined) throw new RpcError(RpcCode.Server, 'this node is a replica and forwards no transactions (start it with --sequencer-rpc)');
      return forward(url, 'eth_sendRawTransaction', [bytesToHex(raw)]);
    }),
    // the pool that knows pending nonces is the sequencer's; a replica's stays empty
    eth_getTransactionCount: {
      parse: (params) => nonce.parse(params),
      run: async (args, backend, scope) =>
        url !== undefined && args[1] === 'pending' ? forward(url, 'eth_getTransactionCount', [String(args[0]), 'pending']) : nonce.run(args, backend, scope),
    },
  });
}

/** One call to the sequencer; its error (code, message, data) is passed on as it is. */
async function forward(url: string, rpcMethod: string, params: unknown[]): Promise<unknown> {
  let body: { result?: unknown; error?: { code: number; message: string; data?: unknown } };
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: rpcMethod, params }),
      signal: AbortSignal.timeout(10_000),
    });
    body = (await res.json()) as typeof body;
  } catch (err) {
    throw new RpcError(RpcCode.Server, `cannot reach the sequencer: ${(err as Error).message}`);
  }
  if (body.error !== undefined) throw new RpcError(body.error.code, body.error.message, body.error.data);
  return body.result;
}

export interface ReplicaL1Deps {
  kv: KV;
  chain: Chain;
  importer: SerialImporter | undefined;
  /** In-process reads of L2 state (the results root derivation checks reads requests and keys). */
  calls: Pick<CallExecutor, 'call'>;
  /** eth_syncing: derivation adds the last block L1 holds in a batch. */
  progress?: SyncProgress;
}

/**
 * A replica with --l1-rpc derives its chain from L1 (node/derivation): safe and finalized come
 * from derivation, batch and output counts from the Rollup contract (no deposits: those come in
 * the blocks).
 */
export async function startReplicaL1(
  replica: ReplicaOptions,
  chainId: bigint,
  logger: Logger,
  deps: ReplicaL1Deps,
): Promise<{ rpc: RollupContext; challenger: Challenger; derivation: Derivation; l1Rpc: L1Rpc; services: Stoppable[] } | undefined> {
  const r = replica.rollup;
  if (r === undefined) return undefined;
  if (r.config.l2ChainId !== chainId) throw new Error(`rollup config is for L2 chain ${r.config.l2ChainId}, this node runs chain ${chainId}`);
  if (r.l1Rpc === undefined || deps.importer === undefined) return undefined;
  // one transport for derivation, status and the challenger: shared retries, fallbacks and rate bound
  const l1Rpc = new L1Rpc(r.l1Rpc, { ...r.l1Transport, chainId: r.config.l1ChainId }, logger.child({ module: 'l1:rpc' }));
  const client = createPublicClient({ transport: l1Rpc.transport() }) as PublicClient;
  const rollup = r.config.contracts.rollup as Hex;
  const derivation = new Derivation(
    { ...defaultDerivationOptions, pollMs: r.l1PollMs, l1Start: r.config.l1Start, rollup },
    {
      kv: deps.kv,
      chain: deps.chain,
      common: deps.chain.common,
      client,
      importer: deps.importer,
      logger,
      resultsRoot: chainResultsRoot(chainFulfilledInferences(deps.chain, deps.calls), chainId),
    },
  );
  const status = new DerivedRollupStatus(client, rollup, r.l1PollMs, logger.child({ module: 'l1:status' }), derivation);
  deps.progress?.track(() => status.batchedOnL1);
  await status.start();
  await derivation.start();
  const challenger = outputChallenger(r.config.l1ChainId, r.l1Rpc, l1Rpc.transport(), r.challengerKey, r.l1PollMs, {
    chain: deps.chain,
    safe: () => derivation.safe.number,
    invalidFrom: () => derivation.invalidFrom,
    client,
    rollup,
    logger: logger.child({ module: 'challenger' }),
  });
  challenger.start();
  // the challenger reads derived blocks, so it stops before derivation; the importer stops last
  return { rpc: { config: r.config, status, client }, challenger, derivation, l1Rpc, services: [challenger, derivation, status, deps.importer] };
}

/** Every L1-deriving replica checks the proposer's outputs; only one with the challenger key deletes wrong ones. */
function outputChallenger(l1ChainId: bigint, l1Rpc: string, transport: Transport, key: Hex | undefined, pollMs: number, deps: Omit<ChallengerDeps, 'wallet'>): Challenger {
  const l1 = chainAt(l1ChainId, l1Rpc, `l1-${l1ChainId}`);
  const wallet = key === undefined ? undefined : createWalletClient({ account: privateKeyToAccount(key), chain: l1, transport });
  return new Challenger({ ...deps, wallet }, { pollMs });
}

/**
 * The replica's role, assembled: no pool (transactions go to the sequencer), the method table
 * that forwards them, and with --l1-rpc derivation from L1 and the output challenger. Its block
 * sync (gossip, ranges) was set up on p2p by blockSync before p2p started.
 */
export async function replicaRole(options: ReplicaNodeOptions, shared: SharedParts): Promise<RoleServices> {
  const l1 = await startReplicaL1(options.replica, options.chainId, shared.logger, {
    kv: shared.kv,
    chain: shared.chain,
    importer: shared.importer,
    calls: shared.calls,
    progress: shared.progress,
  });
  return {
    pool: emptyPool,
    methods: replicaMethods(options.replica),
    rollup: l1?.rpc,
    metrics: { challenger: l1?.challenger, derivation: l1?.derivation, l1Rpc: l1?.l1Rpc },
    run() {},
    services: l1?.services ?? [],
  };
}
