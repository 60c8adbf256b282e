import { describe, expect, it } from 'vitest';
import type { Abi } from 'viem';
import { loadArtifact } from '../../contracts/predeploys.ts';
import { marketAbi } from '../../contracts/abi/market.ts';
import { abiDrift } from '../helpers/market.ts';

describe('typed InferenceMarket ABI (what the prover daemon uses)', () => {
  it('is exactly the compiled predeploy ABI, both ways', () => {
    const compiled = loadArtifact('InferenceMarket').abi;
    expect(abiDrift(marketAbi as Abi, compiled)).toEqual([]);
    expect(abiDrift(compiled, marketAbi as Abi)).toEqual([]);
  });
});
