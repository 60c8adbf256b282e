/**
 * The model-execution precompile (IModelExec at 0x..0A02): runs a model whose canonical
 * encoding was published in the ModelRegistry, with the deterministic integer executor.
 *
 * Decoded models are cached, and the cache is where an attacker would bend what a model says: an
 * eth_call whose state overrides rewrite the registry's stored weights must not leave its model in
 * the cache under the genuine id, where later calls and real transactions would run it. So:
 * - bytes are used only once they hash to the model id (the id IS keccak256 of the encoding);
 * - the cache is filled only from state that transactions wrote (a view with eth_call overrides
 *   says so, StorageReader.foreignWrites), and such a view never trusts it by id either: it reads
 *   its own bytes, and takes the cached decoding only of bytes that hash to the same id;
 * - in state that transactions wrote, the bytes at an id never change once published (the
 *   registry checks the hash and refuses a second publication), so an entry keyed by the id is an
 *   entry keyed by the hash of the bytes it was decoded from. The record's flags (deprecated,
 *   hasWeights) are still read on every call, so a model whose publication was reverted never runs.
 * Gas charges the weight words as if read, so it is the same with a cold or a warm cache, and the
 * work of the run (exec-gas.ts) from the model's shape, before it runs.
 */
import type { ExecResult, PrecompileInput } from '@ethereumjs/evm';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { bytesToHex, hexToBytes } from 'viem';
import { deserializeModel } from './model/codec.ts';
import { runModel } from './model/executor.ts';
import { type Model, shapeSize } from './model/format.ts';
import { EXECUTE_SELECTOR, modelExecAbi } from './abi.ts';
import { EXEC_MAX_WORK, execGas, execWork, workGas } from './exec-gas.ts';
import { CALL_BASE, REGISTRY_WORD } from './gas.ts';
import { encodeInt256Array } from './int256-array.ts';
import { type BytesHeader, readBytesBody, readBytesHeader, readRecord, type StorageReader, weightsSlot } from './registry-layout.ts';
import { Meter, ok, outOfGas, revert, revertWith } from './result.ts';

interface ExecCall {
  modelId: `0x${string}`;
  input: Uint8Array;
}

/**
 * `execute(bytes32 modelId, bytes input)` calldata to arguments; undefined for a wrong selector
 * or an encoding whose offset or length points outside the data (as Solidity's decoder refuses
 * them). Read in place, in constant time: viem's decodeFunctionData takes ~3 us per 32-byte word,
 * which a caller repeating a long input from memory would otherwise get for free. The unit test
 * fuzzes it against viem's decoder.
 */
export function decodeExecCall(data: Uint8Array): ExecCall | undefined {
  if (data.length < 4 + 3 * 32 || bytesToHex(data.subarray(0, 4)) !== EXECUTE_SELECTOR) return undefined;
  const args = data.subarray(4);
  const offset = readLength(args, 32);
  if (offset === undefined || offset + 32 > args.length) return undefined;
  const length = readLength(args, offset);
  if (length === undefined || offset + 32 + length > args.length) return undefined;
  return { modelId: bytesToHex(args.subarray(0, 32)), input: args.subarray(offset + 32, offset + 32 + length) };
}

/** A uint256 word that must be a small length or offset (anything past 2^32 cannot fit in calldata). */
function readLength(b: Uint8Array, at: number): number | undefined {
  for (let i = at; i < at + 28; i++) if (b[i] !== 0) return undefined;
  return ((b[at + 28]! << 24) | (b[at + 29]! << 16) | (b[at + 30]! << 8) | b[at + 31]!) >>> 0;
}

interface CachedModel {
  model: Model;
  work: number;
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

function touch(id: string): CachedModel | undefined {
  const hit = modelCache.get(id);
  if (hit === undefined) return undefined;
  modelCache.delete(id);
  modelCache.set(id, hit);
  return hit;
}

/** The decoded model: undefined when the stored bytes are not the model's (wrong hash) or do not decode. */
async function loadModel(sm: StorageReader, id: `0x${string}`, header: BytesHeader): Promise<CachedModel | undefined> {
  const trusted = sm.foreignWrites !== true;
  if (trusted) {
    const hit = touch(id);
    if (hit !== undefined) return hit;
  }
  const bytes = await readBytesBody(sm, header);
  if (bytesToHex(keccak_256(bytes)) !== id) return undefined;
  if (!trusted) {
    const hit = modelCache.get(id);
    if (hit !== undefined) return hit; // decoded from the same bytes: their hash is the key
  }
  let model: Model;
  try {
    model = deserializeModel(bytes);
  } catch {
    return undefined;
  }
  const m = { model, work: execWork(model), inputSize: shapeSize(model.inputShape) };
  if (trusted) remember(id, header.length, m);
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
  const m = await loadModel(sm, call.modelId.toLowerCase() as `0x${string}`, header);
  if (!m) return fail('NoWeights', [call.modelId]);
  if (m.work > EXEC_MAX_WORK) return fail('TooExpensive', [BigInt(m.work), BigInt(EXEC_MAX_WORK)]);
  if (call.input.length !== m.inputSize) return fail('InputLength', [BigInt(m.inputSize), BigInt(call.input.length)]);
  if (!meter.charge(workGas(m.work))) return outOfGas(input.gasLimit);

  const { output } = runModel(m.model, call.input, { trusted: true });
  return ok(meter.used, encodeInt256Array(output));
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
