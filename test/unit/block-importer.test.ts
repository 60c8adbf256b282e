/**
 * The replica's block importer in-process: blocks built by one chain (the "sequencer") are
 * re-executed onto another (the "replica") over real LevelDBs; a block whose header lies about
 * its execution is refused with the fields that differ and leaves the replica's head alone.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBlock } from '@ethereumjs/block';
import { bytesToHex } from '@ethereumjs/util';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Chain } from '../../node/chain/chain.ts';
import { openKV } from '../../node/db/kv.ts';
import type { KV } from '../../node/db/kv.ts';
import { BlockImporter } from '../../node/sync/block-importer.ts';
import { SyncError } from '../../node/sync/errors.ts';
import { buildChild, openChain } from './chain-rewind-fixture.ts';

describe('BlockImporter (in-process)', () => {
  let dir: string;
  const kvs: KV[] = [];
  let sequencer: Chain;
  let replica: Chain;
  let importer: BlockImporter;
  const fatal: Error[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'block-importer-'));
    for (const name of ['seq', 'replica']) kvs.push(await openKV(join(dir, name)));
    sequencer = await openChain(kvs[0]!);
    replica = await openChain(kvs[1]!);
    importer = new BlockImporter({ chain: replica, logger: pino({ level: 'silent' }), onFatal: (err) => fatal.push(err) });
  });

  afterAll(async () => {
    await importer.stop();
    for (const kv of kvs) await kv.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("re-executes the sequencer's blocks into the same hashes and state roots", async () => {
    for (let i = 1n; i <= 3n; i++) await importer.import(await buildChild(sequencer, i));
    expect(replica.head.header.number).toBe(3n);
    expect(bytesToHex(replica.head.hash())).toBe(bytesToHex(sequencer.head.hash()));
    expect(bytesToHex(replica.head.header.stateRoot)).toBe(bytesToHex(sequencer.head.header.stateRoot));
  });

  it('refuses a block whose state root is not what its transactions make, and keeps its head', async () => {
    const honest = await buildChild(sequencer, 4n);
    const forged = createBlock({ header: { ...honest.header.toJSON(), stateRoot: new Uint8Array(32).fill(7) }, transactions: honest.transactions }, { common: replica.common });
    const err = await importer.import(forged).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(SyncError);
    expect((err as SyncError).code).toBe('EXECUTION_MISMATCH');
    expect((err as SyncError).message).toMatch(/stateRoot/);
    expect(replica.head.header.number).toBe(3n);
    await importer.import(honest);
    expect(bytesToHex(replica.head.hash())).toBe(bytesToHex(honest.hash()));
  });

  it('says a block it already holds is known, and refuses one whose parent it lacks', async () => {
    const known = await importer.import((await sequencer.store.getBlockByNumber(2n))!).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((known as SyncError | undefined)?.code).toBe('KNOWN');
    await buildChild(sequencer, 5n);
    const orphan = await buildChild(sequencer, 6n);
    const err = await importer.import(orphan).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(SyncError);
    expect(replica.head.header.number).toBe(4n);
    expect(fatal).toEqual([]);
  });
});
