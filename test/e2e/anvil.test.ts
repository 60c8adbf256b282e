import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createPublicClient, http } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { DEFAULT_L1_CHAIN_ID, startAnvil } from '../../devnet/anvil.ts';
import type { Anvil } from '../../devnet/anvil.ts';
import { DEV_KEYS, removeDir } from '../helpers/dev-node.ts';
import { startTcpProxy } from '../helpers/tcp-proxy.ts';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('devnet anvil launcher', () => {
  const started: Anvil[] = [];
  const dirs: string[] = [];
  afterEach(async () => {
    for (const a of started.splice(0)) await a.stop();
    for (const d of dirs.splice(0)) await removeDir(d);
  });

  it('starts on a free port with the devnet chain id and the mnemonic accounts, and stop() ends that process', async () => {
    const a = await startAnvil();
    started.push(a);
    const client = createPublicClient({ transport: http(a.url) });
    expect(await client.getChainId()).toBe(DEFAULT_L1_CHAIN_ID);
    expect(a.accounts.slice(0, 4)).toEqual([...DEV_KEYS]);
    expect(await client.getBalance({ address: privateKeyToAccount(a.accounts[9]!).address })).toBeGreaterThan(0n);
    expect(alive(a.pid)).toBe(true);
    await a.stop();
    expect(alive(a.pid)).toBe(false);
    await a.stop(); // idempotent
  });

  it('restart() keeps the port, and the chain too with a state path', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'anvil-state-'));
    dirs.push(dir);
    const a = await startAnvil({ chainId: 4242, statePath: join(dir, 'state.json') });
    started.push(a);
    const client = createPublicClient({ transport: http(a.url) });
    await client.request({ method: 'evm_mine' as never, params: [] as never });
    await client.request({ method: 'evm_mine' as never, params: [] as never });
    const head = await client.getBlock();
    const pid = a.pid;
    await a.restart();
    expect(a.pid).not.toBe(pid);
    expect(alive(pid)).toBe(false);
    expect(await client.getChainId()).toBe(4242);
    const after = await client.getBlock({ blockNumber: head.number });
    expect(after.hash).toBe(head.hash);
  });

  it('the TCP proxy passes traffic, refuses it while paused, and passes it again', async () => {
    const a = await startAnvil();
    started.push(a);
    const proxy = await startTcpProxy({ port: a.port });
    try {
      const client = createPublicClient({ transport: http(proxy.url, { retryCount: 0, timeout: 1_000 }) });
      expect(await client.getChainId()).toBe(DEFAULT_L1_CHAIN_ID);
      proxy.pause('reset');
      await expect(client.getChainId()).rejects.toThrow();
      proxy.pause('blackhole');
      await expect(client.getChainId()).rejects.toThrow(/took too long/);
      proxy.resume();
      expect(await client.getChainId()).toBe(DEFAULT_L1_CHAIN_ID);
    } finally {
      await proxy.close();
    }
  });
});
