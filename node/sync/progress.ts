/**
 * What eth_syncing reports on a replica: geth's object while the node knows of blocks beyond its
 * head (a sequencer-signed block it is catching up to, or a block L1 already carries in a
 * batch), `false` once it is within one block of the highest it knows of (one block behind is
 * following, not syncing: gossip and re-execution take a moment per block).
 */
export interface SyncStatus {
  startingBlock: bigint;
  currentBlock: bigint;
  highestBlock: bigint;
}

export class SyncProgress {
  private readonly sources: (() => bigint)[] = [];
  /** The head when this sync began: the node's start, then the first query of each later episode. */
  private starting: bigint | undefined;

  constructor(private readonly head: () => bigint) {
    this.starting = head();
  }

  /** A source of block numbers known to exist (the follower's signed blocks, L1's batched head). */
  track(highest: () => bigint): void {
    this.sources.push(highest);
  }

  status(): SyncStatus | false {
    const currentBlock = this.head();
    let highestBlock = currentBlock;
    for (const f of this.sources) {
      const n = f();
      if (n > highestBlock) highestBlock = n;
    }
    if (highestBlock <= currentBlock + 1n) {
      this.starting = undefined;
      return false;
    }
    this.starting ??= currentBlock;
    return { startingBlock: this.starting, currentBlock, highestBlock };
  }
}
