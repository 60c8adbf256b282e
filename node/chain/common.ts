import { EventEmitter } from 'node:events';
import { Common, Hardfork, Mainnet } from '@ethereumjs/common';
import type { CommonOpts, CustomCrypto } from '@ethereumjs/common';
import { pointEvaluationKzg } from './kzg.ts';
// frozen transactions keep their sender's address and their encoding (tx-caches.ts)
import './tx-caches.ts';

/**
 * Prague's execution EIPs on a Cancun base. The beacon-chain system contracts of Prague
 * (EIP-2935, 6110, 7002, 7251, 7685) have no meaning on an L2 and would make every block
 * call contracts that do not exist, so they stay off (OP Stack chains do the same).
 */
export const L2_HARDFORK = Hardfork.Cancun;
export const L2_EXTRA_EIPS = [2537, 7623, 7691, 7702];

export interface ChainCommonOptions {
  chainId: bigint;
  customCrypto?: CustomCrypto;
}

/** An emitter that drops subscriptions: the hardfork never changes, and VMs made per call must not leak listeners. */
class SilentEmitter extends EventEmitter {
  override on(): this {
    return this;
  }
}

/**
 * ethereumjs copies the Common and re-merges every parameter table (JSON round trips) for each
 * transaction, header and VM it constructs: measured at ~10 ms per decoded transaction, it
 * dominated block building. The hardfork of this chain is fixed, so one shared instance is
 * safe: copies are the instance itself and each parameter table is merged once.
 */
class SharedCommon extends Common {
  // `declare`: the base constructor already calls the overrides below, before field initializers run
  declare private merged: WeakSet<object> | undefined;
  declare private sealed: boolean | undefined;
  declare private eipList: number[] | undefined;
  declare private eipSet: Set<number> | undefined;

  constructor(opts: CommonOpts) {
    super(opts);
    this.events = new SilentEmitter() as unknown as Common['events'];
    this.sealed = true;
  }

  override copy(): Common {
    return this;
  }

  override updateParams(params: Parameters<Common['updateParams']>[0]): void {
    this.merged ??= new WeakSet();
    if (this.merged.has(params)) return;
    this.merged.add(params);
    super.updateParams(params);
  }

  /**
   * The EVM asks this several times per opcode; the base class scans an array of ~60 EIPs each
   * time. The Set follows the array (which is replaced, never edited, when the EIPs change).
   */
  override isActivatedEIP(eip: number): boolean {
    if (this.eipList !== this._activatedEIPsCache) {
      this.eipList = this._activatedEIPsCache;
      this.eipSet = new Set(this.eipList);
    }
    return this.eipSet!.has(eip);
  }

  override setHardfork(hardfork: string | Hardfork): void {
    if (this.sealed !== true) return super.setHardfork(hardfork);
    if (hardfork !== this.hardfork()) throw new Error(`the L2 hardfork is fixed at ${this.hardfork()}, refusing ${hardfork}`);
  }
}

/** The KZG library is part of the protocol (0x0a must answer as on Ethereum), so every Common has it. */
export function createL2Common(opts: ChainCommonOptions): Common {
  return new SharedCommon({
    chain: { ...Mainnet, chainId: Number(opts.chainId), name: `ai-rollup-${opts.chainId}` },
    hardfork: L2_HARDFORK,
    eips: L2_EXTRA_EIPS,
    customCrypto: { kzg: pointEvaluationKzg, ...opts.customCrypto },
  });
}
