import { describe, expect, it } from 'vitest';
import { toEventSelector, toFunctionSelector } from 'viem';
import type { Abi, AbiEvent, AbiFunction } from 'viem';
import { loadArtifact } from '../../contracts/predeploys.ts';
import { marketAbi } from '../../prover/daemon/market-abi.ts';

function signatures(abi: Abi): Set<string> {
  return new Set(
    abi.flatMap((i) => {
      if (i.type === 'function') {
        const f = i as AbiFunction;
        return [`function ${toFunctionSelector(f)} ${f.stateMutability} -> ${f.outputs.map((o) => o.type).join(',')}`];
      }
      if (i.type === 'event') return [`event ${toEventSelector(i as AbiEvent)}`];
      if (i.type === 'error') return [`error ${toFunctionSelector(i as unknown as AbiFunction)}`];
      return [];
    }),
  );
}

describe('typed InferenceMarket ABI', () => {
  it('is exactly the compiled predeploy ABI', () => {
    expect(signatures(marketAbi as Abi)).toEqual(signatures(loadArtifact('InferenceMarket').abi));
  });
});
