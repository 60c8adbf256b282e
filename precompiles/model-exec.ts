/**
 * The model-execution precompile (IModelExec at 0x..0A02): runs a model whose canonical
 * encoding was published in the ModelRegistry, with the deterministic integer executor.
 *
 * Decoded models are cached by model id. That is sound because the registry only stores an
 * encoding whose keccak256 is the id, so an id names one byte string forever; the record's
 * flags (deprecated, hasWeights) are still read on every call, so a cached model of a model
 * whose publication was reverted is never run. Gas charges the weight words as if read, so it is
 * the same on a node with a cold cache and one with a warm cache.
 */
import type { ExecResult, PrecompileInput } from '@ethereumjs/evm';
import { bytesToHex, decodeFunctionData, encodeAbiParameters, hexToBytes } from 'viem';
import { deserializeModel } from '../prover/model/codec.ts';
import { countMacs, runModel } from '../prover/model/executor.ts';
import { type Model, shapeSize } from '../prover/model/format.ts';
import { EXECUTE_SELECTOR, modelExecAbi } from './abi.ts';
import { CALL_BASE, EXEC_MAX_MACS, REGISTRY_WORD, execGas, macGas } from './gas.ts';
import { type BytesHeader, readBytesBody, readBytesHeader, readRecord, type StorageReader, weightsSlot } from './registry-layout.ts';
import { Meter, ok, outOfGas, revert, revertWith } from './result.ts';

interface ExecCall {
  modelId: `0x${string}`;
  input: Uint8Array;
}

export function decodeExecCall(data: Uint8Array): ExecCall | undefined {
  if (data.length < 4 + 4 * 32 - 32 || bytesToHex(data.subarray(0, 4)) !== EXECUTE_SELECTOR) return undefined;
  try {
    const { args } = decodeFunctionData({ abi: modelExecAbi, data: bytesToHex(data) });
    return { modelId: args[0], input: hexToBytes(args[1]) };
  } catch {
    return undefined;
  }
}

interface CachedModel {
  model: Model;
  macs: number;
  inputSize: number;
}

/** Decoded, a model takes ~8x its encoding in JS arrays: 16 MB of encodings is ~128 MB of heap. */
const MAX_CACHED_WEIGHT_BYTES = 16 << 20;
const modelCache = new Map<string, CachedModel & { bytes: number }>();
let cachedBytes = 0;

function remember(id: string, bytes: number, m: CachedModel): void {
  modelCache.set(id, { ...m, bytes });
  cachedBytes += bytes;
  for (const [k, v] of modelCache) {
    if (cachedBytes <= MAX_CACHED_WEIGHT_BYTES) break;
    modelCache.delete(k);
    cachedBytes -= v.bytes;
  }
}

export function clearModelCache(): void {
  modelCache.clear();
  cachedBytes = 0;
}

/** The decoded model, from the cache or from state; undefined when the bytes do not decode. */
async function loadModel(sm: StorageReader, id: string, header: BytesHeader): Promise<CachedModel | undefined> {
  const hit = modelCache.get(id);
  if (hit) {
    modelCache.delete(id);
    modelCache.set(id, hit);
    return hit;
  }
  let model: Model;
  try {
    model = deserializeModel(await readBytesBody(sm, header));
  } catch {
    return undefined; // the registry checks the hash only: any bytes can be published
  }
  const m = { model, macs: countMacs(model), inputSize: shapeSize(model.inputShape) };
  remember(id, header.length, m);
  return m;
}

async function run(input: PrecompileInput, sm: StorageReader): Promise<ExecResult> {
  const meter = new Meter(input.gasLimit);
  if (!meter.charge(CALL_BASE)) return outOfGas(input.gasLimit);
  const call = decodeExecCall(input.data);
  if (!call) return revert(meter.used);
  const id = hexToBytes(call.modelId);
  const fail = (name: string, args: readonly unknown[]): ExecResult => revertWith(modelExecAbi, meter.used, name, args);

  if (!meter.charge(2n * REGISTRY_WORD)) return outOfGas(input.gasLimit);
  const record = await readRecord(sm, id);
  if (!record) return fail('UnknownModel', [call.modelId]);
  if (record.deprecated) return fail('ModelDeprecated', [call.modelId]);
  if (!record.hasWeights) return fail('NoWeights', [call.modelId]);
  const header = await readBytesHeader(sm, weightsSlot(id));

  // the weight read is paid before it happens (and whether or not the cache makes it happen)
  meter.used = execGas(header.length, 0);
  if (meter.used > input.gasLimit) return outOfGas(input.gasLimit);
  const m = await loadModel(sm, call.modelId.toLowerCase(), header);
  if (!m) return fail('NoWeights', [call.modelId]);
  if (m.macs > EXEC_MAX_MACS) return fail('TooExpensive', [BigInt(m.macs), BigInt(EXEC_MAX_MACS)]);
  if (call.input.length !== m.inputSize) return fail('InputLength', [BigInt(m.inputSize), BigInt(call.input.length)]);
  if (!meter.charge(macGas(m.macs))) return outOfGas(input.gasLimit);

  const { output } = runModel(m.model, call.input, { trusted: true });
  return ok(meter.used, hexToBytes(encodeAbiParameters([{ type: 'int256[]' }], [output.map(BigInt)])));
}

/** The precompile; an internal failure is an exceptional halt (all gas), never a thrown error. */
export async function modelExecPrecompile(input: PrecompileInput): Promise<ExecResult> {
  try {
    return await run(input, input._EVM.stateManager);
  } catch (e) {
    input._debug?.(`model exec failed: ${e instanceof Error ? e.message : String(e)}`);
    return outOfGas(input.gasLimit);
  }
}
