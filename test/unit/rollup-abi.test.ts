import { describe, expect, it } from 'vitest';
import { toEventSelector, toFunctionSelector } from 'viem';
import type { Abi, AbiEvent, AbiFunction } from 'viem';
import { loadL1Artifact } from '../../contracts/l1-artifacts.ts';
import { bridgeAbi, messagePasserAbi, rollupAbi } from '../../contracts/abi/rollup.ts';
import { loadArtifact } from '../../contracts/predeploys.ts';

/** Selector (with its return types for functions) of every function, event and error of an ABI. */
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

describe('typed L1 ABIs', () => {
  it.each([
    ['Rollup', rollupAbi],
    ['Bridge', bridgeAbi],
  ] as const)('every entry of the typed %s ABI is in the committed artifact', (name, typed) => {
    const compiled = signatures(loadL1Artifact(name).abi);
    for (const s of signatures(typed as Abi)) expect(compiled, s).toContain(s);
  });

  it('every entry of the typed L2ToL1MessagePasser ABI is in the predeploy artifact, and covers all of it', () => {
    expect(signatures(messagePasserAbi as Abi)).toEqual(signatures(loadArtifact('L2ToL1MessagePasser').abi));
  });

  it('the typed Rollup ABI covers all of the compiled one', () => {
    expect(signatures(rollupAbi as Abi)).toEqual(signatures(loadL1Artifact('Rollup').abi));
  });
});
