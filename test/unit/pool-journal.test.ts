/**
 * The pool journal's file (sequencer/pool-journal.ts): geth's RLP stream, appends, a torn tail cut
 * at every byte, garbage, rotation (with appends while it runs); and the journal service
 * (sequencer/local-journal.ts) over a real Mempool: replay through admission, then a rewrite with
 * what was admitted. The node-level view (restart, kill -9, limits) is test/e2e/pool-journal.test.ts.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hexToBytes } from '@ethereumjs/util';
import type { Address } from '@ethereumjs/util';
import pino from 'pino';
import { fromRlp, toRlp } from 'viem';
import type { Hex } from 'viem';
import { generatePrivateKey } from 'viem/accounts';
import { afterAll, describe, expect, it } from 'vitest';
import { createL2Common } from '../../node/chain/common.ts';
import { poolJournalOptions } from '../../node/cli/txpool.ts';
import { LocalTxJournal } from '../../sequencer/local-journal.ts';
import { Mempool } from '../../sequencer/mempool.ts';
import { defaultPoolOptions } from '../../sequencer/options.ts';
import type { PoolOptions } from '../../sequencer/options.ts';
import { JournalFile, encodeEntry, readJournal } from '../../sequencer/pool-journal.ts';
import type { JournalEntry } from '../../sequencer/pool-journal.ts';
import { signed1559, txHash } from '../helpers/raw-tx.ts';
import { addr, sign } from '../helpers/txs.ts';
import type { Key } from '../helpers/txs.ts';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});
async function tempFile(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'pool-journal-'));
  dirs.push(dir);
  return join(dir, 'transactions.rlp');
}

async function readAll(path: string, max = 1 << 20): Promise<{ entries: JournalEntry[]; tornBytes: number }> {
  const entries: JournalEntry[] = [];
  const it = readJournal(path, max);
  for (;;) {
    const n = await it.next();
    if (n.done === true) return { entries, tornBytes: n.value.tornBytes };
    entries.push(n.value);
  }
}
const raws = (entries: JournalEntry[]) => entries.map((e) => ('raw' in e ? Buffer.from(e.raw).toString('hex') : `oversized ${e.oversized}`));
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

const key = generatePrivateKey();
/** A legacy, a short typed and two typed transactions long enough for one- and two-byte RLP lengths. */
const samples = async (): Promise<Uint8Array[]> =>
  [
    await sign(key, { nonce: 0, type: 'legacy' }),
    await sign(key, { nonce: 1 }),
    await sign(key, { nonce: 2, data: `0x${'ab'.repeat(100)}`, gas: 100_000n }),
    await sign(key, { nonce: 3, data: `0x${'cd'.repeat(400)}`, gas: 100_000n }),
  ].map((h) => hexToBytes(h));

describe('journal file format', () => {
  it("writes geth's stream: a legacy transaction as its list, a typed one inside an RLP string", async () => {
    const [legacy, typed, long] = await samples();
    expect(hex(encodeEntry(legacy!))).toBe(hex(legacy!));
    expect(encodeEntry(typed!)).toEqual(hexToBytes(toRlp(`0x${hex(typed!)}` as Hex)));
    expect(encodeEntry(long!)).toEqual(hexToBytes(toRlp(`0x${hex(long!)}` as Hex)));
    // and the stream is plain RLP items one after another
    expect(fromRlp(`0x${hex(encodeEntry(long!))}`, 'hex')).toBe(`0x${hex(long!)}`);
  });

  it('reads back what was appended, in order; a missing file is an empty journal', async () => {
    const path = await tempFile();
    expect(await readAll(path)).toEqual({ entries: [], tornBytes: 0 });
    const txs = await samples();
    const f = new JournalFile(path);
    for (const t of txs) f.append(t); // before any rotation: one open per write
    const back = await readAll(path);
    expect(raws(back.entries)).toEqual(txs.map(hex));
    expect(back.tornBytes).toBe(0);
  });

  it('a tail cut anywhere is ignored: every whole entry before it is read', async () => {
    const path = await tempFile();
    const txs = await samples();
    const f = new JournalFile(path);
    for (const t of txs) f.append(t);
    const full = await readFile(path);
    const ends: number[] = [];
    let at = 0;
    for (const t of txs) ends.push((at += encodeEntry(t).length));
    // in each entry: its header's bytes (two or three here), the middle, its last byte, its end
    const cuts = ends.flatMap((end, i) => {
      const start = ends[i - 1] ?? 0;
      return [start, start + 1, start + 2, start + 3, (start + end) >> 1, end - 1, end];
    });
    for (const cut of cuts) {
      await writeFile(path, full.subarray(0, cut));
      const whole = ends.filter((e) => e <= cut).length;
      const back = await readAll(path);
      expect(raws(back.entries), `cut at ${cut}`).toEqual(txs.slice(0, whole).map(hex));
      expect(back.tornBytes, `cut at ${cut}`).toBe(cut - (ends[whole - 1] ?? 0));
    }
  });

  it('garbage frames as items the pool then refuses; a length past the end stops reading; big entries are skipped unread', async () => {
    const path = await tempFile();
    const [legacy, typed, , big] = await samples();
    const junk = Uint8Array.from([0x05, 0x83, 1, 2, 3, 0xc2, 0x80, 0x80]); // a byte, a string, a list
    await writeFile(path, Buffer.concat([encodeEntry(legacy!), junk, encodeEntry(big!), encodeEntry(typed!), Uint8Array.from([0xbb, 0xff, 0xff, 0xff, 0xff, 1, 2])]));
    const back = await readAll(path, 500);
    expect(raws(back.entries)).toEqual([hex(legacy!), '05', '010203', 'c28080', `oversized ${big!.length}`, hex(typed!)]);
    expect(back.tornBytes).toBe(7);
  });

  it('rotation replaces the file with the given entries and what is appended meanwhile, then keeps appending', async () => {
    const path = await tempFile();
    const [a, b, c, d] = await samples();
    const f = new JournalFile(path);
    f.append(a!);
    f.append(b!);
    expect(f.appendedBytes).toBe(encodeEntry(a!).length + encodeEntry(b!).length);
    async function* entries() {
      yield b!;
      f.append(c!); // admitted while the new file is being written
      yield d!;
    }
    const size = await f.rotate(entries());
    expect(raws((await readAll(path)).entries)).toEqual([b, d, c].map((t) => hex(t!)));
    expect(size).toBe((await readFile(path)).length);
    expect(f.appendedBytes).toBe(0);
    expect(existsSync(`${path}.new`)).toBe(false);
    f.append(a!);
    expect(raws((await readAll(path)).entries)).toEqual([b, d, c, a].map((t) => hex(t!)));
    // after close, an append still lands (one open per write)
    f.close();
    f.append(b!);
    expect(raws((await readAll(path)).entries)).toHaveLength(5);
    // a rotation to nothing leaves an empty journal
    await f.rotate((async function* () {})());
    expect((await readFile(path)).length).toBe(0);
    f.close();
  });
});

const common = createL2Common({ chainId: 1337n });
function pool(opts: Partial<PoolOptions>, nonces = new Map<string, bigint>()) {
  return new Mempool(
    { ...defaultPoolOptions, ...opts },
    {
      common,
      logger: pino({ level: 'silent' }),
      state: { account: async (a: Address) => ({ nonce: nonces.get(a.toString()) ?? 0n, balance: 10n ** 21n }) },
      limits: () => ({ gasLimit: 30_000_000n, minFee: 1_000_000n }),
    },
  );
}

describe('journal service over the pool', () => {
  it('replays through admission (stale, forged, underpriced and over-limit ones dropped), rewrites with what was admitted, journals what JSON-RPC admits', async () => {
    const path = await tempFile();
    const [a, b] = [generatePrivateKey(), generatePrivateKey()] as [Key, Key];
    const good = [await sign(a, { nonce: 1 }), await sign(a, { nonce: 2 }), await sign(b, { nonce: 5 })];
    const stale = await sign(a, { nonce: 0 });
    const forged = await signed1559(b, { chainId: 1337n, nonce: 6n, maxPriorityFeePerGas: 1n, maxFeePerGas: 10n ** 11n, gas: 21_000n, to: addr(a), value: 0n }, (sig) => ({
      ...sig,
      r: 0n,
    }));
    const cheap = await sign(b, { nonce: 7, maxFeePerGas: 1n, maxPriorityFeePerGas: 1n });
    const overLimit = await sign(a, { nonce: 3 }); // a third of sender a's: the limit is 2
    const file = new JournalFile(path);
    for (const t of [stale, good[0]!, forged, good[1]!, cheap, overLimit, good[2]!]) file.append(hexToBytes(t));
    await writeFile(path, Buffer.concat([await readFile(path), Uint8Array.from([0xb9, 0x01])])); // torn

    const p = pool({ maxPerSender: 2 }, new Map([[addr(a).toLowerCase(), 1n]]));
    const journal = new LocalTxJournal({ path, rejournalMs: 3_600_000, maxTxBytes: defaultPoolOptions.maxTxBytes }, { pool: p, logger: pino({ level: 'silent' }) });
    await journal.start();
    expect(p.locals().map((t) => t.hash)).toEqual(good.map(txHash));
    expect(p.size).toBe(3);
    expect(raws((await readAll(path)).entries)).toEqual(good.map((t) => t.slice(2)));

    // a submission over JSON-RPC is in the file before the answer
    const more = await sign(b, { nonce: 6 });
    await journal.view().addRaw(hexToBytes(more));
    expect(raws((await readAll(path)).entries)).toEqual([...good, more].map((t) => t.slice(2)));
    // a clean stop rewrites it with the pool's local transactions
    p.onBlockIncluded(new Map([[addr(b).toLowerCase(), 7n]]));
    await journal.stop();
    expect(raws((await readAll(path)).entries)).toEqual(good.slice(0, 2).map((t) => t.slice(2)));
  });
});

describe('journal flags (node/cli/txpool.ts)', () => {
  const hour = 3_600_000;
  const flags = (f: Record<string, unknown>) => ({ 'txpool.rejournal': hour, ...f });
  it("default in the datadir, a relative file inside it (geth's rule), none on a temporary --dev datadir unless asked", () => {
    expect(poolJournalOptions(flags({}), '/data', false)).toEqual({ path: '/data/transactions.rlp', rejournalMs: hour });
    expect(poolJournalOptions(flags({ 'txpool.journal': 'pool/j.rlp' }), '/data', false)?.path).toBe('/data/pool/j.rlp');
    expect(poolJournalOptions(flags({ 'txpool.journal': '/var/j.rlp' }), '/data', false)?.path).toBe('/var/j.rlp');
    expect(poolJournalOptions(flags({}), '/tmp/dev', true)).toBeUndefined();
    expect(poolJournalOptions(flags({ 'txpool.journal': '/var/j.rlp' }), '/tmp/dev', true)?.path).toBe('/var/j.rlp');
  });
  it('--txpool.nolocals turns it off; a replica has none; contradictions and out-of-range intervals are refused', () => {
    expect(poolJournalOptions(flags({ 'txpool.nolocals': true }), '/data', false)).toBeUndefined();
    expect(poolJournalOptions(flags({ replica: true }), '/data', false)).toBeUndefined();
    expect(() => poolJournalOptions(flags({ replica: true, 'txpool.journal': 'j.rlp' }), '/data', false)).toThrow(/a replica keeps no pool/);
    expect(() => poolJournalOptions(flags({ 'txpool.nolocals': true, 'txpool.journal': 'j.rlp' }), '/data', false)).toThrow(/contradict/);
    expect(() => poolJournalOptions(flags({ 'txpool.journal': '' }), '/data', false)).toThrow(/needs a file name/);
    expect(() => poolJournalOptions(flags({ 'txpool.rejournal': 500 }), '/data', false)).toThrow(/between 1s and 596h/);
    expect(() => poolJournalOptions(flags({ 'txpool.rejournal': 2 ** 31 }), '/data', false)).toThrow(/between 1s and 596h/);
  });
});
