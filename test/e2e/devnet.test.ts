import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { removeDir, rpc } from '../helpers/dev-node.ts';

const BIN = resolve(import.meta.dirname, '../../bin/ai-rollup.js');

interface Devnet {
  l1: string;
  l2: string;
  lines: string[];
  stop(signal: NodeJS.Signals): Promise<number | null>;
  pid: number;
}

function startDevnet(args: string[]): Promise<Devnet> {
  const proc = spawn(process.execPath, [BIN, 'devnet', '--l1-port', '0', '--rpc.port', '0', '--l1-block-time', '1', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const exited = new Promise<number | null>((res) => proc.once('exit', (c) => res(c)));
  return new Promise((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`devnet did not start:\n${lines.join('\n')}`)), 90_000);
    let l1: string | undefined;
    const onLine = (line: string) => {
      lines.push(line);
      l1 ??= /^L1 JSON-RPC:\s+(\S+)/.exec(line)?.[1];
      const l2 = /^L2 JSON-RPC:\s+(\S+)/.exec(line)?.[1];
      if (l2 !== undefined && l1 !== undefined) {
        clearTimeout(timer);
        res({ l1, l2, lines, pid: proc.pid!, stop: (s) => (proc.kill(s), exited) });
      }
    };
    createInterface({ input: proc.stdout! }).on('line', onLine);
    createInterface({ input: proc.stderr! }).on('line', (l) => lines.push(l));
    void exited.then((c) => rej(new Error(`devnet exited with ${c}:\n${lines.join('\n')}`)));
  });
}

const call = async (url: string, method: string, params: unknown[] = []) => (await rpc(url, { jsonrpc: '2.0', id: 1, method, params })).json.result;

async function until<T>(what: string, f: () => Promise<T | undefined>, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('ai-rollup devnet', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await removeDir(d);
  });

  it('starts L1 + contracts + sequencer, prints URLs, addresses and keys, posts batches, and Ctrl-C stops it all', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'devnet-test-'));
    dirs.push(dir);
    const d = await startDevnet(['--datadir', dir, '--log-level', 'warn']);
    const out = d.lines.join('\n');
    expect(out).toMatch(/Rollup\s+0x[0-9a-fA-F]{40}/);
    expect(out).toMatch(/Bridge\s+0x[0-9a-fA-F]{40}/);
    expect(out).toMatch(/L2ToL1MessagePasser\s+0x4200000000000000000000000000000000000016/);
    expect(out).toContain('0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80');
    // the example model is registered and its artifacts served
    const modelId = /tiny-16-16-4\s+(0x[0-9a-f]{64})/.exec(out)?.[1];
    expect(modelId).toBeDefined();
    const model = await call(d.l2, 'ai_getModel', [modelId]);
    expect(model.owner.toLowerCase()).toBe('0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266');
    expect(model.hasWeights).toBe(true);
    expect((await call(d.l2, 'ai_modelArtifacts', [modelId])).artifacts.length).toBeGreaterThan(0);
    expect(await call(d.l2, 'eth_chainId')).toBe('0x385'); // 901
    const info = await call(d.l2, 'rollup_getInfo');
    expect(info.l1ChainId).toBe(await call(d.l1, 'eth_chainId'));
    expect(await call(d.l1, 'eth_getCode', [info.l1Contracts.rollup, 'latest'])).not.toBe('0x');
    await until('a batch and an output on L1', async () => {
      const s = await call(d.l2, 'rollup_syncStatus');
      return BigInt(s.safe.number) > 0n && BigInt(s.outputCount) > 0n ? s : undefined;
    });
    expect(await d.stop('SIGINT')).toBe(0);
    // anvil went with it
    expect(
      await call(d.l1, 'eth_chainId').then(
        () => 'up',
        () => 'down',
      ),
    ).toBe('down');
    expect(existsSync(join(dir, 'devnet.json'))).toBe(true);

    // the same datadir starts again on the same L1 state and deployment, and the chain goes on
    const again = await startDevnet(['--datadir', dir, '--log-level', 'warn']);
    expect((await call(again.l2, 'rollup_getInfo')).l1Contracts.rollup).toBe(info.l1Contracts.rollup);
    const head = BigInt(await call(again.l2, 'eth_blockNumber'));
    expect(head).toBeGreaterThan(0n);
    await until('batches after the restart', async () => {
      const s = await call(again.l2, 'rollup_syncStatus');
      return BigInt(s.safe.number) > head ? s : undefined;
    });
    expect(await again.stop('SIGTERM')).toBe(0);
  }, 240_000);
});
