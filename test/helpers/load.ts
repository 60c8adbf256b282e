import type { Hex } from 'viem';
import { batched } from './chain-audit.ts';
import { batch, blockNumber, sleep } from './txs.ts';

export interface LoadTx {
  raw: Hex;
  hash: Hex;
}

export interface LoadResult {
  /** Hashes the node answered with. */
  accepted: Set<string>;
  /** Error replies (the node refused a transaction), as "hash: message". */
  refused: string[];
  /** Set when the connection failed, e.g. because the node was killed. */
  cutOff?: string;
}

/**
 * Sends pre-signed transactions in JSON-RPC batches, back to back, as fast as the node answers;
 * stops quietly at the first connection failure (the node was killed). `onBatch` hears how
 * many transactions have been answered so far.
 */
export async function sendLoad(url: string, txs: LoadTx[], batchSize = 100, onBatch?: (answered: number) => void): Promise<LoadResult> {
  const out: LoadResult = { accepted: new Set(), refused: [] };
  for (let i = 0; i < txs.length; i += batchSize) {
    const chunk = txs.slice(i, i + batchSize);
    let replies;
    try {
      replies = await batch(
        url,
        chunk.map((t) => ({ method: 'eth_sendRawTransaction', params: [t.raw] })),
      );
    } catch (err) {
      out.cutOff = (err as Error).message;
      return out;
    }
    replies.forEach((r, j) => {
      const t = chunk[j]!;
      if (r.error !== undefined) out.refused.push(`${t.hash}: ${r.error.message}`);
      else if (r.result !== t.hash) out.refused.push(`${t.hash}: answered ${String(r.result)}`);
      else out.accepted.add(t.hash);
    });
    onBatch?.(i + chunk.length);
  }
  return out;
}

/**
 * Watches new blocks after `from` until `count` of them contain transactions from `ours`;
 * returns every block seen (number -> hash), which must all survive a crash.
 */
export async function waitForTxBlocks(url: string, from: bigint, count: number, ours: Set<string>, maxMs = 120_000): Promise<Map<bigint, string>> {
  const seen = new Map<bigint, string>();
  let next = from + 1n;
  let withTxs = 0;
  const deadline = Date.now() + maxMs;
  for (;;) {
    const head = await blockNumber(url);
    if (head >= next) {
      const nums = Array.from({ length: Number(head - next + 1n) }, (_, i) => next + BigInt(i));
      const blocks = await batched(
        url,
        nums.map((n) => ({ method: 'eth_getBlockByNumber', params: [`0x${n.toString(16)}`, false] })),
      );
      for (const b of blocks) {
        seen.set(BigInt(b.number), b.hash);
        if ((b.transactions as string[]).some((h) => ours.has(h))) withTxs++;
      }
      next = head + 1n;
      if (withTxs >= count) return seen;
    }
    if (Date.now() > deadline) throw new Error(`only ${withTxs} of ${count} blocks with load transactions were sealed`);
    await sleep(50);
  }
}
