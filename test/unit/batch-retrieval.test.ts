/**
 * Derivation's batch retrieval in-process, against a fake L1 client: a batch posted as a direct
 * submitBatch call decodes back into its blocks; one that came another way, names another header
 * or carries data whose hash is not the header's is refused with its derivation error code.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bytesToHex } from '@ethereumjs/util';
import pino from 'pino';
import { encodeFunctionData, keccak256, zeroHash } from 'viem';
import type { Hex, PublicClient } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rollupAbi } from '../../contracts/abi/rollup.ts';
import type { Chain } from '../../node/chain/chain.ts';
import { openKV } from '../../node/db/kv.ts';
import type { KV } from '../../node/db/kv.ts';
import { BatchRetrieval } from '../../node/derivation/batch-retrieval.ts';
import { DerivationError } from '../../node/derivation/errors.ts';
import { batchDataHash, batchHash, encodeBatch } from '../../node/rollup/batch-codec.ts';
import type { BatchHeader } from '../../node/rollup/batch-codec.ts';
import { buildChild, openChain } from './chain-rewind-fixture.ts';

const ROLLUP: Hex = `0x${'12'.repeat(20)}`;
const L1_BLOCK = { number: 100n, hash: keccak256('0x64') as Hex, parentHash: zeroHash, timestamp: 1n, baseFee: 1n };

interface Posted {
  to: Hex;
  input: Hex;
  /** What the BatchSubmitted log says. */
  logged: { index: bigint; batchHash: Hex };
}

/** An L1 holding one block with the given batch transactions (getLogs by block hash, getTransaction). */
function fakeL1(posted: Posted[]): PublicClient {
  const hashOf = (i: number) => keccak256(`0x${(i + 1).toString(16).padStart(2, '0')}`);
  return {
    getLogs: async ({ blockHash }: { blockHash: Hex }) => (blockHash === L1_BLOCK.hash ? posted.map((p, i) => ({ transactionHash: hashOf(i), args: p.logged })) : []),
    getTransaction: async ({ hash }: { hash: Hex }) => {
      const i = posted.findIndex((_, k) => hashOf(k) === hash);
      if (i < 0) throw new Error('transaction not found');
      return { to: posted[i]!.to, input: posted[i]!.input };
    },
  } as unknown as PublicClient;
}

describe('BatchRetrieval (in-process, fake L1)', () => {
  let dir: string;
  let kv: KV;
  let chain: Chain;
  let header: BatchHeader;
  let data: Uint8Array;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'batch-retrieval-'));
    kv = await openKV(join(dir, 'chaindata'));
    chain = await openChain(kv);
    const blocks = [await buildChild(chain, 1n), await buildChild(chain, 2n)];
    data = await encodeBatch(blocks);
    header = { index: 0n, prevBatchHash: zeroHash, firstBlock: 1n, lastBlock: 2n, dataHash: batchDataHash(data), depositCount: 0n, depositHash: zeroHash, resultsRoot: zeroHash };
  });

  afterAll(async () => {
    await kv.close();
    await rm(dir, { recursive: true, force: true });
  });

  const submit = (h: BatchHeader, d: Uint8Array): Hex => encodeFunctionData({ abi: rollupAbi, functionName: 'submitBatch', args: [h, bytesToHex(d)] });
  const retrieval = (posted: Posted[]) => new BatchRetrieval(ROLLUP, { client: fakeL1(posted), common: chain.common, logger: pino({ level: 'silent' }) });
  const refusal = async (posted: Posted[]): Promise<string> => {
    const err = await retrieval(posted)
      .batchesIn(L1_BLOCK)
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(DerivationError);
    return (err as DerivationError).code;
  };

  it('decodes a direct submitBatch back into the very blocks the chain holds', async () => {
    const got = await retrieval([{ to: ROLLUP, input: submit(header, data), logged: { index: 0n, batchHash: batchHash(header) } }]).batchesIn(L1_BLOCK);
    expect(got).toHaveLength(1);
    expect(got[0]!.l1Block).toBe(100n);
    const want = await Promise.all([1n, 2n].map(async (n) => bytesToHex((await chain.store.getBlockByNumber(n))!.hash())));
    expect(got[0]!.blocks.map((b) => bytesToHex(b.hash()))).toEqual(want);
  });

  it('refuses a batch that reached the Rollup through another contract', async () => {
    expect(await refusal([{ to: `0x${'34'.repeat(20)}`, input: submit(header, data), logged: { index: 0n, batchHash: batchHash(header) } }])).toBe('NOT_DIRECT');
  });

  it('refuses calldata whose header is not the one the log names, or whose data does not hash to it', async () => {
    const other = { ...header, lastBlock: 3n };
    expect(await refusal([{ to: ROLLUP, input: submit(other, data), logged: { index: 0n, batchHash: batchHash(header) } }])).toBe('BAD_BATCH');
    const tampered = Uint8Array.from(data);
    tampered[tampered.length - 1] ^= 1;
    expect(await refusal([{ to: ROLLUP, input: submit(header, tampered), logged: { index: 0n, batchHash: batchHash(header) } }])).toBe('BAD_BATCH');
  });
});
