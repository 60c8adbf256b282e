import { spawnSync } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rollupConfigJson } from '../../node/rollup-config.ts';
import { removeDir, rpc, startDevNode } from '../helpers/dev-node.ts';
import { startL1, startRollupNode } from '../helpers/rollup.ts';
import { startTcpProxy } from '../helpers/tcp-proxy.ts';
import type { L1Env } from '../helpers/rollup.ts';

const BIN = resolve(import.meta.dirname, '../../bin/ai-rollup.js');
const run = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60_000 });

describe('rollup flags and the rollup_ namespace: clear errors, nothing started', () => {
  let dir: string;
  let env: L1Env;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cli-rollup-'));
    env = await startL1(dir);
  }, 120_000);
  afterAll(async () => {
    await env?.anvil.stop();
    if (dir !== undefined) await removeDir(dir);
  });

  it('devnet --help lists its flags', () => {
    const help = run(['devnet', '--help']);
    expect(help.status).toBe(0);
    for (const flag of ['--datadir', '--l1-rpc', '--l1-key', '--chain-id', '--challenge-window', '--inclusion-window', '--block-time']) expect(help.stdout).toContain(flag);
    expect(run(['devnet', '--l1-key', 'nope']).stderr).toContain('--l1-key must be a 0x-prefixed 32-byte hex private key');
  });

  it('refuses half a rollup setup, a malformed config, a wrong L1 and a bad key', async () => {
    const datadir = join(dir, 'never');
    const cases: [string[], string][] = [
      [['--rollup-config', env.configFile], '--rollup-config needs --l1-rpc'],
      [['--l1-rpc', env.anvil.url], '--l1-rpc needs --rollup-config'],
      [['--rollup-config', join(dir, 'missing.json'), '--l1-rpc', env.anvil.url], 'cannot read rollup config'],
      [['--rollup-config', env.configFile, '--l1-rpc', env.anvil.url, '--batcher-key', '0x1234'], '--batcher-key must be a 0x-prefixed 32-byte hex private key'],
    ];
    const bad = join(dir, 'bad.json');
    await writeFile(bad, JSON.stringify({ ...JSON.parse(rollupConfigJson(env.config)), contracts: { rollup: '0x12', bridge: env.config.contracts.bridge } }));
    cases.push([['--rollup-config', bad, '--l1-rpc', env.anvil.url], 'contracts.rollup']);
    const otherChain = join(dir, 'other.json');
    await writeFile(otherChain, rollupConfigJson({ ...env.config, l1ChainId: 1n }));
    cases.push([['--rollup-config', otherChain, '--l1-rpc', env.anvil.url], 'the rollup config says 1']);
    for (const [args, message] of cases) {
      const r = run(['node', '--datadir', datadir, '--rpc.port', '0', ...args]);
      expect(r.status, args.join(' ')).toBe(1);
      expect(r.stderr).toContain(message);
    }
  });

  it('a rollup node whose L1 goes away keeps sealing blocks, then posts them all once L1 is back', async () => {
    const port = Number(new URL(env.anvil.url).port);
    const proxy = await startTcpProxy({ port });
    const via = { ...env, anvil: { ...env.anvil, url: proxy.url } } as L1Env;
    const node = await startRollupNode(via, { datadir: join(dir, 'l1-down') });
    const status = async () => (await rpc(node.url, { jsonrpc: '2.0', id: 1, method: 'rollup_syncStatus', params: [] })).json.result;
    const until = async (what: string, f: () => Promise<boolean>) => {
      for (const end = Date.now() + 60_000; !(await f()); await new Promise((r) => setTimeout(r, 200))) if (Date.now() > end) throw new Error(`timed out: ${what}`);
    };
    try {
      await until('a first batch', async () => BigInt((await status()).safe.number) > 0n);
      proxy.pause('reset');
      const down = BigInt((await status()).unsafe.number);
      await until('L2 blocks while L1 is down', async () => BigInt((await status()).unsafe.number) >= down + 4n);
      const duringOutage = BigInt((await status()).safe.number);
      expect(duringOutage).toBeLessThanOrEqual(down);
      proxy.resume();
      const head = BigInt((await status()).unsafe.number);
      await until('the batcher to catch up', async () => BigInt((await status()).safe.number) >= head);
      expect(node.logs.some((l) => l.includes('L1 unreachable'))).toBe(true);
    } finally {
      await node.stop();
      await proxy.close();
    }
  }, 180_000);

  it('a node without --rollup-config answers rollup_ calls with a method-not-found error', async () => {
    const plain = await startDevNode();
    try {
      const r = await rpc(plain.url, { jsonrpc: '2.0', id: 1, method: 'rollup_syncStatus', params: [] });
      expect(r.json.error.code).toBe(-32601);
      expect(r.json.error.message).toContain('--rollup-config');
    } finally {
      await plain.stop();
      await removeDir(plain.datadir);
    }
  });
});
