/**
 * Multi-inference circuits: k inferences of one model in one Groth16 circuit, so L1 pays one
 * pairing (and two ecMuls) per k inferences instead of per inference (see prover/aggregate/).
 *
 * SIGNALS
 *  - `in[k][n]`: the k model inputs, private, each range-checked to 0..255 by the single-model
 *    circuit it feeds.
 *  - public, per slot s = 0..k-1, in this order:
 *      slots[2s]     = packed outputs: sum_j out_s[j] * 256^j, out_s[j] the single circuit's
 *                      output encoding (0..255 field elements; int8 logit + 128 for a last layer
 *                      without activation), so the packing is injective for m <= 31 outputs;
 *      slots[2s + 1] = inputHash(in[s]) (input-hash.ts, Poseidon of the packed input).
 *    Two public signals per inference whatever the model's width, and a verifier learns only the
 *    commitment to each input.
 *
 * The per-slot circuit is generate.ts's private-input `Model` template itself (its source, with
 * only the `main` line replaced), so each slot computes bit for bit what the executor computes.
 */
import { inputHash } from '../../precompiles/model/input-hash.ts';
import { decodeOutputs, encodeOutputs, generateCircuit } from './generate.ts';
import { runModel } from '../../precompiles/model/executor.ts';
import { type Model, modelOutputShape, shapeSize, validateModel } from '../../precompiles/model/format.ts';
import { CodedError } from '../../precompiles/errors.ts';

/** 31 bytes of outputs stay below 2^248 < r: the packed value is one field element, no wrap. */
export const MAX_PACKED_OUTPUTS = 31;
/** Bounds the generated source; k = 64 of a small model is already ~70k constraints. */
export const MAX_SLOTS = 64;

export class MultiCircuitError extends CodedError {
  override readonly code = 'MULTI_CIRCUIT_ERROR';

  override name = 'MultiCircuitError';
}

const SINGLE_MAIN = 'component main = Model();\n';

function checkShape(model: Model, k: number): { n: number; m: number } {
  if (!Number.isInteger(k) || k < 1 || k > MAX_SLOTS) throw new MultiCircuitError(`k = ${k}: expected 1..${MAX_SLOTS} inferences per circuit`);
  const m = shapeSize(modelOutputShape(model));
  if (m > MAX_PACKED_OUTPUTS) throw new MultiCircuitError(`${m} outputs do not pack into one field element (at most ${MAX_PACKED_OUTPUTS})`);
  return { n: shapeSize(model.inputShape), m };
}

/** Circom 2 source proving k inferences of `model` (compile with --O2, like generate.ts's). */
export function generateMultiCircuit(model: Model, k: number): string {
  validateModel(model);
  const { n, m } = checkShape(model, k);
  const single = generateCircuit(model, { input: 'private', trusted: true });
  // generate.ts ends every source with its main component; anything else means its format moved
  if (!single.endsWith(SINGLE_MAIN)) throw new MultiCircuitError('generate.ts no longer ends a private-input circuit with `component main = Model();`');
  const pack = Array.from({ length: m }, (_, j) => (j === 0 ? 'inf[s].out[0]' : `${256n ** BigInt(j)} * inf[s].out[${j}]`)).join(' + ');
  return `${single.slice(0, -SINGLE_MAIN.length)}
// ${k} inferences of the model above: per slot the packed outputs, then the input hash.
template MultiModel() {
    signal input in[${k}][${n}];
    signal output slots[${2 * k}];
    component inf[${k}];
    for (var s = 0; s < ${k}; s++) {
        inf[s] = Model();
        for (var i = 0; i < ${n}; i++) inf[s].in[i] <== in[s][i];
        slots[2 * s] <== ${pack};
        slots[2 * s + 1] <== inf[s].inputHash;
    }
}

component main = MultiModel();
`;
}

/** Packed outputs of one slot: the circuit's output encoding, little-endian bytes. */
export function packOutputs(model: Model, output: readonly number[]): bigint {
  return encodeOutputs(model, output).reduce((acc, v, j) => acc + (v << (8n * BigInt(j))), 0n);
}

/** The public signals a multi-inference proof of these inputs has, from the native executor. */
export function multiPublicSignals(model: Model, inputs: readonly (Uint8Array | readonly number[])[]): bigint[] {
  checkShape(model, inputs.length);
  return inputs.flatMap((input) => [packOutputs(model, Array.from(runModel(model, input).output)), inputHash(input)]);
}

export interface SlotResult {
  /** The executor's output values (int8 logits or uint8). */
  output: number[];
  inputHash: bigint;
}

/** Public signals of a multi-inference proof -> per-slot outputs and input hashes. */
export function decodeMultiSignals(model: Model, signals: readonly bigint[]): SlotResult[] {
  const m = shapeSize(modelOutputShape(model));
  if (signals.length === 0 || signals.length % 2 !== 0) throw new MultiCircuitError(`${signals.length} signals: expected 2 per slot`);
  const slots: SlotResult[] = [];
  for (let s = 0; s < signals.length; s += 2) {
    const packed = signals[s]!;
    if (packed >> (8n * BigInt(m)) !== 0n) throw new MultiCircuitError(`slot ${s / 2}: packed outputs exceed ${m} bytes`);
    const bytes = Array.from({ length: m }, (_, j) => (packed >> (8n * BigInt(j))) & 0xffn);
    slots.push({ output: decodeOutputs(model, bytes), inputHash: signals[s + 1]! });
  }
  return slots;
}

/** The witness calculator's input object for k inputs. */
export function multiCircuitInput(inputs: readonly (Uint8Array | readonly number[])[]): { in: string[][] } {
  return { in: inputs.map((input) => Array.from(input, (v) => String(v))) };
}
