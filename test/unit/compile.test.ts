import { writeFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONTRACTS_DIR, compileContracts } from '../../contracts/compile.ts';

describe('compileContracts (npm solc)', () => {
  it('compiles the test contracts with ABI and bytecode', async () => {
    const out = await compileContracts(['test/TestToken.sol', 'test/Reverter.sol', 'test/Events.sol']);
    const fns = (name: string) => out[name]!.abi.filter((e) => e.type === 'function').map((e) => (e as { name: string }).name);
    expect(fns('TestToken')).toEqual(expect.arrayContaining(['transfer', 'transferFrom', 'approve', 'balanceOf', 'mint']));
    expect(out.Reverter!.abi.some((e) => e.type === 'error' && e.name === 'Custom')).toBe(true);
    expect(fns('Events')).toEqual(expect.arrayContaining(['emitMany', 'setValue']));
    for (const c of Object.values(out)) expect(c.bytecode).toMatch(/^0x(?:[0-9a-f]{2})+$/);
  });

  it('reports syntax errors', async () => {
    const file = 'test/Broken.tmp.sol';
    await writeFile(join(CONTRACTS_DIR, file), 'pragma solidity ^0.8.24; contract Broken { function f( }');
    try {
      await expect(compileContracts([file])).rejects.toThrow(/solc: .*ParserError/s);
    } finally {
      await rm(join(CONTRACTS_DIR, file));
    }
  });
});
