import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeVk, proofToWords } from '../../precompiles/groth16/encoding.ts';
import { initMcl, verifyGroth16 } from '../../precompiles/groth16/verify.ts';
import { inputHash } from '../../precompiles/model/input-hash.ts';
import { keccakHex } from '../../precompiles/model/commitment.ts';
import { runModel } from '../../precompiles/model/executor.ts';
import { parseModelSpecText } from '../../precompiles/model/spec.ts';
import { compileModel } from '../../prover/pipeline/compile-model.ts';
import { ProveError, loadModelDir, proveInference } from '../../prover/pipeline/prove.ts';
import { PtauError, SHIPPED_PTAU_DIR, operatorPtau, powerFor, readPtauInfo } from '../../prover/setup/ptau.ts';
import { withCurve } from '../../prover/setup/snarkjs-curve.ts';

const SPEC = parseModelSpecText(readFileSync(new URL('../../precompiles/model/examples/tiny-16-16-4.json', import.meta.url), 'utf8'));
const SHIPPED = join(SHIPPED_PTAU_DIR, 'pot11.ptau');
const INPUT = Array.from({ length: 16 }, (_, i) => (i * 53 + 7) % 256);

const words = (ws: readonly string[]) => ws.map((w) => BigInt(w));

describe('Groth16 setup and proving (snarkjs), checked by snarkjs and by the precompile verifier', () => {
  let work: string;
  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'prover-'));
    await initMcl();
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  for (const mode of ['public', 'private'] as const) {
    it(`${mode} input: compile, setup, prove; the proof verifies for its signals only`, async () => {
      const dir = join(work, mode);
      const { manifest } = await compileModel(SPEC, { outDir: dir, input: mode, ptauPath: SHIPPED });
      expect(manifest.modelId).toBe(keccakHex(readFileSync(join(dir, 'model.bin'))));
      expect(manifest.publicInputs).toBe(mode === 'public' ? 20 : 5);
      expect(manifest.ptauPower).toBe(11);
      for (const a of manifest.artifacts) expect(readFileSync(join(dir, a.name)).length).toBe(a.size);

      const p = await proveInference(loadModelDir(dir), INPUT);
      expect(p.output).toEqual(runModel(SPEC.model, Uint8Array.from(INPUT)).output);
      expect(p.publicSignals.at(-1)).toBe(mode === 'public' ? String(INPUT.at(-1)) : String(inputHash(INPUT)));
      expect(p.proofWords.map(BigInt)).toEqual(proofToWords(p.proof));

      const vk = JSON.parse(readFileSync(join(dir, 'verification_key.json'), 'utf8'));
      const bumped = [...p.publicSignals];
      bumped[0] = String(BigInt(bumped[0]!) + 1n);
      const [ok, bad] = await withCurve(async (s) => [await s.groth16.verify(vk, p.publicSignals, p.proof), await s.groth16.verify(vk, bumped, p.proof)]);
      expect([ok, bad]).toEqual([true, false]);

      // the on-chain layout (vk.bin, proof words) verifies the same way in the precompile's verifier
      const vkBin = readFileSync(join(dir, 'vk.bin'));
      expect(decodeVk(vkBin).ic.length).toBe(manifest.publicInputs + 1);
      const proofWords = p.proofWords.map(BigInt);
      expect(verifyGroth16(vkBin, words(p.publicSignals), proofWords)).toEqual({ kind: 'ok', valid: true });
      expect(verifyGroth16(vkBin, words(bumped), proofWords)).toEqual({ kind: 'ok', valid: false });
    }, 180_000);
  }

  it('refuses an input of the wrong length or outside uint8 before proving', async () => {
    const m = loadModelDir(join(work, 'public'));
    await expect(proveInference(m, [1, 2, 3])).rejects.toThrow(ProveError);
    await expect(
      proveInference(
        m,
        INPUT.map((v, i) => (i === 3 ? 256 : v)),
      ),
    ).rejects.toThrow(/input\[3\] = 256 is not a uint8/);
  });
});

describe('Powers of Tau files', () => {
  it('reads the power and phase-2 readiness from a ptau file', () => {
    expect(readPtauInfo(SHIPPED)).toEqual({ power: 11, prepared: true });
  });

  it('refuses an operator ptau that is too small, missing or not a ptau', () => {
    expect(() => operatorPtau(SHIPPED, 12)).toThrow(/has power 11, the circuit needs 12/);
    expect(() => operatorPtau('/nonexistent/pot.ptau', 8)).toThrow(PtauError);
    const dir = mkdtempSync(join(tmpdir(), 'ptau-'));
    try {
      writeFileSync(join(dir, 'x.ptau'), 'not a ptau at all');
      expect(() => operatorPtau(join(dir, 'x.ptau'), 8)).toThrow(/is not a ptau file/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("sizes K by snarkjs's rule: 2^K > constraints + public signals", () => {
    expect(powerFor(2047 - 20, 20)).toBe(11);
    expect(powerFor(2048 - 20, 20)).toBe(12);
    expect(powerFor(10, 2)).toBe(8); // never below 2^8: tiny domains gain nothing
  });
});
