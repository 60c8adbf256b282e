/**
 * L1 gas of consuming an L2 inference result (contracts/l1/lib/InferenceResults.sol through
 * contracts/examples/ResultPayout.sol): the figures contracts/test/foundry/InferenceResults.t.sol
 * measures on a real Rollup and InferenceOracle with fixture proofs, printed as a table.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT, table } from './lib.ts';

export async function consumptionGas(): Promise<void> {
  // foundry.toml's `solc` path (the npm solc wrapper) is relative to contracts/, so forge runs there
  const { stdout } = await promisify(execFile)(join(ROOT, 'node_modules/.bin/forge'), ['test', '--match-contract', 'InferenceResults', '-vv', '--color', 'never'], {
    cwd: join(ROOT, 'contracts'),
    maxBuffer: 64 << 20,
    env: { ...process.env, NO_COLOR: '1' },
  });
  const rows = [...stdout.matchAll(/^\s*(claim\w+) gas \(([^)]*)\): (\d+)$/gm)].map((m) => ({
    path: m[1] === 'claimFast' ? 'fast (verifyFast)' : 'final (verifyFinal)',
    case: m[2]!,
    'L1 gas (payout included)': Number(m[3]).toLocaleString('en-US'),
  }));
  if (rows.length === 0) throw new Error(`forge printed no gas figures:\n${stdout}`);
  process.stdout.write(`Consuming a result on L1 (ResultPayout: check, then ~110,000 gas of payout storage and transfer):\n${table(rows)}\n`);
}
