/**
 * The replica's one writer when gossip and derivation both add blocks: the BlockImporter with a
 * lock around every import, so derivation can compare, rewind and import as one step without a
 * gossiped block executing on a head that moves under it (its commit would then fail, and a
 * failed commit stops the node).
 */
import type { Block } from '@ethereumjs/block';
import { BlockImporter } from '../sync/block-importer.ts';

export class SerialImporter extends BlockImporter {
  private lock: Promise<unknown> = Promise.resolve();

  override import(block: Block): Promise<void> {
    return this.exclusive((importNow) => importNow(block));
  }

  override rewindTo(n: bigint): Promise<void> {
    return this.exclusive(() => super.rewindTo(n));
  }

  /** Runs `fn` with no other import under way; `importNow` imports inside it (no second lock). */
  exclusive<T>(fn: (importNow: (block: Block) => Promise<void>) => Promise<T>): Promise<T> {
    const run = this.lock.then(() => fn((block) => super.import(block)));
    this.lock = run.catch(() => undefined);
    return run;
  }
}
