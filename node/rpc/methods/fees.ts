import type { Block } from '@ethereumjs/block';
import { z } from 'zod';
import { feeCaps, effectiveTip } from '../../txpool/pool-tx.ts';
import type { RpcBackend } from '../backend.ts';
import { invalidParams } from '../errors.ts';
import { q } from '../format.ts';
import { method } from '../method.ts';
import { zBlockTag, zUint } from '../schemas.ts';
import { isDepositTx } from '../../chain/deposit-tx.ts';

/** Tips are suggested from this many recent blocks, at this percentile, never below the floor. */
const TIP_BLOCKS = 20;
const TIP_PERCENTILE = 60;
const TIP_FLOOR = 1_000_000n;
const MAX_HISTORY = 1024;

async function suggestTip(b: RpcBackend): Promise<bigint> {
  const tips: bigint[] = [];
  const head = b.head.header.number;
  for (let n = head; n >= 0n && n > head - BigInt(TIP_BLOCKS); n--) {
    const block = await b.chain.store.getBlockByNumber(n);
    const baseFee = block?.header.baseFeePerGas ?? 0n;
    for (const tx of block?.transactions ?? []) if (!isDepositTx(tx)) tips.push(effectiveTip(feeCaps(tx), baseFee));
  }
  if (tips.length === 0) return TIP_FLOOR;
  tips.sort((a, c) => (a < c ? -1 : a > c ? 1 : 0));
  const pick = tips[Math.floor(((tips.length - 1) * TIP_PERCENTILE) / 100)]!;
  return pick > TIP_FLOOR ? pick : TIP_FLOOR;
}

async function rewards(b: RpcBackend, block: Block, percentiles: number[]): Promise<string[]> {
  const baseFee = block.header.baseFeePerGas ?? 0n;
  if (block.transactions.length === 0) return percentiles.map(() => '0x0');
  const receipts = (await b.chain.store.getReceipts(block.hash())) ?? [];
  let prev = 0n;
  const items = block.transactions
    .map((tx, i) => {
      const cum = receipts[i]?.cumulativeGasUsed ?? prev;
      const used = cum - prev;
      prev = cum;
      // deposits bought their gas on L1 and pay no tip here
      return { tip: isDepositTx(tx) ? 0n : effectiveTip(feeCaps(tx), baseFee), used };
    })
    .sort((a, c) => (a.tip < c.tip ? -1 : a.tip > c.tip ? 1 : 0));
  const total = block.header.gasUsed;
  return percentiles.map((p) => {
    const threshold = (total * BigInt(Math.round(p * 100))) / 10_000n;
    let acc = 0n;
    for (const it of items) {
      acc += it.used;
      if (acc >= threshold) return q(it.tip);
    }
    return q(items[items.length - 1]!.tip);
  });
}

const zPercentiles = z
  .array(z.number().min(0).max(100))
  .max(100)
  .refine((a) => a.every((v, i) => i === 0 || v >= a[i - 1]!), 'reward percentiles must be ascending')
  .nullish()
  // viem sends null when no percentiles are wanted; geth leaves "reward" out for none
  .transform((a) => (a === null || a === undefined || a.length === 0 ? undefined : a));

export const feeMethods = {
  // geth prices against the head's base fee, which is never below the next one's by more than 12.5%
  eth_gasPrice: method([], async (_a, b) => {
    const head = b.head.header.baseFeePerGas ?? 0n;
    const next = b.nextBaseFee();
    return q((head > next ? head : next) + (await suggestTip(b)));
  }),
  eth_maxPriorityFeePerGas: method([], async (_a, b) => q(await suggestTip(b))),
  eth_blobBaseFee: method([], () => '0x1'),

  eth_feeHistory: method([z.union([zUint, z.number().int().nonnegative()]), zBlockTag, zPercentiles], async ([count, newest, pct], b) => {
    if (count < 1) return { oldestBlock: '0x0', baseFeePerGas: [], gasUsedRatio: [] };
    const last = await b.blockByTag(newest);
    if (last === undefined) throw invalidParams(`requested block ${String(newest)} after the head`);
    const n = Math.min(count, MAX_HISTORY);
    const first = last.header.number - BigInt(n) + 1n < 0n ? 0n : last.header.number - BigInt(n) + 1n;
    const baseFeePerGas: string[] = [];
    const gasUsedRatio: number[] = [];
    const reward: string[][] = [];
    for (let i = first; i <= last.header.number; i++) {
      const block = (await b.chain.store.getBlockByNumber(i))!;
      baseFeePerGas.push(q(block.header.baseFeePerGas ?? 0n));
      gasUsedRatio.push(Number(block.header.gasUsed) / Number(block.header.gasLimit));
      if (pct !== undefined) reward.push(await rewards(b, block, pct));
    }
    const next = last.header.calcNextBaseFee();
    baseFeePerGas.push(q(next > b.minBaseFee ? next : b.minBaseFee));
    return {
      oldestBlock: q(first),
      baseFeePerGas,
      gasUsedRatio,
      baseFeePerBlobGas: baseFeePerGas.map(() => '0x1'),
      blobGasUsedRatio: gasUsedRatio.map(() => 0),
      ...(pct !== undefined ? { reward } : {}),
    };
  }),
};
