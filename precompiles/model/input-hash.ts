/**
 * The public commitment to a private input: the input packed 31 bytes per field element
 * (little-endian: e_j = sum_k in[31j + k] * 256^k, so every element is < 2^248 < r), then
 * Poseidon (circomlib's parameters, as poseidon-lite computes them) over the elements:
 * Poseidon_k(e) when k <= 16, else a chain h = Poseidon16(e_0..e_15), then
 * h = Poseidon_{1+len}(h, next <= 15 elements) until all are absorbed.
 * The circuit (generate.ts, `inputHashCircom`) computes the same thing from the same plan.
 */
import * as P from 'poseidon-lite';

export const PACK_BYTES = 31;
const MAX_WIDTH = 16;

/** Element count per Poseidon call, in order (the first absorbs up to 16, later ones 15 + h). */
export function hashPlan(elements: number): number[] {
  if (elements <= MAX_WIDTH) return [elements];
  const plan = [MAX_WIDTH];
  for (let left = elements - MAX_WIDTH; left > 0; left -= MAX_WIDTH - 1) plan.push(Math.min(MAX_WIDTH - 1, left));
  return plan;
}

export function packInput(input: Uint8Array | readonly number[]): bigint[] {
  const out: bigint[] = [];
  for (let j = 0; j * PACK_BYTES < input.length; j++) {
    let e = 0n;
    const end = Math.min(input.length, (j + 1) * PACK_BYTES);
    for (let i = end - 1; i >= j * PACK_BYTES; i--) e = (e << 8n) | BigInt(input[i]!);
    out.push(e);
  }
  return out;
}

const poseidon = (xs: bigint[]): bigint => {
  const f = (P as unknown as Record<string, (x: bigint[]) => bigint>)[`poseidon${xs.length}`];
  if (f === undefined) throw new Error(`no Poseidon of width ${xs.length}`);
  return f(xs);
};

/** The one public signal of a private-input circuit. */
export function inputHash(input: Uint8Array | readonly number[]): bigint {
  const e = packInput(input);
  const plan = hashPlan(e.length);
  let h = poseidon(e.slice(0, plan[0]));
  let at = plan[0]!;
  for (const len of plan.slice(1)) {
    h = poseidon([h, ...e.slice(at, at + len)]);
    at += len;
  }
  return h;
}

/** Circom statements computing `inputHash` from `in[n]` (needs circomlib's poseidon.circom). */
export function inputHashCircom(n: number): string {
  const k = Math.ceil(n / PACK_BYTES);
  const elem = (j: number): string => {
    const terms: string[] = [];
    for (let i = j * PACK_BYTES; i < Math.min(n, (j + 1) * PACK_BYTES); i++) {
      const shift = BigInt(i - j * PACK_BYTES) * 8n;
      terms.push(shift === 0n ? `in[${i}]` : `${1n << shift} * in[${i}]`);
    }
    return terms.join(' + ');
  };
  const plan = hashPlan(k);
  const lines: string[] = [];
  let at = 0;
  plan.forEach((len, c) => {
    const width = c === 0 ? len : len + 1;
    lines.push(`    component ph${c} = Poseidon(${width});`);
    let slot = 0;
    if (c > 0) lines.push(`    ph${c}.inputs[${slot++}] <== ph${c - 1}.out;`);
    for (let j = at; j < at + len; j++) lines.push(`    ph${c}.inputs[${slot++}] <== ${elem(j)};`);
    at += len;
  });
  lines.push(`    inputHash <== ph${plan.length - 1}.out;`);
  return lines.join('\n');
}
