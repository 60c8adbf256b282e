/**
 * Where the inference verifier's time goes: median time of each step of preparing a key and of
 * verifying a proof with mcl-wasm (fixture key: 3 public inputs, test/unit/precompile-fixture.ts).
 * Steps run round robin (one call of each per round) and report medians, so a loaded machine
 * slows them alike. Figures only. `tsx bench/verify-steps.ts [rounds]`.
 */
import { keccak_256 } from '@noble/hashes/sha3.js';
import * as mcl from 'mcl-wasm';
import { decodeVk, proofFromWords, proofToWords, publicSignalsToWords, vkToBytes } from '../precompiles/groth16/encoding.ts';
import { loadKey, smallRelation } from '../precompiles/groth16/key-check.ts';
import { inG2Subgroup, toG1, toG2 } from '../precompiles/groth16/points.ts';
import { initMcl, millerLoopVec, prepareKey, verifyGroth16, verifyPrepared, withPreparedKey } from '../precompiles/groth16/verify.ts';
import { randomKey } from '../test/helpers/keys.ts';
import { loadFixture, proveFixture, releaseFixture } from '../test/unit/precompile-fixture.ts';

const runs = Number(process.argv[2] ?? 200);

const steps: { name: string; fn: () => unknown; ms: number[] }[] = [];
const row = (name: string, fn: () => unknown) => {
  steps.push({ name, fn, ms: [] });
};

/** Round robin: one call of every step per round, so all steps share the machine's load alike. */
function run(): void {
  for (let round = -5; round < runs; round++) {
    for (const s of steps) {
      const t0 = performance.now();
      s.fn();
      if (round >= 0) s.ms.push(performance.now() - t0);
    }
  }
}

await initMcl();
const f = await loadFixture();
const p = await proveFixture(f, 3n, 4n, 5n);
await releaseFixture();
const vk = vkToBytes(f.vk);
const inputs = publicSignalsToWords(p.publicSignals);
const words = proofToWords(p.proof);
const key = decodeVk(vk);
const pts = loadKey(vk);
const proof = proofFromWords(words);
const a = toG1(proof.a);
const b = toG2(proof.b);
const c = toG1(proof.c);
const prepared = prepareKey(vk);
const gammaPre = new mcl.PrecomputedG2(pts.gamma);
const deltaPre = new mcl.PrecomputedG2(pts.delta);
const frs = inputs.map((v) => {
  const x = new mcl.Fr();
  x.setStr(v.toString(16), 16);
  return x;
});
const vkx = mcl.add(pts.ic[0]!, mcl.mulVec(pts.ic.slice(1), frs));
const ml = mcl.mul(mcl.millerLoop(a, b), mcl.precomputedMillerLoop2(mcl.neg(vkx), gammaPre, mcl.neg(c), deltaPre));
const negAlpha = mcl.neg(pts.alpha);

row('keccak256 of key bytes', () => keccak_256(vk));
row('decodeVk', () => decodeVk(vk));
row('loadKey (all key checks)', () => loadKey(vk));
row('  toG1 (range + curve)', () => toG1(key.alpha));
row('  toG2 (range + curve + subgroup)', () => toG2(key.beta));
row('  G2 subgroup: mcl isValidOrder ([r]P)', () => b.isValidOrder());
row('  G2 subgroup: endomorphism test', () => inG2Subgroup(b));
row('  G2 isValid (on the curve)', () => b.isValid());
row('  smallRelation (48 G2 multiples)', () => smallRelation([pts.beta, pts.gamma, pts.delta]));
row('pairing(alpha, beta)', () => mcl.pairing(pts.alpha, pts.beta));
row('PrecomputedG2 (one)', () => new mcl.PrecomputedG2(pts.gamma).destroy());
row('prepareKey (total)', () => prepareKey(vk));
row('proof: toG1 A + toG2 B + toG1 C', () => [toG1(proof.a), toG2(proof.b), toG1(proof.c)]);
row('fr() x3 (setStr hex)', () =>
  inputs.map((v) => {
    const x = new mcl.Fr();
    x.setStr(v.toString(16), 16);
    return x;
  }),
);
row('mulVec (3) + add', () => mcl.add(pts.ic[0]!, mcl.mulVec(pts.ic.slice(1), frs)));
row('millerLoop(A, B)', () => mcl.millerLoop(a, b));
row('precomputedMillerLoop2', () => mcl.precomputedMillerLoop2(mcl.neg(vkx), gammaPre, mcl.neg(c), deltaPre));
row('millerLoopVec, 3 pairs', () => millerLoopVec([a, vkx, c], [b, pts.gamma, pts.delta]));
row('millerLoopVec, 4 pairs', () => millerLoopVec([a, vkx, c, negAlpha], [b, pts.gamma, pts.delta, pts.beta]));
row('finalExp', () => mcl.finalExp(ml));
row('verifyPrepared, first use (4-pair loop)', () => verifyPrepared(prepared, inputs, words));
row('verifyGroth16 (cache hit, 3-pair loop)', () => verifyGroth16(vk, inputs, words));
// another key of 3 inputs (random points), never remembered, so never cached: the proof does not verify, at the same cost
const other = vkToBytes(randomKey(3, 'verify-steps'));
row('worst: uncached key, prepare + verify', () => withPreparedKey(other, false, (k) => verifyPrepared(k, inputs, words)));

run();
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const w = Math.max(...steps.map((r) => r.name.length));
process.stdout.write(`median of ${runs} rounds, ms\n`);
for (const { name, ms } of steps) process.stdout.write(`${name.padEnd(w)}  ${median(ms).toFixed(3)}\n`);
process.exit(0);
