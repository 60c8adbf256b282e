import { effectiveTip } from '../node/txpool/pool-tx.ts';
import type { PoolTx } from '../node/txpool/pool-tx.ts';

/**
 * geth's "transactions by price and nonce": a max-heap of each sender's next transaction by
 * effective tip (earlier arrival breaks ties); taking one exposes that sender's next nonce.
 */
export class BlockTxSelector {
  private heap: { p: PoolTx; tip: bigint }[] = [];

  constructor(
    heads: PoolTx[],
    private readonly baseFee: bigint,
    private readonly next: (p: PoolTx) => PoolTx | undefined,
  ) {
    for (const p of heads) this.push(p);
  }

  peek(): PoolTx | undefined {
    return this.heap[0]?.p;
  }

  /** The peeked transaction was included: move on to its sender's next nonce. */
  shift(): void {
    const top = this.heap[0];
    if (top === undefined) return;
    const nxt = this.next(top.p);
    this.popTop();
    if (nxt !== undefined) this.push(nxt);
  }

  /** The peeked transaction cannot go in this block: skip its sender entirely. */
  pop(): void {
    this.popTop();
  }

  private push(p: PoolTx): void {
    const tip = effectiveTip(p, this.baseFee);
    if (tip < 0n) return; // cannot pay the base fee of this block; it waits in the pool
    this.heap.push({ p, tip });
    let i = this.heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.better(i, parent)) break;
      [this.heap[i], this.heap[parent]] = [this.heap[parent]!, this.heap[i]!];
      i = parent;
    }
  }

  private popTop(): void {
    const last = this.heap.pop();
    if (last === undefined || this.heap.length === 0) return;
    this.heap[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let best = i;
      if (l < this.heap.length && this.better(l, best)) best = l;
      if (r < this.heap.length && this.better(r, best)) best = r;
      if (best === i) break;
      [this.heap[i], this.heap[best]] = [this.heap[best]!, this.heap[i]!];
      i = best;
    }
  }

  private better(a: number, b: number): boolean {
    const x = this.heap[a]!;
    const y = this.heap[b]!;
    return x.tip !== y.tip ? x.tip > y.tip : x.p.seq < y.p.seq;
  }
}
