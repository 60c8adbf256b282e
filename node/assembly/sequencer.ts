/**
 * The sequencer's role, assembled: its mempool, its L1 side (deposits in; batches, outputs and
 * inference proofs out, each poster on its own key) and block production.
 */
import { BlockProducer } from '../../sequencer/block-producer.ts';
import { Mempool } from '../../sequencer/mempool.ts';
import { LocalTxJournal } from '../../sequencer/local-journal.ts';
import { devAccounts } from '../chain/genesis.ts';
import { devAccountMethods } from '../rpc/methods/dev-accounts.ts';
import { devControlMethods } from '../../sequencer/dev-control.ts';
import { allMethods } from '../rpc/methods/index.ts';
import type { SequencerNodeOptions } from './options.ts';
import type { RoleServices, SharedParts } from './role.ts';
import { startL1 } from './sequencer-l1.ts';
import { L1ReorgHandler } from '../../sequencer/l1-reorg.ts';
import { IngestRecovery } from '../txpool/ingest-recovery.ts';
import { SenderRecovery } from '../sync/sender-recovery.ts';

export async function sequencerRole(options: SequencerNodeOptions, shared: SharedParts): Promise<RoleServices> {
  const { chain, calls, artifacts, p2p, logger } = shared;
  const seq = options.sequencer;
  // senders of arriving transactions are recovered on a thread of their own (until it is up, ~250 ms, on the main one)
  const senders = new SenderRecovery({ chainId: chain.common.chainId() }, { logger });
  const ingest = new IngestRecovery(senders);
  const pool = new Mempool(seq.pool, {
    common: chain.common,
    logger: logger.child({ module: 'mempool' }),
    state: {
      async account(address) {
        const acct = await chain.headState().getAccount(address);
        return { nonce: acct?.nonce ?? 0n, balance: acct?.balance ?? 0n };
      },
    },
    limits: () => ({ gasLimit: seq.gasLimit, minFee: seq.minBaseFee }),
    recoverKey: (raw) => ingest.key(raw),
  });
  // replayed before anything else can reach the pool; JSON-RPC submits through the journal
  const journal =
    seq.pool.journal === undefined
      ? undefined
      : new LocalTxJournal({ ...seq.pool.journal, maxTxBytes: seq.pool.maxTxBytes }, { pool, logger: logger.child({ module: 'txpool:journal' }) });
  await journal?.start();
  const rollup = options.rollup;
  const l1 = rollup === undefined ? undefined : await startL1({ ...options, rollup }, chain, logger, { calls, artifacts, jobInputs: p2p?.inputs });
  // started once what can refuse the configuration (the L1 checks) has passed
  void senders.start();
  const producer = new BlockProducer(seq, { chain, pool, l1: l1?.producer, logger: logger.child({ module: 'sequencer' }), onFatal: (err) => shared.fatal(err) });
  const batcher = l1?.batcher;
  const reorgs =
    l1 === undefined
      ? undefined
      : new L1ReorgHandler({
          chain,
          producer,
          pool,
          l1: l1.watcher,
          batchedUpTo: () => l1.batchedUpTo(),
          holdBatcher: batcher === undefined ? undefined : (f) => batcher.hold(f),
          logger: logger.child({ module: 'l1-reorg' }),
        });
  // while running, blocks on the new L1 chain may already sit above those on replaced origins: scan the unbatched ones
  l1?.watcher.onReorg((r) => void reorgs?.check({ kind: 'unbatched', above: r.ancestor }).catch(() => undefined));
  batcher?.onOriginGone(() => void reorgs?.check({ kind: 'unbatched', above: undefined }).catch(() => undefined));
  // --dev only: the node signs with the funded dev accounts (or impersonates any), and tests control
  // mining, time, state and snapshots (anvil's and Hardhat's methods)
  const devKeys = devAccounts().map((a) => a.privateKey as `0x${string}`);
  const dev = options.dev ? { ...devAccountMethods(devKeys, (tx, sender) => pool.addImpersonated(tx, sender)), ...devControlMethods(producer, chain, pool) } : {};
  return {
    pool: journal?.view() ?? pool,
    methods: allMethods(dev),
    rollup: l1?.rpc,
    producer,
    metrics: {
      l1,
      producer,
      reorgs:
        reorgs === undefined || l1 === undefined ? undefined : { l1Reorgs: () => l1.watcher.reorgs, rewinds: () => reorgs.rewinds, blocksDropped: () => reorgs.blocksDropped },
    },
    run() {
      // the node may have been down while L1 reorganised under its head's origin; the batcher
      // starts only once that is checked (retried until L1 answers), so it never batches what goes
      void reorgs?.check().catch(() => undefined);
      void (reorgs?.checked ?? Promise.resolve()).then(() => l1?.startBatcher());
      producer.start();
      l1?.startPoster();
      if (l1 !== undefined && seq.blockTime === 0) l1.watcher.onDeposits(() => void producer.mineOne());
    },
    services: [...(reorgs === undefined ? [] : [reorgs]), producer, ...(journal === undefined ? [] : [journal]), ...(l1?.services ?? []), senders],
  };
}
