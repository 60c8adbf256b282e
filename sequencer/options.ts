/** Sequencer settings; the CLI maps its flags onto these. */
export interface SequencerOptions {
  /** Seconds between blocks; 0 seals a block for every transaction (anvil's automine). */
  blockTime: number;
  /** Gas limit of every block. */
  gasLimit: bigint;
  /** Receives the fees of every block. */
  coinbase: string;
  /** Base fee never falls below this (wei); transactions that cannot pay it are refused. */
  minBaseFee: bigint;
  pool: PoolOptions;
}

export interface PoolOptions {
  /** Most transactions the pool holds in all. */
  maxTotal: number;
  /** Most transactions one sender may have in the pool. */
  maxPerSender: number;
  /** Largest accepted transaction, in bytes (geth: 128 KiB). */
  maxTxBytes: number;
  /** Fee bump, in percent, that a replacement must pay on both fee fields (geth: 10). */
  priceBumpPercent: bigint;
  /** Keep local transactions across restarts in this journal (sequencer/local-journal.ts); unset: kept in memory only. */
  journal?: PoolJournalOptions;
}

/** geth's `--txpool.journal` and `--txpool.rejournal`. */
export interface PoolJournalOptions {
  /** The journal file (geth: `transactions.rlp` in the datadir). */
  path: string;
  /** Milliseconds between rewrites of the journal with the pool's local transactions (geth: 1 hour). */
  rejournalMs: number;
}

export const DEFAULT_REJOURNAL_MS = 3_600_000;

export const defaultPoolOptions: PoolOptions = {
  maxTotal: 20_000,
  maxPerSender: 256,
  maxTxBytes: 128 * 1024,
  priceBumpPercent: 10n,
};

export const defaultSequencerOptions: SequencerOptions = {
  blockTime: 1,
  gasLimit: 30_000_000n,
  coinbase: '0x4200000000000000000000000000000000000011',
  minBaseFee: 1_000_000n,
  pool: defaultPoolOptions,
};
