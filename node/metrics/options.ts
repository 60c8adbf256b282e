/** Metrics and health settings; `/metrics` and `/health` are always served on the JSON-RPC port. */
export interface MetricsOptions {
  /** Also serve `/metrics` and `/health` on their own listener at this port (0 picks a free one); off when unset. */
  port?: number;
  /** Address of that listener; the JSON-RPC address when unset. */
  host?: string;
  /** Health: a sealing node whose head is older than this many block times is stalled. */
  maxHeadAgeBlocks: number;
  /** Health with `--block-time 0` (no empty blocks): seconds pending transactions may wait without a new block. */
  maxPendingWaitSeconds: number;
  /** Health in rollup mode: seconds the L1 endpoint may stay unreachable. */
  maxL1DownSeconds: number;
  /** Health of a deriving replica: L1 blocks derivation may be behind L1's head... */
  maxDerivationLagBlocks: number;
  /** ...for longer than this many seconds since it was last at L1's head. */
  maxDerivationLagSeconds: number;
}

export const defaultMetricsOptions: MetricsOptions = {
  maxHeadAgeBlocks: 10,
  maxPendingWaitSeconds: 10,
  // an L1 provider blip of a few polls must not make a load balancer drop the sequencer
  maxL1DownSeconds: 60,
  // about 13 minutes of 12 s L1 blocks, for 5 minutes on end: a catch-up, not a replica briefly behind
  maxDerivationLagBlocks: 64,
  maxDerivationLagSeconds: 300,
};
