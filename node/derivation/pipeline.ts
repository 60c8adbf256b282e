/**
 * Derivation from L1 (op-node's pull pipeline, reth's checkpointed stages): L1 traversal ->
 * batch retrieval -> attributes check (origins and deposits against L1) -> block derivation,
 * one L1 block per step near L1's head (the next ones' blocks and batches already being read, so
 * a remote L1's round trips overlap), or a range of finalized L1 blocks per step when catching up
 * (their logs read in a few requests). Each L1 block carrying batches, and each range's end,
 * is stored as a checkpoint (its hash and the safe L2 head after it), so a restart resumes after
 * it; a step cut short by a crash is simply done again (its blocks are then known). An L1 reorg
 * unwinds the checkpoint to the common ancestor and moves the safe head back to what was derived
 * up to it; the L2 blocks above stay as unsafe blocks until L1 carries them again. A batch found
 * invalid is refused and derivation goes on with L1 (batch-rule.ts).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Common } from '@ethereumjs/common';
import type { Logger } from 'pino';
import type { Hex, PublicClient } from 'viem';
import type { Chain } from '../chain/chain.ts';
import type { KV } from '../db/kv.ts';
import { Listeners } from '../l1/l1-loop.ts';
import { AttributesCheck } from './attributes-check.ts';
import { BatchRetrieval } from './batch-retrieval.ts';
import type { BatchSource } from './batch-retrieval.ts';
import { BatchRule } from './batch-rule.ts';
import type { BatchOutcome } from './batch-rule.ts';
import { BlockDerivation } from './block-derivation.ts';
import { CheckpointStore } from './checkpoint.ts';
import type { L1Record, L2Ref } from './checkpoint.ts';
import { DerivationStats } from './derivation-status.ts';
import type { DerivationReorg, DerivationStatus } from './derivation-status.ts';
import { FATAL_CODES, isDerivationError } from './errors.ts';
import { L1Traversal } from './l1-traversal.ts';
import type { L1Ref } from './l1-traversal.ts';
import type { DerivationOptions } from './options.ts';
import type { SerialImporter } from './serial-importer.ts';

export interface DerivationConfig {
  l1Start: { number: bigint; hash: Hex };
  rollup: Hex;
}

export interface DerivationDeps {
  kv: KV;
  chain: Chain;
  common: Common;
  client: PublicClient;
  importer: SerialImporter;
  /** The node's logger; stages name their children `derivation`, `derivation:l1`, `derivation:batches`, `derivation:blocks`. */
  logger: Logger;
  /** The results root of the node's L2 blocks [from, to] (node/ai/batch-results.ts: chainResultsRoot). */
  resultsRoot(from: bigint, to: bigint): Promise<Hex>;
}

export class Derivation {
  private readonly traversal: L1Traversal;
  private readonly retrieval: BatchRetrieval;
  private readonly blocks: BlockDerivation;
  private readonly attributes: AttributesCheck;
  private readonly rule: BatchRule;
  private readonly store: CheckpointStore;
  private readonly log: Logger;
  private readonly abort = new AbortController();
  private readonly stats = new DerivationStats();
  private readonly reorgs: Listeners<DerivationReorg>;
  private running: Promise<void> | undefined;
  private _finalized = 0n;

  constructor(
    private readonly opts: DerivationOptions & DerivationConfig,
    deps: DerivationDeps,
  ) {
    const { client, logger } = deps;
    this.log = logger.child({ module: 'derivation' });
    this.reorgs = new Listeners(this.log);
    this.store = new CheckpointStore(deps.kv);
    this.traversal = new L1Traversal(opts.l1Start, { client, store: this.store, logger: logger.child({ module: 'derivation:l1' }) }, opts.traversal);
    this.retrieval = new BatchRetrieval(opts.rollup, { client, common: deps.common, logger: logger.child({ module: 'derivation:batches' }) });
    this.attributes = new AttributesCheck({ chain: deps.chain, client });
    this.blocks = new BlockDerivation({ chain: deps.chain, importer: deps.importer, logger: logger.child({ module: 'derivation:blocks' }) });
    this.rule = new BatchRule({ attributes: this.attributes, blocks: this.blocks, resultsRoot: deps.resultsRoot, logger: this.log });
    // gossip may reorg the unsafe chain, never what L1 carries
    deps.importer.safeFloor = () => this.blocks.safe.number;
  }

  /** Last L2 block derived from L1. */
  get safe(): L2Ref {
    return this.blocks.safe;
  }

  /**
   * The first L2 block of a batch derivation refused (its blocks are not valid for L1's data),
   * while no valid batch took its place: no valid chain has that block, so an output at or above
   * it is wrong. Undefined while all is well.
   */
  get invalidFrom(): bigint | undefined {
    return this.rule.invalidFrom;
  }

  /** Last L2 block derived from L1 blocks at or below L1's `finalized` block. */
  get finalized(): bigint {
    return this._finalized < this.safe.number ? this._finalized : this.safe.number;
  }

  /** Where derivation is and what it did since start (for metrics and health). */
  status(): DerivationStatus {
    return this.stats.snapshot({
      l1Block: this.traversal.last?.l1Number,
      l1Head: this.traversal.l1Head,
      safe: this.safe.number,
      finalized: this.finalized,
      invalidFrom: this.invalidFrom,
    });
  }

  /** Called once per L1 reorg derivation unwound. */
  onReorg(listener: (r: DerivationReorg) => void): () => void {
    return this.reorgs.add(listener);
  }

  /** Resumes from the checkpoint and runs until stop(). */
  async start(): Promise<void> {
    const cur = await this.traversal.load();
    this.resetTo(cur);
    if (cur === undefined) this.log.info({ l1Start: this.opts.l1Start.number }, "derivation starting at the rollup config's l1Start");
    else this.log.info({ l1Block: cur.l1Number, l1Hash: cur.l1Hash, safe: cur.safe.number, invalidFrom: cur.invalidFrom }, 'derivation resumed from its checkpoint');
    await this.updateFinalized().catch(() => undefined);
    this.running = this.run();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.running;
  }

  private resetTo(rec: L1Record | undefined): void {
    this.blocks.reset(rec?.safe);
    this.rule.reset(rec?.invalidFrom);
  }

  private async run(): Promise<void> {
    const signal = this.abort.signal;
    let failing = false;
    while (!signal.aborted) {
      let wait = 0;
      try {
        if (!(await this.step())) wait = this.opts.pollMs;
        failing = false;
      } catch (err) {
        if (signal.aborted) break;
        const code = isDerivationError(err) ? err.code : undefined;
        this.stats.stepFailed(code);
        if (code !== undefined && FATAL_CODES.has(code)) {
          this.stats.stopped = code;
          this.log.error({ err: (err as Error).message, code }, 'derivation stopped: this node cannot derive the L1 it is given');
          return;
        }
        if (!failing) this.log.warn({ err: (err as Error).message, code }, 'derivation step failed; retrying from the checkpoint');
        failing = true;
        this.retrieval.cool();
        this.resetTo(await this.traversal.load());
        wait = this.opts.retryMs;
      }
      if (wait > 0) await sleep(wait, undefined, { signal }).catch(() => undefined);
    }
  }

  /** One L1 block (or range of finalized ones) through every stage; false when L1 has nothing new. */
  private async step(): Promise<boolean> {
    const s = await this.traversal.next();
    switch (s.kind) {
      case 'idle':
        this.stats.caughtUpAtMs = Date.now();
        await this.updateFinalized();
        return false;
      case 'reorg': {
        this.retrieval.cool();
        this.attributes.forget();
        this.resetTo(s.ancestor);
        const depth = s.from - (s.ancestor?.l1Number ?? this.opts.l1Start.number - 1n);
        this.stats.reorgs++;
        this.reorgs.emit({ from: s.from, ancestor: s.ancestor?.l1Number, depth });
        await this.updateFinalized();
        return true;
      }
      case 'block':
        this.attributes.remember(s.block.hash, { number: s.block.number, timestamp: s.block.timestamp, baseFee: s.block.baseFee });
        this.retrieval.warm(this.traversal.upcoming().map((l1) => ({ l1 })));
        await this.deriveIn({ l1: s.block });
        return true;
      case 'range':
        await this.deriveRange(s.from, s.to);
        return true;
    }
  }

  /**
   * Finalized L1 blocks from..to: only those carrying batches are visited, each checkpointed, and
   * the range's end last, so a restart inside it resumes after the last one done.
   */
  private async deriveRange(from: bigint, to: L1Ref): Promise<void> {
    const carriers = await this.retrieval.carriersIn(from, to.number, this.abort.signal);
    for (const [i, c] of carriers.entries()) {
      this.retrieval.warm(carriers.slice(i + 1, i + 4));
      await this.deriveIn(c);
    }
    if (carriers.at(-1)?.l1.number !== to.number) await this.advance(to);
    // every L1 block of the range is final: what was derived from it is too
    this._finalized = this.safe.number;
    this.log.debug({ from, to: to.number, carriers: carriers.length, safe: this.safe.number }, 'finalized L1 range derived');
  }

  private async deriveIn(source: BatchSource): Promise<void> {
    const batches = await this.retrieval.batchesIn(source);
    const outcomes: BatchOutcome[] = [];
    for (const b of batches) outcomes.push(await this.rule.apply(b));
    await this.advance(source.l1);
    // counted once the checkpoint holds them: a step done again after a failure counts them once
    for (const o of outcomes) this.stats.count(o);
    if (outcomes.length > 0) {
      this.log.info(
        { l1Block: source.l1.number, batches: outcomes.map((o) => `${o.index}${o.kind === 'derived' ? '' : ` ${o.kind}`}`), safe: this.safe.number },
        'derived batches',
      );
    }
  }

  private async advance(l1: L1Ref): Promise<void> {
    this.stats.recordsPruned += await this.traversal.advance(
      { l1Number: l1.number, l1Hash: l1.hash, safe: this.blocks.safe, invalidFrom: this.rule.invalidFrom },
      this.pruneBelow(l1.number),
    );
  }

  /**
   * Records below L1's finalized block (less a margin, for providers whose nodes disagree on
   * it by a few blocks) are never needed again: no reorg reaches them. Without finality on L1,
   * a window of recent records is kept, and a reorg deeper than it is REORG_TOO_DEEP.
   */
  private pruneBelow(l1Number: bigint): bigint | undefined {
    const fin = this.traversal.finalizedL1;
    if (fin === undefined) return undefined;
    const below = fin === null ? l1Number - this.opts.keepWithoutFinality : fin - this.opts.pruneMargin;
    return below > 0n ? below : undefined;
  }

  private async updateFinalized(): Promise<void> {
    const fin = await this.traversal.readFinalized();
    const last = this.traversal.last;
    if (fin === undefined || last === undefined) return;
    const upTo = fin.number < last.l1Number ? fin.number : last.l1Number;
    this._finalized = (await this.store.atOrBelow(upTo))?.safe.number ?? 0n;
  }
}
