/**
 * The inference-verifier precompile (IInferenceVerifier at 0x..0A01): verifies a Groth16 proof
 * against the verifying key that the ModelRegistry predeploy holds for the model, and checks a
 * key before the registry stores it (checkKey: the same refusals, groth16/key-check.ts).
 *
 * Order of work follows the price: cheap reads first (record, key length), then the call is
 * priced in full and checked against the gas limit, and only then are the key words read and the
 * pairing run. Every malformed input ends in a revert carrying the interface's custom error;
 * only a verified proof returns true.
 */
import type { ExecResult, PrecompileInput } from '@ethereumjs/evm';
import { bytesToHex, decodeFunctionData, encodeAbiParameters, hexToBytes } from 'viem';
import { CHECK_KEY_SELECTOR, verifierAbi, VERIFY_SELECTOR } from './abi.ts';
import { REGISTRY_WORD, CALL_BASE, keyCheckGas, verifyGas } from './gas.ts';
import { checkKey, InvalidKeyError, KeyCode, mclReady, verifyPrepared, withPreparedKey } from './groth16/verify.ts';
import { MAX_PUBLIC_INPUTS, readWord, vkWordCount } from './groth16/encoding.ts';
import { readBytesBody, readBytesHeader, readRecord, type StorageReader, verifyingKeySlot } from './registry-layout.ts';
import { Meter, ok, outOfGas, revert, revertWith } from './result.ts';

interface VerifyCall {
  modelId: `0x${string}`;
  inputs: readonly bigint[];
  proof: readonly bigint[];
}

/** Calldata to arguments; undefined for a wrong selector or malformed ABI encoding. */
export function decodeVerifyCall(data: Uint8Array): VerifyCall | undefined {
  if (data.length < 4 + 3 * 32 + 8 * 32 || bytesToHex(data.subarray(0, 4)) !== VERIFY_SELECTOR) return undefined;
  try {
    const call = decodeFunctionData({ abi: verifierAbi, data: bytesToHex(data) });
    if (call.functionName !== 'verify') return undefined;
    const [modelId, inputs, proof] = call.args;
    return { modelId, inputs, proof };
  } catch {
    return undefined;
  }
}

/** n for a key of `bytes` bytes, or undefined when no n fits (the registry never stores such). */
function publicInputsOfKeyLength(bytes: number): number | undefined {
  const words = bytes / 32;
  if (!Number.isInteger(words) || words < vkWordCount(0) || (words - vkWordCount(0)) % 2 !== 0) return undefined;
  return (words - vkWordCount(0)) / 2;
}

/**
 * The key of checkKey(bytes) calldata; undefined for another selector or a malformed encoding
 * (strict: offset 32, the length within the data). Decoded by hand: no hex copy of a large key
 * before the call is priced.
 */
export function decodeCheckKeyCall(data: Uint8Array): Uint8Array | undefined {
  if (data.length < 4 + 64 || bytesToHex(data.subarray(0, 4)) !== CHECK_KEY_SELECTOR) return undefined;
  const body = data.subarray(4);
  if (readWord(body, 0) !== 32n) return undefined;
  const length = readWord(body, 1);
  if (length > BigInt(body.length - 64)) return undefined;
  return body.subarray(64, 64 + Number(length));
}

/** n of a key whose length and n word agree, within the registry's bound; else undefined. */
function keyInputs(vk: Uint8Array): number | undefined {
  const n = publicInputsOfKeyLength(vk.length);
  return n !== undefined && n <= MAX_PUBLIC_INPUTS && readWord(vk, 14) === BigInt(n) ? n : undefined;
}

const TRUE = hexToBytes(encodeAbiParameters([{ type: 'bool' }], [true]));
const FALSE = hexToBytes(encodeAbiParameters([{ type: 'bool' }], [false]));

/** checkKey: true for a key the registry may store, else KeyRefused(code). Reads no state. */
function runCheckKey(input: PrecompileInput): ExecResult {
  const meter = new Meter(input.gasLimit);
  if (!meter.charge(CALL_BASE)) return outOfGas(input.gasLimit);
  const vk = decodeCheckKeyCall(input.data);
  if (!vk) return revert(meter.used);
  const n = keyInputs(vk);
  if (n === undefined) return revertWith(verifierAbi, meter.used, 'KeyRefused', [KeyCode.Layout]);
  const total = keyCheckGas(n);
  if (input.gasLimit < total) return outOfGas(input.gasLimit);
  const code = checkKey(vk);
  return code === undefined ? ok(total, TRUE) : revertWith(verifierAbi, total, 'KeyRefused', [code]);
}

async function runVerify(input: PrecompileInput, sm: StorageReader): Promise<ExecResult> {
  const meter = new Meter(input.gasLimit);
  if (!meter.charge(CALL_BASE)) return outOfGas(input.gasLimit);
  const call = decodeVerifyCall(input.data);
  if (!call) return revert(meter.used);
  const id = hexToBytes(call.modelId);
  const fail = (name: string, args: readonly unknown[]): ExecResult => revertWith(verifierAbi, meter.used, name, args);

  if (!meter.charge(2n * REGISTRY_WORD)) return outOfGas(input.gasLimit);
  const record = await readRecord(sm, id);
  if (!record) return fail('UnknownModel', [call.modelId]);
  if (record.deprecated) return fail('ModelDeprecated', [call.modelId]);
  const header = await readBytesHeader(sm, verifyingKeySlot(id));
  const n = header.long ? publicInputsOfKeyLength(header.length) : undefined;
  if (n === undefined) return fail('InvalidVerifyingKey', [call.modelId]);
  if (call.inputs.length !== n) return fail('PublicInputCount', [BigInt(n), BigInt(call.inputs.length)]);

  // priced in full from here on: the key read, point checks and pairing are paid even on a revert
  const total = verifyGas(n);
  if (input.gasLimit < total) return outOfGas(input.gasLimit);
  meter.used = total;
  const keyBytes = await readBytesBody(sm, header);
  let r;
  try {
    // a view with eth_call overrides may read a cached key (the cache is keyed by content) but never adds one
    r = withPreparedKey(keyBytes, sm.foreignWrites !== true, (key) => verifyPrepared(key, call.inputs, call.proof));
  } catch (e) {
    if (e instanceof InvalidKeyError) return fail('InvalidVerifyingKey', [call.modelId]);
    throw e;
  }
  switch (r.kind) {
    case 'ok':
      return ok(meter.used, r.valid ? TRUE : FALSE);
    case 'count':
      return fail('PublicInputCount', [BigInt(r.expected), BigInt(r.given)]);
    case 'input':
      return fail('InvalidPublicInput', [BigInt(r.index)]);
    case 'proof':
      return fail('InvalidProof', [r.code]);
  }
}

/**
 * The precompile. Async because state reads are; mcl must be initialised (createAiPrecompiles
 * does it). An internal failure is an exceptional halt (all gas), never a thrown error.
 */
export async function inferenceVerifierPrecompile(input: PrecompileInput): Promise<ExecResult> {
  if (!mclReady()) return outOfGas(input.gasLimit);
  try {
    const selector = bytesToHex(input.data.subarray(0, 4));
    if (selector === CHECK_KEY_SELECTOR) return runCheckKey(input);
    return await runVerify(input, input._EVM.stateManager);
  } catch (e) {
    input._debug?.(`inference verifier failed: ${e instanceof Error ? e.message : String(e)}`);
    return outOfGas(input.gasLimit);
  }
}
