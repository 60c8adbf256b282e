/**
 * Where the sequencer's deposit scan starts: the first L1 block that can hold the first deposit
 * the L2 chain has not consumed. The Bridge records each deposit's L1 timestamp
 * (`depositTime(index)`), so the block is found by a binary search on block timestamps: about
 * log2(L1 blocks since l1Start) header reads, instead of rescanning the Bridge's logs from its
 * deployment after every restart or L2 rewind (on a long-lived L1, a rescan is hours of
 * eth_getLogs against a rate-limited provider).
 */
import type { Hex, PublicClient } from 'viem';
import { bridgeAbi } from '../../contracts/abi/rollup.ts';

export interface ScanStartQuery {
  bridge: Hex;
  /** Deposits the L2 head has consumed: the scan must find index `consumed` onwards. */
  consumed: bigint;
  /** The rollup's first L1 block (the Bridge is older). */
  l1Start: bigint;
  /** The newest L1 block the scan may read (L1's head less the confirmation depth). */
  tip: bigint;
}

/** Seconds the search goes back before the deposit's time: a dev L1 may stamp a block with another time than its EVM saw. */
const TIME_SLACK = 900n;

export interface ScanStart {
  /** The first L1 block to scan. */
  from: bigint;
  /** L1 (as of `tip`) holds deposit `consumed`: the scan must find it, or the start was wrong. */
  pending: boolean;
}

/**
 * The first block to scan. When L1 (as of `tip`) has no deposit at `consumed` yet, every
 * deposit still to come is after `tip`. Blocks may share a timestamp (a dev L1 mining several
 * per second), so the search lands on the first of them, and it starts TIME_SLACK earlier: never
 * after the deposit's own block on an L1 whose headers carry the time its EVM saw.
 */
export async function depositScanStart(client: PublicClient, q: ScanStartQuery): Promise<ScanStart> {
  if (q.tip < q.l1Start) return { from: q.l1Start, pending: false };
  const count = await client.readContract({ address: q.bridge, abi: bridgeAbi, functionName: 'depositCount', blockNumber: q.tip });
  if (BigInt(count) <= q.consumed) return { from: q.tip + 1n, pending: false };
  const time = BigInt(await client.readContract({ address: q.bridge, abi: bridgeAbi, functionName: 'depositTime', args: [q.consumed], blockNumber: q.tip }));
  let lo = q.l1Start;
  let hi = q.tip;
  while (lo < hi) {
    const mid = (lo + hi) / 2n;
    const { timestamp } = await client.getBlock({ blockNumber: mid });
    if (timestamp + TIME_SLACK < time) lo = mid + 1n;
    else hi = mid;
  }
  return { from: lo, pending: true };
}
