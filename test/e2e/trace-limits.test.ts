/**
 * A stranger with RPC access tracing the heaviest transaction the chain holds: a struct-log trace
 * is cut off by --rpc.evmtimeout like an eth_call (geth's error), holds at most `limit` entries,
 * and the node goes on sealing blocks and answering meanwhile.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeFunctionData } from 'viem';
import type { Hex } from 'viem';
import { deploy, loadTestContracts, reverterAbi } from '../helpers/contracts.ts';
import { DEV_KEYS, clients, removeDir, startDevNode } from '../helpers/dev-node.ts';
import type { DevNode } from '../helpers/dev-node.ts';
import { blockNumber, call, must, waitReceipt } from '../helpers/txs.ts';

describe('tracing is bounded like eth_call', () => {
  let node: DevNode;
  let heavy: Hex;

  beforeAll(async () => {
    node = await startDevNode({ args: ['--rpc.evmtimeout', '3s'] });
    const c = clients(node, DEV_KEYS[2]!);
    const { Reverter } = await loadTestContracts();
    const { address } = await deploy(c.walletClient, c.publicClient, Reverter);
    // 400 storage pushes: about 10M gas and 11k opcodes; re-executed in ~1 s here, ~6 s with every struct-log entry and its memory
    heavy = await c.walletClient.sendTransaction({ to: address, data: encodeFunctionData({ abi: reverterAbi, functionName: 'burnGas', args: [400n] }), gas: 15_000_000n });
    await waitReceipt(node.url, heavy);
  }, 60_000);
  afterAll(async () => {
    await node?.stop();
    await removeDir(node?.datadir ?? '');
  });

  it('a struct-log trace past the timeout is aborted with geth error; limit caps the entries; the chain goes on', async () => {
    const before = await blockNumber(node.url);
    const full = await call(node.url, 'debug_traceTransaction', [heavy, { enableMemory: true }]);
    // either the whole trace within 500 ms, or geth's timeout error: never a dead node
    if (full.error !== undefined) expect(full.error).toMatchObject({ code: -32000, message: 'execution aborted (timeout = 3s)' });
    else expect(full.result.structLogs.length).toBeGreaterThan(10_000);
    const limited = await must(node.url, 'debug_traceTransaction', [heavy, { limit: 50, disableStack: true }]);
    expect(limited.structLogs).toHaveLength(50);
    expect(limited.failed).toBe(false);
    const top = await must(node.url, 'debug_traceTransaction', [heavy, { tracer: 'callTracer' }]);
    expect(top.type).toBe('CALL');
    // four at once: each answered or refused, and blocks keep coming
    const answers = await Promise.all(Array.from({ length: 4 }, () => call(node.url, 'debug_traceTransaction', [heavy, {}])));
    for (const a of answers) if (a.error !== undefined) expect(a.error.code).toBeOneOf([-32000, -32002, -32005]);
    await expect.poll(() => blockNumber(node.url), { timeout: 10_000 }).toBeGreaterThan(before + 1n);
  }, 120_000);
});
