/**
 * The health rules, as one pure function of what the node's services report, so that what
 * `/health` answers is decided in one readable place (README "Metrics and health").
 */
import { defaultMetricsOptions } from './options.ts';
import type { MetricsOptions } from './options.ts';

export const HealthCode = {
  /** The node hit an error it cannot continue from and is shutting down. */
  Fatal: 'FATAL',
  /** A sealing node's head is older than `maxHeadAgeBlocks` block times. */
  HeadStalled: 'HEAD_STALLED',
  /** Automine: transactions are pending but no block came for `maxPendingWaitSeconds`. */
  PendingStalled: 'PENDING_STALLED',
  /** Rollup mode: L1 has not answered for `maxL1DownSeconds`. */
  L1Unreachable: 'L1_UNREACHABLE',
  /** A deriving replica refused a batch L1 holds: no valid chain has its blocks, so nothing past it is derived. */
  DerivationInvalidBatch: 'DERIVATION_INVALID_BATCH',
  /** A deriving replica's derivation stopped for good (its rollup config does not fit its L1). */
  DerivationStopped: 'DERIVATION_STOPPED',
  /** A deriving replica is more than `maxDerivationLagBlocks` behind L1's head and has been for `maxDerivationLagSeconds`. */
  DerivationLagging: 'DERIVATION_LAGGING',
} as const;
export type HealthCode = (typeof HealthCode)[keyof typeof HealthCode];

export interface HealthProblem {
  code: HealthCode;
  message: string;
}

export interface L1Health {
  /** undefined until the first probe answered or failed. */
  reachable: boolean | undefined;
  /** Seconds since L1 stopped answering (0 while it answers). */
  downSeconds: number;
  lastError?: string;
  head?: number;
  safe: number;
  finalized: number;
  batches: number;
  outputs: number;
  /** Last failure of the batcher / proposer step, while it lasts. */
  batcherError?: string;
  proposerError?: string;
}

/** A deriving replica's derivation (node/metrics/derivation-metrics.ts); numbers are -1 while unknown. */
export interface DerivationHealth {
  l1Block: number;
  l1Head: number;
  lagBlocks: number;
  /** Wall-clock ms of the last time derivation had reached L1's head. */
  caughtUpAtMs?: number;
  safe: number;
  finalized: number;
  /** First L2 block of the refused batch in force. */
  invalidFrom?: number;
  /** The error code derivation stopped on for good. */
  stopped?: string;
}

export interface HealthInputs {
  nowMs: number;
  startedAtMs: number;
  head: { number: bigint; hash: string; timestamp: bigint };
  /** Wall-clock ms of the last block this process committed (undefined: none yet). */
  lastBlockAtMs: number | undefined;
  /** This node seals blocks (a sequencer); a replica's head depends on others. */
  sealing: boolean;
  blockTime: number;
  pendingTxs: number;
  /** null when p2p is off. */
  peers: number | null;
  syncing: boolean;
  fatal: string | undefined;
  l1: L1Health | undefined;
  derivation?: DerivationHealth;
}

export interface HealthReport {
  status: 'ok' | 'unhealthy';
  /** The first problem's message, when unhealthy. */
  reason?: string;
  problems: HealthProblem[];
  head: number;
  headHash: string;
  headAgeSeconds: number;
  peers: number | null;
  syncing: boolean;
  pendingTxs: number;
  l1?: L1Health;
  derivation?: DerivationHealth;
}

type Limits = Pick<MetricsOptions, 'maxHeadAgeBlocks' | 'maxPendingWaitSeconds' | 'maxL1DownSeconds'> &
  Partial<Pick<MetricsOptions, 'maxDerivationLagBlocks' | 'maxDerivationLagSeconds'>>;

export function evaluateHealth(i: HealthInputs, limits: Limits): HealthReport {
  const now = i.nowMs / 1000;
  // timestamps run ahead of the clock when automine seals several blocks in one second
  const headAgeSeconds = Math.max(0, Math.round(now - Number(i.head.timestamp)));
  const problems: HealthProblem[] = [];
  if (i.fatal !== undefined) problems.push({ code: HealthCode.Fatal, message: `fatal error: ${i.fatal}` });
  if (i.sealing) problems.push(...sealingProblems(i, limits, now));
  if (i.l1 !== undefined && i.l1.reachable === false && i.l1.downSeconds > limits.maxL1DownSeconds) {
    problems.push({ code: HealthCode.L1Unreachable, message: `L1 unreachable for ${i.l1.downSeconds} s (limit ${limits.maxL1DownSeconds} s): ${i.l1.lastError ?? 'no answer'}` });
  }
  if (i.derivation !== undefined) problems.push(...derivationProblems(i.derivation, i, limits, now));
  return {
    status: problems.length === 0 ? 'ok' : 'unhealthy',
    ...(problems.length > 0 ? { reason: problems[0]!.message } : {}),
    problems,
    head: Number(i.head.number),
    headHash: i.head.hash,
    headAgeSeconds,
    peers: i.peers,
    syncing: i.syncing,
    pendingTxs: i.pendingTxs,
    ...(i.l1 !== undefined ? { l1: i.l1 } : {}),
    ...(i.derivation !== undefined ? { derivation: i.derivation } : {}),
  };
}

function derivationProblems(d: DerivationHealth, i: HealthInputs, limits: Limits, now: number): HealthProblem[] {
  const out: HealthProblem[] = [];
  if (d.stopped !== undefined) out.push({ code: HealthCode.DerivationStopped, message: `derivation stopped for good (${d.stopped})` });
  if (d.invalidFrom !== undefined) {
    out.push({
      code: HealthCode.DerivationInvalidBatch,
      message: `derivation refused the batch from L2 block ${d.invalidFrom}: no valid chain has it, nothing past it is derived until an L1 reorg removes it`,
    });
  }
  const maxBlocks = limits.maxDerivationLagBlocks ?? defaultMetricsOptions.maxDerivationLagBlocks;
  const maxSeconds = limits.maxDerivationLagSeconds ?? defaultMetricsOptions.maxDerivationLagSeconds;
  // counted from the last time it was at L1's head, or the process start: a catch-up gets its time
  const behind = Math.floor(now - Math.max(d.caughtUpAtMs ?? 0, i.startedAtMs) / 1000);
  if (d.lagBlocks > maxBlocks && behind > maxSeconds) {
    out.push({
      code: HealthCode.DerivationLagging,
      message: `derivation ${d.lagBlocks} L1 blocks behind L1's head (limit ${maxBlocks}), not caught up for ${behind} s (limit ${maxSeconds} s)`,
    });
  }
  return out;
}

function sealingProblems(i: HealthInputs, limits: Limits, now: number): HealthProblem[] {
  // the clock starts no earlier than this process: a node restarted after a pause is not stalled
  const since = Math.max(Number(i.head.timestamp), i.startedAtMs / 1000);
  if (i.blockTime > 0) {
    const limit = limits.maxHeadAgeBlocks * i.blockTime;
    const stalled = Math.floor(now - since);
    if (stalled > limit) return [{ code: HealthCode.HeadStalled, message: `no block for ${stalled} s (limit ${limit} s, block time ${i.blockTime} s)` }];
    return [];
  }
  // automine seals only when there is something to seal, so an old head alone means nothing
  const lastBlock = Math.max((i.lastBlockAtMs ?? 0) / 1000, i.startedAtMs / 1000);
  const waited = Math.floor(now - lastBlock);
  if (i.pendingTxs > 0 && waited > limits.maxPendingWaitSeconds) {
    return [{ code: HealthCode.PendingStalled, message: `${i.pendingTxs} pending transactions and no block for ${waited} s (limit ${limits.maxPendingWaitSeconds} s)` }];
  }
  return [];
}
