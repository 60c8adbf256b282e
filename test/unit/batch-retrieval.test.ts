/**
 * Derivation's batch retrieval in-process, against a fake L1 client: a batch posted as a direct
 * submitBatch call decodes back into its blocks; one that came another way, names another header
 * or carries data whose hash is not the header's is refused with its derivation error code; data
 * that is not the header's blocks comes back as a refused (invalid) batch; logs read over a range
 * are grouped by the block carrying them.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bytesToHex } from '@ethereumjs/util';
import pino from 'pino';
import { encodeAbiParameters, encodeEventTopics, encodeFunctionData, keccak256, parseAbiParameters, toHex, zeroHash } from 'viem';
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
      .batchesIn({ l1: L1_BLOCK })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(DerivationError);
    return (err as DerivationError).code;
  };

  it('decodes a direct submitBatch back into the very blocks the chain holds', async () => {
    const got = await retrieval([{ to: ROLLUP, input: submit(header, data), logged: { index: 0n, batchHash: batchHash(header) } }]).batchesIn({ l1: L1_BLOCK });
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

  it("hands on data that is not the header's blocks as a refused batch (BAD_BATCH), the header kept", async () => {
    const garbage = new Uint8Array([1, 2, 3]);
    const h = { ...header, dataHash: batchDataHash(garbage) };
    const [bad] = await retrieval([{ to: ROLLUP, input: submit(h, garbage), logged: { index: 0n, batchHash: batchHash(h) } }]).batchesIn({ l1: L1_BLOCK });
    expect(bad!.refused?.code).toBe('BAD_BATCH');
    expect(bad!.blocks).toEqual([]);
    expect(bad!.header.firstBlock).toBe(1n);
    const short = { ...header, lastBlock: 3n };
    const [miscounted] = await retrieval([{ to: ROLLUP, input: submit(short, data), logged: { index: 0n, batchHash: batchHash(short) } }]).batchesIn({ l1: L1_BLOCK });
    expect(miscounted!.refused?.message).toMatch(/holds 2 blocks, its header says 1\.\.3/);
  });

  it('groups logs read over a range by the L1 block carrying them, oldest first; a block given its logs needs no getLogs', async () => {
    const event = rollupAbi.find((x) => x.type === 'event' && x.name === 'BatchSubmitted')!;
    // raw eth_getLogs answers: getLogsInRanges goes through viem's action, which decodes them
    const at = (n: bigint, i: number) => ({
      address: ROLLUP,
      blockNumber: toHex(n),
      blockHash: keccak256(toHex(n)),
      transactionHash: keccak256(toHex(i + 1)),
      transactionIndex: toHex(i),
      logIndex: toHex(i),
      removed: false,
      topics: encodeEventTopics({ abi: [event], args: { index: n, batchHash: zeroHash } }),
      data: encodeAbiParameters(parseAbiParameters('uint64, uint64, uint64'), [1n, 2n, 0n]),
    });
    const ranges: [bigint, bigint][] = [];
    const client = {
      request: async ({ method, params }: { method: string; params: [{ fromBlock: Hex; toBlock: Hex }] }) => {
        expect(method).toBe('eth_getLogs');
        const [from, to] = [BigInt(params[0].fromBlock), BigInt(params[0].toBlock)];
        ranges.push([from, to]);
        return [at(5n, 0), at(5n, 1), at(9n, 2)].filter((l) => BigInt(l.blockNumber) >= from && BigInt(l.blockNumber) <= to);
      },
    } as unknown as PublicClient;
    const r = new BatchRetrieval(ROLLUP, { client, common: chain.common, logger: pino({ level: 'silent' }) });
    const carriers = await r.carriersIn(1n, 1_000n);
    expect(ranges).toEqual([[1n, 1_000n]]);
    expect(carriers.map((c) => [c.l1.number, c.l1.hash, c.logs!.length])).toEqual([
      [5n, keccak256(toHex(5n)), 2],
      [9n, keccak256(toHex(9n)), 1],
    ]);
  });
});
