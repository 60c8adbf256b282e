/**
 * geth's tracing methods, on every node: the default struct logger (`disableStack`,
 * `disableStorage`, `enableMemory`, `enableReturnData`, `limit`), the built-in `callTracer`
 * (`onlyTopCall`, `withLog`) and `prestateTracer` (`diffMode`, `disableCode`, `disableStorage`,
 * `includeEmpty`). debug_traceTransaction and debug_traceBlockByNumber/ByHash re-execute stored
 * blocks from their parent's state (node/trace/replay.ts); debug_traceCall runs a call as eth_call
 * does. Bounded like eth_call: the same call gate, deadline and per-client turns, a cap on
 * struct-log entries and one on the code a prestate trace returns. Other tracers (4byteTracer,
 * JavaScript tracers...) are refused with -32602.
 */
import { hexToBytes } from '@ethereumjs/util';
import { z } from 'zod';
import { CallTracer } from '../../trace/call-tracer.ts';
import { PrestateTracer } from '../../trace/prestate-tracer.ts';
import type { Tracer, TxOutcome } from '../../trace/replay.ts';
import { traceBlock } from '../../trace/replay.ts';
import { StructLogger, structResult } from '../../trace/struct-logger.ts';
import { RpcCode, RpcError } from '../errors.ts';
import { method } from '../method.ts';
import { zBlockRef, zCallRequest, zHash, zStateOverrides } from '../schemas.ts';
import { toCall, toOverrides } from './state.ts';

const zTraceConfig = z
  .object({
    tracer: z.string().optional(),
    tracerConfig: z
      .object({
        onlyTopCall: z.boolean().optional(),
        withLog: z.boolean().optional(),
        diffMode: z.boolean().optional(),
        disableCode: z.boolean().optional(),
        disableStorage: z.boolean().optional(),
        includeEmpty: z.boolean().optional(),
      })
      .passthrough()
      .optional(),
    timeout: z.string().optional(),
    disableStack: z.boolean().optional(),
    disableStorage: z.boolean().optional(),
    enableMemory: z.boolean().optional(),
    enableReturnData: z.boolean().optional(),
    limit: z.number().int().nonnegative().optional(),
    stateOverrides: zStateOverrides.optional(),
  })
  .passthrough()
  .optional();

type TraceConfig = z.output<typeof zTraceConfig>;

/** The tracer a config names, as a factory (a block trace makes one per transaction). */
function tracerFor(c: TraceConfig): () => Tracer<unknown> {
  const tracer = c?.tracer;
  if (tracer === 'callTracer') {
    const cfg = { onlyTopCall: c?.tracerConfig?.onlyTopCall === true, withLog: c?.tracerConfig?.withLog === true };
    return () => new CallTracer(cfg);
  }
  if (tracer === 'prestateTracer') {
    const t = c?.tracerConfig;
    // geth's refusal: diffMode already leaves out what did not change, empty accounts included
    if (t?.diffMode === true && t.includeEmpty === true) throw new RpcError(RpcCode.InvalidParams, 'cannot use diffMode with includeEmpty');
    const cfg = { diffMode: t?.diffMode, disableCode: t?.disableCode, disableStorage: t?.disableStorage, includeEmpty: t?.includeEmpty };
    return () => new PrestateTracer(cfg);
  }
  if (tracer === undefined || tracer === '' || tracer === 'structLogger') {
    return () => {
      const logger = new StructLogger(c ?? {});
      return { attach: (evm) => logger.attach(evm), detach: (evm) => logger.detach(evm), result: (o: TxOutcome) => structResult(logger, o) };
    };
  }
  throw new RpcError(RpcCode.InvalidParams, `tracer ${JSON.stringify(tracer)} is not supported (the struct logger, callTracer and prestateTracer are)`);
}

export const debugTraceMethods = {
  debug_traceTransaction: method([zHash, zTraceConfig], async ([hash, config], b, s) => {
    const make = tracerFor(config);
    const loc = await b.chain.store.getTxLocation(hexToBytes(hash));
    if (loc === undefined) throw new RpcError(RpcCode.Server, 'transaction not found');
    const block = await b.chain.store.getBlockByHash(loc.blockHash);
    if (block === undefined) throw new RpcError(RpcCode.Server, 'transaction not found');
    const traced = await b.callGate.run(s.client, s.deadline, (budget) => traceBlock(b.chain, block, make, budget, new Set([loc.index])));
    return traced[0]!.result;
  }),

  debug_traceBlockByNumber: method([zBlockRef, zTraceConfig], async ([ref, config], b, s) => {
    const make = tracerFor(config);
    const block = await b.blockByRef(ref);
    return b.callGate.run(s.client, s.deadline, (budget) => traceBlock(b.chain, block, make, budget));
  }),

  debug_traceBlockByHash: method([zHash, zTraceConfig], async ([hash, config], b, s) => {
    const make = tracerFor(config);
    const block = await b.chain.store.getBlockByHash(hexToBytes(hash));
    if (block === undefined) throw new RpcError(RpcCode.Server, `block ${hash} not found`);
    return b.callGate.run(s.client, s.deadline, (budget) => traceBlock(b.chain, block, make, budget));
  }),

  debug_traceCall: method([zCallRequest, zBlockRef.optional().default('latest'), zTraceConfig], async ([req, ref, config], b, s) => {
    const tracer = tracerFor(config)();
    const block = await b.blockByRef(ref);
    const outcome = await b.callGate.run(s.client, s.deadline, (budget) => b.calls.traceCall(toCall(req), block, tracer, toOverrides(config?.stateOverrides), budget));
    return tracer.result(outcome);
  }),
};
