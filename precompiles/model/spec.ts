/**
 * SPEC.json: the model file people write. Same fields as format.ts, weights as nested arrays:
 *
 *   { "name": "tiny", "version": 1, "description": "optional",
 *     "input": { "shape": [16] },                          // or [H, W, C]
 *     "layers": [
 *       { "type": "dense", "inputs": 16, "outputs": 4, "weights": [[...16 ints], ...4 rows],
 *         "biases": [...4 ints], "shift": 7, "activation": "relu" },
 *       { "type": "conv2d", "input": [H, W, C], "outChannels": K, "kernel": [KH, KW],
 *         "stride": [SY, SX], "weights": [K][KH][KW][C], "biases": [K], "shift": s,
 *         "activation": "relu" | "none" },
 *       { "type": "maxpool2d", "input": [H, W, C], "pool": [PH, PW], "stride": [SY, SX] },
 *       { "type": "pad2d", "input": [H, W, C], "pads": [top, left, bottom, right] } ] }
 *
 * Objects are strict (an unknown key is an error, so a typo like "activaton" cannot silently
 * fall back to anything). Every error is a ModelFormatError whose path names the JSON location,
 * e.g. `layers[1].weights[3][0]`. name/version/description are metadata, not part of the id.
 */
import { z } from 'zod';
import { type Layer, type Model, INT32_MAX, INT32_MIN, MAX_SHIFT, MAX_TENSOR, type ModelErrorCode, ModelFormatError, validateGeometry, validateModel } from './format.ts';

const int8 = z.int().min(-128).max(127);
const int32 = z.int().min(INT32_MIN).max(INT32_MAX);
const dim = z.int().min(1).max(MAX_TENSOR);
const pair = z.tuple([dim, dim]);
const shape3 = z.tuple([dim, dim, dim]);
const padding = z.int().min(0).max(MAX_TENSOR);
const requant = { biases: z.array(int32), shift: z.int().min(0).max(MAX_SHIFT), activation: z.enum(['relu', 'none']) };

const layerSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('dense'), inputs: dim, outputs: dim, weights: z.array(z.array(int8)), ...requant }),
  z.strictObject({
    type: z.literal('conv2d'),
    input: shape3,
    outChannels: dim,
    kernel: pair,
    stride: pair,
    weights: z.array(z.array(z.array(z.array(int8)))),
    ...requant,
  }),
  z.strictObject({ type: z.literal('maxpool2d'), input: shape3, pool: pair, stride: pair }),
  z.strictObject({ type: z.literal('pad2d'), input: shape3, pads: z.tuple([padding, padding, padding, padding]) }),
]);

export const modelSpecSchema = z.strictObject({
  name: z.string().min(1).max(128),
  version: z
    .int()
    .min(0)
    .max(2 ** 32 - 1),
  description: z.string().max(4096).optional(),
  input: z.strictObject({ shape: z.array(dim) }), // rank is checked by validateModel
  layers: z.array(layerSchema),
});

export type ModelSpec = z.infer<typeof modelSpecSchema>;
export type LayerSpec = z.infer<typeof layerSchema>;
export interface ModelMeta {
  name: string;
  version: number;
  description?: string;
}
export interface ParsedSpec extends ModelMeta {
  model: Model;
}

export function formatPath(path: readonly PropertyKey[]): string {
  return path.map((k, i) => (typeof k === 'number' ? `[${k}]` : i === 0 ? String(k) : `.${String(k)}`)).join('');
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v = root;
  for (const k of path) v = v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[k] : undefined;
  return v;
}

function zodError(root: unknown, issues: readonly z.core.$ZodIssue[]): ModelFormatError {
  const issue = issues[0]!;
  let code: ModelErrorCode = 'SCHEMA';
  if (issue.code === 'invalid_type' && issue.expected === 'int' && typeof valueAt(root, issue.path) === 'number') code = 'NOT_INTEGER';
  else if (issue.code === 'too_big' || issue.code === 'too_small') code = issue.origin === 'array' ? 'BAD_LENGTH' : issue.origin === 'string' ? 'SCHEMA' : 'OUT_OF_RANGE';
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more problems)` : '';
  return new ModelFormatError(code, issue.message + more, formatPath(issue.path));
}

/** Checks that a nested array has the declared dimensions and flattens it (row-major). */
function flatten(value: unknown, dims: readonly number[], path: string, out: number[] = []): number[] {
  const arr = value as unknown[]; // the schema already made it an array of the right depth
  if (arr.length !== dims[0]) throw new ModelFormatError('BAD_LENGTH', `expected ${dims[0]} entries, got ${arr.length}`, path);
  if (dims.length === 1) {
    for (const v of arr) out.push(v as number);
    return out;
  }
  arr.forEach((v, i) => flatten(v, dims.slice(1), `${path}[${i}]`, out));
  return out;
}

function toLayer(l: LayerSpec, path: string): Layer {
  validateGeometry(l, path); // the declared dimensions first: they define the weights' nesting
  switch (l.type) {
    case 'dense':
      return { ...l, weights: flatten(l.weights, [l.outputs, l.inputs], `${path}.weights`) };
    case 'conv2d': {
      const dims = [l.outChannels, l.kernel[0], l.kernel[1], l.input[2]];
      return { ...l, weights: flatten(l.weights, dims, `${path}.weights`) };
    }
    case 'maxpool2d':
    case 'pad2d':
      return { ...l };
  }
}

/** Parses an already JSON-decoded SPEC object. Throws ModelFormatError naming the JSON path. */
export function parseModelSpec(json: unknown): ParsedSpec {
  const r = modelSpecSchema.safeParse(json);
  if (!r.success) throw zodError(json, r.error.issues);
  const spec = r.data;
  const model: Model = { inputShape: spec.input.shape, layers: spec.layers.map((l, i) => toLayer(l, `layers[${i}]`)) };
  validateModel(model);
  const meta: ModelMeta = { name: spec.name, version: spec.version };
  if (spec.description !== undefined) meta.description = spec.description;
  return { ...meta, model };
}

/** Parses SPEC.json text. */
export function parseModelSpecText(text: string): ParsedSpec {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ModelFormatError('BAD_JSON', `not valid JSON: ${(e as Error).message}`);
  }
  return parseModelSpec(json);
}

function chunk(flat: readonly number[], dims: readonly number[]): unknown[] {
  if (dims.length === 1) return flat.slice();
  const size = dims.slice(1).reduce((a, b) => a * b, 1);
  return Array.from({ length: dims[0]! }, (_, i) => chunk(flat.slice(i * size, (i + 1) * size), dims.slice(1)));
}

/** The SPEC object for a model (inverse of parseModelSpec), e.g. to write an example file. */
export function toModelSpec(model: Model, meta: ModelMeta): ModelSpec {
  validateModel(model);
  const layers = model.layers.map((l): LayerSpec => {
    switch (l.type) {
      case 'dense':
        return { ...l, weights: chunk(l.weights, [l.outputs, l.inputs]) as number[][], biases: [...l.biases] };
      case 'conv2d': {
        const dims = [l.outChannels, l.kernel[0], l.kernel[1], l.input[2]];
        return { ...l, input: [...l.input], kernel: [...l.kernel], stride: [...l.stride], weights: chunk(l.weights, dims) as number[][][][], biases: [...l.biases] };
      }
      case 'maxpool2d':
        return { ...l, input: [...l.input], pool: [...l.pool], stride: [...l.stride] };
      case 'pad2d':
        return { ...l, input: [...l.input], pads: [...l.pads] };
    }
  });
  return { ...meta, input: { shape: [...model.inputShape] }, layers };
}
