/**
 * Which verifying keys the chain accepts (the registry at registration through the verifier's
 * checkKey, and the verifier again before any verification): points that are well formed, and no
 * key under which anyone, without the setup's trapdoor, can make a proof of any statement.
 *
 * Verification checks e(A, B) = e(alpha, beta) * e(vk_x, gamma) * e(C, delta), with
 * vk_x = IC[0] + sum x_i IC[i], and A, B, C chosen by the prover. Its soundness rests on the
 * prover knowing no discrete-log relation between the key's points. Keys that give one away:
 *   - gamma = delta: A = alpha, B = beta, C = -vk_x verifies for every input. More generally
 *     delta = s gamma for a known s: C = -vk_x / s.
 *   - beta = s gamma: A = C = s alpha + vk_x, B = gamma + delta.
 *     beta = s delta: A = vk_x, B = gamma + delta, C = vk_x - s alpha.
 *   - alpha or beta the identity (e(alpha, beta) = 1): A = C = vk_x, B = gamma + delta.
 *   - gamma the identity: vk_x drops out, so one proof verifies for every input; delta the
 *     identity: C drops out. Neither can even be loaded (no affine point), and both are refused.
 *   - IC[i] the identity (i >= 1): input i drops out of vk_x, so a proof for one value of it
 *     verifies for all; IC[i] = +-IC[j] (i != j >= 1): only x_i +- x_j counts, so one output can
 *     be raised and another lowered. (IC[0] is refused as the identity too: snarkjs adds a
 *     constraint for every public signal, the constant one included, so no honest key has it.)
 * "Known s" is tested as a X = +-b Y with 1 <= a, b <= RELATION_BOUND among beta, gamma, delta:
 * snarkjs keys use gamma = the G2 generator, so this also catches a beta or delta that is a small
 * multiple of the generator. A relation with a large secret s is the trapdoor itself, which only
 * whoever ran the setup knows (IModelRegistry: a proof is as trustworthy as the owner's setup).
 * Larger multiples of IC points are not tested: mcl costs ~25 us per G1 operation from JS, and
 * 15 multiples of up to 4,097 points would cost seconds.
 */
import * as mcl from 'mcl-wasm';
import { decodeVk, EncodingError, type G1, type G2, type VerifyingKey } from './encoding.ts';
import { PointError, toG1, toG2 } from './points.ts';
import { CodedError } from '../errors.ts';

/** IInferenceVerifier.KeyRefused codes; 1-3 are the point codes of InvalidProof. */
export enum KeyCode {
  CoordinateRange = 1,
  NotOnCurve = 2,
  NotInSubgroup = 3,
  /** Not (17 + 2n) words, or n > MAX_PUBLIC_INPUTS. */
  Layout = 4,
  /** alpha, beta, gamma, delta or an IC point is the point at infinity. */
  Identity = 5,
  /** a X = +-b Y for two of beta, gamma, delta, with 1 <= a, b <= RELATION_BOUND. */
  RelatedG2 = 6,
  /** IC[i] = +-IC[j] for i != j >= 1. */
  RelatedInputs = 7,
}

/** Largest multiplier tried when looking for a relation between beta, gamma and delta. */
export const RELATION_BOUND = 16;

export class InvalidKeyError extends CodedError<KeyCode> {
  override name = 'InvalidKeyError';
  constructor(
    override readonly code: KeyCode,
    message: string,
  ) {
    super(message);
  }
}

export interface KeyPoints {
  alpha: mcl.G1;
  beta: mcl.G2;
  gamma: mcl.G2;
  delta: mcl.G2;
  /** n + 1 points. */
  ic: mcl.G1[];
}

function point<T>(load: () => T, what: string, zero: boolean): T {
  if (zero) throw new InvalidKeyError(KeyCode.Identity, `${what} is the point at infinity`);
  try {
    return load();
  } catch (e) {
    if (e instanceof PointError) throw new InvalidKeyError(e.code as number as KeyCode, `${what}: ${e.message}`);
    throw e;
  }
}

const g1 = (p: G1, what: string): mcl.G1 => point(() => toG1(p), what, p[0] === 0n && p[1] === 0n);
const g2 = (p: G2, what: string): mcl.G2 =>
  point(
    () => toG2(p),
    what,
    [...p[0], ...p[1]].every((c) => c === 0n),
  );

/**
 * The affine x of a G2 point other than the identity, as a string key: mcl's serialization of the
 * point is x (canonical, little-endian c0 then c1) with y's sign in the top bit, which is cleared
 * (x < p < 2^254 never sets it). ~5x cheaper than serializing getX() to hex.
 */
function affineX(p: mcl.G2): string {
  const b = p.serialize();
  b[b.length - 1]! &= 0x7f;
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');
}

/**
 * Whether a X = +-b Y for two different points among `points` and 1 <= a, b <= RELATION_BOUND:
 * their multiples then share an affine x (a point and its negation are the only points with a
 * given x). Multiples of one point never collide (a P = +-b P needs r | a -+ b). Normalizes the
 * given points in place (the same points, z = 1).
 */
export function smallRelation(points: readonly mcl.G2[]): boolean {
  const multiples: mcl.G2[] = [];
  const owner: number[] = [];
  points.forEach((p, i) => {
    let q = p;
    for (let k = 1; k <= RELATION_BOUND; k++) {
      multiples.push(q);
      owner.push(i);
      q = mcl.add(q, p);
    }
  });
  mcl.normalizeVec(multiples);
  const seen = new Map<string, number>();
  for (let j = 0; j < multiples.length; j++) {
    const x = affineX(multiples[j]!);
    const first = seen.get(x);
    if (first !== undefined && first !== owner[j]) return true;
    seen.set(x, owner[j]!);
  }
  return false;
}

/** IC[i] = +-IC[j] for i != j >= 1: equal affine x (coordinates are canonical, < p, by now). */
function inputsRelated(vk: VerifyingKey): boolean {
  const xs = new Set<bigint>();
  for (let i = 1; i < vk.ic.length; i++) {
    const x = vk.ic[i]![0];
    if (xs.has(x)) return true;
    xs.add(x);
  }
  return false;
}

/**
 * Decodes a key (on-chain layout) and loads its points, or throws InvalidKeyError with the first
 * failing check: layout, then each point in layout order (identity, range, curve, subgroup), then
 * the relations. mcl must be initialised.
 */
export function loadKey(vkBytes: Uint8Array): KeyPoints {
  let vk: VerifyingKey;
  try {
    vk = decodeVk(vkBytes);
  } catch (e) {
    if (e instanceof EncodingError) throw new InvalidKeyError(KeyCode.Layout, e.message);
    throw e;
  }
  const key: KeyPoints = {
    alpha: g1(vk.alpha, 'alpha'),
    beta: g2(vk.beta, 'beta'),
    gamma: g2(vk.gamma, 'gamma'),
    delta: g2(vk.delta, 'delta'),
    ic: vk.ic.map((p, i) => g1(p, `IC[${i}]`)),
  };
  if (smallRelation([key.beta, key.gamma, key.delta])) {
    throw new InvalidKeyError(KeyCode.RelatedG2, `two of beta, gamma, delta are a X = +-b Y with a, b <= ${RELATION_BOUND}`);
  }
  if (inputsRelated(vk)) throw new InvalidKeyError(KeyCode.RelatedInputs, 'two IC points (i >= 1) are equal or opposite');
  return key;
}
