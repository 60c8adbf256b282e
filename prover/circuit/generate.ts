/**
 * Circom 2 circuit generator for the fixed-point model format (format.ts), weights built in as
 * constants: one circuit per model. The circuit computes exactly what executor.ts computes.
 *
 * SIGNALS
 *  - `in[n]`: the model input (flat, channels-last as in format.ts): public by default; with
 *    { input: 'private' } private, and `inputHash` (a main output, after `out`) is public.
 *    Each value is range-checked to 0..255 (Bits(8)).
 *  - `out[m]`: the model output, public (circom makes main's outputs public). ENCODING: every
 *    output is a field element in 0..255. A last layer with 'relu' (or a maxpool2d) gives the
 *    uint8 value itself; a last layer with 'none' gives the int8 logit + 128 (offset binary),
 *    see decodeOutputs / encodeOutputs.
 *  - snarkjs public signal order: out[0..m-1], then in[0..n-1] (public input) or inputHash.
 *
 * CONSTRAINTS. A dense or conv2d accumulator is a linear combination of the layer's input
 * signals with constant weights, so multiply-accumulates cost nothing; each output neuron costs
 * Bits(33) of acc + 2^32 plus 3 ('relu', 1 if s >= 24) or 6 ('none', 0 if s >= 25)
 * constraints; each input value 8; each maxpool comparison 10. See templates.ts for soundness.
 */
import {
  type Conv2dLayer,
  type DenseLayer,
  type Layer,
  type MaxPool2dLayer,
  type Model,
  type Pad2dLayer,
  isAffine,
  layerOutputShape,
  modelOutputShape,
  shapeSize,
  validateModel,
} from '../../precompiles/model/format.ts';
import { inputHashCircom } from '../../precompiles/model/input-hash.ts';
import { CIRCUIT_LIBRARY } from './templates.ts';

export type InputMode = 'public' | 'private';

export interface GenerateOptions {
  /**
   * 'public' (default): the input values are public signals. 'private': the input stays a
   * private signal and its Poseidon hash (input-hash.ts) is the one public signal after the
   * outputs, so a verifier learns only the commitment.
   */
  input?: InputMode;
  /** Skip validateModel when the caller holds a validated model. */
  trusted?: boolean;
}

export const CIRCOM_PRAGMA = 'pragma circom 2.1.0;';
/** Resolved through the compiler's -l library path (compile.ts), which the cache key covers. */
export const POSEIDON_INCLUDE = 'include "circomlib/circuits/poseidon.circom";';

/** Offset added to an int8 ('none') output to make it a 0..255 field element. */
export const INT8_OUTPUT_OFFSET = 128;

function lastIsInt8(model: Model): boolean {
  const last = model.layers[model.layers.length - 1]!;
  return isAffine(last) && last.activation === 'none';
}

/** Circuit output signals (0..255 field elements) -> the executor's output values. */
export function decodeOutputs(model: Model, signals: readonly (bigint | number | string)[]): number[] {
  const off = lastIsInt8(model) ? INT8_OUTPUT_OFFSET : 0;
  return signals.map((s) => {
    const v = BigInt(s);
    if (v < 0n || v > 255n) throw new Error(`output signal ${v} is outside 0..255`);
    return Number(v) - off;
  });
}

/** The executor's output values -> the circuit's output signals (the public signals to verify). */
export function encodeOutputs(model: Model, output: readonly number[]): bigint[] {
  const off = lastIsInt8(model) ? INT8_OUTPUT_OFFSET : 0;
  return output.map((v) => BigInt(v + off));
}

/** The witness calculator's input object for a model input vector. */
export function circuitInput(input: Uint8Array | readonly number[]): { in: string[] } {
  return { in: Array.from(input, (v) => String(v)) };
}

/**
 * bias + sum w*in[i] as circom text, zero weights left out. The sum is a balanced tree of
 * parentheses: circom evaluates expressions recursively, and a flat 784-term chain overflows its
 * stack (wasm build) while accumulating in a `var` loop is quadratic (25 s vs 5 s for 784-32-10).
 */
function accExpr(bias: number, terms: readonly (readonly [number, number])[]): string {
  const parts = terms.filter(([w]) => w !== 0).map(([w, i]) => (w === 1 ? `in[${i}]` : w < 0 ? `(${w})*in[${i}]` : `${w}*in[${i}]`));
  const tree = (lo: number, hi: number): string => (hi - lo === 1 ? parts[lo]! : `(${tree(lo, (lo + hi) >> 1)} + ${tree((lo + hi) >> 1, hi)})`);
  if (parts.length === 0) return String(bias);
  return bias === 0 ? tree(0, parts.length) : `${bias} + ${tree(0, parts.length)}`;
}

/** A dense or conv2d layer: one requantizer per output over a constant-weight linear combination. */
function affineTemplate(name: string, l: DenseLayer | Conv2dLayer, inSize: number, accs: readonly string[]): string {
  const req = `${l.activation === 'relu' ? 'RequantRelu' : 'RequantNone'}(${l.shift})`;
  const lines = accs.map((acc, j) => `    r[${j}] = ${req};\n    r[${j}].in <== ${acc};\n    out[${j}] <== r[${j}].out;\n`);
  return `template ${name}() {\n    signal input in[${inSize}];\n    signal output out[${accs.length}];\n    component r[${accs.length}];\n${lines.join('')}}\n`;
}

function denseTemplate(name: string, l: DenseLayer): string {
  const { inputs: n, outputs: m } = l;
  const accs: string[] = [];
  for (let j = 0; j < m; j++) {
    const terms: [number, number][] = [];
    for (let i = 0; i < n; i++) terms.push([l.weights[j * n + i]!, i]);
    accs.push(accExpr(l.biases[j]!, terms));
  }
  return affineTemplate(name, l, n, accs);
}

/** Same loops and index formulas as executor.ts runConv2d, output order (oy, ox, o). */
function conv2dTemplate(name: string, l: Conv2dLayer): string {
  const [H, W, C] = l.input;
  const [KH, KW] = l.kernel;
  const [SY, SX] = l.stride;
  const K = l.outChannels;
  const [OH, OW] = layerOutputShape(l) as [number, number, number];
  const accs: string[] = [];
  for (let oy = 0; oy < OH; oy++) {
    for (let ox = 0; ox < OW; ox++) {
      for (let o = 0; o < K; o++) {
        const terms: [number, number][] = [];
        for (let ky = 0; ky < KH; ky++) {
          for (let kx = 0; kx < KW; kx++) {
            const xBase = ((oy * SY + ky) * W + (ox * SX + kx)) * C;
            const wBase = ((o * KH + ky) * KW + kx) * C;
            for (let c = 0; c < C; c++) terms.push([l.weights[wBase + c]!, xBase + c]);
          }
        }
        accs.push(accExpr(l.biases[o]!, terms));
      }
    }
  }
  return affineTemplate(name, l, H * W * C, accs);
}

function maxpoolTemplate(name: string, l: MaxPool2dLayer): string {
  const [H, W, C] = l.input;
  const [PH, PW] = l.pool;
  const [SY, SX] = l.stride;
  const [OH, OW] = layerOutputShape(l) as [number, number, number];
  const outs = OH * OW * C;
  const cmp = PH * PW - 1;
  if (cmp === 0) {
    // 1x1 window: a selection, no constraints
    return `template ${name}() {
    signal input in[${H * W * C}];
    signal output out[${outs}];
    for (var oy = 0; oy < ${OH}; oy++) {
        for (var ox = 0; ox < ${OW}; ox++) {
            for (var c = 0; c < ${C}; c++) {
                out[(oy * ${OW} + ox) * ${C} + c] <== in[((oy * ${SY}) * ${W} + ox * ${SX}) * ${C} + c];
            }
        }
    }
}
`;
  }
  // a chain of Max2 per output over the window in (py, px) order
  return `template ${name}() {
    signal input in[${H * W * C}];
    signal output out[${outs}];
    component mx[${outs}][${cmp}];
    for (var oy = 0; oy < ${OH}; oy++) {
        for (var ox = 0; ox < ${OW}; ox++) {
            for (var c = 0; c < ${C}; c++) {
                var idx = (oy * ${OW} + ox) * ${C} + c;
                for (var k = 0; k < ${cmp}; k++) {
                    var py = (k + 1) \\ ${PW};
                    var px = (k + 1) % ${PW};
                    mx[idx][k] = Max2();
                    mx[idx][k].a <== in[((oy * ${SY} + py) * ${W} + (ox * ${SX} + px)) * ${C} + c];
                    if (k == 0) {
                        mx[idx][k].b <== in[((oy * ${SY}) * ${W} + ox * ${SX}) * ${C} + c];
                    } else {
                        mx[idx][k].b <== mx[idx][k - 1].out;
                    }
                }
                out[idx] <== mx[idx][${cmp - 1}].out;
            }
        }
    }
}
`;
}

/** Zero padding: wiring and constants, no constraints beyond the zeros' assignments. */
function padTemplate(name: string, l: Pad2dLayer): string {
  const [H, W, C] = l.input;
  const [top, left] = l.pads;
  const [OH, OW] = layerOutputShape(l) as [number, number, number];
  return `template ${name}() {
    signal input in[${H * W * C}];
    signal output out[${OH * OW * C}];
    for (var y = 0; y < ${OH}; y++) {
        for (var x = 0; x < ${OW}; x++) {
            for (var c = 0; c < ${C}; c++) {
                if (y >= ${top} && y < ${top + H} && x >= ${left} && x < ${left + W}) {
                    out[(y * ${OW} + x) * ${C} + c] <== in[((y - ${top}) * ${W} + (x - ${left})) * ${C} + c];
                } else {
                    out[(y * ${OW} + x) * ${C} + c] <== 0;
                }
            }
        }
    }
}
`;
}

function layerTemplate(name: string, l: Layer): string {
  switch (l.type) {
    case 'dense':
      return denseTemplate(name, l);
    case 'conv2d':
      return conv2dTemplate(name, l);
    case 'maxpool2d':
      return maxpoolTemplate(name, l);
    case 'pad2d':
      return padTemplate(name, l);
  }
}

/** Circom 2 source of a model's inference circuit (self-contained; compile with --O2). */
export function generateCircuit(model: Model, opts: GenerateOptions = {}): string {
  if (!opts.trusted) validateModel(model);
  const n = shapeSize(model.inputShape);
  const m = shapeSize(modelOutputShape(model));
  const priv = opts.input === 'private';
  const parts: string[] = [
    CIRCOM_PRAGMA,
    `// Generated by prover/circuit/generate.ts: fixed-point model, weights as constants.`,
    `// Input in[${n}] (${priv ? 'private, Poseidon hash public' : 'public'}), output out[${m}] ` + (lastIsInt8(model) ? '(int8 logit + 128).' : '(uint8).'),
    ...(priv ? [POSEIDON_INCLUDE] : []),
    CIRCUIT_LIBRARY,
  ];
  model.layers.forEach((l, i) => parts.push(layerTemplate(`Layer${i}`, l)));

  let body = `template Model() {
    signal input in[${n}];
    signal output out[${m}];
${priv ? '    signal output inputHash;\n' : ''}    component range[${n}];
    for (var i = 0; i < ${n}; i++) {
        range[i] = Bits(8);
        range[i].in <== in[i];
    }
`;
  let prev = 'in';
  let prevSize = n;
  model.layers.forEach((l, i) => {
    body += `    component l${i} = Layer${i}();
    for (var i = 0; i < ${prevSize}; i++) l${i}.in[i] <== ${prev}[i];
`;
    prev = `l${i}.out`;
    prevSize = shapeSize(layerOutputShape(l));
  });
  body += `    for (var i = 0; i < ${m}; i++) out[i] <== ${prev}[i];
${priv ? `${inputHashCircom(n)}\n` : ''}}
`;
  parts.push(body);
  parts.push(priv ? 'component main = Model();\n' : 'component main {public [in]} = Model();\n');
  return parts.join('\n');
}
