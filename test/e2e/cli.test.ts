import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { clients, removeDir, startDevNode } from '../helpers/dev-node.ts';
import type { DevNode } from '../helpers/dev-node.ts';

const BIN = resolve(import.meta.dirname, '../../bin/ai-rollup.js');

describe('ai-rollup node (CLI)', () => {
  let node: DevNode;
  beforeAll(async () => {
    node = await startDevNode();
  });
  afterAll(async () => {
    await node.stop();
    await removeDir(node.datadir);
  });

  it('serves the dev chain: chain id 1337 and the 10 mnemonic accounts with 10,000 ETH', async () => {
    const { publicClient } = clients(node);
    expect(await publicClient.getChainId()).toBe(1337);
    for (const addr of ['0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266', '0xa0Ee7A142d267C1f36714E4a8F75612F20a79720'] as const) {
      expect(await publicClient.getBalance({ address: addr })).toBe(10_000n * 10n ** 18n);
    }
  });

  it('stops cleanly on SIGTERM with exit code 0', async () => {
    const other = await startDevNode();
    expect(await other.stop()).toBe(0);
    await removeDir(other.datadir);
  });

  it('a SIGTERM while the node is still starting stops it cleanly once it is up (exit code 0, not killed)', async () => {
    const datadir = await mkdtemp(join(tmpdir(), 'cli-early-term-'));
    const proc = spawn(process.execPath, [BIN, 'node', '--dev', '--datadir', datadir, '--rpc.port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<{ code: number | null; signal: string | null }>((res) => proc.once('exit', (code, signal) => res({ code, signal })));
    // the first log line: the process runs, the node is not up yet (it logs `node started` last)
    await new Promise<void>((res) => createInterface({ input: proc.stdout! }).once('line', () => res()));
    proc.kill('SIGTERM');
    expect(await exited).toEqual({ code: 0, signal: null });
    await removeDir(datadir);
  });

  it('prints help for every command and refuses bad flags', () => {
    const help = spawnSync(process.execPath, [BIN, 'node', '--help'], { encoding: 'utf8' });
    expect(help.status).toBe(0);
    for (const flag of ['--datadir', '--rpc.addr', '--rpc.port', '--block-time', '--chain-id', '--genesis', '--gas-limit', '--log-level']) {
      expect(help.stdout).toContain(flag);
    }
    const bad = spawnSync(process.execPath, [BIN, 'node', '--block-time', 'soon'], { encoding: 'utf8' });
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toContain('--block-time must be a non-negative integer');
  });
});
