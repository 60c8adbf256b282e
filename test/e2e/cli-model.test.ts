import { mkdir, mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inputHash } from '../../precompiles/model/input-hash.ts';
import { buildOnnx } from '../../prover/onnx/onnx-builder.ts';
import { SHIPPED_PTAU_DIR } from '../../prover/setup/ptau.ts';
import { TINY_SPEC, cli, cliOk } from '../helpers/ai.ts';
import { removeDir } from '../helpers/dev-node.ts';

describe('ai-rollup model (CLI): clear errors, exit code 1, nothing half-written', () => {
  let work: string;
  let dir: string;
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'cli-model-'));
    dir = join(work, 'tiny');
    const out = JSON.parse(await cliOk(['model', 'compile', TINY_SPEC, '--out', dir]));
    expect(out.modelId).toBe('0xdcd2a561e5297250f7578e6f35f8d48948e972d22483dce76f1df48586fb8380');
  }, 300_000);
  afterAll(() => removeDir(work));

  it('--help on every model command', async () => {
    for (const cmd of [['model'], ['model', 'import'], ['model', 'compile'], ['model', 'prove'], ['model', 'register']]) {
      const r = await cli([...cmd, '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('Usage: ai-rollup');
    }
  });

  it('a manifest that lists every artifact with its sha256', async () => {
    const m = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8'));
    expect(m).toMatchObject({ inputMode: 'public', inputSize: 16, outputSize: 4, publicInputs: 20, macs: 320 });
    expect(m.artifacts.map((a: { name: string }) => a.name)).toEqual(expect.arrayContaining(['model.bin', 'circuit.zkey', 'vk.bin', 'verification_key.json', 'circuit.wasm']));
  });

  it('model import: an operator it cannot map, or agreement below --min-agreement, exits 1 and writes nothing', async () => {
    const digits = join(import.meta.dirname, '../fixtures/digits');
    const dirOf = join(work, 'import');
    await writeFile(join(work, 'cal.json'), JSON.stringify([[0.5, 1, 2]]));
    const onnx = buildOnnx({
      input: { name: 'x', shape: [1, 3] },
      output: { name: 'y', shape: [1, 2] },
      initializers: [{ name: 'w', dims: [2, 3], data: [1, 2, 3, 4, 5, 6] }],
      nodes: [
        { name: 'fc', op: 'Gemm', inputs: ['x', 'w'], outputs: ['h'], attrs: { transB: { i: 1 } } },
        { name: 'squash', op: 'Tanh', inputs: ['h'], outputs: ['y'] },
      ],
    });
    await writeFile(join(work, 'tanh.onnx'), onnx);
    await mkdir(dirOf);
    const unmapped = await cli(['model', 'import', join(work, 'tanh.onnx'), '--calibration', join(work, 'cal.json'), '--out', join(dirOf, 'tanh.json')]);
    expect(unmapped.code).toBe(1);
    expect(unmapped.stderr).toMatch(/node 'squash' \(Tanh\): operator Tanh has no mapping/);
    const strict = await cli([
      'model',
      'import',
      join(digits, 'digits-mlp.onnx'),
      '--calibration',
      join(digits, 'digits-train.csv'),
      '--eval',
      join(digits, 'digits-test.csv'),
      '--labels',
      'last',
      '--min-agreement',
      '1',
      '--out',
      join(dirOf, 'd.json'),
    ]);
    expect(strict.code).toBe(1);
    expect(strict.stderr).toMatch(/top-1 agreement .* is below the required 100.00%/);
    expect(strict.stdout).toMatch(/evaluation\s+497/); // the report is still printed
    expect(await readdir(dirOf)).toEqual([]);
  });

  it('refuses bad specs with the JSON path of the problem', async () => {
    const missing = await cli(['model', 'compile', join(work, 'nope.json')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/cannot read model spec .*nope\.json: ENOENT/);

    await writeFile(join(work, 'bad.json'), '{"name": ');
    const notJson = await cli(['model', 'compile', join(work, 'bad.json')]);
    expect(notJson.code).toBe(1);
    expect(notJson.stderr).toMatch(/^error: /);

    const spec = JSON.parse(await readFile(TINY_SPEC, 'utf8'));
    spec.layers[1].weights[2][3] = 300;
    await writeFile(join(work, 'w.json'), JSON.stringify(spec));
    const badWeight = await cli(['model', 'compile', join(work, 'w.json'), '--out', join(work, 'w')]);
    expect(badWeight.code).toBe(1);
    expect(badWeight.stderr).toContain('layers[1].weights[2][3]');
  });

  it('refuses bad inputs before proving', async () => {
    const cases: [unknown, RegExp][] = [
      [[1, 2, 3], /input has 3 values, the model takes 16/],
      [Array.from({ length: 16 }, (_, i) => (i === 5 ? 256 : i)), /input\[5\] = 256 is not a uint8/],
      [Array.from({ length: 16 }, (_, i) => (i === 2 ? 1.5 : i)), /input\[2\] = 1.5 is not a uint8/],
      [{ values: [] }, /must hold a JSON array/],
    ];
    for (const [input, msg] of cases) {
      await writeFile(join(work, 'in.json'), JSON.stringify(input));
      const r = await cli(['model', 'prove', '--model', dir, '--input', join(work, 'in.json')]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(msg);
    }
    const noModel = await cli(['model', 'prove', '--model', join(work, 'absent'), '--input', join(work, 'in.json')]);
    expect(noModel.code).toBe(1);
    expect(noModel.stderr).toContain('is not a compiled model directory');
  });

  it('proves with {"input": [...]} too, and register refuses without a key', async () => {
    await writeFile(join(work, 'ok.json'), JSON.stringify({ input: Array.from({ length: 16 }, (_, i) => i * 16) }));
    const proof = JSON.parse(await cliOk(['model', 'prove', '--model', dir, '--input', join(work, 'ok.json')]));
    expect(proof.publicSignals).toHaveLength(20);
    expect(proof.proofWords).toHaveLength(8);
    const r = await cli(['model', 'register', '--model', dir, '--rpc', 'http://127.0.0.1:1']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('--private-key');
  });

  it('--private-input with an operator --ptau: the Poseidon hash of the input is the one public input', async () => {
    const priv = join(work, 'tiny-private');
    const ptau = join(SHIPPED_PTAU_DIR, 'pot11.ptau');
    const out = JSON.parse(await cliOk(['model', 'compile', TINY_SPEC, '--out', priv, '--private-input', '--ptau', ptau]));
    expect(out).toMatchObject({ inputMode: 'private', publicInputs: 5, ptauPower: 11 });
    const input = Array.from({ length: 16 }, (_, i) => 255 - i * 3);
    await writeFile(join(work, 'p.json'), JSON.stringify(input));
    await cliOk(['model', 'prove', '--model', priv, '--input', join(work, 'p.json'), '--out', join(work, 'p.proof.json')]);
    const proof = JSON.parse(await readFile(join(work, 'p.proof.json'), 'utf8'));
    expect(proof.publicSignals).toHaveLength(5);
    expect(proof.publicSignals[4]).toBe(String(inputHash(input)));

    await writeFile(join(work, 'fake.ptau'), 'not a ptau');
    const bad = await cli(['model', 'compile', TINY_SPEC, '--out', join(work, 'x'), '--ptau', join(work, 'fake.ptau')]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('is not a ptau file');
  });
});
