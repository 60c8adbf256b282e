/**
 * What derivation does with each batch L1 carries (docs/protocol/derivation.md, "Invalid
 * batches"). A batch that continues the derived chain (its first block is the one after the safe
 * head) is checked and derived; one derivation finds invalid (BAD_BATCH, BAD_ATTRIBUTES,
 * IMPORT_FAILED, BAD_RESULTS) is refused whole: none of its blocks stays, the safe head stays
 * before it and `invalidFrom` names its first block. Derivation then goes on with L1 and skips
 * every later batch that does not continue the derived chain: on this Rollup, which chains
 * batches by index and prevBatchHash over contiguous block ranges, that is every later batch, so
 * only an L1 reorg that takes the refused batch away (its record unwound with it) lets the chain
 * go on. A batch that does continue the derived chain after a refusal (a future Rollup that can
 * replace a batch) is derived and clears `invalidFrom`.
 */
import { bytesToHex } from '@ethereumjs/util';
import type { Logger } from 'pino';
import type { Hex } from 'viem';
import type { AttributesCheck } from './attributes-check.ts';
import type { DerivedBatch } from './batch-retrieval.ts';
import type { BlockDerivation } from './block-derivation.ts';
import type { L2Ref } from './checkpoint.ts';
import { DerivationError, DerivationErrorCode, INVALID_BATCH_CODES, isDerivationError } from './errors.ts';

export type BatchOutcome =
  | { kind: 'derived'; index: bigint }
  | { kind: 'refused'; index: bigint; code: DerivationErrorCode; invalidFrom: bigint }
  | { kind: 'skipped'; index: bigint };

export interface BatchRuleDeps {
  attributes: Pick<AttributesCheck, 'check'>;
  blocks: BlockDerivation;
  /** The results root of the node's L2 blocks [from, to] (node/ai/batch-results.ts: chainResultsRoot). */
  resultsRoot(from: bigint, to: bigint): Promise<Hex>;
  logger: Logger;
}

export class BatchRule {
  private _invalidFrom: bigint | undefined;

  constructor(private readonly deps: BatchRuleDeps) {}

  /** First L2 block of the refused batch in force (no valid batch took its place); undefined while all is well. */
  get invalidFrom(): bigint | undefined {
    return this._invalidFrom;
  }

  /** Back to what a checkpoint recorded (a restart, a failed step, an L1 reorg's common ancestor). */
  reset(invalidFrom: bigint | undefined): void {
    this._invalidFrom = invalidFrom;
  }

  async apply(b: DerivedBatch): Promise<BatchOutcome> {
    const { header } = b;
    const before = this.deps.blocks.safe;
    if (header.firstBlock !== before.number + 1n) {
      // without a refusal behind it, a gap is this node's state, not L1's: retried, never skipped
      if (this._invalidFrom === undefined)
        throw new DerivationError(DerivationErrorCode.Discontinuous, `batch ${header.index} starts at block ${header.firstBlock}, the safe head is ${before.number}`);
      this.deps.logger.warn({ batch: header.index, first: header.firstBlock, invalidFrom: this._invalidFrom }, 'batch skipped: it extends a refused batch');
      return { kind: 'skipped', index: header.index };
    }
    try {
      if (b.refused !== undefined) throw b.refused;
      linked(b, before);
      await this.deps.attributes.check(b);
      await this.deps.blocks.apply(b.blocks);
      await this.checkResults(b);
    } catch (err) {
      if (!isDerivationError(err) || !INVALID_BATCH_CODES.has(err.code)) throw err;
      // refused whole: blocks of it already imported (a later one failed, or its results did) go too
      if (this.deps.blocks.safe.number !== before.number) await this.deps.blocks.unwind(before);
      this._invalidFrom = header.firstBlock;
      this.deps.logger.error(
        { batch: header.index, l1Block: b.l1Block, code: err.code, err: err.message, invalidFrom: header.firstBlock },
        'batch refused: L1 holds a batch no valid chain has; derivation goes on with L1',
      );
      return { kind: 'refused', index: header.index, code: err.code, invalidFrom: header.firstBlock };
    }
    this._invalidFrom = undefined;
    return { kind: 'derived', index: header.index };
  }

  /**
   * The header's resultsRoot against the results of the blocks just derived (they had to be
   * executed for their logs): a different root makes the whole batch invalid.
   */
  private async checkResults(b: DerivedBatch): Promise<void> {
    const { header } = b;
    const root = await this.deps.resultsRoot(header.firstBlock, header.lastBlock);
    if (root.toLowerCase() !== header.resultsRoot.toLowerCase())
      throw new DerivationError(DerivationErrorCode.BadResults, `batch ${header.index}: its header's resultsRoot ${header.resultsRoot} is not its blocks' ${root}`);
  }
}

/** The batch's blocks number on from the safe head, each the child of the one before. */
function linked(b: DerivedBatch, safe: L2Ref): void {
  let prev = safe;
  for (const block of b.blocks) {
    const n = block.header.number;
    const parent = bytesToHex(block.header.parentHash);
    if (n !== prev.number + 1n || parent !== prev.hash)
      throw new DerivationError(DerivationErrorCode.BadBatch, `batch ${b.header.index}: block ${n} (parent ${parent}) does not follow block ${prev.number} ${prev.hash}`);
    prev = { number: n, hash: bytesToHex(block.hash()) };
  }
}
