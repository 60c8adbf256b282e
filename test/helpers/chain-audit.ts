import { expect } from 'vitest';
import { batch, must } from './txs.ts';

/** Fetches many JSON-RPC calls in batches of `size`, failing on any error reply. */
export async function batched(url: string, calls: { method: string; params: unknown[] }[], size = 100): Promise<any[]> {
  const out: any[] = [];
  for (let i = 0; i < calls.length; i += size) {
    const replies = await batch(url, calls.slice(i, i + size));
    replies.forEach((r, j) => {
      if (r.error !== undefined) throw new Error(`${calls[i + j]!.method} failed: ${r.error.message}`);
      out.push(r.result);
    });
  }
  return out;
}

const hexRange = (from: bigint, to: bigint) => Array.from({ length: Number(to - from + 1n) }, (_, i) => `0x${(from + BigInt(i)).toString(16)}`);

export const getBlocks = (url: string, from: bigint, to: bigint, full = true) =>
  batched(
    url,
    hexRange(from, to).map((n) => ({ method: 'eth_getBlockByNumber', params: [n, full] })),
  );

export const getReceipts = (url: string, from: bigint, to: bigint) =>
  batched(
    url,
    hexRange(from, to).map((n) => ({ method: 'eth_getBlockReceipts', params: [n] })),
  );

export interface ChainAudit {
  head: bigint;
  blocks: any[];
  receipts: any[][];
  /** Transactions included per sender (lower-case address). */
  included: Map<string, number>;
  /** Hashes of every included transaction. */
  hashes: Set<string>;
  /** Sum over blocks of baseFeePerGas * gasUsed. */
  burned: bigint;
  /** Sum over all transactions of gasUsed * (effectiveGasPrice - baseFee): what the coinbase earned. */
  tips: bigint;
}

/**
 * Reads blocks 0..head (the node's latest, or `upTo`) with their receipts and checks that the
 * chain is whole: numbers and parent hashes link, every transaction has its receipt in place
 * (hash, index, block, sender), cumulative gas ends at the block's gasUsed, and every sender's
 * nonces run 0, 1, 2, ... without gaps.
 */
export async function auditChain(url: string, upTo?: bigint): Promise<ChainAudit> {
  const latest = await must(url, 'eth_getBlockByNumber', ['latest', true]);
  expect(latest).not.toBeNull();
  const head = upTo ?? BigInt(latest.number);
  const [blocks, receipts] = [await getBlocks(url, 0n, head), (await getReceipts(url, 0n, head)) as any[][]];
  if (upTo === undefined) expect(blocks[Number(head)].hash).toBe(latest.hash);
  const included = new Map<string, number>();
  const hashes = new Set<string>();
  let burned = 0n;
  let tips = 0n;
  for (let n = 0; n <= Number(head); n++) {
    const block = blocks[n];
    const rcs = receipts[n]!;
    expect(block, `block ${n}`).not.toBeNull();
    expect(BigInt(block.number)).toBe(BigInt(n));
    if (n > 0) expect(block.parentHash, `parent of block ${n}`).toBe(blocks[n - 1].hash);
    expect(rcs, `receipts of block ${n}`).not.toBeNull();
    expect(rcs.length, `receipts of block ${n}`).toBe(block.transactions.length);
    const baseFee = BigInt(block.baseFeePerGas ?? 0);
    let cumulative = 0n;
    block.transactions.forEach((tx: any, i: number) => {
      const rc = rcs[i];
      expect(rc.transactionHash, `receipt ${i} of block ${n}`).toBe(tx.hash);
      expect(rc.blockHash).toBe(block.hash);
      expect(BigInt(rc.blockNumber)).toBe(BigInt(n));
      expect(Number(rc.transactionIndex)).toBe(i);
      expect(rc.from).toBe(tx.from);
      expect(BigInt(rc.cumulativeGasUsed)).toBe(cumulative + BigInt(rc.gasUsed));
      cumulative = BigInt(rc.cumulativeGasUsed);
      const from = String(tx.from).toLowerCase();
      const count = included.get(from) ?? 0;
      expect(Number(tx.nonce), `nonce of ${tx.hash} from ${from}`).toBe(count);
      included.set(from, count + 1);
      expect(hashes.has(tx.hash), `${tx.hash} included twice`).toBe(false);
      hashes.add(tx.hash);
      tips += BigInt(rc.gasUsed) * (BigInt(rc.effectiveGasPrice) - baseFee);
    });
    expect(cumulative, `gasUsed of block ${n}`).toBe(BigInt(block.gasUsed));
    burned += baseFee * BigInt(block.gasUsed);
  }
  return { head, blocks, receipts, included, hashes, burned, tips };
}

/** EIP-1559: the base fee of the block after `parent`, before the sequencer's floor. */
export function nextBaseFee(parent: { baseFeePerGas: string; gasUsed: string; gasLimit: string }): bigint {
  const base = BigInt(parent.baseFeePerGas);
  const used = BigInt(parent.gasUsed);
  const target = BigInt(parent.gasLimit) / 2n;
  if (used === target) return base;
  if (used > target) {
    const delta = (base * (used - target)) / target / 8n;
    return base + (delta > 1n ? delta : 1n);
  }
  return base - (base * (target - used)) / target / 8n;
}

/** Sum of balances of `addresses` at a block (number or tag). */
export async function totalBalance(url: string, addresses: string[], block: string): Promise<bigint> {
  const balances = await batched(
    url,
    addresses.map((a) => ({ method: 'eth_getBalance', params: [a, block] })),
  );
  return balances.reduce((s: bigint, b: string) => s + BigInt(b), 0n);
}
