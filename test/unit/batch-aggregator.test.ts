import { copyFileSync, cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { keccak256, zeroAddress } from 'viem';
import type { Hex } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initMcl, verifyGroth16 } from '../../precompiles/groth16/verify.ts';
import { BatchAggregator, knownInput } from '../../prover/aggregate/batch-aggregator.ts';
import type { FulfilledInference } from '../../node/rollup/oracle-submission.ts';
import { buildBatchSubmission } from '../../node/rollup/oracle-submission.ts';
import { decodeMultiSignals } from '../../prover/circuit/multi.ts';
import { inputHash } from '../../precompiles/model/input-hash.ts';
import { runModel } from '../../precompiles/model/executor.ts';
import { parseModelSpecText } from '../../precompiles/model/spec.ts';
import { compileModel } from '../../prover/pipeline/compile-model.ts';
import { loadModelDir } from '../../prover/pipeline/prove.ts';
import { ProverPool } from '../../prover/worker/pool.ts';

const SPEC = parseModelSpecText(readFileSync(new URL('../../precompiles/model/examples/tiny-16-16-4.json', import.meta.url), 'utf8'));
const inputOf = (seed: number) => Array.from({ length: 16 }, (_, i) => (i * 13 + seed * 29 + 5) % 256);
const silent = pino({ level: 'silent' });

/**
 * The poster's aggregation step on a real `model compile --aggregate 4` package, proved by the
 * real worker pool: which inferences go into which proof, and every way back to single proofs.
 */
describe('batch aggregation (k = 4, private-input package)', () => {
  let work: string;
  let dir: string;
  let modelId: Hex;
  let pool: ProverPool;
  const held = new Map<bigint, number[]>();
  const items: FulfilledInference[] = [];

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'aggregator-'));
    dir = join(work, 'tiny');
    modelId = (await compileModel(SPEC, { outDir: dir, input: 'private', aggregate: 4 })).manifest.modelId;
    pool = new ProverPool({ concurrency: 2 }, { logger: silent });
    const vk = readFileSync(join(dir, 'vk.bin'));
    // 8 real L2 proofs: 0-5 with their inputs held, 6 lost (a restart), 7 held but claiming other outputs
    for (let i = 0; i < 8; i++) {
      const input = inputOf(i);
      const p = await pool.prove(dir, input);
      const id = BigInt(100 + i);
      if (i !== 6) held.set(id, input);
      const outputs = p.publicSignals.slice(0, 4).map(BigInt);
      if (i === 7) outputs[0] = (outputs[0]! + 1n) % 256n;
      items.push({
        requestId: id,
        modelId,
        outputs,
        inputSignals: [inputHash(input)],
        single: { vk, modelId, publicSignals: p.publicSignals, proofWords: p.proofWords },
        prover: zeroAddress,
        vkHash: keccak256(vk),
      });
    }
    await initMcl();
  }, 600_000);

  afterAll(async () => {
    await pool?.close();
    rmSync(work, { recursive: true, force: true });
  });

  const aggregator = (modelDir: (id: Hex) => Promise<string | undefined>) => new BatchAggregator({ modelDir, jobInput: (id) => held.get(id), prover: pool, logger: silent });

  it('the manifest lists the aggregate circuit, its files and key hash', () => {
    const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    expect(m.aggregate).toMatchObject({ k: 4, publicSignalsPerSlot: 2, vkHash: keccak256(readFileSync(join(dir, 'agg4.vk.bin'))), constraints: 4356, ptauPower: 13 });
    const names = m.artifacts.map((a: { name: string }) => a.name);
    for (const f of ['agg4.circuit.wasm', 'agg4.circuit.zkey', 'agg4.vk.bin', 'agg4.verification_key.json']) expect(names).toContain(f);
  });

  it('known inputs go into ceil(n/4) verified proofs, the last padded; the rest keep their L2 proofs', async () => {
    const r = await aggregator(async (id) => (id === modelId ? dir : undefined)).aggregate(items);
    expect(r.aggregateProofs).toBe(2);
    expect(r.aggregated).toBe(6);
    expect(r.placement).toEqual([
      { proof: 0, slot: 0 },
      { proof: 0, slot: 1 },
      { proof: 0, slot: 2 },
      { proof: 0, slot: 3 },
      { proof: 1, slot: 0 },
      { proof: 1, slot: 1 },
      { proof: 2 },
      { proof: 3 },
    ]);
    const aggVk = readFileSync(join(dir, 'agg4.vk.bin'));
    for (const p of r.proofs.slice(0, 2))
      expect(
        verifyGroth16(
          aggVk,
          p.publicSignals.map(BigInt),
          p.proofWords.map((w) => BigInt(w)),
        ),
      ).toEqual({ kind: 'ok', valid: true });
    // slot s of proof 1 is inference 4 + s, the padding repeats inference 5
    const slots = decodeMultiSignals(SPEC.model, r.proofs[1]!.publicSignals.map(BigInt));
    expect(slots.map((s) => s.inputHash)).toEqual([4, 5, 5, 5].map((i) => inputHash(inputOf(i))));
    expect(slots[0]!.output).toEqual(Array.from(runModel(SPEC.model, Uint8Array.from(inputOf(4))).output));
    expect(r.proofs.slice(2)).toEqual([items[6]!.single, items[7]!.single]);
    // one submission with both keys
    const sub = buildBatchSubmission(0n, r.proofs);
    expect(sub.groups.map((g) => g.proofs.length)).toEqual([2, 2]);
  }, 300_000);

  it('no package, or a package whose aggregate key does not match its manifest: every inference keeps its L2 proof', async () => {
    const none = await aggregator(async () => undefined).aggregate(items.slice(0, 4));
    expect(none).toMatchObject({ aggregateProofs: 0, aggregated: 0, proofs: items.slice(0, 4).map((x) => x.single) });
    const broken = join(work, 'broken');
    cpSync(dir, broken, { recursive: true });
    copyFileSync(join(dir, 'vk.bin'), join(broken, 'agg4.vk.bin'));
    const r = await aggregator(async () => broken).aggregate(items.slice(0, 4));
    expect(r).toMatchObject({ aggregateProofs: 0, aggregated: 0 });
    expect(r.placement).toEqual([0, 1, 2, 3].map((proof) => ({ proof })));
  }, 120_000);

  it('an input is known from public signals or a held private input matching the hash, and only with the L2 outputs', () => {
    const m = loadModelDir(dir);
    const x = items[0]!;
    const input = inputOf(0);
    const none = () => undefined;
    expect(knownInput(x, m, (id) => held.get(id))).toEqual(input);
    expect(knownInput(x, m, none)).toBeUndefined();
    expect(knownInput(x, m, () => inputOf(1))).toBeUndefined(); // another input: its hash differs
    // a public-input request carries the input itself
    expect(knownInput({ ...x, inputSignals: input.map(BigInt) }, m, none)).toEqual(input);
    expect(knownInput({ ...x, inputSignals: [...input.slice(1), 256].map(BigInt) }, m, none)).toBeUndefined();
    expect(knownInput({ ...x, inputSignals: input.slice(1).map(BigInt) }, m, none)).toBeUndefined();
    expect(knownInput({ ...x, outputs: [...x.outputs.slice(1), 0n] }, m, (id) => held.get(id))).toBeUndefined();
  });

  it('the pool refuses an aggregate task the directory cannot take', async () => {
    await expect(pool.proveAggregate(dir, 2, [inputOf(1), inputOf(2)])).rejects.toMatchObject({
      code: 'PROVE_FAILED',
      message: expect.stringContaining('has a 4-inference circuit'),
    });
    await expect(pool.proveAggregate(dir, 4, [inputOf(1)])).rejects.toMatchObject({ code: 'PROVE_FAILED', message: expect.stringContaining('1 inputs for a 4-inference circuit') });
    const p = await pool.proveAggregate(dir, 4, [1, 2, 3, 4].map(inputOf));
    expect(p.outputs[2]).toEqual(Array.from(runModel(SPEC.model, Uint8Array.from(inputOf(3))).output));
  }, 120_000);
});
