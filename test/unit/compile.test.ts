import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONTRACTS_DIR, compileContracts } from '../../contracts/compile.ts';

const functions = (abi: readonly { type: string; name?: string }[]) => abi.filter((e) => e.type === 'function').map((e) => e.name);

describe('compileContracts (npm solc)', () => {
  it('compiles the test contracts with ABI and bytecode', async () => {
    const out = await compileContracts(['test/TestToken.sol', 'test/Reverter.sol', 'test/Events.sol']);
    expect(functions(out.TestToken!.abi)).toEqual(
      expect.arrayContaining(['name', 'symbol', 'decimals', 'totalSupply', 'balanceOf', 'transfer', 'transferFrom', 'approve', 'allowance', 'mint']),
    );
    expect(functions(out.Reverter!.abi)).toEqual(expect.arrayContaining(['revertWithReason', 'revertWithCustom', 'revertPanic', 'ok', 'burnGas']));
    expect(out.Reverter!.abi.some((e) => e.type === 'error' && e.name === 'Custom')).toBe(true);
    expect(functions(out.Events!.abi)).toEqual(expect.arrayContaining(['emitMany', 'setValue', 'value']));
    for (const c of Object.values(out)) {
      expect(c.bytecode).toMatch(/^0x(?:[0-9a-f]{2})+$/);
      expect(c.deployedBytecode).toMatch(/^0x(?:[0-9a-f]{2})+$/);
    }
  });

  it('reports syntax errors', async () => {
    const file = `test/Broken.${process.pid}.tmp.sol`;
    await writeFile(join(CONTRACTS_DIR, file), 'pragma solidity ^0.8.24; contract Broken { function f( }');
    try {
      await expect(compileContracts([file])).rejects.toThrow(/solc: .*ParserError/s);
    } finally {
      await rm(join(CONTRACTS_DIR, file));
    }
  });

  it('does not serve a stale cache entry when only an imported file changed', async () => {
    const dir = 'test/imports.tmp'; // a fixed name, so reruns reuse their two cache entries
    await mkdir(join(CONTRACTS_DIR, dir));
    try {
      await writeFile(join(CONTRACTS_DIR, dir, 'A.sol'), 'pragma solidity ^0.8.24; import "./B.sol"; contract A is B {}');
      await writeFile(join(CONTRACTS_DIR, dir, 'B.sol'), 'pragma solidity ^0.8.24; contract B { function one() external {} }');
      expect(functions((await compileContracts([`${dir}/A.sol`])).A!.abi)).toEqual(['one']);
      await writeFile(join(CONTRACTS_DIR, dir, 'B.sol'), 'pragma solidity ^0.8.24; contract B { function two() external {} }');
      expect(functions((await compileContracts([`${dir}/A.sol`])).A!.abi)).toEqual(['two']);
    } finally {
      await rm(join(CONTRACTS_DIR, dir), { recursive: true });
    }
  });
});
