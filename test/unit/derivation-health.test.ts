/**
 * The health rules of a deriving replica (node/metrics/health.ts): a refused batch and a stopped
 * derivation are unhealthy at once; a lag only once it has lasted, counted from the last time
 * derivation was at L1's head or the process start, whichever is later.
 */
import { describe, expect, it } from 'vitest';
import { evaluateHealth } from '../../node/metrics/health.ts';
import type { DerivationHealth, HealthInputs } from '../../node/metrics/health.ts';
import { defaultMetricsOptions } from '../../node/metrics/options.ts';

const NOW = 1_000_000_000;
const derivation = (d: Partial<DerivationHealth>): DerivationHealth => ({ l1Block: 100, l1Head: 100, lagBlocks: 0, safe: 10, finalized: 5, ...d });
const inputs = (d: DerivationHealth, startedAtMs = NOW - 3_600_000): HealthInputs => ({
  nowMs: NOW,
  startedAtMs,
  head: { number: 10n, hash: '0x00', timestamp: BigInt(NOW / 1000) },
  lastBlockAtMs: undefined,
  sealing: false,
  blockTime: 1,
  pendingTxs: 0,
  peers: null,
  syncing: false,
  fatal: undefined,
  l1: undefined,
  derivation: d,
});
const codes = (d: DerivationHealth, startedAtMs?: number) => evaluateHealth(inputs(d, startedAtMs), defaultMetricsOptions).problems.map((p) => p.code);

describe('health of a deriving replica', () => {
  it('is ok caught up, and reports where derivation is', () => {
    const h = evaluateHealth(inputs(derivation({})), defaultMetricsOptions);
    expect(h.status).toBe('ok');
    expect(h.derivation).toMatchObject({ l1Block: 100, safe: 10 });
  });

  it('is unhealthy at once with a refused batch in force, or when derivation stopped for good', () => {
    expect(codes(derivation({ invalidFrom: 11 }))).toEqual(['DERIVATION_INVALID_BATCH']);
    expect(codes(derivation({ stopped: 'WRONG_L1' }))).toEqual(['DERIVATION_STOPPED']);
  });

  it('lags only past both limits: blocks behind, and seconds since it was last at the head (or the start)', () => {
    const limitMs = defaultMetricsOptions.maxDerivationLagSeconds * 1000;
    const behind = defaultMetricsOptions.maxDerivationLagBlocks + 1;
    expect(codes(derivation({ lagBlocks: behind, caughtUpAtMs: NOW - limitMs - 2_000 }))).toEqual(['DERIVATION_LAGGING']);
    expect(codes(derivation({ lagBlocks: behind, caughtUpAtMs: NOW - 10_000 }))).toEqual([]);
    expect(codes(derivation({ lagBlocks: behind - 1, caughtUpAtMs: NOW - limitMs - 2_000 }))).toEqual([]);
    // never caught up since a recent start: the catch-up gets its time
    expect(codes(derivation({ lagBlocks: 5_000 }), NOW - 10_000)).toEqual([]);
    expect(codes(derivation({ lagBlocks: 5_000 }), NOW - limitMs - 2_000)).toEqual(['DERIVATION_LAGGING']);
  });
});
