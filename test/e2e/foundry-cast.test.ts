import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEV_KEYS, removeDir, startDevNode } from '../helpers/dev-node.ts';
import type { DevNode } from '../helpers/dev-node.ts';

const run = promisify(execFile);
const CAST = resolve(import.meta.dirname, '../../node_modules/.bin/cast');
const TO = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';
// init code returning a runtime that answers 42 for any call: PUSH1 42 PUSH1 0 MSTORE PUSH1 32 PUSH1 0 RETURN
const RUNTIME = '602a60005260206000f3';
const INIT = `0x69${RUNTIME}600052600a6016f3`;

/** Foundry's cast, pointed at the node, as a developer would use it. */
describe('Foundry cast against the node', () => {
  let node: DevNode;
  const cast = async (sub: string, ...args: string[]) => (await run(CAST, [sub, '--rpc-url', node.url, ...args])).stdout.trim();

  beforeAll(async () => {
    node = await startDevNode({ blockTime: 1 });
  });
  afterAll(async () => {
    await node.stop();
    await removeDir(node.datadir);
  });

  it('reads chain id, balances and blocks', async () => {
    expect(await cast('chain-id')).toBe('1337');
    expect(await cast('balance', TO)).toBe('10000000000000000000000');
    expect(Number(await cast('block-number'))).toBeGreaterThanOrEqual(0);
    expect(await cast('block', 'latest', '--field', 'gasLimit')).toBe('30000000');
  });

  it('sends EIP-1559 and legacy transfers and reads their receipts', async () => {
    for (const extra of [[], ['--legacy']]) {
      const out = await cast('send', '--private-key', DEV_KEYS[0], TO, '--value', '1ether', '--json', ...extra);
      const receipt = JSON.parse(out) as { status: string; gasUsed: string; transactionHash: string };
      expect(receipt.status).toBe('0x1');
      expect(BigInt(receipt.gasUsed)).toBe(21000n);
      expect(await cast('receipt', receipt.transactionHash, 'status')).toBe('true');
    }
    expect(BigInt(await cast('balance', TO))).toBe(10_002n * 10n ** 18n);
  });

  it('deploys a contract and calls it', async () => {
    const out = await cast('send', '--private-key', DEV_KEYS[1], '--json', '--create', INIT);
    const receipt = JSON.parse(out) as { contractAddress: string; status: string };
    expect(receipt.status).toBe('0x1');
    expect(await cast('code', receipt.contractAddress)).toBe(`0x${RUNTIME}`);
    expect(BigInt(await cast('call', receipt.contractAddress, 'answer()(uint256)'))).toBe(42n);
  });
});
