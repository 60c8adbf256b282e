/**
 * The worst case of every layer type of the model-execution precompile, next to ecPairing, for
 * the pricing rule (precompiles/exec-gas.ts): each must pay at least ecPairing's gas per second on
 * the same node. A worst case is a model within the format's limits that makes one kind of step
 * (exec-gas.ts WORK) as large a share of the call as it can: many outputs and few
 * multiply-accumulates, 1x1 kernels on one channel, 1x1 and huge pooling windows, long inputs and
 * outputs. Models are written into the registry's storage directly (the layout is the protocol's),
 * run through a CALL to 0x..0A02 in an in-process EVM, and timed warm (decoded model cached) over
 * many calls; the ns per work unit column is what calibrates WORK.
 */
import type { EVM } from '@ethereumjs/evm';
import { createAddressFromString, hexToBytes } from '@ethereumjs/util';
import { encodeFunctionData, toHex } from 'viem';
import type { Hex } from 'viem';
import { MODEL_REGISTRY_ADDRESS } from '../contracts/predeploys.ts';
import { EXEC_MAX_WORK, execWork } from '../precompiles/exec-gas.ts';
import { serializeModel } from '../precompiles/model/codec.ts';
import type { Layer, LayerType, Model } from '../precompiles/model/format.ts';
import { shapeSize } from '../precompiles/model/format.ts';
import { execAbi } from '../test/helpers/ai.ts';
import { modelStorage } from '../test/helpers/registry-storage.ts';

export interface WorstCase {
  name: string;
  type: LayerType | 'input/output';
  model: Model;
}

const ones = (n: number) => new Array<number>(n).fill(1);
const dense = (n: number, m: number): Layer => ({ type: 'dense', inputs: n, outputs: m, weights: ones(n * m), biases: ones(m), shift: 3, activation: 'relu' });
const conv = (h: number, w: number, c: number, k: number, kh: number, kw: number): Layer => ({
  type: 'conv2d',
  input: [h, w, c],
  outChannels: k,
  kernel: [kh, kw],
  stride: [1, 1],
  weights: ones(k * kh * kw * c),
  biases: ones(k),
  shift: 3,
  activation: 'relu',
});
const pool = (h: number, w: number, c: number, ph: number, pw: number): Layer => ({ type: 'maxpool2d', input: [h, w, c], pool: [ph, pw], stride: [1, 1] });
const pad = (h: number, w: number, c: number, pads: readonly [number, number, number, number]): Layer => ({ type: 'pad2d', input: [h, w, c], pads });
const times = (n: number, f: (i: number) => Layer[]): Layer[] => Array.from({ length: n }, (_, i) => f(i)).flat();

export function worstCases(): WorstCase[] {
  return [
    { name: 'dense 1000x1000 (multiply-accumulates)', type: 'dense', model: { inputShape: [1000], layers: [dense(1000, 1000)] } },
    { name: 'dense 1->4096->1 x8 (requantization)', type: 'dense', model: { inputShape: [1], layers: times(8, () => [dense(1, 4096), dense(4096, 1)]) } },
    { name: 'dense 1->1 x16 (per layer)', type: 'dense', model: { inputShape: [1], layers: times(16, () => [dense(1, 1)]) } },
    { name: 'conv2d 1x1, 1 channel, 64x64 x16 (taps)', type: 'conv2d', model: { inputShape: [64, 64, 1], layers: times(16, () => [conv(64, 64, 1, 1, 1, 1)]) } },
    { name: 'conv2d 3x3, 1 channel, from 64x64 x5', type: 'conv2d', model: { inputShape: [64, 64, 1], layers: times(5, (i) => [conv(64 - 2 * i, 64 - 2 * i, 1, 1, 3, 3)]) } },
    { name: 'conv2d 3x3, 16 channels, 16x16 (multiply-accumulates)', type: 'conv2d', model: { inputShape: [16, 16, 16], layers: [conv(16, 16, 16, 16, 3, 3)] } },
    { name: 'maxpool2d 1x1, 64x64 x16 (outputs)', type: 'maxpool2d', model: { inputShape: [64, 64, 1], layers: times(16, () => [pool(64, 64, 1, 1, 1)]) } },
    { name: 'maxpool2d 2x2, from 64x64 x16', type: 'maxpool2d', model: { inputShape: [64, 64, 1], layers: times(16, (i) => [pool(64 - i, 64 - i, 1, 2, 2)]) } },
    {
      name: 'maxpool2d 32x32 window, then 1x1 x15 (reads)',
      type: 'maxpool2d',
      model: { inputShape: [64, 64, 1], layers: [pool(64, 64, 1, 32, 32), ...times(15, () => [pool(33, 33, 1, 1, 1)])] },
    },
    { name: 'maxpool2d 8x8 window, 64 channels', type: 'maxpool2d', model: { inputShape: [8, 8, 64], layers: [pool(8, 8, 64, 8, 8)] } },
    { name: 'pad2d 64x64, no padding x16 (copies)', type: 'pad2d', model: { inputShape: [64, 64, 1], layers: times(16, () => [pad(64, 64, 1, [0, 0, 0, 0])]) } },
    {
      name: 'pad2d 1x1 -> 64x64, then 1x1 pools x15 (zeros)',
      type: 'pad2d',
      model: { inputShape: [1, 1, 1], layers: [pad(1, 1, 1, [0, 0, 63, 63]), ...times(15, () => [pool(64, 64, 1, 1, 1)])] },
    },
    { name: '4096 in, 4096 out (one 1x1 pool)', type: 'input/output', model: { inputShape: [64, 64, 1], layers: [pool(64, 64, 1, 1, 1)] } },
  ];
}

const EXEC = createAddressFromString('0x0000000000000000000000000000000000000a02');
const REGISTRY = createAddressFromString(MODEL_REGISTRY_ADDRESS);
const OWNER: Hex = '0x1111111111111111111111111111111111111111';

/** Writes the model into the registry's storage as `register` + `publishWeights` would leave it. */
export async function publishDirect(evm: EVM, model: Model): Promise<Hex> {
  const { id, storage } = modelStorage(OWNER, serializeModel(model));
  for (const [slot, value] of Object.entries(storage)) await evm.stateManager.putStorage(REGISTRY, hexToBytes(slot as Hex), hexToBytes(value));
  return id;
}

export interface WorstRow {
  name: string;
  type: string;
  work: number;
  gas: bigint;
  ms: number;
}

/** Median wall time of a warm call, and its gas. */
export async function measureWorstCase(evm: EVM, c: WorstCase, runs: number): Promise<WorstRow> {
  const work = execWork(c.model);
  if (work > EXEC_MAX_WORK) throw new Error(`${c.name}: ${work} work units, over the cap`);
  const id = await publishDirect(evm, c.model);
  const data = hexToBytes(encodeFunctionData({ abi: execAbi, functionName: 'execute', args: [id, toHex(new Uint8Array(shapeSize(c.model.inputShape)).fill(200))] }));
  const once = async () => {
    const r = await evm.runCall({ caller: createAddressFromString(OWNER), to: EXEC, data, gasLimit: 30_000_000n });
    if (r.execResult.exceptionError !== undefined) throw new Error(`${c.name}: ${r.execResult.exceptionError.error}`);
    return r.execResult.executionGasUsed;
  };
  const gas = await once();
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await once();
    ms.push(performance.now() - t0);
  }
  ms.sort((a, b) => a - b);
  return { name: c.name, type: c.type, work, gas, ms: ms[ms.length >> 1]! };
}

/** The table bench:ai prints: each case's gas per second as a multiple of ecPairing's. */
export function worstTable(rows: WorstRow[], pairingGasPerMs: number): string[] {
  const lines = ['| worst case | layer type | work units | gas | ms (median, warm) | ns per unit | Mgas/s | vs ecPairing |', '|---|---|---|---|---|---|---|---|'];
  for (const r of rows) {
    const rate = Number(r.gas) / r.ms;
    lines.push(
      `| ${r.name} | ${r.type} | ${r.work} | ${r.gas} | ${r.ms.toFixed(3)} | ${((r.ms * 1e6) / r.work).toFixed(2)} | ${(rate / 1000).toFixed(2)} | ${(rate / pairingGasPerMs).toFixed(2)}x |`,
    );
  }
  return lines;
}
