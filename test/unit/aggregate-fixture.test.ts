import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { hexToBytes } from 'viem';
import { ORACLE_FIXTURE_PATH, loadOracleProofs, oracleFixtureSource, strangerSubmission } from '../../devnet/fixtures/oracle-fixture.ts';
import { initMcl, prepareKey, verifyPrepared } from '../../precompiles/groth16/verify.ts';
import { encodeOutputs } from '../../prover/circuit/generate.ts';
import { inputHash } from '../../precompiles/model/input-hash.ts';
import { multiPublicSignals } from '../../prover/circuit/multi.ts';
import { runModel } from '../../precompiles/model/executor.ts';
import { parseModelSpecText } from '../../precompiles/model/spec.ts';

const TINY = parseModelSpecText(readFileSync(new URL('../../precompiles/model/examples/tiny-16-16-4.json', import.meta.url), 'utf8')).model;

describe('InferenceOracle Foundry fixture (contracts/test/foundry/fixtures)', () => {
  const f = loadOracleProofs();
  beforeAll(initMcl);

  it('the committed Solidity fixture is what oracle-fixture.ts makes of the committed proofs (run `npm run contracts:build`)', () => {
    expect(readFileSync(ORACLE_FIXTURE_PATH, 'utf8') === oracleFixtureSource(f), `${ORACLE_FIXTURE_PATH} is stale`).toBe(true);
  });

  it('every proof is a true statement about the model: its signals are what the executor computes', () => {
    for (const x of f.inferences) {
      const out = (input: number[]) => encodeOutputs(TINY, Array.from(runModel(TINY, Uint8Array.from(input)).output));
      const expected =
        x.key === 'multi4'
          ? multiPublicSignals(
              TINY,
              x.inputs.map((i) => Uint8Array.from(i)),
            )
          : [...out(x.inputs[0]!), ...(x.key === 'private' ? [inputHash(x.inputs[0]!)] : x.inputs[0]!.map(BigInt))];
      expect(x.publicSignals, x.key).toEqual(expected.map(String));
    }
  });

  it("the stranger's made-up claims verify under his own key, which the registry's checks accept: its maker knows its trapdoor", () => {
    const sub = strangerSubmission(f);
    const key = prepareKey(hexToBytes(sub.groups[0]!.vk));
    const g = sub.groups[0]!;
    const n = g.publicInputs.length / g.proofs.length;
    g.proofs.forEach((words, i) => {
      const claim = g.publicInputs.slice(i * n, i * n + n);
      expect(verifyPrepared(key, claim, [...words])).toEqual({ kind: 'ok', valid: true });
      expect(verifyPrepared(key, [claim[0]! + 1n, ...claim.slice(1)], [...words])).toEqual({ kind: 'ok', valid: false });
    });
  });

  it('every proof verifies on its own (the L2 precompile verifier), so the batch check has nothing false to hide', () => {
    for (const x of f.inferences) {
      const key = prepareKey(hexToBytes(f.keys[x.key].vk));
      expect(verifyPrepared(key, x.publicSignals.map(BigInt), x.proofWords.map(BigInt))).toEqual({ kind: 'ok', valid: true });
    }
  });
});
