import type { MethodDef } from '../method.ts';
import { aiMethods } from './ai.ts';
import { aiMarketMethods } from './ai-market.ts';
import { aiProofMethods } from './ai-proof.ts';
import { basicMethods } from './basic.ts';
import { blockMethods } from './blocks.ts';
import { debugRawMethods } from './debug-raw.ts';
import { debugTraceMethods } from './debug-trace.ts';
import { feeMethods } from './fees.ts';
import { logMethods } from './logs.ts';
import { otsMethods } from './ots.ts';
import { rollupMethods } from './rollup.ts';
import { stateMethods } from './state.ts';

/** Every JSON-RPC method served over HTTP and WebSocket (eth_subscribe lives with the socket). */
export function allMethods(extra: Record<string, MethodDef> = {}): Record<string, MethodDef> {
  return {
    ...basicMethods,
    ...stateMethods,
    ...blockMethods,
    ...feeMethods,
    ...logMethods,
    ...aiMethods,
    ...aiMarketMethods,
    ...aiProofMethods,
    ...rollupMethods,
    ...debugRawMethods,
    ...debugTraceMethods,
    ...otsMethods,
    ...extra,
  };
}
