/**
 * Stage 3, block derivation: each block of a batch, in order, becomes the safe head. A block
 * equal to the local one at its number only moves the safe head; a missing one is imported
 * (re-executed, committed atomically); a local block that differs (an unsafe, gossiped block the
 * batch replaced) loses to L1: the chain is rewound to the parent and the derived block imported.
 */
import type { Block } from '@ethereumjs/block';
import { bytesToHex } from '@ethereumjs/util';
import type { Logger } from 'pino';
import type { Chain } from '../chain/chain.ts';
import { SyncErrorCode, isSyncError } from '../sync/errors.ts';
import type { L2Ref } from './checkpoint.ts';
import { DerivationError, DerivationErrorCode } from './errors.ts';
import type { SerialImporter } from './serial-importer.ts';

export interface BlockDerivationDeps {
  chain: Chain;
  importer: SerialImporter;
  logger: Logger;
}

export class BlockDerivation {
  private _safe: L2Ref;

  constructor(private readonly deps: BlockDerivationDeps) {
    this._safe = { number: 0n, hash: bytesToHex(deps.chain.genesis.hash()) };
  }

  /** Last L2 block derived from L1. */
  get safe(): L2Ref {
    return this._safe;
  }

  /** Back to `safe` (a restart's checkpoint, or an L1 reorg's common ancestor; genesis when undefined). */
  reset(safe: L2Ref | undefined): void {
    this._safe = safe ?? { number: 0n, hash: bytesToHex(this.deps.chain.genesis.hash()) };
  }

  /** Back to `to`, removing the blocks above it from the chain (a batch found invalid after they were imported). */
  async unwind(to: L2Ref): Promise<void> {
    await this.deps.importer.exclusive(async () => {
      if (this.deps.chain.head.header.number > to.number) await this.deps.chain.rewind(to.number);
    });
    this._safe = to;
  }

  async apply(blocks: Block[]): Promise<void> {
    for (const block of blocks) await this.derive(block);
  }

  private async derive(block: Block): Promise<void> {
    const n = block.header.number;
    const hash = bytesToHex(block.hash());
    if (n !== this._safe.number + 1n || bytesToHex(block.header.parentHash) !== this._safe.hash) {
      throw new DerivationError(DerivationErrorCode.Discontinuous, `derived block ${n} ${hash} does not follow the safe head ${this._safe.number} ${this._safe.hash}`);
    }
    await this.deps.importer.exclusive(async (importNow) => {
      const local = await this.deps.chain.store.getCanonicalHash(n);
      if (local !== undefined && bytesToHex(local) === hash) return;
      if (local !== undefined) {
        this.deps.logger.warn({ number: n, local: bytesToHex(local), derived: hash }, 'local block differs from the one on L1: L1 wins, rewinding');
        await this.deps.chain.rewind(n - 1n);
      }
      try {
        await importNow(block);
      } catch (err) {
        if (isSyncError(err, SyncErrorCode.Known)) return;
        if (isSyncError(err, SyncErrorCode.Stopped)) throw err;
        throw new DerivationError(DerivationErrorCode.ImportFailed, `derived block ${n} ${hash}: ${(err as Error).message}`);
      }
    });
    this._safe = { number: n, hash };
  }
}
