/**
 * Fuzzing the model-execution precompile's decoding: its calldata (against viem's ABI decoder)
 * and the model encodings it decodes from the registry's storage (anyone can publish any bytes:
 * the registry only checks that they hash to the id). No input may make it throw, run a model that
 * the format refuses, or answer differently from the executor run directly.
 */
import { createEVM } from '@ethereumjs/evm';
import type { EVM } from '@ethereumjs/evm';
import { MerkleStateManager } from '@ethereumjs/statemanager';
import { Account, createAddressFromString, hexToBytes } from '@ethereumjs/util';
import { decodeErrorResult, decodeFunctionData, decodeFunctionResult, encodeFunctionData, toHex } from 'viem';
import type { Hex } from 'viem';
import { beforeAll, describe, expect, it } from 'vitest';
import { MODEL_REGISTRY_ADDRESS } from '../../contracts/predeploys.ts';
import { createL2Common } from '../../node/chain/common.ts';
import { createAiPrecompiles, modelExecAbi } from '../../precompiles/index.ts';
import { EXEC_MAX_WORK, execWork } from '../../precompiles/exec-gas.ts';
import { decodeExecCall } from '../../precompiles/model-exec.ts';
import { deserializeModel, serializeModel } from '../../precompiles/model/codec.ts';
import { runModel } from '../../precompiles/model/executor.ts';
import { shapeSize } from '../../precompiles/model/format.ts';
import { mulberry32, randomInput, randomModel, type Rng } from '../../precompiles/model/random.ts';
import { modelStorage } from '../helpers/registry-storage.ts';

const EXEC = createAddressFromString('0x0000000000000000000000000000000000000a02');
const REGISTRY = createAddressFromString(MODEL_REGISTRY_ADDRESS);
const OWNER: Hex = '0x2222222222222222222222222222222222222222';

function mutateBytes(rng: Rng, base: Uint8Array): Uint8Array {
  const k = rng.int(0, 9);
  if (k === 0) return Uint8Array.from({ length: rng.int(0, 300) }, () => rng.int(0, 255));
  if (k === 1) return base.subarray(0, rng.int(0, base.length));
  if (k === 2) return Uint8Array.from([...base, ...Array.from({ length: rng.int(1, 40) }, () => rng.int(0, 255))]);
  const b = base.slice();
  for (let n = rng.int(1, 4); n > 0 && b.length > 0; n--) {
    const i = rng.int(0, b.length - 1);
    b[i] = k < 6 ? b[i]! ^ (1 << rng.int(0, 7)) : rng.pick([0, 1, 0x7f, 0x80, 0xff]);
  }
  return b;
}

describe('model-execution precompile: decoding fuzz', () => {
  let evm: EVM;

  beforeAll(async () => {
    const common = createL2Common({ chainId: 1337n });
    const sm = new MerkleStateManager({ common });
    await sm.putAccount(REGISTRY, new Account(1n, 0n));
    evm = await createEVM({ common, stateManager: sm, customPrecompiles: await createAiPrecompiles() });
  });

  it('reads calldata as viem decodes it, and refuses what viem cannot decode', () => {
    const rng = mulberry32(42);
    let agreed = 0;
    for (let i = 0; i < 5_000; i++) {
      const input = toHex(Uint8Array.from({ length: rng.int(0, 80) }, () => rng.int(0, 255)));
      const base = hexToBytes(encodeFunctionData({ abi: modelExecAbi, functionName: 'execute', args: [toHex(rng.int(0, 2 ** 31), { size: 32 }), input] }));
      const data = i % 4 === 0 ? base : mutateBytes(rng, base);
      let theirs: { modelId: Hex; input: Hex } | undefined;
      try {
        const d = decodeFunctionData({ abi: modelExecAbi, data: toHex(data) });
        theirs = { modelId: d.args[0] as Hex, input: d.args[1] as Hex };
      } catch {
        theirs = undefined;
      }
      const ours = decodeExecCall(data);
      if (theirs === undefined) expect(ours).toBeUndefined();
      else {
        expect(ours?.modelId).toBe(theirs.modelId);
        expect(toHex(ours!.input)).toBe(theirs.input);
        agreed++;
      }
    }
    expect(agreed).toBeGreaterThan(1_000);
  });

  it('a published encoding, valid or mangled, is refused or runs exactly as the executor does; it never throws', async () => {
    const rng = mulberry32(7);
    let ran = 0;
    let refused = 0;
    for (let i = 0; i < 200; i++) {
      const model = randomModel(rng, { maxLayers: 4, maxWidth: 24 });
      const bytes = i % 5 === 0 ? serializeModel(model) : mutateBytes(rng, serializeModel(model));
      const { id, storage } = modelStorage(OWNER, bytes);
      for (const [slot, value] of Object.entries(storage)) await evm.stateManager.putStorage(REGISTRY, hexToBytes(slot as Hex), hexToBytes(value));
      let decoded;
      try {
        decoded = deserializeModel(bytes);
      } catch {
        decoded = undefined;
      }
      const inputLen = decoded === undefined ? rng.int(0, 8) : shapeSize(decoded.inputShape);
      const input = decoded === undefined ? new Uint8Array(inputLen) : randomInput(rng, decoded);
      const data = hexToBytes(encodeFunctionData({ abi: modelExecAbi, functionName: 'execute', args: [id, toHex(input)] }));
      const r = await evm.runCall({ to: EXEC, data, gasLimit: 30_000_000n });
      const exec = r.execResult;
      if (decoded === undefined) {
        expect(exec.exceptionError?.error).toBe('revert');
        expect(decodeErrorResult({ abi: modelExecAbi, data: toHex(exec.returnValue) }).errorName).toBe('NoWeights');
        refused++;
        continue;
      }
      if (execWork(decoded) > EXEC_MAX_WORK) {
        expect(decodeErrorResult({ abi: modelExecAbi, data: toHex(exec.returnValue) }).errorName).toBe('TooExpensive');
        continue;
      }
      expect(exec.exceptionError).toBeUndefined();
      const out = decodeFunctionResult({ abi: modelExecAbi, functionName: 'execute', data: toHex(exec.returnValue) }) as readonly bigint[];
      expect(out.map(Number)).toEqual(runModel(decoded, input).output);
      ran++;
    }
    expect(ran).toBeGreaterThan(25);
    expect(refused).toBeGreaterThan(25);
  });

  it('bytes that do not hash to the id are never run, even when they still decode', async () => {
    const rng = mulberry32(9);
    const model = randomModel(rng, { maxLayers: 2, maxWidth: 8, spatial: false });
    const bytes = serializeModel(model);
    const { id, storage } = modelStorage(OWNER, bytes);
    for (const [slot, value] of Object.entries(storage)) await evm.stateManager.putStorage(REGISTRY, hexToBytes(slot as Hex), hexToBytes(value));
    // one weight changed in the stored bytes: still a valid model, no longer the one the id names
    const changed = bytes.slice();
    changed[changed.length - 1] ^= 1;
    expect(() => deserializeModel(changed)).not.toThrow();
    const lastWordSlot = Object.keys(storage).at(-1)!;
    const lastWord = new Uint8Array(32);
    const tail = changed.subarray(Math.floor((changed.length - 1) / 32) * 32);
    lastWord.set(tail);
    await evm.stateManager.putStorage(REGISTRY, hexToBytes(lastWordSlot as Hex), lastWord);
    const input = new Uint8Array(shapeSize(model.inputShape));
    const r = await evm.runCall({
      to: EXEC,
      data: hexToBytes(encodeFunctionData({ abi: modelExecAbi, functionName: 'execute', args: [id, toHex(input)] })),
      gasLimit: 30_000_000n,
    });
    expect(r.execResult.exceptionError?.error).toBe('revert');
    expect(decodeErrorResult({ abi: modelExecAbi, data: toHex(r.execResult.returnValue) }).errorName).toBe('NoWeights');
  });
});
