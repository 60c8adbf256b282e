/** Chain head, block/transaction/gas totals and the mempool, from Chain.onBlock and Mempool.status(). */
import type { Chain } from '../chain/chain.ts';
import { DepositTx } from '../chain/deposit-tx.ts';
import type { TxPoolView } from '../txpool/view.ts';
import type { Registry } from './registry.ts';

/** Seconds; the producer gives a block at most ~2 s of execution, then seals and commits it. */
const BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 30];

export interface ChainMetricsDeps {
  chain: Pick<Chain, 'head' | 'onBlock'>;
  pool: Pick<TxPoolView, 'status'>;
  /** Blocks committed here are sealed by this node (a sequencer), else imported from others. */
  sealing: boolean;
}

export interface ChainWatch {
  /** Wall-clock ms of the last block committed by this process. */
  readonly lastBlockAtMs: number | undefined;
  stop(): void;
}

export function chainMetrics(reg: Registry, deps: ChainMetricsDeps): ChainWatch {
  const headNumber = reg.gauge({ name: 'ai_rollup_chain_head_number', help: 'Number of the head (latest, unsafe) block' });
  const headTime = reg.gauge({ name: 'ai_rollup_chain_head_timestamp_seconds', help: 'Timestamp of the head block, Unix seconds' });
  const headAge = reg.gauge({ name: 'ai_rollup_chain_head_age_seconds', help: 'Seconds between now and the head block timestamp (0 if the timestamp is ahead)' });
  const sealed = reg.counter({ name: 'ai_rollup_blocks_sealed_total', help: 'Blocks this node sealed and committed since it started' });
  const imported = reg.counter({ name: 'ai_rollup_blocks_imported_total', help: 'Blocks this node committed from elsewhere (replica) since it started' });
  const txs = reg.counter({ name: 'ai_rollup_transactions_included_total', help: 'Transactions from the pool included in committed blocks (deposits not counted)' });
  const deposits = reg.counter({
    name: 'ai_rollup_deposits_included_total',
    help: 'L1 deposit transactions included in committed blocks (the per-block L1-info system deposit not counted)',
  });
  const gas = reg.counter({ name: 'ai_rollup_gas_used_total', help: 'Gas used by committed blocks' });
  const delay = reg.histogram({
    name: 'ai_rollup_block_commit_delay_seconds',
    help: 'Seconds from a block timestamp to its commit here: for a sealing node, building plus sealing plus the atomic write (timestamps have 1 s resolution)',
    buckets: BUCKETS,
  });
  const pending = reg.gauge({ name: 'ai_rollup_mempool_pending', help: 'Executable transactions in the pool (consecutive nonces)' });
  const queued = reg.gauge({ name: 'ai_rollup_mempool_queued', help: 'Transactions in the pool waiting for a nonce gap to fill' });

  let lastBlockAtMs: number | undefined;
  const stop = deps.chain.onBlock(({ block }) => {
    const now = Date.now();
    lastBlockAtMs = now;
    (deps.sealing ? sealed : imported).inc();
    let user = 0;
    let deposit = 0;
    for (const tx of block.transactions as unknown[]) {
      if (!(tx instanceof DepositTx)) user++;
      else if (!tx.isSystemTx) deposit++;
    }
    txs.inc(undefined, user);
    deposits.inc(undefined, deposit);
    gas.inc(undefined, Number(block.header.gasUsed));
    delay.observe(undefined, Math.max(0, now / 1000 - Number(block.header.timestamp)));
  });
  reg.collect(() => {
    const h = deps.chain.head.header;
    headNumber.set(undefined, Number(h.number));
    headTime.set(undefined, Number(h.timestamp));
    headAge.set(undefined, Math.max(0, Math.round(Date.now() / 1000 - Number(h.timestamp))));
    const s = deps.pool.status();
    pending.set(undefined, s.pending);
    queued.set(undefined, s.queued);
  });
  return {
    get lastBlockAtMs() {
      return lastBlockAtMs;
    },
    stop: () => void stop(),
  };
}
