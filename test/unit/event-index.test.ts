/**
 * The store's index of events by their first indexed argument (how ai_getInferenceProof finds a
 * request's fulfilment without a log scan): written with the block in one batch, counted by the
 * block's log index, and never pointing at a block a rewind took off the canonical chain.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBlock } from '@ethereumjs/block';
import { bytesToHex, hexToBytes } from '@ethereumjs/util';
import { afterEach, describe, expect, it } from 'vitest';
import { keccak256, numberToHex } from 'viem';
import { createL2Common } from '../../node/chain/common.ts';
import type { RawLog } from '../../node/chain/receipts.ts';
import { ChainStore } from '../../node/chain/store.ts';
import { openKV } from '../../node/db/kv.ts';
import type { KV } from '../../node/db/kv.ts';
import { removeDir } from '../helpers/dev-node.ts';

const common = createL2Common({ chainId: 1337n });
const MARKET = hexToBytes(`0x${'0a'.repeat(20)}`);
const OTHER = hexToBytes(`0x${'0b'.repeat(20)}`);
const TOPIC = hexToBytes(keccak256('0x01'));
const id = (n: number) => hexToBytes(numberToHex(n, { size: 32 }));
const log = (address: Uint8Array, topics: Uint8Array[]): RawLog => [address, topics, new Uint8Array()];

describe('ChainStore event index', () => {
  let kv: KV | undefined;
  let dir = '';
  afterEach(async () => {
    await kv?.close();
    await removeDir(dir);
  });

  it('finds the canonical block and log index of an event by its topic1, and forgets blocks a rewind replaced', async () => {
    dir = await mkdtemp(join(tmpdir(), 'event-index-'));
    kv = await openKV(join(dir, 'db'));
    const store = new ChainStore(kv, common, [{ address: MARKET, topic0: TOPIC }]);
    const block = (number: bigint, extra: number) => createBlock({ header: { number, extraData: Uint8Array.of(extra) } }, { common });
    const find = async (address: Uint8Array, topic1: Uint8Array) => {
      const at = await store.findEvent(address, TOPIC, topic1);
      return at === undefined ? undefined : { ...at, blockHash: bytesToHex(at.blockHash) };
    };
    const commit = (b: ReturnType<typeof block>, logs: RawLog[][]) =>
      store.commitBlock({ block: b, senders: [], stateOps: [], receipts: logs.map((l) => ({ status: 1, cumulativeGasUsed: 21_000n, logs: l })) });

    const a = block(1n, 1);
    // the event is the third log of the block, in its second receipt; other addresses and topics are not indexed
    await commit(a, [
      [log(OTHER, [TOPIC, id(7)]), log(MARKET, [hexToBytes(keccak256('0x02')), id(7)])],
      [log(MARKET, [TOPIC, id(7)]), log(MARKET, [TOPIC])],
    ]);
    expect(await find(MARKET, id(7))).toEqual({ number: 1n, blockHash: bytesToHex(a.hash()), logIndex: 2 });
    expect(await find(OTHER, id(7))).toBeUndefined();
    expect(await find(MARKET, id(8))).toBeUndefined();

    // another block at height 1 becomes canonical: the old entry reads as absent
    await commit(block(1n, 2), [[]]);
    expect(await find(MARKET, id(7))).toBeUndefined();
    // the same event logged again later points at the new block
    const c = block(2n, 3);
    await commit(c, [[log(MARKET, [TOPIC, id(7)])]]);
    expect(await find(MARKET, id(7))).toEqual({ number: 2n, blockHash: bytesToHex(c.hash()), logIndex: 0 });
  });
});
