/**
 * geth's tracing methods with the built-in `callTracer` (options `onlyTopCall`, `withLog`), on
 * every node: debug_traceTransaction and debug_traceBlockByNumber/ByHash re-execute stored blocks
 * from their parent's state (node/trace/replay.ts), debug_traceCall runs a call as eth_call does.
 * Bounded like eth_call: the same call gate, deadline and per-client turns. The default struct
 * logger and the prestateTracer are not implemented yet and are refused with a clear error.
 */
import { hexToBytes } from '@ethereumjs/util';
import { z } from 'zod';
import { CallTracer, type CallTracerConfig } from '../../trace/call-tracer.ts';
import { traceBlock } from '../../trace/replay.ts';
import { currentClient } from '../client.ts';
import { RpcCode, RpcError } from '../errors.ts';
import { method } from '../method.ts';
import { requestDeadline } from '../request-scope.ts';
import { zBlockRef, zCallRequest, zHash, zStateOverrides } from '../schemas.ts';
import { toCall, toOverrides } from './state.ts';

const zTraceConfig = z
  .object({
    tracer: z.string().optional(),
    tracerConfig: z.object({ onlyTopCall: z.boolean().optional(), withLog: z.boolean().optional() }).passthrough().optional(),
    timeout: z.string().optional(),
  })
  .passthrough()
  .optional();

type TraceConfig = z.output<typeof zTraceConfig>;

function callTracerConfig(c: TraceConfig): CallTracerConfig {
  const tracer = c?.tracer;
  if (tracer === 'callTracer') return { onlyTopCall: c?.tracerConfig?.onlyTopCall === true, withLog: c?.tracerConfig?.withLog === true };
  if (tracer === undefined) throw new RpcError(RpcCode.InvalidParams, 'the default struct logger is not supported yet: pass {"tracer": "callTracer"}');
  throw new RpcError(RpcCode.InvalidParams, `tracer ${JSON.stringify(tracer)} is not supported (callTracer is)`);
}

export const debugTraceMethods = {
  debug_traceTransaction: method([zHash, zTraceConfig], async ([hash, config], b) => {
    const cfg = callTracerConfig(config);
    const loc = await b.chain.store.getTxLocation(hexToBytes(hash));
    if (loc === undefined) throw new RpcError(RpcCode.Server, 'transaction not found');
    const block = await b.chain.store.getBlockByHash(loc.blockHash);
    if (block === undefined) throw new RpcError(RpcCode.Server, 'transaction not found');
    const traced = await b.callGate.run(currentClient(), requestDeadline(), (budget) => traceBlock(b.chain, block, cfg, budget, new Set([loc.index])));
    return traced[0]!.result;
  }),

  debug_traceBlockByNumber: method([zBlockRef, zTraceConfig], async ([ref, config], b) => {
    const cfg = callTracerConfig(config);
    const block = await b.blockByRef(ref);
    return b.callGate.run(currentClient(), requestDeadline(), (budget) => traceBlock(b.chain, block, cfg, budget));
  }),

  debug_traceBlockByHash: method([zHash, zTraceConfig], async ([hash, config], b) => {
    const cfg = callTracerConfig(config);
    const block = await b.chain.store.getBlockByHash(hexToBytes(hash));
    if (block === undefined) throw new RpcError(RpcCode.Server, `block ${hash} not found`);
    return b.callGate.run(currentClient(), requestDeadline(), (budget) => traceBlock(b.chain, block, cfg, budget));
  }),

  debug_traceCall: method(
    [zCallRequest, zBlockRef.optional().default('latest'), zTraceConfig.and(z.object({ stateOverrides: zStateOverrides.optional() }).passthrough().optional())],
    async ([req, ref, config], b) => {
      const cfg = callTracerConfig(config as TraceConfig);
      const block = await b.blockByRef(ref);
      const tracer = new CallTracer(cfg);
      const overrides = toOverrides((config as { stateOverrides?: z.output<typeof zStateOverrides> } | undefined)?.stateOverrides);
      const { gasUsed } = await b.callGate.run(currentClient(), requestDeadline(), (budget) =>
        b.calls.traceCall(
          toCall(req),
          block,
          (vm) => {
            tracer.attach(vm.evm);
            return () => tracer.detach(vm.evm);
          },
          overrides,
          budget,
        ),
      );
      return tracer.result(gasUsed);
    },
  ),
};
