import { Common, Hardfork, Mainnet, createCustomCommon } from '@ethereumjs/common';
import type { CustomCrypto } from '@ethereumjs/common';

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

export function createL2Common(opts: ChainCommonOptions): Common {
  return createCustomCommon(
    { chainId: Number(opts.chainId), name: `ai-rollup-${opts.chainId}` },
    Mainnet,
    { hardfork: L2_HARDFORK, eips: L2_EXTRA_EIPS, customCrypto: opts.customCrypto },
  );
}
