/**
 * Gas of the model-execution precompile (0x..0A02), part of the published schedule (README "Gas
 * schedule"):
 *
 *   CALL_BASE + EXEC_BASE + 2 * REGISTRY_WORD + EXEC_WEIGHT_WORD * (weight words)
 *     + ceil(execWork(model) / EXEC_WORK_PER_GAS)
 *
 * execWork counts every step the executor and the precompile take, per kind of step, in work
 * units of about one dense multiply-accumulate (~2 ns here): reading the input, each layer's
 * arithmetic (dense and conv2d multiply-accumulates, conv2d's kernel taps, maxpool2d's window
 * reads, one requantization or maximum per output value, a fixed cost per layer for its arrays),
 * and encoding the output. The weights below are the measured cost of each step rounded UP (the
 * calibration table, measured with `npm run bench:ai`, is in bench/ai-worst.ts), so no layer type
 * can buy a step for less than it costs: before this count, maxpool2d layers cost no gas at all
 * and a maxpool-heavy model burned ~9x more CPU per gas than ecPairing.
 *
 * Policy (as for the verifier, precompiles/gas.ts): the worst case of every layer type pays at
 * least ecPairing's gas per CPU second on the same node. One gas buys EXEC_WORK_PER_GAS units
 * (~64 ns of nominal work), where parity with ecPairing (~2.3 Mgas/s here) would allow ~430 ns,
 * so a step may cost up to ~6x its weight before that case falls to parity; bench:ai prints every
 * layer type's worst case next to ecPairing in one run. The total is known from the model's shape
 * before it runs, is capped at EXEC_MAX_WORK, and does not depend on the input's values.
 */
import { type Layer, type Model, layerOutputShape, shapeSize } from './model/format.ts';
import { CALL_BASE, REGISTRY_WORD, weightWords } from './gas.ts';

/** Work units per step (1 unit ~ one dense multiply-accumulate, ~2 ns on the reference machine). */
export const WORK = {
  /** dense: one multiply-accumulate (measured ~1.9 ns). */
  denseMac: 1,
  /** conv2d: one multiply-accumulate (~3 ns). */
  convMac: 2,
  /** conv2d: one kernel tap (output value x kernel position), the index arithmetic around its channel loop (~9-40 ns). */
  convTap: 24,
  /** dense and conv2d: one output value's requantization and store (~57 ns with its row set-up). */
  requant: 32,
  /** maxpool2d: one window read and comparison (~2-9 ns). */
  poolRead: 4,
  /** maxpool2d: one output value (~10 ns). */
  poolOutput: 8,
  /** pad2d: one output value (zero fill, and a copy for an input value; measured with the pools). */
  padOutput: 8,
  /** Any layer: dispatch and its output array. */
  layer: 256,
  /** One input byte: range check and copy into the executor's array (~20 ns). */
  input: 16,
  /** One output value: ABI encoding (~100 ns, precompiles/int256-array.ts). */
  output: 64,
} as const;

export const EXEC_BASE = 2_000n;
/** One 32-byte word of published weights (amortized by the decoded-model cache, see model-exec.ts). */
export const EXEC_WEIGHT_WORD = 64n;
/** Work units one gas buys (rounded up per call). */
export const EXEC_WORK_PER_GAS = 32;
/** ~10-20 ms of executor time at most: one call cannot stall a block. */
export const EXEC_MAX_WORK = 5_000_000;

/** Work units of one layer (see WORK). */
export function layerWork(l: Layer): number {
  const outputs = shapeSize(layerOutputShape(l));
  switch (l.type) {
    case 'dense':
      return WORK.layer + outputs * WORK.requant + l.inputs * l.outputs * WORK.denseMac;
    case 'conv2d': {
      const taps = outputs * l.kernel[0] * l.kernel[1];
      return WORK.layer + outputs * WORK.requant + taps * WORK.convTap + taps * l.input[2] * WORK.convMac;
    }
    case 'maxpool2d':
      return WORK.layer + outputs * WORK.poolOutput + outputs * l.pool[0] * l.pool[1] * WORK.poolRead;
    case 'pad2d':
      return WORK.layer + outputs * WORK.padOutput;
  }
}

/** Work units of one call on `model`: input, every layer, output encoding. */
export function execWork(model: Model): number {
  const last = model.layers[model.layers.length - 1];
  const outputs = last === undefined ? shapeSize(model.inputShape) : shapeSize(layerOutputShape(last));
  let work = shapeSize(model.inputShape) * WORK.input + outputs * WORK.output;
  for (const l of model.layers) work += layerWork(l);
  return work;
}

export function workGas(work: number): bigint {
  return BigInt(Math.ceil(work / EXEC_WORK_PER_GAS));
}

/** Gas of a call that runs (work = 0: the part charged before the model is known). */
export function execGas(weightBytes: number, work: number): bigint {
  return CALL_BASE + EXEC_BASE + 2n * REGISTRY_WORD + EXEC_WEIGHT_WORD * BigInt(weightWords(weightBytes)) + workGas(work);
}
