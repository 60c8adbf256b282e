/**
 * Seeded random models and inputs for property tests and examples. Deterministic for a seed on
 * every platform (32-bit integer PRNG, no Math.random), so a failing case is reproduced from its
 * seed alone.
 */
import { type Activation, type Layer, type Model, type Shape, type Shape3, INT32_MAX, INT32_MIN, MAX_SHIFT, layerOutputShape, shapeSize } from './format.ts';

export interface Rng {
  /** Uniform 32-bit unsigned integer. */
  u32(): number;
  /** Uniform integer in lo..hi inclusive (hi - lo < 2^32). */
  int(lo: number, hi: number): number;
  /** true with probability p. */
  chance(p: number): boolean;
  pick<T>(items: readonly T[]): T;
}

/** mulberry32: tiny, fast, full 2^32 period; plenty for test-case generation (not crypto). */
export function mulberry32(seed: number): Rng {
  let s = seed >>> 0;
  const u32 = (): number => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
  // u32() / 2^32 is in [0, 1) exactly; times a range <= 2^32 it stays below the range (the gap
  // below it dwarfs one ulp), and IEEE doubles make the result the same on every platform
  const int = (lo: number, hi: number): number => lo + Math.floor((u32() / 2 ** 32) * (hi - lo + 1));
  return { u32, int, chance: (p) => u32() / 2 ** 32 < p, pick: (items) => items[int(0, items.length - 1)]! };
}

export interface RandomModelOptions {
  /** Most layers (default 4). */
  maxLayers?: number;
  /** Widest dense layer and longest 1-D input (default 32). */
  maxWidth?: number;
  /** Allow a 3-D input with conv2d / maxpool2d / pad2d layers before the dense ones (default true). */
  spatial?: boolean;
  /** Last layer's activation; default: either, at random. */
  lastActivation?: Activation;
}

/**
 * A shift that keeps typical outputs in range: with uniform int8 weights and uint8 inputs the
 * accumulator's spread is about sqrt(fanIn) * 2^13.4, and we want about 2^7 out. Jittered, and
 * sometimes anything in 0..31, so tests see both saturated and unsaturated outputs.
 */
function randomShift(rng: Rng, fanIn: number): number {
  if (rng.chance(0.1)) return rng.int(0, MAX_SHIFT);
  const s = Math.round(6 + 0.5 * Math.log2(fanIn)) + rng.int(-3, 3);
  return Math.min(MAX_SHIFT, Math.max(0, s));
}

/** Mostly small biases, now and then the int32 extremes (saturation and the accumulator bound). */
function randomBias(rng: Rng, shift: number): number {
  if (rng.chance(0.05)) return rng.pick([INT32_MIN, INT32_MAX]);
  if (rng.chance(0.1)) return rng.int(INT32_MIN, INT32_MAX);
  const r = 2 ** Math.min(30, shift + 8);
  return rng.int(-r, r - 1);
}

function randomWeights(rng: Rng, n: number): number[] {
  const extremes = rng.chance(0.1); // some layers all at -128/127: the largest |acc|
  return Array.from({ length: n }, () => (extremes ? rng.pick([-128, 127]) : rng.int(-128, 127)));
}

export function randomDense(rng: Rng, inputs: number, outputs: number, activation: Activation): Layer {
  const shift = randomShift(rng, inputs);
  const biases = Array.from({ length: outputs }, () => randomBias(rng, shift));
  return { type: 'dense', inputs, outputs, weights: randomWeights(rng, inputs * outputs), biases, shift, activation };
}

function randomSpatial(rng: Rng, input: Shape3, activation: Activation): Layer {
  const [h, w, c] = input;
  const window = (): readonly [number, number] => [rng.int(1, Math.min(3, h)), rng.int(1, Math.min(3, w))];
  const stride = (): readonly [number, number] => [rng.int(1, 2), rng.int(1, 2)];
  if (rng.chance(0.3)) return { type: 'maxpool2d', input, pool: window(), stride: stride() };
  if (rng.chance(0.2)) return { type: 'pad2d', input, pads: [rng.int(0, 2), rng.int(0, 2), rng.int(0, 2), rng.int(0, 2)] };
  const kernel = window();
  const outChannels = rng.int(1, 4);
  const shift = randomShift(rng, kernel[0] * kernel[1] * c);
  return {
    type: 'conv2d',
    input,
    outChannels,
    kernel,
    stride: stride(),
    weights: randomWeights(rng, outChannels * kernel[0] * kernel[1] * c),
    biases: Array.from({ length: outChannels }, () => randomBias(rng, shift)),
    shift,
    activation,
  };
}

/** A random valid model. */
export function randomModel(rng: Rng, opts: RandomModelOptions = {}): Model {
  const maxLayers = opts.maxLayers ?? 4;
  const maxWidth = opts.maxWidth ?? 32;
  const count = rng.int(1, maxLayers);
  const lastActivation = (): Activation => opts.lastActivation ?? rng.pick(['relu', 'none'] as const);
  const spatial = (opts.spatial ?? true) && rng.chance(0.4);
  const inputShape: Shape = spatial ? [rng.int(1, 8), rng.int(1, 8), rng.int(1, 3)] : [rng.int(1, maxWidth)];
  const layers: Layer[] = [];
  let shape = inputShape;
  for (let i = 0; i < count; i++) {
    const last = i === count - 1;
    const activation = last ? lastActivation() : 'relu';
    // spatial layers first, while the shape is 3-D; a dense layer flattens it
    const layer = shape.length === 3 && rng.chance(0.7) ? randomSpatial(rng, shape as Shape3, activation) : randomDense(rng, shapeSize(shape), rng.int(1, maxWidth), activation);
    layers.push(layer);
    shape = layerOutputShape(layer);
  }
  return { inputShape, layers };
}

/** A random input for a model: uniform uint8, sometimes all 0 or all 255. */
export function randomInput(rng: Rng, model: Model): Uint8Array {
  const n = shapeSize(model.inputShape);
  const mode = rng.int(0, 9);
  return Uint8Array.from({ length: n }, () => (mode === 0 ? 0 : mode === 1 ? 255 : rng.int(0, 255)));
}
