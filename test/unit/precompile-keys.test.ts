/**
 * Keys under which anyone can forge (identity points, gamma = delta, related points, ...): refused
 * by checkKey (library and precompile), by the registry, and by the verifier for a key already in
 * state; and the forgeries they would allow are real (checked with the same pairing code, minus
 * the checks).
 */
import type { EVM } from '@ethereumjs/evm';
import { type Address, hexToBytes, setLengthLeft } from '@ethereumjs/util';
import * as mcl from 'mcl-wasm';
import { bytesToHex, decodeErrorResult, decodeFunctionResult, encodeErrorResult, encodeFunctionData, type Hex, keccak256, toHex } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifierAbi } from '../../precompiles/abi.ts';
import { BN254_P, type VerifyingKey, vkFromSnarkjs, vkToBytes } from '../../precompiles/groth16/encoding.ts';
import { toG1, toG2 } from '../../precompiles/groth16/points.ts';
import {
  checkKey,
  clearKeyCache,
  initMcl,
  InvalidKeyError,
  isKeyCached,
  KeyCode,
  type PreparedKey,
  prepareKey,
  verifyGroth16,
  verifyPrepared,
} from '../../precompiles/groth16/verify.ts';
import { CALL_BASE, keyCheckGas, verifyGas } from '../../precompiles/gas.ts';
import { inferenceVerifierPrecompile, VERIFIER_ADDRESS } from '../../precompiles/index.ts';
import { readBytesHeader, REGISTRY_ACCOUNT, verifyingKeySlot } from '../../precompiles/registry-layout.ts';
import { degenerateKeys, forgeBetaIsMultipleOfGamma, forgeGammaIsDelta, keyBytes, keyHex, mulG2, randomKey } from '../helpers/keys.ts';
import { loadFixture, REGISTRY, registryAbi, type RegistryVm, registryVm, releaseFixture } from './precompile-fixture.ts';

/** What prepareKey did before keys were checked for forgeability: points only. */
function unchecked(k: VerifyingKey): PreparedKey {
  return { nPublic: k.ic.length - 1, negAlpha: mcl.neg(toG1(k.alpha)), beta: toG2(k.beta), gamma: toG2(k.gamma), delta: toG2(k.delta), ic: k.ic.map((p) => toG1(p)) };
}

const checkKeyData = (vk: Uint8Array): Hex => encodeFunctionData({ abi: verifierAbi, functionName: 'checkKey', args: [bytesToHex(vk)] });
const MADE_UP = [7n, 8n, 9n];

describe('verifying keys that make forgery trivial are refused', () => {
  let r: RegistryVm;
  let real: VerifyingKey;

  beforeAll(async () => {
    await initMcl();
    r = await registryVm();
    real = vkFromSnarkjs((await loadFixture()).vk);
  });
  afterAll(releaseFixture);

  const precompile = async (data: Hex, gasLimit?: bigint) => (await r.call(VERIFIER_ADDRESS, data, { gasLimit })).execResult;
  const refusal = (ret: Uint8Array) => {
    const e = decodeErrorResult({ abi: verifierAbi, data: bytesToHex(ret) });
    return [e.errorName, ...(e.args ?? [])];
  };

  it('a snarkjs key with a phase-2 contribution passes; without one (delta = gamma) it is forgeable, and refused', () => {
    expect(checkKey(vkToBytes(real))).toBeUndefined();
    const bare = { ...real, delta: real.gamma }; // what `snarkjs zkey new` leaves before any contribution
    const forged = forgeGammaIsDelta(bare, MADE_UP);
    expect(verifyPrepared(unchecked(bare), MADE_UP, forged)).toEqual({ kind: 'ok', valid: true });
    expect(checkKey(vkToBytes(bare))).toBe(KeyCode.RelatedG2);
    expect(() => verifyGroth16(vkToBytes(bare), MADE_UP, forged)).toThrow(InvalidKeyError);
  });

  it('the forgery for beta = s gamma works as key-check.ts says, and the key is refused', () => {
    const k = { ...randomKey(3, 'beta'), beta: mulG2(randomKey(3, 'beta').gamma, 5n) };
    const forged = forgeBetaIsMultipleOfGamma(k, 5n, MADE_UP);
    expect(verifyPrepared(unchecked(k), MADE_UP, forged)).toEqual({ kind: 'ok', valid: true });
    expect(checkKey(vkToBytes(k))).toBe(KeyCode.RelatedG2);
  });

  it('every degenerate class: checkKey and prepareKey refuse it, the precompile reverts KeyRefused(code) at its price', async () => {
    const sound = randomKey(3, 'classes');
    expect(checkKey(keyBytes(sound))).toBeUndefined();
    for (const { name, code, key } of degenerateKeys(sound)) {
      const bytes = keyBytes(key);
      expect(checkKey(bytes), name).toBe(code);
      expect(() => prepareKey(bytes), name).toThrow(InvalidKeyError);
      const res = await precompile(checkKeyData(bytes));
      expect(res.exceptionError?.error, name).toBe('revert');
      expect(refusal(res.returnValue), name).toEqual(['KeyRefused', code]);
      expect(res.executionGasUsed, name).toBe(keyCheckGas(3));
    }
    const ok = await precompile(checkKeyData(keyBytes(sound)));
    expect(decodeFunctionResult({ abi: verifierAbi, functionName: 'checkKey', data: bytesToHex(ok.returnValue) })).toBe(true);
    expect(ok.executionGasUsed).toBe(keyCheckGas(3));
  });

  it('malformed keys: layout for CALL_BASE, coordinate >= p, off the curve; out of gas below the price', async () => {
    const bytes = keyBytes(randomKey(2, 'malformed'));
    let res = await precompile(checkKeyData(bytes.subarray(0, bytes.length - 32)));
    expect([refusal(res.returnValue), res.executionGasUsed]).toEqual([['KeyRefused', KeyCode.Layout], CALL_BASE]);
    const word = (i: number, v: bigint) => {
      const out = bytes.slice();
      out.set(setLengthLeft(hexToBytes(toHex(v)), 32), i * 32);
      return out;
    };
    res = await precompile(checkKeyData(word(0, BN254_P + 1n)));
    expect(refusal(res.returnValue)).toEqual(['KeyRefused', KeyCode.CoordinateRange]);
    res = await precompile(checkKeyData(word(16, 5n))); // IC[0].y
    expect(refusal(res.returnValue)).toEqual(['KeyRefused', KeyCode.NotOnCurve]);
    res = await precompile(checkKeyData(bytes), keyCheckGas(2) - 1n);
    expect(res.exceptionError?.error).toBe('out of gas');
    res = await precompile('0x12345678');
    expect([res.exceptionError?.error, res.returnValue.length]).toEqual(['revert', 0]);
  });

  it("the registry refuses each class on register and publishVersion, with the verifier's code", async () => {
    const sound = randomKey(3, 'registry');
    const parent = keccak256(toHex('parent'));
    await r.register(parent, keyHex(sound), '');
    for (const { name, code, key } of degenerateKeys(sound)) {
      const id = keccak256(toHex(name));
      const refused = encodeErrorResult({ abi: registryAbi, errorName: 'KeyRefused', args: [code] });
      await expect(r.register(id, keyHex(key), ''), name).rejects.toThrow(`registry.register failed: revert ${refused}`);
      const data = encodeFunctionData({ abi: registryAbi, functionName: 'publishVersion', args: [parent, id, keyHex(key), ''] });
      const res = (await r.call(REGISTRY, data)).execResult;
      const e = decodeErrorResult({ abi: registryAbi, data: bytesToHex(res.returnValue) });
      expect([e.errorName, ...(e.args ?? [])], name).toEqual(['KeyRefused', code]);
    }
  });

  it('a forgeable key already in state does not verify: the verifier refuses it, never true', async () => {
    const sound = randomKey(3, 'stored');
    const id = keccak256(toHex('stored'));
    await r.register(id, keyHex(sound), '');
    // as if registered before keys were checked: overwrite the stored key with gamma = delta
    const bad = keyBytes({ ...sound, delta: sound.gamma });
    const sm = r.vm.stateManager;
    const header = await readBytesHeader(sm, verifyingKeySlot(hexToBytes(id)));
    const base = BigInt(keccak256(toHex(setLengthLeft(hexToBytes(toHex(header.slot)), 32))));
    for (let i = 0; i < bad.length / 32; i++) await sm.putStorage(REGISTRY_ACCOUNT, setLengthLeft(hexToBytes(toHex(base + BigInt(i))), 32), bad.subarray(i * 32, i * 32 + 32));
    const forged = forgeGammaIsDelta({ ...sound, delta: sound.gamma }, MADE_UP);
    const data = encodeFunctionData({
      abi: verifierAbi,
      functionName: 'verify',
      args: [id, MADE_UP, forged as unknown as readonly [bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint]],
    });
    const res = await precompile(data);
    expect(refusal(res.returnValue)).toEqual(['InvalidVerifyingKey', id]);
    expect(res.executionGasUsed).toBe(verifyGas(3));
  });

  it('a view with eth_call overrides: an overridden key is checked like any other, and no key it reads enters the cache', async () => {
    const sound = randomKey(3, 'override');
    const id = keccak256(toHex('override'));
    await r.register(id, keyHex(sound), '');
    const sm = r.vm.stateManager;
    const header = await readBytesHeader(sm, verifyingKeySlot(hexToBytes(id)));
    const base = BigInt(keccak256(toHex(setLengthLeft(hexToBytes(toHex(header.slot)), 32))));
    /** The state as an eth_call with a stateDiff over the stored key sees it (StorageReader.foreignWrites). */
    const overridden = (key: Uint8Array) => {
      const words = new Map<string, Uint8Array>();
      for (let i = 0; i < key.length / 32; i++) words.set(toHex(setLengthLeft(hexToBytes(toHex(base + BigInt(i))), 32)), key.subarray(i * 32, i * 32 + 32));
      return { foreignWrites: true, getStorage: (a: Address, k: Uint8Array) => Promise.resolve(words.get(toHex(k)) ?? sm.getStorage(a, k)) };
    };
    const run = (view: ReturnType<typeof overridden> | typeof sm, proof: readonly bigint[]) =>
      inferenceVerifierPrecompile({
        data: hexToBytes(
          encodeFunctionData({
            abi: verifierAbi,
            functionName: 'verify',
            args: [id, MADE_UP, proof as unknown as readonly [bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint]],
          }),
        ),
        gasLimit: 10_000_000n,
        common: r.vm.common,
        _EVM: { stateManager: view } as unknown as EVM,
      });
    clearKeyCache();
    // the attacker's forgeable key (gamma = delta) and the proof it makes for any input: refused, never true, never cached
    const bad = { ...sound, delta: sound.gamma };
    let res = await run(overridden(keyBytes(bad)), forgeGammaIsDelta(bad, MADE_UP));
    expect(refusal(res.returnValue)).toEqual(['InvalidVerifyingKey', id]);
    expect(isKeyCached(keyBytes(bad))).toBe(false);
    // a sound key of the attacker's: verified (false for a made-up proof), but not remembered
    const other = randomKey(3, 'override-other');
    const junk = forgeGammaIsDelta(bad, MADE_UP);
    res = await run(overridden(keyBytes(other)), junk);
    expect([res.exceptionError, bytesToHex(res.returnValue)]).toEqual([undefined, `0x${'0'.repeat(64)}`]);
    expect(isKeyCached(keyBytes(other))).toBe(false);
    // the stored key through the same kind of view: checked and used, still not remembered
    res = await run(overridden(keyBytes(sound)), junk);
    expect(res.exceptionError).toBeUndefined();
    expect(isKeyCached(keyBytes(sound))).toBe(false);
    // only state that transactions wrote fills the cache
    res = await run(sm, junk);
    expect(res.exceptionError).toBeUndefined();
    expect(isKeyCached(keyBytes(sound))).toBe(true);
    // and a cached key stays the stored key: an override view cannot swap its bytes in under the same entry
    res = await run(overridden(keyBytes(bad)), forgeGammaIsDelta(bad, MADE_UP));
    expect(refusal(res.returnValue)).toEqual(['InvalidVerifyingKey', id]);
  });
});
