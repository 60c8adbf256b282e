/**
 * Catch-up: the blocks between this node's head and a sequencer-signed block (the anchor) whose
 * parent it does not have, fetched from peers over blocks-by-range.
 *
 * Why unsigned range blocks are safe to take: nothing is executed or committed until the whole
 * gap is known to be the anchor's ancestry. The walk goes backwards from the anchor, one range
 * at a time, and keeps a block only if its hash is the parent hash of the block above it (the
 * first one: the anchor's own parent hash, under the sequencer's signature), down to a block
 * whose parent is the block of this node's chain it started from. Every kept hash is thereby
 * fixed by the signed anchor through a chain of keccak256 preimages (a block hash covers the
 * header, and each body is checked against its header's transactions root), so a peer cannot
 * make a replica take a block that is not an ancestor of a sequencer-signed block without a
 * keccak collision. The blocks are then imported in order, each re-executed by the importer (an
 * ancestor that executes to another state is still refused); bodies that did not fit in memory
 * during the walk are fetched again and must have the hash the walk fixed. The walk decodes
 * headers only; each body is checked against its header's transactions root just before its
 * block is imported (one that does not match is fetched again from another peer). A lying peer costs
 * time and score, never a wrong block. Sender keys recovered ahead of time on a worker thread
 * (sender-recovery.ts) need no trust either: a wrong one would re-execute to another state root.
 */
import type { Block } from '@ethereumjs/block';
import { bytesToHex, equalsBytes } from '@ethereumjs/util';
import type { Logger } from 'pino';
import type { Chain } from '../chain/chain.ts';
import type { ReqResp } from '../p2p/reqresp.ts';
import type { BlockImporter } from './block-importer.ts';
import { blockFromValues } from '../chain/block-codec.ts';
import { fetchRawRange } from './blocks-by-range.ts';
import type { RawRangeBlock } from './blocks-by-range.ts';
import { checkBlockBody } from './block-gossip.ts';
import { isSyncError, SyncError, SyncErrorCode } from './errors.ts';
import type { SyncOptions } from './options.ts';
import { applyKeys } from './sender-recovery.ts';
import type { RecoveryItem, SenderRecovery } from './sender-recovery.ts';

export interface RangeSyncDeps {
  chain: Chain;
  importer: BlockImporter;
  reqresp: ReqResp;
  /** Connected peers, asked after the one that sent the anchor. */
  peers(): string[];
  logger: Logger;
  /** Recovers the senders of the blocks ahead of the one being imported, off the main thread. */
  senders?: SenderRecovery;
}

const min = (a: bigint, b: bigint) => (a < b ? a : b);
const max = (a: bigint, b: bigint) => (a > b ? a : b);

export class RangeSync {
  private stopped = false;
  /** Cuts a range request in flight on stop, so a shutdown does not wait for its deadline. */
  private readonly abort = new AbortController();

  constructor(
    private readonly opts: SyncOptions,
    private readonly deps: RangeSyncDeps,
  ) {}

  stop(): void {
    this.stopped = true;
    this.abort.abort();
  }

  /**
   * Fetches, checks and imports the signed chain up to and including `anchor`: every block after
   * the head, or, when that chain forks from ours (an unsafe-chain reorg), every block after the
   * fork point, once the chain is rewound to it.
   */
  async syncTo(anchor: Block, preferred?: string): Promise<void> {
    const head = this.deps.chain.head;
    // known already, or the head's child (the follower imports it as an orphan)
    if (await this.isOurs(anchor.header.number, anchor.hash(), head)) return;
    if (anchor.header.number === head.header.number + 1n && equalsBytes(anchor.header.parentHash, head.hash())) return;
    const peers = this.peerOrder(preferred);
    const started = Date.now();
    const { trusted, bodies, ancestor } = await this.walkBack(anchor, head, peers);
    const walkMs = Date.now() - started;
    const reorg = head.header.number - ancestor;
    if (reorg > 0n) {
      this.deps.logger.warn(
        { from: head.header.number, ancestor, to: anchor.header.number, hash: bytesToHex(anchor.hash()) },
        "the block signer's chain forks from ours: reorg of the unsafe chain",
      );
      await this.deps.importer.rewindTo(ancestor);
    }
    const top: RecoveryItem = { number: anchor.header.number, txs: anchor.transactions.map((tx) => tx.serialize()) };
    let unprimed = ancestor + 1n;
    for (let n = ancestor + 1n; n < anchor.header.number; n++) {
      this.checkStopped();
      let block: Block | undefined;
      // a body that is not its header's comes again from another peer
      while (block === undefined) {
        const raw = bodies.get(n) ?? (await this.refetch(n, anchor.header.number - 1n, trusted, bodies, peers));
        bodies.delete(n);
        unprimed = this.primeAhead(n, unprimed, bodies, top);
        block = await this.prepared(raw, peers);
      }
      await this.importTolerant(block);
    }
    const done = await this.deps.senders?.ready(top);
    if (done !== undefined) applyKeys(anchor, done.keys);
    await this.importTolerant(anchor);
    this.deps.logger.info({ from: ancestor + 1n, to: anchor.header.number, ms: Date.now() - started, walkMs, reorg }, 'caught up');
  }

  /** Whether our canonical block `n` has `hash` (`head` is ours, read before any write of this catch-up). */
  private async isOurs(n: bigint, hash: Uint8Array, head: Block): Promise<boolean> {
    if (n > head.header.number || n < 0n) return false;
    if (n === head.header.number) return equalsBytes(head.hash(), hash);
    const ours = await this.deps.chain.store.getCanonicalHash(n);
    return ours !== undefined && equalsBytes(ours, hash);
  }

  /**
   * Walks back from `anchor` to the newest block of ours its chain builds on (our head, unless
   * the chain forks): the hashes of every block above it, each the parent hash of the one above,
   * and as many of their bodies (the lowest first) as fit in catchUpBodyBytes. Not below the
   * importer's safe floor, nor more than maxReorgDepth below our head.
   */
  private async walkBack(anchor: Block, head: Block, peers: string[]) {
    const trusted = new Map<bigint, Uint8Array>();
    const bodies = new Map<bigint, RawRangeBlock>();
    const sizes = new Map<bigint, number>();
    const floor = max(this.deps.importer.safeFloor(), head.header.number - BigInt(this.opts.maxReorgDepth));
    let held = 0;
    let need = anchor.header.parentHash;
    let top = anchor.header.number - 1n;
    while (!(top <= head.header.number && (await this.isOurs(top, need, head)))) {
      this.checkStopped();
      if (top <= floor) throw this.unconnected(top, need, floor, head);
      const from = max(floor + 1n, top - BigInt(this.opts.rangeMaxBlocks) + 1n);
      const got = await this.fetchEnding(from, top, need, peers);
      for (let i = got.length - 1; i >= 0; i--) {
        const raw = got[i]!;
        trusted.set(raw.number, raw.hash);
        bodies.set(raw.number, raw);
        sizes.set(raw.number, raw.size);
        held += raw.size;
      }
      // the walk runs downwards, so the Map's first entries are the highest blocks: drop those
      for (const [n] of bodies) {
        if (held <= this.opts.catchUpBodyBytes) break;
        bodies.delete(n);
        held -= sizes.get(n)!;
      }
      need = got[0]!.header.parentHash;
      top = got[0]!.number - 1n;
    }
    return { trusted, bodies, ancestor: top };
  }

  private unconnected(top: bigint, need: Uint8Array, floor: bigint, head: Block): SyncError {
    const where = `the signed chain's block ${top + 1n} builds on ${bytesToHex(need)}, which is not our block ${top}`;
    if (floor > 0n) {
      return new SyncError(
        SyncErrorCode.ReorgTooDeep,
        `${where}: it forks at or below block ${floor} (the safe head, or ${this.opts.maxReorgDepth} below our head ${head.header.number})`,
      );
    }
    return new SyncError(SyncErrorCode.NotConnected, `${where} (another genesis, or a fork below block ${floor})`);
  }

  /**
   * Blocks `x .. top` (x >= from) whose last one hashes to `need`, chained, from the first peer
   * that has them. A peer that sends fewer (its byte cap) is asked again for fewer, ending at `top`.
   */
  private async fetchEnding(from: bigint, top: bigint, need: Uint8Array, peers: string[]): Promise<RawRangeBlock[]> {
    for (const peer of [...peers]) {
      let start = from;
      for (;;) {
        const got = await this.tryFetch(peer, start, Number(top - start + 1n));
        this.checkStopped();
        if (got === undefined || got.length === 0) break;
        const last = got[got.length - 1]!;
        if (last.number < top) {
          start = top - BigInt(got.length) + 1n;
          continue;
        }
        if (equalsBytes(last.hash, need)) return got;
        this.distrust(peers, peer, `block ${top} is not the signed chain's`);
        break;
      }
    }
    throw new SyncError(SyncErrorCode.NoPeer, `no peer served blocks ${from}..${top} of the signed chain`);
  }

  /** Bodies dropped during the walk: fetched again, each must have the hash the walk fixed. */
  private async refetch(n: bigint, last: bigint, trusted: Map<bigint, Uint8Array>, bodies: Map<bigint, RawRangeBlock>, peers: string[]): Promise<RawRangeBlock> {
    const count = Number(min(last - n + 1n, BigInt(this.opts.rangeMaxBlocks)));
    for (const peer of [...peers]) {
      const got = await this.tryFetch(peer, n, count);
      this.checkStopped();
      for (const raw of got ?? []) {
        if (!equalsBytes(raw.hash, trusted.get(raw.number)!)) {
          this.distrust(peers, peer, `block ${raw.number} is not the signed chain's`);
          break;
        }
        if (!bodies.has(raw.number)) bodies.set(raw.number, raw);
      }
      const found = bodies.get(n);
      if (found !== undefined) return found;
    }
    throw new SyncError(SyncErrorCode.NoPeer, `no peer served block ${n} again`);
  }

  /** A peer that served another chain is penalised and not asked again during this catch-up. */
  private distrust(peers: string[], peer: string, reason: string): void {
    this.deps.reqresp.penalize(peer, reason);
    const i = peers.indexOf(peer);
    if (i >= 0) peers.splice(i, 1);
  }

  private async tryFetch(peer: string, start: bigint, count: number): Promise<RawRangeBlock[] | undefined> {
    try {
      return await fetchRawRange(this.deps.reqresp, peer, start, count, this.deps.chain.common, this.opts, { signal: this.abort.signal });
    } catch (err) {
      this.deps.logger.debug({ peer, start, count, err: (err as Error).message }, 'range request failed');
      return undefined;
    }
  }

  /**
   * Hands the worker the held blocks after `n`, up to recoveryLookahead ahead, from `unprimed` on;
   * returns the first one not handed over. Block `n` itself is never handed over late: the main
   * thread recovers it sooner than it would wait for the worker. A body still to be refetched
   * stops the run; it is primed once it is back.
   */
  private primeAhead(n: bigint, unprimed: bigint, bodies: Map<bigint, RawRangeBlock>, anchor: RecoveryItem): bigint {
    if (this.deps.senders === undefined) return unprimed;
    const batch: RecoveryItem[] = [];
    let m = max(unprimed, n + 1n);
    for (; m <= n + BigInt(this.opts.recoveryLookahead); m++) {
      const item = m === anchor.number ? anchor : bodies.get(m);
      if (item === undefined) break;
      batch.push(item);
    }
    this.deps.senders.prime(batch);
    return m;
  }

  /**
   * The block, decoded, with its body checked against its header (the walk fixed only header
   * hashes) and its senders' keys in place, from the worker when it did the work, here otherwise.
   * Undefined when the body is not its header's (or does not decode): its sender is penalised
   * and not asked again in this catch-up.
   */
  private async prepared(raw: RawRangeBlock, peers: string[]): Promise<Block | undefined> {
    const done = await this.deps.senders?.ready(raw);
    let block: Block;
    try {
      block = blockFromValues(raw.values, this.deps.chain.common);
      if (done === undefined) checkBlockBody(block);
      else if (!equalsBytes(done.txRoot, block.header.transactionsTrie)) throw new Error(`block ${raw.number}: its transactions do not hash to its header's transactions root`);
    } catch (err) {
      this.distrust(peers, raw.peer, (err as Error).message);
      this.deps.logger.warn({ peer: raw.peer, number: raw.number, err: (err as Error).message }, 'range block body refused; asking another peer');
      return undefined;
    }
    if (done !== undefined) applyKeys(block, done.keys);
    return block;
  }

  /** A block imported meanwhile (a late gossip copy) is fine; anything else stops the catch-up. */
  private async importTolerant(block: Block): Promise<void> {
    try {
      await this.deps.importer.import(block);
    } catch (err) {
      if (!isSyncError(err, SyncErrorCode.Known)) throw err;
    }
  }

  private peerOrder(preferred: string | undefined): string[] {
    const rest = this.deps.peers().filter((p) => p !== preferred);
    return preferred === undefined ? rest : [preferred, ...rest];
  }

  private checkStopped(): void {
    if (this.stopped) throw new SyncError(SyncErrorCode.Stopped, 'catch-up stopped');
  }
}
