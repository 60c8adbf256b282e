import { bytesToHex, createAddressFromString, hexToBytes } from '@ethereumjs/util';
import { decodeErrorResult, decodeFunctionResult, encodeFunctionData, type Hex } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serializeModel } from '../../precompiles/model/codec.ts';
import { keccakHex } from '../../precompiles/model/commitment.ts';
import { runModel } from '../../precompiles/model/executor.ts';
import { type Conv2dLayer, type Model, type Shape3, shapeSize } from '../../precompiles/model/format.ts';
import { mulberry32, randomInput, randomModel } from '../../precompiles/model/random.ts';
import { proofToWords, publicSignalsToWords, vkToBytes } from '../../precompiles/groth16/encoding.ts';
import { EXEC_MAX_WORK, execGas, execWork } from '../../precompiles/exec-gas.ts';
import { CALL_BASE, REGISTRY_WORD, verifyGas } from '../../precompiles/gas.ts';
import { createAiPrecompiles, MODEL_EXEC_ADDRESS, modelExecAbi, VERIFIER_ADDRESS, verifierAbi } from '../../precompiles/index.ts';
import { clearModelCache } from '../../precompiles/model-exec.ts';
import { type FixtureProof, loadFixture, proveFixture, type RegistryVm, registryVm, releaseFixture } from './precompile-fixture.ts';

const verifyData = (id: Hex, inputs: readonly bigint[], proof: readonly bigint[]): Hex =>
  encodeFunctionData({
    abi: verifierAbi,
    functionName: 'verify',
    args: [id, inputs, proof as unknown as readonly [bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint]],
  });
const execData = (id: Hex, input: Uint8Array): Hex => encodeFunctionData({ abi: modelExecAbi, functionName: 'execute', args: [id, bytesToHex(input)] });

function conv(input: Shape3, outChannels: number): Conv2dLayer {
  const k = 3 * 3 * input[2] * outChannels;
  return {
    type: 'conv2d',
    input,
    outChannels,
    kernel: [3, 3],
    stride: [1, 1],
    weights: new Array(k).fill(1),
    biases: new Array(outChannels).fill(0),
    shift: 12,
    activation: 'relu',
  };
}

describe('AI precompiles in a VM with the real registry', () => {
  let r: RegistryVm;
  let vk: Uint8Array;
  let good: FixtureProof;
  let inputs: bigint[];
  let proof: bigint[];
  const model = randomModel(mulberry32(11), { maxWidth: 48, spatial: false });
  const encoding = serializeModel(model);
  const id = keccakHex(encoding);
  const other = keccakHex(new Uint8Array([1, 2, 3]));

  beforeAll(async () => {
    r = await registryVm(await createAiPrecompiles());
    const f = await loadFixture();
    vk = vkToBytes(f.vk);
    good = await proveFixture(f, 6n, 7n, 8n);
    inputs = publicSignalsToWords(good.publicSignals);
    proof = proofToWords(good.proof);
    await r.register(id, bytesToHex(vk), 'ipfs://m');
    await r.register(other, bytesToHex(vk), 'ipfs://o');
    await r.registry('publishWeights', [id, bytesToHex(encoding)]);
  });
  afterAll(releaseFixture);

  const verifyCall = async (data: Hex, gasLimit?: bigint) => (await r.call(VERIFIER_ADDRESS, data, { gasLimit })).execResult;
  const errorOf = (abi: typeof verifierAbi | typeof modelExecAbi, ret: Uint8Array) => {
    const e = decodeErrorResult({ abi, data: bytesToHex(ret) as Hex });
    return [e.errorName, ...(e.args ?? [])];
  };

  it('returns true for the genuine proof and false for another output, charging the schedule', async () => {
    const res = await verifyCall(verifyData(id, inputs, proof));
    expect(res.exceptionError).toBeUndefined();
    expect(decodeFunctionResult({ abi: verifierAbi, functionName: 'verify', data: bytesToHex(res.returnValue) as Hex })).toBe(true);
    expect(res.executionGasUsed).toBe(verifyGas(3));
    const wrong = await verifyCall(verifyData(id, [inputs[0]! + 1n, ...inputs.slice(1)], proof));
    expect(bytesToHex(wrong.returnValue)).toBe(`0x${'0'.repeat(64)}`);
    expect(wrong.executionGasUsed).toBe(verifyGas(3));
  });

  it('reverts with the interface errors and charges only the gas used', async () => {
    const unknown = keccakHex(new Uint8Array([9]));
    let res = await verifyCall(verifyData(unknown, inputs, proof));
    expect(res.exceptionError?.error).toBe('revert');
    expect(errorOf(verifierAbi, res.returnValue)).toEqual(['UnknownModel', unknown]);
    expect(res.executionGasUsed).toBe(CALL_BASE + 2n * REGISTRY_WORD);
    res = await verifyCall(verifyData(id, inputs.slice(0, 2), proof));
    expect(errorOf(verifierAbi, res.returnValue)).toEqual(['PublicInputCount', 3n, 2n]);
    res = await verifyCall(verifyData(id, [inputs[0]!, 2n ** 255n, inputs[2]!], proof));
    expect(errorOf(verifierAbi, res.returnValue)).toEqual(['InvalidPublicInput', 1n]);
    res = await verifyCall(verifyData(id, inputs, [proof[0]!, proof[1]! ^ 2n, ...proof.slice(2)]));
    expect(errorOf(verifierAbi, res.returnValue)).toEqual(['InvalidProof', 2]);
    expect(res.executionGasUsed).toBe(verifyGas(3));
    res = await verifyCall('0x12345678');
    expect(res.exceptionError?.error).toBe('revert');
    expect(res.returnValue.length).toBe(0);
    expect(res.executionGasUsed).toBe(CALL_BASE);
  });

  it('is an out-of-gas halt (all gas) when the limit is below the price', async () => {
    const res = await verifyCall(verifyData(id, inputs, proof), verifyGas(3) - 1n);
    expect(res.exceptionError?.error).toBe('out of gas');
    expect(res.executionGasUsed).toBe(verifyGas(3) - 1n);
  });

  it('refuses a deprecated model', async () => {
    await r.registry('deprecate', [other]);
    const res = await verifyCall(verifyData(other, inputs, proof));
    expect(errorOf(verifierAbi, res.returnValue)).toEqual(['ModelDeprecated', other]);
  });

  it('executes a registered model bit-identically, with gas independent of the cache', async () => {
    const input = randomInput(mulberry32(5), model);
    const expected = runModel(model, input).output.map(BigInt);
    clearModelCache();
    const cold = (await r.call(MODEL_EXEC_ADDRESS, execData(id, input))).execResult;
    const warm = (await r.call(MODEL_EXEC_ADDRESS, execData(id, input))).execResult;
    expect(cold.exceptionError).toBeUndefined();
    expect(decodeFunctionResult({ abi: modelExecAbi, functionName: 'execute', data: bytesToHex(cold.returnValue) as Hex })).toEqual(expected);
    expect(cold.executionGasUsed).toBe(execGas(encoding.length, execWork(model)));
    expect(warm.executionGasUsed).toBe(cold.executionGasUsed);
    expect(warm.returnValue).toEqual(cold.returnValue);
  });

  it('execution reverts: input length, no weights, unknown, too expensive', async () => {
    let res = (await r.call(MODEL_EXEC_ADDRESS, execData(id, new Uint8Array(1000)))).execResult;
    expect(errorOf(modelExecAbi, res.returnValue)).toEqual(['InputLength', BigInt(shapeSize(model.inputShape)), 1000n]);
    res = (await r.call(MODEL_EXEC_ADDRESS, execData(other, new Uint8Array(1)))).execResult;
    expect(errorOf(modelExecAbi, res.returnValue)[0]).toBe('ModelDeprecated');
    const bare = keccakHex(new Uint8Array([4, 5]));
    await r.register(bare, bytesToHex(vk), '');
    res = (await r.call(MODEL_EXEC_ADDRESS, execData(bare, new Uint8Array(1)))).execResult;
    expect(errorOf(modelExecAbi, res.returnValue)).toEqual(['NoWeights', bare]);
    res = (await r.call(MODEL_EXEC_ADDRESS, execData(keccakHex(new Uint8Array([6])), new Uint8Array(1)))).execResult;
    expect(errorOf(modelExecAbi, res.returnValue)[0]).toBe('UnknownModel');

    const big: Model = { inputShape: [16, 16, 16], layers: [conv([16, 16, 16], 16), conv([14, 14, 16], 20), conv([12, 12, 20], 40), conv([10, 10, 40], 60)] };
    const work = execWork(big);
    expect(work).toBeGreaterThan(EXEC_MAX_WORK);
    const bigEnc = serializeModel(big);
    const bigId = keccakHex(bigEnc);
    await r.register(bigId, bytesToHex(vk), '');
    await r.registry('publishWeights', [bigId, bytesToHex(bigEnc)]);
    res = (await r.call(MODEL_EXEC_ADDRESS, execData(bigId, new Uint8Array(4096)))).execResult;
    expect(errorOf(modelExecAbi, res.returnValue)).toEqual(['TooExpensive', BigInt(work), BigInt(EXEC_MAX_WORK)]);
    expect(res.executionGasUsed).toBe(execGas(bigEnc.length, 0));
  });

  it('keeps reverted data from the caller of a contract: revert data reaches RETURNDATA', async () => {
    // CALL(gas, 0x0a01, 0, 0, calldatasize, 0, 0) after copying calldata; then return returndata
    const code = hexToBytes('0x366000600037600060003660006000610a015af13d600060003e3d6000f3');
    const proxy = '0x000000000000000000000000000000000000beef' as const;
    await r.vm.stateManager.putCode(createAddressFromString(proxy), code);
    const unknown = keccakHex(new Uint8Array([42]));
    const res = (await r.call(proxy, verifyData(unknown, inputs, proof))).execResult;
    expect(res.exceptionError).toBeUndefined();
    expect(errorOf(verifierAbi, res.returnValue)).toEqual(['UnknownModel', unknown]);
  });
});
