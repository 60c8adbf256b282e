/** Replica sync settings (gossip follow and range catch-up); the node passes the defaults. */
export interface SyncOptions {
  /** Most blocks one `/ai-rollup/blocks-by-range/1` request asks for, and a server sends. */
  rangeMaxBlocks: number;
  /** A server stops adding blocks to a range answer past this many bytes (a 30M-gas block is < 4 MiB). */
  rangeMaxBytes: number;
  /** Milliseconds one range request may take. */
  rangeTimeoutMs: number;
  /** Signed blocks whose parent is missing, kept until the range before them is fetched. */
  orphanMaxBlocks: number;
  /** Milliseconds an orphan is kept. */
  orphanTtlMs: number;
  /**
   * Bytes of block bodies held between the backward walk of a catch-up (which checks the chain
   * of hashes) and their execution; bodies above it are fetched again, checked against those hashes.
   */
  catchUpBodyBytes: number;
  /** Milliseconds before a failed catch-up is tried again (gossip of a newer block also retries it). */
  retryMs: number;
  /** While the head has not moved for this long, a few peers are asked for their signed head (signed-head.ts). */
  headPollMs: number;
  /**
   * How many blocks ahead of the one it imports a catch-up hands to the sender-recovery thread
   * (sender-recovery.ts): bounds the work and bytes queued there.
   */
  recoveryLookahead: number;
  /**
   * Deepest unsafe-chain reorg a signed block may cause (blocks of ours it replaces); never below
   * the safe head. Deeper: the catch-up fails with REORG_TOO_DEEP and the replica stays on its chain.
   */
  maxReorgDepth: number;
}

export const defaultSyncOptions: SyncOptions = {
  rangeMaxBlocks: 64,
  rangeMaxBytes: 16 * 1024 * 1024,
  rangeTimeoutMs: 30_000,
  orphanMaxBlocks: 256,
  orphanTtlMs: 120_000,
  catchUpBodyBytes: 128 * 1024 * 1024,
  retryMs: 2_000,
  headPollMs: 10_000,
  recoveryLookahead: 32,
  maxReorgDepth: 1024,
};
