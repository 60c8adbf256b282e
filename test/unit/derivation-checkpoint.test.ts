/**
 * Derivation's checkpoints and L1 traversal in-process, on a real LevelDB and a fake L1: a record
 * keeps a refused batch's first block; lookups find the newest record at or below a number over
 * sparse records; pruning deletes a bounded number of records in the advance's own write and keeps
 * the one the finalized head is read from; the traversal hands out finalized blocks as ranges
 * (few requests over a long history) and walks the rest one block at a time, a cursor reorged out
 * while the node was down caught before a range is built on it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { keccak256, toHex, zeroHash } from 'viem';
import type { Hex, PublicClient } from 'viem';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { openKV } from '../../node/db/kv.ts';
import type { KV } from '../../node/db/kv.ts';
import { CheckpointStore } from '../../node/derivation/checkpoint.ts';
import type { L1Record } from '../../node/derivation/checkpoint.ts';
import { L1Traversal } from '../../node/derivation/l1-traversal.ts';

const silent = pino({ level: 'silent' });
const rec = (n: bigint, invalidFrom?: bigint): L1Record => ({ l1Number: n, l1Hash: hashOf(n), safe: { number: n / 10n, hash: keccak256(toHex(n / 10n)) }, invalidFrom });
/** L1 block hashes of the fake chain; `fork` names a different chain from its block on. */
const hashOf = (n: bigint, fork = ''): Hex => keccak256(toHex(`${fork}${n}`));

/** An L1 of `head + 1` blocks whose finalized block is `head - 64`, counting requests by kind. */
function fakeL1(state: { head: bigint; fork?: { from: bigint; tag: string } }) {
  const calls = { head: 0, block: 0, finalized: 0 };
  const hash = (n: bigint) => (state.fork !== undefined && n >= state.fork.from ? hashOf(n, state.fork.tag) : hashOf(n));
  const block = (n: bigint) => ({ number: n, hash: hash(n), parentHash: n === 0n ? zeroHash : hash(n - 1n), timestamp: n, baseFeePerGas: 1n });
  const client = {
    getBlockNumber: async () => {
      calls.head++;
      return state.head;
    },
    getBlock: async (a: { blockNumber?: bigint; blockTag?: string }) => {
      if (a.blockTag === 'finalized') {
        calls.finalized++;
        return block(state.head > 64n ? state.head - 64n : 0n);
      }
      calls.block++;
      if (a.blockNumber! > state.head) throw Object.assign(new Error('not found'), { name: 'BlockNotFoundError' });
      return block(a.blockNumber!);
    },
  } as unknown as PublicClient;
  return { client, calls };
}

describe('derivation checkpoints and L1 traversal (in-process)', () => {
  let dir: string;
  let kv: KV;
  let n = 0;

  beforeEach(async () => {
    await kv?.close();
    dir ??= await mkdtemp(join(tmpdir(), 'derivation-checkpoint-'));
    kv = await openKV(join(dir, `db${n++}`));
  });
  afterAll(async () => {
    await kv?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("keeps a refused batch's first block in the record; reads older 72-byte records without it", async () => {
    const store = new CheckpointStore(kv);
    await store.advance(rec(10n, 77n));
    expect(await store.cursor()).toEqual(rec(10n, 77n));
    await store.advance(rec(11n));
    expect((await store.record(11n))!.invalidFrom).toBeUndefined();
    expect((await store.record(10n))!.invalidFrom).toBe(77n);
  });

  it('finds the newest record at or below a number over sparse records; walks them newest first', async () => {
    const store = new CheckpointStore(kv);
    for (const x of [5n, 300n, 2_000n]) await store.advance(rec(x));
    expect((await store.atOrBelow(1_999n))!.l1Number).toBe(300n);
    expect((await store.atOrBelow(2_000n))!.l1Number).toBe(2_000n);
    expect(await store.atOrBelow(4n)).toBeUndefined();
    const seen: bigint[] = [];
    for await (const r of store.downFrom(1_000n)) seen.push(r.l1Number);
    expect(seen).toEqual([300n, 5n]);
  });

  it('prunes at most 256 records per advance, below the newest one at or below the bound, never the cursor', async () => {
    const store = new CheckpointStore(kv);
    for (let x = 1n; x <= 600n; x++) await store.advance(rec(x));
    expect(await store.advance(rec(601n), 500n)).toBe(256);
    expect(await store.oldest()).toBe(257n);
    expect(await store.advance(rec(602n), 500n)).toBe(243);
    expect(await store.oldest()).toBe(500n);
    // nothing left below the bound: no more work
    expect(await store.advance(rec(603n), 500n)).toBe(0);
    expect((await store.atOrBelow(550n))!.l1Number).toBe(550n);
    // a bound above the cursor keeps the cursor
    expect(await store.advance(rec(604n), 10_000n)).toBe(103);
    expect((await store.cursor())!.l1Number).toBe(604n);
    expect(await store.record(603n)).toBeDefined();
  });

  it('catches up over 5,000 finalized blocks in ranges and walks the last ones one by one', async () => {
    const store = new CheckpointStore(kv);
    const { client, calls } = fakeL1({ head: 5_100n });
    const t = new L1Traversal({ number: 100n, hash: hashOf(100n) }, { client, store, logger: silent }, { maxRange: 2_000n });
    await t.load();
    const ranges: [bigint, bigint][] = [];
    let blocks = 0;
    for (;;) {
      const s = await t.next();
      if (s.kind === 'idle') break;
      if (s.kind === 'range') {
        ranges.push([s.from, s.to.number]);
        await t.advance({ l1Number: s.to.number, l1Hash: s.to.hash, safe: { number: 0n, hash: zeroHash } });
      } else if (s.kind === 'block') {
        blocks++;
        await t.advance({ l1Number: s.block.number, l1Hash: s.block.hash, safe: { number: 0n, hash: zeroHash } });
      } else throw new Error(`unexpected ${s.kind}`);
    }
    expect(ranges).toEqual([
      [100n, 2_099n],
      [2_100n, 4_099n],
      [4_100n, 5_036n],
    ]);
    expect(blocks).toBe(64);
    // per range: the start (or cursor) check and the end's hash; then one read per block near the head
    expect(calls.block + calls.head + calls.finalized).toBeLessThan(100);
  });

  it('a cursor reorged out while the node was down is unwound before a range builds on it', async () => {
    const store = new CheckpointStore(kv);
    const l1 = { head: 300n } as { head: bigint; fork?: { from: bigint; tag: string } };
    const { client } = fakeL1(l1);
    for (let x = 280n; x <= 300n; x++) await store.advance(rec(x));
    // down for a while: blocks 295.. were replaced, and L1 went on 3,000 blocks
    l1.fork = { from: 295n, tag: 'b' };
    l1.head = 3_300n;
    const t = new L1Traversal({ number: 100n, hash: hashOf(100n) }, { client, store, logger: silent });
    await t.load();
    const s = await t.next();
    expect(s.kind).toBe('reorg');
    expect(s.kind === 'reorg' && s.ancestor?.l1Number).toBe(294n);
    const r = await t.next();
    expect(r.kind === 'range' && [r.from, r.to.number, r.to.hash]).toEqual([295n, 3_236n, hashOf(3_236n, 'b')]);
  });
});
