import type { ExecResult, PrecompileInput } from '@ethereumjs/evm';
import { bytesToHex, hexToBytes } from '@ethereumjs/util';
import * as mcl from 'mcl-wasm';
import { decodeErrorResult, decodeFunctionResult, encodeFunctionData, type Hex } from 'viem';
import { beforeAll, describe, expect, it } from 'vitest';
import { keccakHex } from '../../precompiles/model/commitment.ts';
import { serializeModel } from '../../precompiles/model/codec.ts';
import { runModel } from '../../precompiles/model/executor.ts';
import { shapeSize } from '../../precompiles/model/format.ts';
import { mulberry32, randomModel, type Rng } from '../../precompiles/model/random.ts';
import { BN254_P, BN254_R, type G1, type G2, proofToWords, publicSignalsToWords, vkToBytes } from '../../precompiles/groth16/encoding.ts';
import { createAiPrecompiles, modelExecAbi, verifierAbi } from '../../precompiles/index.ts';
import { decodeExecCall, modelExecPrecompile } from '../../precompiles/model-exec.ts';
import { decodeVerifyCall, inferenceVerifierPrecompile } from '../../precompiles/inference-verifier.ts';
import { loadFixture, proveFixture, type RegistryVm, registryVm, releaseFixture } from './precompile-fixture.ts';

const CASES = 10_000;
const big = (f: mcl.Fp): bigint => BigInt(f.getStr(10));

function randomG1(tag: string): G1 {
  const p = mcl.hashAndMapToG1(tag);
  p.normalize();
  return [big(p.getX()), big(p.getY())];
}

function randomG2(tag: string): G2 {
  const p = mcl.hashAndMapToG2(tag);
  p.normalize();
  return [
    [big(p.getX().get_a()), big(p.getX().get_b())],
    [big(p.getY().get_a()), big(p.getY().get_b())],
  ];
}

const rand256 = (rng: Rng): bigint => {
  let v = 0n;
  for (let i = 0; i < 8; i++) v = (v << 32n) | BigInt(rng.int(0, 0xffffffff));
  return v;
};

const encode = (id: Hex, inputs: readonly bigint[], proof: readonly bigint[]): Hex =>
  encodeFunctionData({
    abi: verifierAbi,
    functionName: 'verify',
    args: [id, inputs, proof as unknown as readonly [bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint]],
  });

describe('inference verifier fuzz', () => {
  let r: RegistryVm;
  let genuine: { id: Hex; inputs: bigint[]; proof: bigint[] };
  let ids: Hex[];

  beforeAll(async () => {
    r = await registryVm(await createAiPrecompiles());
    const f = await loadFixture();
    const p = await proveFixture(f, 11n, 12n, 13n);
    await releaseFixture();
    const vk = bytesToHex(vkToBytes(f.vk));
    // another model with its own key (same n), and a deprecated one with the genuine key
    const otherKey = vkToBytes({ alpha: randomG1('a'), beta: randomG2('b'), gamma: randomG2('g'), delta: randomG2('d'), ic: [0, 1, 2, 3].map((i) => randomG1(`ic${i}`)) });
    const [id, other, deprecated] = [1, 2, 3].map((i) => keccakHex(new Uint8Array([i])));
    await r.register(id, vk, '');
    await r.register(other, bytesToHex(otherKey), '');
    await r.register(deprecated, vk, '');
    await r.registry('deprecate', [deprecated]);
    genuine = { id: id!, inputs: publicSignalsToWords(p.publicSignals), proof: proofToWords(p.proof) };
    ids = [id!, other!, deprecated!, keccakHex(new Uint8Array([4]))];
  });

  /** One mutated calldata; mutation kinds weighted so that ~10% reach the pairing (the slow part). */
  function mutate(rng: Rng): Uint8Array {
    const { inputs, proof } = genuine;
    const base = hexToBytes(encode(genuine.id, inputs, proof));
    const k = rng.int(0, 99);
    if (k < 10) return Uint8Array.from({ length: rng.int(0, 600) }, () => rng.int(0, 255));
    if (k < 22) return base.subarray(0, rng.int(0, base.length - 1));
    if (k < 23) return Uint8Array.from([...base, ...Array.from({ length: rng.int(1, 64) }, () => rng.int(0, 255))]);
    if (k < 41) {
      const b = base.slice();
      const bit = rng.int(0, b.length * 8 - 1);
      b[bit >> 3]! ^= 1 << (bit & 7);
      return b;
    }
    const w = [...proof];
    const x = [...inputs];
    let id = genuine.id;
    if (k < 60) w[rng.int(0, 7)] = rng.chance(0.5) ? w[rng.int(0, 7)]! + BN254_P : BN254_P + BigInt(rng.int(0, 1000));
    else if (k < 75) w[rng.int(0, 7)] = rng.chance(0.5) ? rand256(rng) % BN254_P : w[rng.int(0, 7)]! ^ (1n << BigInt(rng.int(0, 253)));
    else if (k < 81) x[rng.int(0, 2)] = BN254_R + BigInt(rng.int(0, 5));
    else if (k < 88) {
      const n = rng.pick([0, 1, 2, 4, 5, 6]);
      while (x.length > n) x.pop();
      while (x.length < n) x.push(BigInt(rng.int(0, 255)));
    } else if (k < 93)
      id = rng.pick(ids.slice(1)); // another key, deprecated, unknown
    else if (k < 96) x[rng.int(0, 2)] = rng.chance(0.5) ? rand256(rng) % BN254_R : (x[rng.int(0, 2)]! + 1n) % BN254_R;
    else if (k < 97) {
      const [ax, ay] = randomG1(`A${rng.int(0, 1e9)}`);
      [w[0], w[1]] = [ax, ay];
    } else if (k < 98)
      w.splice(0, 8, ...w.slice(6), ...w.slice(2, 6), ...w.slice(0, 2)); // A and C swapped
    else return base; // the genuine call itself
    return hexToBytes(encode(id, x, w));
  }

  function isGenuine(data: Uint8Array): boolean {
    const c = decodeVerifyCall(data);
    return (
      c !== undefined &&
      c.modelId.toLowerCase() === genuine.id.toLowerCase() &&
      c.inputs.length === genuine.inputs.length &&
      c.inputs.every((v, i) => v === genuine.inputs[i]) &&
      c.proof.every((v, i) => v === genuine.proof[i])
    );
  }

  it(`${CASES} random and mutated calls: no throw, no false yes`, async () => {
    const rng = mulberry32(0xf022);
    const tally = new Map<string, number>();
    let trues = 0;
    const t0 = performance.now();
    for (let i = 0; i < CASES; i++) {
      const data = mutate(rng);
      const input: PrecompileInput = { data, gasLimit: 10_000_000n, common: r.vm.common, _EVM: r.vm.evm };
      let res: ExecResult;
      try {
        res = await inferenceVerifierPrecompile(input);
      } catch (e) {
        throw new Error(`case ${i} threw for ${bytesToHex(data)}: ${String(e)}`);
      }
      // an out-of-gas here would be an internal failure: the limit covers every price
      const kind = res.exceptionError ? res.exceptionError.error : bytesToHex(res.returnValue).endsWith('1') ? 'true' : 'false';
      if (kind !== 'revert' && kind !== 'true' && kind !== 'false') throw new Error(`case ${i}: ${kind} for ${bytesToHex(data)}`);
      if (kind === 'true') {
        trues++;
        if (!isGenuine(data)) throw new Error(`case ${i}: true for a non-genuine call ${bytesToHex(data)}`);
      }
      const label =
        kind === 'revert' ? (res.returnValue.length > 0 ? decodeErrorResult({ abi: verifierAbi, data: bytesToHex(res.returnValue) as Hex }).errorName : 'revert()') : kind;
      tally.set(label, (tally.get(label) ?? 0) + 1);
    }
    console.log(`fuzz: ${CASES} calls in ${((performance.now() - t0) / 1000).toFixed(1)} s`, Object.fromEntries(tally));
    expect(trues).toBeGreaterThan(0);
    expect(tally.get('false') ?? 0).toBeGreaterThan(100);
  }, 120_000);
});

describe('model execution fuzz', () => {
  it('1,000 random and mutated calls: no throw, outputs equal the executor', async () => {
    const r = await registryVm(await createAiPrecompiles());
    const model = randomModel(mulberry32(3), { maxWidth: 24 });
    const enc = serializeModel(model);
    const id = keccakHex(enc);
    await r.register(id, bytesToHex(vkToBytes({ alpha: randomG1('a'), beta: randomG2('b'), gamma: randomG2('g'), delta: randomG2('d'), ic: [randomG1('i')] })), '');
    await r.registry('publishWeights', [id, bytesToHex(enc)]);
    const rng = mulberry32(99);
    const size = shapeSize(model.inputShape);
    let ran = 0;
    for (let i = 0; i < 1000; i++) {
      const input = Uint8Array.from({ length: rng.chance(0.6) ? size : rng.int(0, 2 * size) }, () => rng.int(0, 255));
      let data = hexToBytes(encodeFunctionData({ abi: modelExecAbi, functionName: 'execute', args: [id, bytesToHex(input)] }));
      const k = rng.int(0, 9);
      if (k === 0) data = data.subarray(0, rng.int(0, data.length - 1));
      else if (k === 1) data = Uint8Array.from({ length: rng.int(0, 200) }, () => rng.int(0, 255));
      else if (k === 2) {
        data = data.slice();
        const bit = rng.int(0, data.length * 8 - 1);
        data[bit >> 3]! ^= 1 << (bit & 7);
      }
      const res = await modelExecPrecompile({ data, gasLimit: 10_000_000n, common: r.vm.common, _EVM: r.vm.evm });
      if (res.exceptionError) {
        expect(res.exceptionError.error).toBe('revert');
        continue;
      }
      const call = decodeExecCall(data)!;
      expect(call.modelId.toLowerCase()).toBe(id);
      const out = decodeFunctionResult({ abi: modelExecAbi, functionName: 'execute', data: bytesToHex(res.returnValue) as Hex });
      expect(out).toEqual(runModel(model, call.input).output.map(BigInt));
      ran++;
    }
    expect(ran).toBeGreaterThan(300);
  });
});
