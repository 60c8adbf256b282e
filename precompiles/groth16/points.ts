/**
 * BN254 points into mcl, with every check explicit. Points are loaded without any implicit
 * validation (setX/setY/setZ copy memory) and then checked in the order IInferenceVerifier's
 * codes report: coordinate < p (1), on the curve (2), in the prime-order subgroup (3). G1 of
 * BN254 has cofactor 1, so only G2 needs the subgroup check; without it a point on the twist of
 * small order could make the pairing equation hold.
 *
 * The G2 subgroup check is Scott's endomorphism test (eprint 2022/348, section 5.1; the one
 * gnark-crypto's bn254 G2 IsInSubGroup uses): a point P of the twist is in G2 iff
 * [x+1]P + psi([x]P) + psi^2([x]P) = psi^3([2x]P), for the BN parameter x (63 bits, and
 * x != 4 mod 13, x != 92 mod 97 as the test requires). One 63-bit multiplication instead of
 * mcl's isValidOrder ([r]P, 254 bits): ~0.2 ms instead of ~0.65 ms per point.
 */
import * as mcl from 'mcl-wasm';
import { BN254_P, type G1, type G2 } from './encoding.ts';
import { CodedError } from '../errors.ts';

/** The BN254 (alt_bn128) curve parameter: p and r are polynomials in it. */
export const BN254_X = 4965661367192848881n;

type BigFp2 = readonly [bigint, bigint];

const fpMod = (a: bigint): bigint => ((a % BN254_P) + BN254_P) % BN254_P;

function fp2Pow(base: BigFp2, e: bigint): BigFp2 {
  const mul = (a: BigFp2, b: BigFp2): BigFp2 => [fpMod(a[0] * b[0] - a[1] * b[1]), fpMod(a[0] * b[1] + a[1] * b[0])];
  let result: BigFp2 = [1n, 0n];
  let x = base;
  for (; e > 0n; e >>= 1n, x = mul(x, x)) if (e & 1n) result = mul(result, x);
  return result;
}

/** The twist's non-residue 9 + u; psi's coefficients are xi^((p-1)/3) and xi^((p-1)/2). */
const XI: BigFp2 = [9n, 1n];
const PSI_BIG = { x: fp2Pow(XI, (BN254_P - 1n) / 3n), y: fp2Pow(XI, (BN254_P - 1n) / 2n) };
let psiConst: { x: mcl.Fp2; y: mcl.Fp2; bnX: mcl.Fr } | undefined;

function mclConstants(): { x: mcl.Fp2; y: mcl.Fp2; bnX: mcl.Fr } {
  if (psiConst) return psiConst;
  const fp2 = (v: BigFp2): mcl.Fp2 => {
    const r = new mcl.Fp2();
    r.set_a(fp(v[0]));
    r.set_b(fp(v[1]));
    return r;
  };
  const bnX = new mcl.Fr();
  bnX.setStr(BN254_X.toString(16), 16);
  psiConst = { x: fp2(PSI_BIG.x), y: fp2(PSI_BIG.y), bnX };
  return psiConst;
}

function conj(a: mcl.Fp2): mcl.Fp2 {
  const r = new mcl.Fp2();
  r.set_a(a.get_a());
  r.set_b(mcl.neg(a.get_b()));
  return r;
}

/**
 * psi = untwist-Frobenius-twist: (x, y) -> (conj(x) xi^((p-1)/3), conj(y) xi^((p-1)/2)). The same
 * on Jacobian or projective coordinates, with z -> conj(z) (conj is a field automorphism).
 */
function psi(q: mcl.G2): mcl.G2 {
  const c = mclConstants();
  const r = new mcl.G2();
  r.setX(mcl.mul(conj(q.getX()), c.x));
  r.setY(mcl.mul(conj(q.getY()), c.y));
  r.setZ(conj(q.getZ()));
  return r;
}

/** Whether a point already known to be on the twist lies in G2 (the r-torsion): Scott's test above. */
export function inG2Subgroup(q: mcl.G2): boolean {
  const xq = mcl.mul(q, mclConstants().bnX);
  const psiXq = psi(xq);
  const lhs = mcl.add(mcl.add(mcl.add(xq, q), psiXq), psi(psiXq));
  return lhs.isEqual(psi(psi(psi(mcl.dbl(xq)))));
}

export enum ProofCode {
  CoordinateRange = 1,
  NotOnCurve = 2,
  NotInSubgroup = 3,
}

export class PointError extends CodedError<ProofCode> {
  constructor(override readonly code: ProofCode) {
    super(`invalid point (code ${code})`);
  }
}

function fp(v: bigint): mcl.Fp {
  if (v < 0n || v >= BN254_P) throw new PointError(ProofCode.CoordinateRange);
  const x = new mcl.Fp();
  x.setStr(v.toString(16), 16);
  return x;
}

function fp2(c0: bigint, c1: bigint): mcl.Fp2 {
  const x = new mcl.Fp2();
  x.set_a(fp(c0));
  x.set_b(fp(c1));
  return x;
}

/** (0, 0) is the EIP-197 encoding of infinity, which no proof or key point may be. */
export function toG1(p: G1): mcl.G1 {
  const x = fp(p[0]);
  const y = fp(p[1]);
  const q = new mcl.G1();
  const one = new mcl.Fp();
  one.setInt(1);
  q.setX(x);
  q.setY(y);
  q.setZ(one);
  // (0, 0) is not on y^2 = x^3 + 3 either
  if (!q.isValid()) throw new PointError(ProofCode.NotOnCurve);
  return q;
}

export function toG2(p: G2): mcl.G2 {
  const x = fp2(p[0][0], p[0][1]);
  const y = fp2(p[1][0], p[1][1]);
  const q = new mcl.G2();
  const one = new mcl.Fp2();
  one.setInt(1, 0);
  q.setX(x);
  q.setY(y);
  q.setZ(one);
  // infinity (all zero) is not on the curve
  if (!q.isValid()) throw new PointError(ProofCode.NotOnCurve);
  if (!inG2Subgroup(q)) throw new PointError(ProofCode.NotInSubgroup);
  return q;
}
