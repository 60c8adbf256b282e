import type { Common } from '@ethereumjs/common';
import type { CustomPrecompile, EVMMockBlockchainInterface } from '@ethereumjs/evm';
import type { MerkleStateManager } from '@ethereumjs/statemanager';
import { createVM } from '@ethereumjs/vm';
// every VM of the node analyses a contract's jumps once, not per call
import './jump-analysis-cache.ts';
import type { VM } from '@ethereumjs/vm';

/** What a VM needs of the chain: block hashes for BLOCKHASH. */
export interface BlockHashSource {
  getBlockHash(n: bigint): Promise<Uint8Array | undefined>;
}

export interface VmFactoryOptions {
  common: Common;
  /** Extra precompiles (the AI precompiles plug in here). */
  precompiles?: CustomPrecompile[];
}

/** The one place every VM of the node is made, so precompiles and rules never diverge. */
export class VmFactory {
  constructor(
    private readonly opts: VmFactoryOptions,
    private readonly hashes: BlockHashSource,
  ) {}

  async create(stateManager: MerkleStateManager): Promise<VM> {
    return createVM({
      common: this.opts.common,
      stateManager,
      blockchain: this.blockchain(),
      evmOpts: { customPrecompiles: this.opts.precompiles },
    });
  }

  private blockchain(): EVMMockBlockchainInterface {
    const hashes = this.hashes;
    const chain: EVMMockBlockchainInterface = {
      async getBlock(n: number) {
        const hash = await hashes.getBlockHash(BigInt(n));
        const h = hash ?? new Uint8Array(32);
        return { hash: () => h };
      },
      async putBlock() {},
      shallowCopy: () => chain,
    };
    return chain;
  }
}
