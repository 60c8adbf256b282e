/**
 * Gas-per-second measurement of precompiles, for calibrating gas.ts and for bench/ai.ts. Runs a
 * precompile function directly (no transaction around it) on an EVM's own state, so the figure
 * is the precompile's work and its native state reads only.
 */
import { Common, Hardfork, Mainnet } from '@ethereumjs/common';
import { createEVM, type EVM, type PrecompileFunc } from '@ethereumjs/evm';
import { bn254 } from '@noble/curves/bn254.js';

export interface GasRate {
  /** Mean wall time of one call. */
  ms: number;
  gas: bigint;
  gasPerSecond: number;
}

const ECPAIRING = '0x0000000000000000000000000000000000000008';

/** Mean time and gas of `fn(data)` over `iterations` calls (after one warm-up call). */
export async function measurePrecompile(evm: EVM, fn: PrecompileFunc, data: Uint8Array, iterations = 20, gasLimit = 30_000_000n): Promise<GasRate> {
  const input = { data, gasLimit, common: evm.common, _EVM: evm };
  const first = await fn(input);
  if (first.exceptionError) throw new Error(`precompile failed: ${first.exceptionError.error}`);
  const t0 = performance.now();
  for (let i = 0; i < iterations; i++) await fn(input);
  const ms = (performance.now() - t0) / iterations;
  return { ms, gas: first.executionGasUsed, gasPerSecond: (Number(first.executionGasUsed) / ms) * 1000 };
}

const word = (v: bigint): string => v.toString(16).padStart(64, '0');

/** ecPairing input of `pairs` valid (G1, G2) pairs, EIP-197 layout. */
export function ecPairingInput(pairs: number): Uint8Array {
  let hex = '';
  for (let i = 0; i < pairs; i++) {
    const a = bn254.G1.Point.BASE.multiply(BigInt(i + 2)).toAffine();
    const b = bn254.G2.Point.BASE.multiply(BigInt(i + 3)).toAffine();
    hex += word(a.x) + word(a.y) + word(b.x.c1) + word(b.x.c0) + word(b.y.c1) + word(b.y.c0);
  }
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}

/** The EVM's own ecPairing (0x08) with its default bn254 backend (NobleBN254 in ethereumjs v10). */
export async function measureEcPairing(pairs = 2, iterations = 10, evm?: EVM): Promise<GasRate> {
  const e = evm ?? (await createEVM({ common: new Common({ chain: Mainnet, hardfork: Hardfork.Cancun }) }));
  const fn = e.getPrecompile(ECPAIRING);
  if (!fn) throw new Error('no ecPairing precompile at 0x08');
  return measurePrecompile(e, fn, ecPairingInput(pairs), iterations);
}
