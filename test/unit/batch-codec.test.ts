import { brotliCompressSync } from 'node:zlib';
import { createBlock } from '@ethereumjs/block';
import type { Block } from '@ethereumjs/block';
import { RLP } from '@ethereumjs/rlp';
import { createFeeMarket1559Tx, createLegacyTx } from '@ethereumjs/tx';
import { bytesToHex, createAddressFromString, hexToBytes } from '@ethereumjs/util';
import { describe, expect, it } from 'vitest';
import { decodeAbiParameters, encodeAbiParameters, keccak256 } from 'viem';
import type { Hex } from 'viem';
import { createL2Common } from '../../node/chain/common.ts';
import {
  BATCH_HEADER_ABI,
  BatchCodecError,
  BatchCodecErrorCode,
  MAX_BATCH_RAW_BYTES,
  batchDataHash,
  batchHash,
  decodeBatchBlocks,
  decodeBatchData,
  encodeBatch,
  encodeBatchPayload,
} from '../../node/rollup/batch-codec.ts';
import type { BatchHeader } from '../../node/rollup/batch-codec.ts';

const common = createL2Common({ chainId: 1337n });
const KEY = hexToBytes('0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80');

function blocks(n: number, txsPerBlock: number): Block[] {
  const out: Block[] = [];
  let nonce = 0n;
  let parentHash: Uint8Array = new Uint8Array(32);
  for (let i = 1; i <= n; i++) {
    const txs = Array.from({ length: txsPerBlock }, (_, j) => {
      const to = createAddressFromString(`0x${(1000 + j).toString(16).padStart(40, '0')}`);
      const tx =
        j % 3 === 2
          ? createLegacyTx({ nonce: nonce++, gasPrice: 10n ** 9n, gasLimit: 21_000n, to, value: BigInt(j) }, { common })
          : createFeeMarket1559Tx(
              {
                chainId: 1337n,
                nonce: nonce++,
                maxFeePerGas: 10n ** 10n,
                maxPriorityFeePerGas: 1n,
                gasLimit: 60_000n,
                to,
                value: 1n,
                data: new Uint8Array([0xa9, 0x05, 0x9c, 0xbb, i, j]),
              },
              { common },
            );
      return tx.sign(KEY);
    });
    const block = createBlock(
      { header: { number: BigInt(i), parentHash, timestamp: BigInt(1_700_000_000 + i), gasLimit: 30_000_000n, baseFeePerGas: 1_000_000n }, transactions: txs },
      { common, setHardfork: false },
    );
    parentHash = block.hash();
    out.push(block);
  }
  return out;
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(BatchCodecError);
    return (err as BatchCodecError).code;
  }
  throw new Error('expected a BatchCodecError');
}

const envelope = (payload: Uint8Array, version = 0) => new Uint8Array([version, ...brotliCompressSync(payload)]);

describe('batch codec', () => {
  it('round-trips blocks byte for byte and hash for hash', async () => {
    const bs = blocks(12, 7);
    const data = await encodeBatch(bs);
    expect(data[0]).toBe(0);
    const rlps = await decodeBatchData(data);
    expect(rlps.map(bytesToHex)).toEqual(bs.map((b) => bytesToHex(b.serialize())));
    // the block hash is keccak of the header, the first item of each block's RLP
    const headerHash = (r: Uint8Array) => keccak256(RLP.encode((RLP.decode(r) as Uint8Array[][])[0]!));
    expect(rlps.map(headerHash)).toEqual(bs.map((b) => bytesToHex(b.hash())));
    const decoded = await decodeBatchBlocks(data, common);
    expect(decoded.map((b) => bytesToHex(b.hash()))).toEqual(bs.map((b) => bytesToHex(b.hash())));
    expect(decoded[3]!.transactions.length).toBe(7);
    // compressed smaller than the RLP it carries
    expect(data.length).toBeLessThan(encodeBatchPayload(rlps).length);
  });

  it('round-trips empty blocks and a single block', async () => {
    for (const bs of [blocks(1, 0), blocks(5, 0), blocks(1, 1)]) {
      const rlps = await decodeBatchData(await encodeBatch(bs));
      expect(rlps.map(bytesToHex)).toEqual(bs.map((b) => bytesToHex(b.serialize())));
    }
  });

  it('refuses to encode no blocks', async () => {
    expect(await codeOf(encodeBatch([]))).toBe(BatchCodecErrorCode.Empty);
  });

  it('rejects malformed batch data with a typed error', async () => {
    const good = await encodeBatch(blocks(2, 2));
    const payload = encodeBatchPayload(blocks(2, 2).map((b) => b.serialize()));
    const cases: [string, Uint8Array, string][] = [
      ['empty', new Uint8Array(), BatchCodecErrorCode.Empty],
      ['unknown version', new Uint8Array([1, ...good.subarray(1)]), BatchCodecErrorCode.BadVersion],
      ['version only', new Uint8Array([0]), BatchCodecErrorCode.Brotli],
      ['not brotli', new Uint8Array([0, 0xde, 0xad, 0xbe, 0xef, 1, 2, 3]), BatchCodecErrorCode.Brotli],
      ['truncated brotli', good.subarray(0, good.length - 5), BatchCodecErrorCode.Brotli],
      ['brotli of garbage', envelope(new Uint8Array([0xff, 0x01, 0x02])), BatchCodecErrorCode.Rlp],
      ['trailing bytes after the list', envelope(new Uint8Array([...payload, 0x80])), BatchCodecErrorCode.Rlp],
      ['a byte string, not a list', envelope(RLP.encode(new Uint8Array(40))), BatchCodecErrorCode.Rlp],
      ['an empty list', envelope(RLP.encode([])), BatchCodecErrorCode.Empty],
      ['a nested list item', envelope(RLP.encode([[new Uint8Array([1])]])), BatchCodecErrorCode.Rlp],
      ['an item that is not an RLP list', envelope(RLP.encode([new Uint8Array([0x83, 1, 2, 3])])), BatchCodecErrorCode.Rlp],
      ['an item with trailing bytes', envelope(RLP.encode([new Uint8Array([0xc1, 0x01, 0x02])])), BatchCodecErrorCode.Rlp],
      ['an item with a bad length', envelope(RLP.encode([new Uint8Array([0xc5, 0x01])])), BatchCodecErrorCode.Rlp],
    ];
    for (const [name, data, code] of cases) {
      expect(await codeOf(decodeBatchData(data)), name).toBe(code);
    }
  });

  it('decodes the envelope but refuses a list item that is no block', async () => {
    const data = envelope(RLP.encode([RLP.encode([new Uint8Array([1]), new Uint8Array([2])])]));
    expect(await decodeBatchData(data)).toHaveLength(1);
    expect(await codeOf(decodeBatchBlocks(data, common))).toBe(BatchCodecErrorCode.Block);
  });

  it('caps the decompressed size (a brotli bomb is refused before it is held)', async () => {
    // 64 MiB of zeros compress to a few KB
    const bomb = envelope(new Uint8Array(64 * 1024 * 1024));
    expect(bomb.length).toBeLessThan(100_000);
    expect(await codeOf(decodeBatchData(bomb))).toBe(BatchCodecErrorCode.TooLarge);
    // just over a smaller cap is refused, at the cap is fine
    const payload = encodeBatchPayload(blocks(3, 3).map((b) => b.serialize()));
    expect(await codeOf(decodeBatchData(envelope(payload), payload.length - 1))).toBe(BatchCodecErrorCode.TooLarge);
    expect(await decodeBatchData(envelope(payload), payload.length)).toHaveLength(3);
    expect(MAX_BATCH_RAW_BYTES).toBe(16 * 1024 * 1024);
  });

  it('hashes the header as abi.encode(IRollup.BatchHeader)', () => {
    const header: BatchHeader = {
      index: 3n,
      prevBatchHash: keccak256('0x01'),
      firstBlock: 10n,
      lastBlock: 19n,
      dataHash: batchDataHash(new Uint8Array([0, 1, 2])),
      depositCount: 2n,
      depositHash: keccak256('0x02'),
      resultsRoot: keccak256('0x03'),
    };
    const flat = encodeAbiParameters(
      [{ type: 'uint64' }, { type: 'bytes32' }, { type: 'uint64' }, { type: 'uint64' }, { type: 'bytes32' }, { type: 'uint64' }, { type: 'bytes32' }, { type: 'bytes32' }],
      [header.index, header.prevBatchHash, header.firstBlock, header.lastBlock, header.dataHash, header.depositCount, header.depositHash, header.resultsRoot],
    );
    // a static struct encodes as its fields in place: 8 words, no offset
    expect((flat.length - 2) / 2).toBe(8 * 32);
    expect(batchHash(header)).toBe(keccak256(flat));
    expect(decodeAbiParameters([BATCH_HEADER_ABI], flat)[0]).toEqual(header);
    expect(batchDataHash(new Uint8Array([0, 1, 2]))).toBe(keccak256('0x000102' as Hex));
  });
});
