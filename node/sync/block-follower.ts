/**
 * A replica's side of the `blocks` topic. Each message is checked in order of cost before it is
 * relayed: the body against the header (decode), the signature against the chain's block
 * signer, then re-execution on the head by the importer. Only a block that is imported is
 * accepted (and so relayed); an invalid one is rejected (its relayer loses score); one that is
 * fine but of no use now (known, conflicting, or with a missing parent) is ignored. A signed
 * block whose parent is missing is kept as an orphan and starts a catch-up over blocks-by-range
 * (range-sync.ts) up to it; orphans that then chain on the head are imported. A signed block
 * that conflicts with our chain at or above our head's height is the signer's newer word: the
 * catch-up to it is a reorg of the unsafe chain (back to the fork point, never below the safe head).
 */
import { bytesToHex, equalsBytes } from '@ethereumjs/util';
import type { Common } from '@ethereumjs/common';
import type { Block } from '@ethereumjs/block';
import type { Hex } from 'viem';
import type { Logger } from 'pino';
import type { Chain } from '../chain/chain.ts';
import { GossipAction, GossipValidationError } from '../p2p/gossip.ts';
import type { TopicHandler } from '../p2p/gossip.ts';
import type { BlockImporter } from './block-importer.ts';
import { decodeGossipBlock, recoverBlockSigner } from './block-gossip.ts';
import type { GossipBlock } from './block-gossip.ts';
import { isSyncError, REJECT_CODES, SyncError, SyncErrorCode } from './errors.ts';
import type { SyncOptions } from './options.ts';
import type { RangeSync } from './range-sync.ts';

export interface FollowerDeps {
  chain: Chain;
  importer: BlockImporter;
  range: RangeSync;
  logger: Logger;
}

interface Orphan {
  block: Block;
  signature: Uint8Array;
  /** It conflicts with our chain at its height or below: catching up to it is an unsafe-chain reorg. */
  fork: boolean;
  /** The peer that relayed it: the first one asked for the range before it. */
  from: string;
  at: number;
}

/** The one adapter from sync outcomes to gossip verdicts. */
function asGossipError(err: unknown): unknown {
  if (!(err instanceof SyncError)) return err;
  return new GossipValidationError(REJECT_CODES.has(err.code) ? GossipAction.Reject : GossipAction.Ignore, err.code, err.message);
}

/** Throws BAD_SIGNATURE or WRONG_SIGNER unless `signer` signed the block for `chainId`. */
export async function verifyBlockSigner(chainId: bigint, signer: Hex, gb: GossipBlock): Promise<void> {
  const got = await recoverBlockSigner(chainId, gb.block.hash(), gb.signature);
  if (got !== signer.toLowerCase()) throw new SyncError(SyncErrorCode.WrongSigner, `block ${gb.block.header.number} is signed by ${got}, not by the block signer ${signer}`);
}

/**
 * The sequencer's handler: its own blocks come back from replicas (ignored); anything not signed
 * by its key is rejected, so a peer cannot use the sequencer to spread junk.
 */
export function signedBlocksOnly(chainId: bigint, signer: Hex, common: Common): TopicHandler<GossipBlock> {
  return {
    decode: (bytes) => {
      try {
        return decodeGossipBlock(bytes, common);
      } catch (err) {
        throw asGossipError(err);
      }
    },
    handle: async (gb) => {
      try {
        await verifyBlockSigner(chainId, signer, gb);
      } catch (err) {
        throw asGossipError(err);
      }
      throw new GossipValidationError(GossipAction.Ignore, 'SEQUENCER', 'the sequencer imports no blocks');
    },
  };
}

export class BlockFollower {
  private readonly orphans = new Map<string, Orphan>();
  private lastSigned: GossipBlock | undefined;
  private highestSeen = 0n;
  private syncing: Promise<void> | undefined;
  private retry: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly opts: SyncOptions & { chainId: bigint; signer: Hex },
    private readonly deps: FollowerDeps,
  ) {}

  handler(): TopicHandler<GossipBlock> {
    return {
      decode: (bytes) => {
        try {
          return decodeGossipBlock(bytes, this.deps.chain.common);
        } catch (err) {
          throw asGossipError(err);
        }
      },
      handle: async (gb, meta) => {
        try {
          await this.offer(gb, meta.from);
        } catch (err) {
          if (isSyncError(err) && REJECT_CODES.has(err.code))
            this.deps.logger.warn({ from: meta.from, code: err.code, number: gb.block.header.number, reason: err.message }, 'rejected gossiped block');
          throw asGossipError(err);
        }
      },
    };
  }

  /** Ends the catch-up under way (at its next step) and the retry timer. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retry !== undefined) clearTimeout(this.retry);
    this.deps.range.stop();
    await this.syncing;
  }

  /** The highest block number the block signer was seen to sign (imported or not): eth_syncing's highestBlock. */
  get highestSigned(): bigint {
    return this.highestSeen;
  }

  /** The newest block signed by the block signer that this node imported: what it answers signed-head requests with. */
  get signedHead(): GossipBlock | undefined {
    return this.lastSigned;
  }

  /**
   * A signed block from `from` (by gossip or a signed-head answer): checked, then imported, or
   * kept as an orphan and caught up to. Throws the SyncError of a block not taken.
   */
  async offer(gb: GossipBlock, from: string): Promise<void> {
    await verifyBlockSigner(this.opts.chainId, this.opts.signer, gb);
    if (gb.block.header.number > this.highestSeen) this.highestSeen = gb.block.header.number;
    try {
      await this.deps.importer.import(gb.block);
      this.noteSigned(gb);
    } catch (err) {
      if (isSyncError(err, SyncErrorCode.UnknownParent)) {
        this.keepOrphan(gb, from);
        this.catchUp();
      } else if (isSyncError(err, SyncErrorCode.Conflict)) {
        this.onConflict(gb, from, err);
      }
      throw err;
    }
    void this.drainOrphans();
  }

  /**
   * The signer's newest word wins: a signed block at or above our head's height that conflicts
   * with our chain is caught up to as a reorg (range-sync.ts: back to the fork point, never below
   * the safe head); an older one is only logged (our chain has moved past it).
   */
  private onConflict(gb: GossipBlock, from: string, err: SyncError): void {
    const n = gb.block.header.number;
    const fields = { number: n, hash: bytesToHex(gb.block.hash()), head: this.deps.chain.head.header.number, reason: err.message };
    if (n < this.deps.chain.head.header.number) {
      this.deps.logger.warn(fields, 'the block signer signed an older block that conflicts with our chain; ignored');
      return;
    }
    this.deps.logger.warn(fields, 'the block signer signed a block that conflicts with our chain: following it (unsafe-chain reorg)');
    this.keepOrphan(gb, from, true);
    this.catchUp();
  }

  private noteSigned(gb: GossipBlock): void {
    if (this.lastSigned === undefined || gb.block.header.number > this.lastSigned.block.header.number) this.lastSigned = gb;
  }

  private keepOrphan(gb: GossipBlock, from: string, fork = false): void {
    const now = Date.now();
    this.orphans.set(bytesToHex(gb.block.hash()), { block: gb.block, signature: gb.signature, fork, from, at: now });
    for (const [k, o] of this.orphans) {
      if (this.orphans.size <= this.opts.orphanMaxBlocks && now - o.at <= this.opts.orphanTtlMs) break;
      this.orphans.delete(k);
    }
  }

  /** One catch-up at a time, to the newest orphan; the next starts when it ends (or after retryMs if it failed). */
  private catchUp(): void {
    if (this.syncing !== undefined || this.stopped) return;
    if (this.retry !== undefined) clearTimeout(this.retry);
    this.retry = undefined;
    const anchor = this.newestOrphan();
    if (anchor === undefined) return;
    let failed = false;
    this.syncing = this.deps.range
      .syncTo(anchor.block, anchor.from)
      .then(() => {
        if (equalsBytes(this.deps.chain.head.hash(), anchor.block.hash())) this.noteSigned(anchor);
      })
      .catch((err: unknown) => {
        failed = true;
        if (isSyncError(err, SyncErrorCode.Stopped)) return;
        // a chain that cannot be joined stays so: trying it again would only repeat the walk
        const hopeless = isSyncError(err, SyncErrorCode.ReorgTooDeep);
        if (hopeless) this.orphans.delete(bytesToHex(anchor.block.hash()));
        this.deps.logger.warn(
          { to: anchor.block.header.number, code: (err as SyncError).code, err: (err as Error).message },
          hopeless ? 'catch-up failed; not followed' : 'catch-up failed; trying again',
        );
      })
      .then(() => this.drainOrphans())
      .finally(() => {
        this.syncing = undefined;
        if (this.stopped || this.newestOrphan() === undefined) return;
        if (failed) this.retry = setTimeout(() => this.catchUp(), this.opts.retryMs);
        else this.catchUp();
      });
  }

  /** Orphans that now build on the head, in order; the rest wait (or expire). */
  private async drainOrphans(): Promise<void> {
    for (;;) {
      const head = this.deps.chain.head;
      for (const [k, o] of this.orphans) if (o.block.header.number <= head.header.number && !this.pendingFork(o)) this.orphans.delete(k);
      const next = [...this.orphans].find(([, o]) => equalsBytes(o.block.header.parentHash, head.hash()));
      if (next === undefined || this.stopped) return;
      this.orphans.delete(next[0]);
      try {
        await this.deps.importer.import(next[1].block);
        this.noteSigned(next[1]);
      } catch (err) {
        this.deps.logger.warn({ number: next[1].block.header.number, code: (err as SyncError).code, err: (err as Error).message }, 'orphan block not imported');
        return;
      }
    }
  }

  /** A fork orphan still to be caught up to: at our head's height (not our head), or above. */
  private pendingFork(o: Orphan): boolean {
    const head = this.deps.chain.head;
    return o.fork && o.block.header.number >= head.header.number && !equalsBytes(o.block.hash(), head.hash());
  }

  private newestOrphan(): Orphan | undefined {
    const headNumber = this.deps.chain.head.header.number;
    let best: Orphan | undefined;
    for (const o of this.orphans.values()) {
      const due = o.block.header.number > headNumber + 1n || this.pendingFork(o);
      if (due && (best === undefined || o.block.header.number > best.block.header.number)) best = o;
    }
    return best;
  }
}
