/**
 * BN254 points into mcl, with every check explicit. Points are loaded without any implicit
 * validation (setX/setY/setZ copy memory) and then checked in the order IInferenceVerifier's
 * codes report: coordinate < p (1), on the curve (2), in the prime-order subgroup (3). G1 of
 * BN254 has cofactor 1, so only G2 needs the subgroup check; without it a point on the twist of
 * small order could make the pairing equation hold.
 */
import * as mcl from 'mcl-wasm';
import { BN254_P, type G1, type G2 } from './encoding.ts';
import { CodedError } from '../errors.ts';

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
  if (!q.isValidOrder()) throw new PointError(ProofCode.NotInSubgroup);
  return q;
}
