import type { Block } from '@ethereumjs/block';
import type { Common } from '@ethereumjs/common';
import type { CustomPrecompile } from '@ethereumjs/evm';
import { MerklePatriciaTrie, createMPT } from '@ethereumjs/mpt';
import { Caches } from '@ethereumjs/statemanager';
import type { MerkleStateManager } from '@ethereumjs/statemanager';
import { type Address, ValueEncoding, bytesToHex, equalsBytes } from '@ethereumjs/util';
import type { VM } from '@ethereumjs/vm';
import type { Logger } from 'pino';
import { Prefix, be64, key, metaKey } from '../db/keys.ts';
import type { KV, KVOp } from '../db/kv.ts';
import { OverlayDB } from '../db/overlay-db.ts';
import { TrieDB } from '../db/trie-db.ts';
import { buildGenesis } from './genesis.ts';
import type { GenesisSpec } from './genesis.ts';
import type { TxActivity } from './address-index.ts';
import type { StoredReceipt } from './receipts.ts';
import { L2StateManager } from './state-manager.ts';
import { ChainStore } from './store.ts';
import type { IndexedEvent } from './store.ts';
import { VmFactory } from './vm-factory.ts';

export interface ChainOptions {
  common: Common;
  genesis: GenesisSpec;
  precompiles?: CustomPrecompile[];
  /** Events the store indexes by their first indexed argument (ChainStore.findEvent). */
  indexedEvents?: IndexedEvent[];
}

export interface ChainDeps {
  kv: KV;
  logger: Logger;
}

export interface NewBlockEvent {
  block: Block;
  senders: Address[];
  receipts: StoredReceipt[];
}

type BlockListener = (ev: NewBlockEvent) => void;

/** A block a rewind took off the canonical chain, with its receipts (for `removed: true` logs). */
export interface RewoundBlock {
  block: Block;
  receipts: StoredReceipt[];
}
type RewindListener = (dropped: RewoundBlock[]) => void;

/** Chain head, state access and block commits. The single writer is the block producer. */
export class Chain {
  readonly store: ChainStore;
  readonly vms: VmFactory;
  private readonly trieDB: TrieDB;
  private baseTrie!: MerklePatriciaTrie;
  private _head!: Block;
  private _genesis!: Block;
  private listeners = new Set<BlockListener>();
  private rewindListeners = new Set<RewindListener>();

  private constructor(
    readonly opts: ChainOptions,
    private readonly deps: ChainDeps,
  ) {
    this.store = new ChainStore(deps.kv, opts.common, opts.indexedEvents);
    this.trieDB = new TrieDB(deps.kv);
    this.vms = new VmFactory({ common: opts.common, precompiles: opts.precompiles }, { getBlockHash: (n) => this.store.getCanonicalHash(n) });
  }

  static async open(opts: ChainOptions, deps: ChainDeps): Promise<Chain> {
    const chain = new Chain(opts, deps);
    await chain.init();
    return chain;
  }

  get common(): Common {
    return this.opts.common;
  }

  get head(): Block {
    return this._head;
  }

  get genesis(): Block {
    return this._genesis;
  }

  private async init(): Promise<void> {
    this.baseTrie = await createMPT({
      db: this.trieDB,
      useKeyHashing: true,
      valueEncoding: ValueEncoding.Bytes,
      common: this.opts.common,
      cacheSize: 0,
    });
    const state = this.builderState(this.baseTrie.EMPTY_TRIE_ROOT, false);
    const genesis = await buildGenesis(this.opts.genesis, state, this.common);
    const headHash = await this.store.getHeadHash();
    const chainId = new TextEncoder().encode(this.common.chainId().toString());
    if (headHash === undefined) {
      const stateOps = this.trieDB.takeWrites();
      stateOps.push({ type: 'put', key: metaKey('chainId'), value: chainId });
      await this.store.commitBlock({ block: genesis, senders: [], receipts: [], stateOps });
      this.trieDB.settle();
      this._head = genesis;
      this._genesis = genesis;
      this.deps.logger.info({ hash: bytesToHex(genesis.hash()), stateRoot: bytesToHex(genesis.header.stateRoot) }, 'wrote genesis');
      return;
    }
    this.trieDB.discardPending();
    const stored = await this.store.getBlockByNumber(0n);
    if (stored === undefined || !equalsBytes(stored.hash(), genesis.hash())) {
      throw new Error(`datadir holds a different chain: its genesis is ${stored ? bytesToHex(stored.hash()) : 'missing'}, this config's is ${bytesToHex(genesis.hash())}`);
    }
    // The chain id is not part of any header, so a genesis hash match alone would not catch it.
    const storedId = await this.store.getMeta('chainId');
    if (storedId === undefined || !equalsBytes(storedId, chainId)) {
      const have = storedId === undefined ? 'unknown' : new TextDecoder().decode(storedId);
      throw new Error(`datadir holds a different chain: chain id ${have}, this config's is ${this.common.chainId()}`);
    }
    const head = await this.store.getBlockByHash(headHash);
    if (head === undefined) throw new Error(`datadir is corrupt: head block ${bytesToHex(headHash)} missing`);
    this._genesis = stored;
    this._head = head;
    this.deps.logger.info({ number: head.header.number, hash: bytesToHex(head.hash()) }, 'resumed chain');
  }

  /**
   * A view of the state at `root`. Whatever it writes (eth_call overrides, a simulated execution)
   * lands in a throwaway layer of its own and dies with the view: it can never reach the buffer
   * that the next block commit writes to disk.
   */
  stateAt(root: Uint8Array, cached = false): L2StateManager {
    const trie = new MerklePatriciaTrie({ db: new OverlayDB(this.trieDB), useKeyHashing: true, valueEncoding: ValueEncoding.Bytes, common: this.common, cacheSize: 0, root });
    return new L2StateManager({ trie, common: this.common, caches: cached ? stateCaches() : undefined });
  }

  /** The state a block is built or re-executed on: its writes are buffered for that block's commit. */
  private builderState(root: Uint8Array, cached: boolean): L2StateManager {
    const trie = this.baseTrie.shallowCopy(false);
    trie.root(root);
    return new L2StateManager({ trie, common: this.common, caches: cached ? stateCaches() : undefined });
  }

  private headView: { hash: Uint8Array; state: MerkleStateManager } | undefined;

  /** A cached read-only view of the head state, shared by readers until the head moves. */
  headState(): MerkleStateManager {
    const hash = this._head.hash();
    if (this.headView === undefined || !equalsBytes(this.headView.hash, hash)) {
      this.headView = { hash, state: this.stateAt(this._head.header.stateRoot, true) };
    }
    return this.headView.state;
  }

  /** A VM over a throwaway view (see stateAt): for calls, estimates and simulations. */
  async vmAt(root: Uint8Array, cached = false): Promise<VM> {
    return this.vms.create(this.stateAt(root, cached));
  }

  /**
   * The VM of the single writer (the block producer, or a replica's importer): its writes are what
   * `commit` persists, so a block built on any other VM would be committed without its state.
   */
  async builderVm(root: Uint8Array): Promise<VM> {
    return this.vms.create(this.builderState(root, true));
  }

  /** Persists a block built or executed on top of the head, with the state it wrote, atomically. */
  async commit(block: Block, senders: Address[], receipts: StoredReceipt[], activity?: readonly TxActivity[]): Promise<void> {
    if (!equalsBytes(block.header.parentHash, this._head.hash())) {
      throw new Error(`block ${block.header.number} does not extend head ${this._head.header.number}`);
    }
    try {
      await this.store.commitBlock({ block, senders, receipts, activity, stateOps: this.trieDB.takeWrites() });
    } finally {
      this.trieDB.settle();
    }
    this._head = block;
    const ev = { block, senders, receipts };
    for (const l of this.listeners) {
      try {
        l(ev);
      } catch (err) {
        this.deps.logger.error({ err }, 'block listener failed');
      }
    }
  }

  /**
   * Moves the head back to canonical block `n` in one LevelDB batch (head pointer, canonical
   * numbers, blooms and transaction index of the blocks above), so a crash leaves either the old
   * chain or the rewound one. Block bodies, receipts and state stay: only the canonical index
   * changes, and old roots remain readable. The caller must be the single writer.
   */
  async rewind(n: bigint): Promise<Block> {
    const headNumber = this._head.header.number;
    if (n >= headNumber) return this._head;
    if (n < 0n) throw new Error(`cannot rewind to block ${n}`);
    const target = await this.store.getBlockByNumber(n);
    if (target === undefined) throw new Error(`cannot rewind: canonical block ${n} missing`);
    const ops: KVOp[] = [{ type: 'put', key: metaKey('head'), value: target.hash() }];
    const dropped: RewoundBlock[] = [];
    for (let i = n + 1n; i <= headNumber; i++) {
      const block = await this.store.getBlockByNumber(i);
      ops.push({ type: 'del', key: key(Prefix.canonical, be64(i)) }, { type: 'del', key: key(Prefix.bloom, be64(i)) });
      for (const tx of block?.transactions ?? []) ops.push({ type: 'del', key: key(Prefix.txIndex, tx.hash()) });
      if (block !== undefined && this.rewindListeners.size > 0) dropped.push({ block, receipts: (await this.store.getReceipts(block.hash())) ?? [] });
    }
    this.trieDB.discardPending();
    await this.deps.kv.batch(ops);
    this._head = target;
    this.deps.logger.warn({ from: headNumber, to: n, hash: bytesToHex(target.hash()) }, 'rewound chain');
    for (const l of this.rewindListeners) {
      try {
        l(dropped);
      } catch (err) {
        this.deps.logger.error({ err }, 'rewind listener failed');
      }
    }
    return target;
  }

  /** Drops state writes of a block that will not be committed. */
  abandonPending(): void {
    this.trieDB.discardPending();
  }

  onBlock(l: BlockListener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  /** Called after a rewind with the blocks it took off the canonical chain, oldest first. */
  onRewind(l: RewindListener): () => void {
    this.rewindListeners.add(l);
    return () => this.rewindListeners.delete(l);
  }
}

function stateCaches(): Caches {
  return new Caches({ account: { size: 200_000 }, storage: { size: 200_000 }, code: { size: 5_000 } });
}
