/**
 * Chain.rewind (derivation: an L1 batch replaces local blocks): one LevelDB batch moves the head
 * and the canonical index back; old blocks stay readable by hash. A child process rewinding and
 * re-extending in a loop is killed with -9 at arbitrary moments; the datadir must reopen to a
 * consistent chain every time (head canonical, nothing canonical above it, parents chained).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { bytesToHex, equalsBytes } from '@ethereumjs/util';
import { afterAll, describe, expect, it } from 'vitest';
import type { Chain } from '../../node/chain/chain.ts';
import { openKV } from '../../node/db/kv.ts';
import type { KV } from '../../node/db/kv.ts';
import { buildChild, openChain } from './chain-rewind-fixture.ts';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'chain-rewind-'));
  dirs.push(d);
  return d;
}
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

/** Head canonical, no canonical number above it, every canonical block's parent the one below. */
async function checkConsistent(chain: Chain): Promise<void> {
  const head = chain.head;
  const n = head.header.number;
  expect(bytesToHex((await chain.store.getCanonicalHash(n))!)).toBe(bytesToHex(head.hash()));
  expect(await chain.store.getCanonicalHash(n + 1n)).toBeUndefined();
  for (let i = n; i > 0n; i--) {
    const b = (await chain.store.getBlockByNumber(i))!;
    const parent = (await chain.store.getBlockByNumber(i - 1n))!;
    expect(equalsBytes(b.header.parentHash, parent.hash())).toBe(true);
  }
}

describe('Chain.rewind', () => {
  it('moves head and canonical index back in one write, keeps old blocks, and the chain extends again', async () => {
    const dir = await tempDir();
    let kv: KV = await openKV(join(dir, 'chaindata'));
    let chain = await openChain(kv);
    const built = [];
    for (let i = 0; i < 5; i++) built.push(await buildChild(chain, 1n));
    const dropped = built[3]!;
    const writes: unknown[] = [];
    kv.on('write', (ops: unknown) => writes.push(ops));
    await chain.rewind(2n);
    expect(writes).toHaveLength(1);
    expect(chain.head.header.number).toBe(2n);
    await checkConsistent(chain);
    expect(await chain.store.getCanonicalHash(4n)).toBeUndefined();
    expect(await chain.store.getTxLocation(dropped.transactions[0]!.hash())).toBeUndefined();
    // the old block and its state stay (only the canonical index changed)
    expect(await chain.store.getBlockByHash(dropped.hash())).toBeDefined();
    expect((await chain.stateAt(built[4]!.header.stateRoot).getAccount(built[4]!.transactions[0]!.getSenderAddress()))?.nonce).toBe(5n);

    // a different block 3 becomes canonical, and survives a reopen
    const fork = await buildChild(chain, 2n);
    expect(bytesToHex(fork.hash())).not.toBe(bytesToHex(built[2]!.hash()));
    await kv.close();
    kv = await openKV(join(dir, 'chaindata'));
    chain = await openChain(kv);
    expect(bytesToHex(chain.head.hash())).toBe(bytesToHex(fork.hash()));
    await checkConsistent(chain);
    expect(bytesToHex((await chain.store.getTxLocation(fork.transactions[0]!.hash()))!.blockHash)).toBe(bytesToHex(fork.hash()));
    await kv.close();
  });

  it('a kill -9 at any moment of rewinds and re-extensions leaves a consistent chain', async () => {
    const dir = await tempDir();
    const script = join(dir, 'loop.mts'); // .mts: ESM outside the package (top-level await)
    const fixture = resolve(import.meta.dirname, 'chain-rewind-fixture.ts');
    await writeFile(script, `import { loopRewinds } from ${JSON.stringify(fixture)};\nawait loopRewinds(${JSON.stringify(join(dir, 'chaindata'))});\n`);
    for (let round = 0; round < 3; round++) {
      const proc = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['ignore', 'pipe', 'inherit'], cwd: resolve(import.meta.dirname, '../..') });
      const exited = new Promise((res) => proc.once('exit', res));
      // kill at a different point each round: after 5, 12, 19 completed operations
      let seen = 0;
      await new Promise<void>((res) => {
        createInterface({ input: proc.stdout! }).on('line', () => {
          if (++seen === 5 + round * 7) res();
        });
        void exited.then(() => res());
      });
      // still running (it never ends on its own): the kill lands mid-loop
      expect(proc.exitCode).toBeNull();
      proc.kill('SIGKILL');
      await exited;
      expect(proc.signalCode).toBe('SIGKILL');
      const kv = await openKV(join(dir, 'chaindata'));
      const chain = await openChain(kv);
      await checkConsistent(chain);
      await kv.close();
    }
  }, 120_000);
});
