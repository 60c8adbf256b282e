/** viem chain definitions: the devnet's L2, and any chain of a rollup config. */
import { defineChain } from 'viem';
import type { Chain } from 'viem';
import { INFERENCE_MARKET_ADDRESS, MODEL_REGISTRY_ADDRESS } from '../contracts/predeploys.ts';

/** An AI rollup L2 with id `id` served at `rpcUrl` (contracts: the predeploys every such chain has). */
export function aiRollupChain(id: number, rpcUrl: string, name = `ai-rollup-${id}`): Chain {
  return defineChain({
    id,
    name,
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [rpcUrl] } },
    contracts: {
      inferenceMarket: { address: INFERENCE_MARKET_ADDRESS },
      modelRegistry: { address: MODEL_REGISTRY_ADDRESS },
    },
  });
}

/** `ai-rollup devnet`'s L2 (chain 901) at its default URL, or at `rpcUrl`. */
export function devnetChain(rpcUrl = 'http://127.0.0.1:9545'): Chain {
  return aiRollupChain(901, rpcUrl, 'ai-rollup devnet');
}

/** The L2 of a rollup config (`rollup.json`: its l2ChainId), served at `rpcUrl`. */
export function chainFromRollupConfig(config: { l2ChainId: bigint | number }, rpcUrl: string): Chain {
  return aiRollupChain(Number(config.l2ChainId), rpcUrl);
}
