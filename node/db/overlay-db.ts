import type { BatchDBOp, DB } from '@ethereumjs/util';

type TrieValue = string | Uint8Array;

/**
 * A throwaway layer over the trie database: reads fall through to the base, writes stay here and
 * are gone with the layer. Every state view that is not building a block (eth_call and
 * eth_estimateGas with their overrides, RPC reads) sits on one, so nothing it writes can reach the
 * shared write buffer that the next block commit takes to disk.
 */
export class OverlayDB implements DB<string, TrieValue> {
  private readonly writes = new Map<string, TrieValue>();

  constructor(private readonly base: DB<string, TrieValue>) {}

  async get(k: string): Promise<TrieValue | undefined> {
    return this.writes.get(k) ?? (await this.base.get(k));
  }

  async put(k: string, value: TrieValue): Promise<void> {
    this.writes.set(k, value);
  }

  /** Nodes are content-addressed: a node deleted from one trie may still be another's. */
  async del(): Promise<void> {}

  async batch(ops: BatchDBOp<string, TrieValue>[]): Promise<void> {
    for (const op of ops) if (op.type === 'put') this.writes.set(op.key, op.value);
  }

  /** Storage tries are shallow copies of the account trie: they must write into this same layer. */
  shallowCopy(): DB<string, TrieValue> {
    return this;
  }

  async open(): Promise<void> {}

  /** Entries written into this layer (what a view has computed that the base does not hold). */
  get size(): number {
    return this.writes.size;
  }
}
