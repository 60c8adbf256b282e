import { hexToBytes } from '@ethereumjs/util';
import type { BatchDBOp, DB } from '@ethereumjs/util';
import { Prefix, key } from './keys.ts';
import { kvGet } from './kv.ts';
import type { KV, KVOp } from './kv.ts';
import { maybeYield } from './yield.ts';

type TrieValue = string | Uint8Array;

/**
 * The database under every state trie. Writes stay in memory until the chain store takes them
 * (`takeWrites`) and commits them in the same LevelDB batch as the block that produced them:
 * that is what makes a block and its state appear on disk together or not at all.
 * Deletes are ignored on purpose: nodes are content-addressed and old roots stay readable
 * for historical queries and eth_getProof.
 */
export class TrieDB implements DB<string, TrieValue> {
  private pending = new Map<string, Uint8Array>();
  private inFlight = new Map<string, Uint8Array>();
  /** Nodes never change under their hash, so every trie view can share one read cache. */
  private cache = new Map<string, Uint8Array>();

  constructor(
    private readonly kv: KV,
    private readonly cacheSize = 200_000,
  ) {}

  async get(k: string): Promise<TrieValue | undefined> {
    const hit = this.pending.get(k) ?? this.inFlight.get(k) ?? this.cache.get(k);
    if (hit !== undefined) {
      const pause = maybeYield();
      if (pause !== undefined) await pause;
      return hit;
    }
    const v = await kvGet(this.kv, dbKey(k));
    if (v !== undefined) this.remember(k, v);
    return v;
  }

  private remember(k: string, v: Uint8Array): void {
    this.cache.set(k, v);
    if (this.cache.size > this.cacheSize) {
      // drop the oldest tenth at once: cheaper than strict LRU bookkeeping on every hit
      let n = this.cacheSize / 10;
      for (const key of this.cache.keys()) {
        this.cache.delete(key);
        if (--n <= 0) break;
      }
    }
  }

  async put(k: string, value: TrieValue): Promise<void> {
    this.pending.set(k, asBytes(value));
  }

  async del(): Promise<void> {}

  async batch(ops: BatchDBOp<string, TrieValue>[]): Promise<void> {
    for (const op of ops) if (op.type === 'put') this.pending.set(op.key, asBytes(op.value));
  }

  shallowCopy(): DB<string, TrieValue> {
    return this;
  }

  async open(): Promise<void> {}

  /** Hands the buffered writes to a block commit; they stay readable until `settle`. */
  takeWrites(): KVOp[] {
    const ops: KVOp[] = [];
    for (const [k, v] of this.pending) {
      ops.push({ type: 'put', key: dbKey(k), value: v });
      this.inFlight.set(k, v);
    }
    this.pending.clear();
    return ops;
  }

  /** Called once the batch holding the taken writes is on disk (or failed: then they are dropped). */
  settle(): void {
    for (const [k, v] of this.inFlight) this.remember(k, v);
    this.inFlight.clear();
  }

  /** Forgets writes of a block that was abandoned before commit. */
  discardPending(): void {
    this.pending.clear();
  }
}

function dbKey(k: string): Uint8Array {
  return key(Prefix.trieNode, hexToBytes(`0x${k}`));
}

/** The MPT is configured for byte values; a string can only be its hex form of the same bytes. */
function asBytes(v: TrieValue): Uint8Array {
  return typeof v === 'string' ? hexToBytes(`0x${v}`) : v;
}
