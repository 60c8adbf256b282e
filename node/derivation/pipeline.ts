/**
 * Derivation from L1 (op-node's pull pipeline, reth's checkpointed stages): L1 traversal ->
 * batch retrieval -> attributes check (origins and deposits against L1) -> block derivation,
 * one L1 block per step (the next ones' blocks and batches already being read, so a remote L1's
 * round trips overlap). A step ends by storing the L1
 * block's checkpoint (its hash and the safe L2 head after it), so a restart resumes at the next
 * L1 block; a step cut short by a crash is simply done again (its blocks are then known). An L1
 * reorg unwinds the checkpoint to the common ancestor and moves the safe head back to what was
 * derived up to it; the L2 blocks above stay as unsafe blocks until L1 carries them again.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Common } from '@ethereumjs/common';
import type { Logger } from 'pino';
import type { Hex, PublicClient } from 'viem';
import type { Chain } from '../chain/chain.ts';
import type { KV } from '../db/kv.ts';
import { AttributesCheck } from './attributes-check.ts';
import { BatchRetrieval } from './batch-retrieval.ts';
import { BlockDerivation } from './block-derivation.ts';
import { CheckpointStore } from './checkpoint.ts';
import type { L2Ref } from './checkpoint.ts';
import { DerivationError, DerivationErrorCode, FATAL_CODES, INVALID_BATCH_CODES, isDerivationError } from './errors.ts';
import type { DerivedBatch } from './batch-retrieval.ts';
import { L1Traversal } from './l1-traversal.ts';
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
  private readonly store: CheckpointStore;
  private readonly log: Logger;
  private readonly abort = new AbortController();
  private running: Promise<void> | undefined;
  private _finalized = 0n;
  private _invalidFrom: bigint | undefined;

  constructor(
    private readonly opts: DerivationOptions & DerivationConfig,
    private readonly deps: DerivationDeps,
  ) {
    const { client, logger } = deps;
    this.log = logger.child({ module: 'derivation' });
    this.store = new CheckpointStore(deps.kv);
    this.traversal = new L1Traversal(opts.l1Start, { client, store: this.store, logger: logger.child({ module: 'derivation:l1' }) });
    this.retrieval = new BatchRetrieval(opts.rollup, { client, common: deps.common, logger: logger.child({ module: 'derivation:batches' }) });
    this.attributes = new AttributesCheck({ chain: deps.chain, client });
    this.blocks = new BlockDerivation({ chain: deps.chain, importer: deps.importer, logger: logger.child({ module: 'derivation:blocks' }) });
    // gossip may reorg the unsafe chain, never what L1 carries
    deps.importer.safeFloor = () => this.blocks.safe.number;
  }

  /** Last L2 block derived from L1. */
  get safe(): L2Ref {
    return this.blocks.safe;
  }

  /**
   * The first L2 block of a batch derivation refused (its blocks are not valid for L1's data):
   * no valid chain has that block, so an output at or above it is wrong. Undefined while all is well.
   */
  get invalidFrom(): bigint | undefined {
    return this._invalidFrom;
  }

  /** Last L2 block derived from L1 blocks at or below L1's `finalized` block. */
  get finalized(): bigint {
    return this._finalized < this.safe.number ? this._finalized : this.safe.number;
  }

  /** Resumes from the checkpoint and runs until stop(). */
  async start(): Promise<void> {
    const cur = await this.traversal.load();
    this.blocks.reset(cur?.safe);
    if (cur === undefined) this.log.info({ l1Start: this.opts.l1Start.number }, "derivation starting at the rollup config's l1Start");
    else this.log.info({ l1Block: cur.l1Number, l1Hash: cur.l1Hash, safe: cur.safe.number }, 'derivation resumed from its checkpoint');
    await this.updateFinalized().catch(() => undefined);
    this.running = this.run();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.running;
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
        if (isDerivationError(err) && FATAL_CODES.has(err.code)) {
          if (INVALID_BATCH_CODES.has(err.code)) this._invalidFrom = this.safe.number + 1n;
          this.log.error({ err: err.message, code: err.code, invalidFrom: this._invalidFrom }, 'derivation stopped: L1 holds a chain this node cannot derive');
          return;
        }
        if (!failing) this.log.warn({ err: (err as Error).message, code: isDerivationError(err) ? err.code : undefined }, 'derivation step failed; retrying from the checkpoint');
        failing = true;
        this.retrieval.cool();
        await this.traversal.load();
        this.blocks.reset(this.traversal.last?.safe);
        wait = this.opts.retryMs;
      }
      if (wait > 0) await sleep(wait, undefined, { signal }).catch(() => undefined);
    }
  }

  /** One L1 block through every stage; false when L1 has nothing new. */
  private async step(): Promise<boolean> {
    const s = await this.traversal.next();
    if (s.kind === 'idle') {
      await this.updateFinalized();
      return false;
    }
    if (s.kind === 'reorg') {
      this.retrieval.cool();
      this.blocks.reset(s.ancestor?.safe);
      await this.updateFinalized();
      return true;
    }
    this.attributes.remember(s.block.hash, { number: s.block.number, timestamp: s.block.timestamp, baseFee: s.block.baseFee });
    this.retrieval.warm(this.traversal.upcoming());
    const batches = await this.retrieval.batchesIn(s.block);
    for (const b of batches) {
      const before = this.blocks.safe;
      await this.attributes.check(b);
      await this.blocks.apply(b.blocks);
      await this.checkResults(b, before);
    }
    await this.traversal.advance({ l1Number: s.block.number, l1Hash: s.block.hash, safe: this.blocks.safe });
    if (batches.length > 0) this.log.info({ l1Block: s.block.number, batches: batches.map((b) => b.header.index), safe: this.safe.number }, 'derived batches');
    return true;
  }

  /**
   * The header's resultsRoot against the results of the blocks just derived (they had to be
   * executed for their logs). A wrong root makes the whole batch invalid: the chain and the safe
   * head go back to before it, so invalidFrom is its first block and no block of it is served.
   */
  private async checkResults(b: DerivedBatch, before: L2Ref): Promise<void> {
    const { header } = b;
    const root = await this.deps.resultsRoot(header.firstBlock, header.lastBlock);
    if (root.toLowerCase() === header.resultsRoot.toLowerCase()) return;
    await this.blocks.unwind(before);
    throw new DerivationError(DerivationErrorCode.BadResults, `batch ${header.index}: its header's resultsRoot ${header.resultsRoot} is not its blocks' ${root}`);
  }

  private async updateFinalized(): Promise<void> {
    const fin = await this.deps.client.getBlock({ blockTag: 'finalized' });
    const last = this.traversal.last;
    if (fin.number === null || last === undefined) return;
    const upTo = fin.number < last.l1Number ? fin.number : last.l1Number;
    this._finalized = (await this.store.record(upTo))?.safe.number ?? 0n;
  }
}
