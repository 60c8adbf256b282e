/**
 * The worst case of every layer type of the model-execution precompile, next to ecPairing, for
 * the pricing rule (precompiles/exec-gas.ts): each must pay at least ecPairing's gas per second on
 * the same node. A worst case is a model within the format's limits that makes one kind of step
 * (exec-gas.ts WORK) as large a share of the call as it can: many outputs and few
 * multiply-accumulates, 1x1 kernels on one channel, 1x1 and huge pooling windows, long inputs and
 * outputs. Models are written into the registry's storage directly (the layout is the protocol's),
 * run through a CALL to 0x..0A02 in an in-process EVM, and timed warm (decoded model cached) over
 * many calls; the ns per work unit column is what calibrates WORK.
 *
 * The inference verifier's worst case (precompiles/gas.ts): a key in no cache, read word by word
 * through a trie with no cache, checked and used once; and checkKey, which caches nothing. Both
 * with ecPairing timed between the calls. `tsx bench/ai-worst.ts [runs] [n...]` prints these two
 * tables alone.
 */
import { Common, Hardfork, Mainnet } from '@ethereumjs/common';
import { createEVM, type EVM } from '@ethereumjs/evm';
import { Caches, MerkleStateManager } from '@ethereumjs/statemanager';
import { Account, bytesToHex, createAddressFromString, hexToBytes } from '@ethereumjs/util';
import { bn254 } from '@noble/curves/bn254.js';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { encodeFunctionData, toHex } from 'viem';
import type { Hex } from 'viem';
import { proofToWords, publicSignalsToWords, vkToBytes } from '../precompiles/groth16/encoding.ts';
import { clearKeyCache, initMcl } from '../precompiles/groth16/verify.ts';
import { inferenceVerifierPrecompile } from '../precompiles/inference-verifier.ts';
import { mulberry32 } from '../precompiles/model/random.ts';
import { recordSlot, verifyingKeySlot } from '../precompiles/registry-layout.ts';
import { proofWords, randomKey } from '../test/helpers/keys.ts';
import { loadFixture, proveFixture, releaseFixture } from '../test/unit/precompile-fixture.ts';
import { MODEL_REGISTRY_ADDRESS } from '../contracts/predeploys.ts';
import { EXEC_MAX_WORK, execWork } from '../precompiles/exec-gas.ts';
import { serializeModel } from '../precompiles/model/codec.ts';
import type { Layer, LayerType, Model } from '../precompiles/model/format.ts';
import { shapeSize } from '../precompiles/model/format.ts';
import { execAbi, verifierAbi } from '../test/helpers/ai.ts';
import { bytesStorage, modelStorage, recordWord } from '../test/helpers/registry-storage.ts';

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

// ---- the inference verifier's worst case: a key no cache holds, read through a cold trie ----

export interface VerifierWorstRow {
  name: string;
  n: number;
  gas: bigint;
  /** Median ms of a call with the prepared-key cache empty and a cold state (no read caches, no trie nodes in memory). */
  coldMs: number;
  /** Median ms with the prepared key cached and a cold state: the trie reads' share. */
  coldTrieMs: number;
  /** Median ms with the prepared-key cache empty and a warm state: the key's share. */
  coldKeyMs: number;
  /** Median ms with the prepared key cached and the state warm (a typical call). */
  warmMs: number;
  /** ecPairing (0x08, 4 pairs) median ms and gas per ms, timed interleaved with the cold calls. */
  pairingMs: number;
  pairingGasPerMs: number;
}

const ECPAIRING = '0x0000000000000000000000000000000000000008';

/** ecPairing input of 4 pairs whose product is 1: e(P,Q) e(-P,Q) e(2P,Q) e(-2P,Q). */
export function pairingCheckInput(): Uint8Array {
  const G1 = bn254.G1.Point.BASE;
  const G2 = bn254.G2.Point.BASE.toAffine();
  const w = (v: bigint) => v.toString(16).padStart(64, '0');
  const g2 = w(G2.x.c1) + w(G2.x.c0) + w(G2.y.c1) + w(G2.y.c0);
  let hex = '';
  for (const p of [G1, G1.negate(), G1.double(), G1.double().negate()]) {
    const a = p.toAffine();
    hex += w(a.x) + w(a.y) + g2;
  }
  return hexToBytes(`0x${hex}`);
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

type Timed = () => Promise<{ ms: number; gas: bigint }>;

/**
 * Median ms and gas of `subject` over `runs` calls, and of ecPairing timed in between: blocks of 5
 * subject calls then 2 pairings, so both see the same machine load, while each runs mostly after
 * its own kind (the pairing's garbage is not collected on the subject's clock, nor the reverse).
 */
async function beside(runs: number, subject: Timed, pairing: Timed): Promise<{ ms: number; gas: bigint; pairingMs: number; pairingGas: bigint }> {
  const ms: number[] = [];
  const pms: number[] = [];
  // warm-up: the trie and state code paths get optimized over the first tens of calls
  for (let i = 0; i < 10; i++) await subject();
  let gas = (await subject()).gas;
  let pairingGas = (await pairing()).gas;
  while (ms.length < runs) {
    for (let i = 0; i < 5 && ms.length < runs; i++) {
      const r = await subject();
      ms.push(r.ms);
      gas = r.gas;
    }
    for (let i = 0; i < 2; i++) {
      const p = await pairing();
      pms.push(p.ms);
      pairingGas = p.gas;
    }
  }
  return { ms: median(ms), gas, pairingMs: median(pms), pairingGas };
}

/** One timed ecPairing (0x08) call of 4 pairs in `evm`. */
function pairingTimer(evm: EVM): () => Promise<{ ms: number; gas: bigint }> {
  const pairing = evm.getPrecompile(createAddressFromString(ECPAIRING));
  if (!pairing) throw new Error('no ecPairing precompile');
  const data = pairingCheckInput();
  return async () => {
    const t0 = performance.now();
    const r = await pairing({ data, gasLimit: 30_000_000n, common: evm.common, _EVM: evm });
    if (r.exceptionError) throw new Error('ecPairing failed');
    return { ms: performance.now() - t0, gas: r.executionGasUsed };
  };
}

/**
 * The verifier's worst case per key size: each call on a fresh copy of the state (empty read
 * caches, a trie with no node cache over the same database) with the prepared-key cache cleared,
 * so the key is read word by word through the trie, checked (groth16/key-check.ts) and used
 * once. The registry's storage is padded with `fillerSlots` other words and the state with
 * `fillerAccounts` accounts so that trie reads walk a few levels, as on a used chain. ecPairing
 * runs between the calls in the same process, so both see the same machine load.
 */
export async function measureVerifierWorstCases(
  runs: number,
  opts: { sizes?: readonly number[]; fillerSlots?: number; fillerAccounts?: number } = {},
): Promise<VerifierWorstRow[]> {
  const { sizes = [16, 64, 255], fillerSlots = 20_000, fillerAccounts = 5_000 } = opts;
  await initMcl();
  const common = new Common({ chain: Mainnet, hardfork: Hardfork.Cancun });
  const sm = new MerkleStateManager({ common, caches: new Caches({ storage: { size: 100_000 } }) });
  const evm = await createEVM({ common, stateManager: sm });
  await sm.putAccount(REGISTRY, new Account(1n, 0n));
  const rng = mulberry32(7);
  const rand32 = () => Uint8Array.from({ length: 32 }, () => rng.int(0, 255));
  for (let i = 0; i < fillerSlots; i++) await sm.putStorage(REGISTRY, rand32(), rand32());
  for (let i = 0; i < fillerAccounts; i++) await sm.putAccount(createAddressFromString(bytesToHex(rand32().subarray(0, 20))), new Account(1n, 1n));

  const f = await loadFixture();
  const real = await proveFixture(f, 3n, 4n, 5n);
  await releaseFixture();
  const cases: { name: string; n: number; vk: Uint8Array; inputs: bigint[]; proof: bigint[]; valid: boolean }[] = [
    { name: 'fixture key, a valid proof', n: 3, vk: vkToBytes(f.vk), inputs: publicSignalsToWords(real.publicSignals), proof: proofToWords(real.proof), valid: true },
  ];
  for (const n of sizes) {
    const k = randomKey(n, `worst${n}`);
    const pts = randomKey(0, `proof${n}`);
    const inputs = Array.from({ length: n }, (_, i) => BigInt(i + 1) * 0x1234567n);
    cases.push({ name: 'random key, a wrong proof', n, vk: vkToBytes(k), inputs, proof: proofWords(pts.alpha, pts.beta, pts.ic[0]!), valid: false });
  }
  const ids = cases.map((c, i) => {
    const id = keccak_256(Uint8Array.of(0xaa, i));
    const storage: Record<Hex, Hex> = { [toHex(recordSlot(id), { size: 32 })]: recordWord(OWNER), ...bytesStorage(verifyingKeySlot(id), c.vk) };
    return { id, storage };
  });
  for (const { storage } of ids) for (const [slot, value] of Object.entries(storage)) await sm.putStorage(REGISTRY, hexToBytes(slot as Hex), hexToBytes(value));
  await sm.flush();

  const runPairing = pairingTimer(evm);

  const rows: VerifierWorstRow[] = [];
  for (const [i, c] of cases.entries()) {
    const data = hexToBytes(
      encodeFunctionData({
        abi: verifierAbi,
        functionName: 'verify',
        args: [bytesToHex(ids[i]!.id) as Hex, c.inputs, c.proof as unknown as readonly [bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint]],
      }),
    );
    const call = async (state: MerkleStateManager) => {
      const t0 = performance.now();
      const r = await inferenceVerifierPrecompile({ data, gasLimit: 30_000_000n, common, _EVM: { stateManager: state } as unknown as EVM });
      const ms = performance.now() - t0;
      if (r.exceptionError) throw new Error(`${c.name}: ${r.exceptionError.error}`);
      if ((r.returnValue[31] === 1) !== c.valid) throw new Error(`${c.name}: unexpected result`);
      return { ms, gas: r.executionGasUsed };
    };
    const cold = await beside(
      runs,
      () => {
        clearKeyCache();
        return call(sm.shallowCopy(true));
      },
      runPairing,
    );
    // the two halves of the worst case: a cold trie with the key cached, a warm trie without it
    const coldTrie: number[] = [];
    for (let k = 0; k < runs; k++) coldTrie.push((await call(sm.shallowCopy(true))).ms);
    const warm: number[] = [];
    const coldKey: number[] = [];
    const state = sm.shallowCopy(true);
    await call(state);
    for (let k = 0; k < runs; k++) {
      warm.push((await call(state)).ms);
      clearKeyCache();
      coldKey.push((await call(state)).ms);
    }
    rows.push({
      name: c.name,
      n: c.n,
      gas: cold.gas,
      coldMs: cold.ms,
      coldTrieMs: median(coldTrie),
      coldKeyMs: median(coldKey),
      warmMs: median(warm),
      pairingMs: cold.pairingMs,
      pairingGasPerMs: Number(cold.pairingGas) / cold.pairingMs,
    });
  }
  clearKeyCache();
  return rows;
}

export interface CheckKeyRow {
  n: number;
  gas: bigint;
  /** Median ms of checkKey through the precompile (nothing is cached: every call is the worst case). */
  ms: number;
  pairingMs: number;
  pairingGasPerMs: number;
}

/** checkKey(bytes) on sound random keys of each size (a sound key runs every check), ecPairing timed between the calls. */
export async function measureCheckKeyWorstCases(runs: number, sizes: readonly number[] = [0, 3, 64, 4096]): Promise<CheckKeyRow[]> {
  await initMcl();
  const evm = await createEVM({ common: new Common({ chain: Mainnet, hardfork: Hardfork.Cancun }) });
  const runPairing = pairingTimer(evm);
  const rows: CheckKeyRow[] = [];
  for (const n of sizes) {
    const data = hexToBytes(encodeFunctionData({ abi: verifierAbi, functionName: 'checkKey', args: [bytesToHex(vkToBytes(randomKey(n, `check${n}`))) as Hex] }));
    const call = async () => {
      const t0 = performance.now();
      const r = await inferenceVerifierPrecompile({ data, gasLimit: 30_000_000n, common: evm.common, _EVM: evm });
      const ms = performance.now() - t0;
      if (r.exceptionError || r.returnValue[31] !== 1) throw new Error(`checkKey n = ${n}: refused or failed`);
      return { ms, gas: r.executionGasUsed };
    };
    const r = await beside(runs, call, runPairing);
    rows.push({ n, gas: r.gas, ms: r.ms, pairingMs: r.pairingMs, pairingGasPerMs: Number(r.pairingGas) / r.pairingMs });
  }
  return rows;
}

export function checkKeyTable(rows: CheckKeyRow[]): string[] {
  const lines = ['| checkKey, n | gas | ms (median) | Mgas/s | ecPairing beside it: ms, Mgas/s | vs ecPairing |', '|---|---|---|---|---|---|'];
  for (const r of rows) {
    const rate = Number(r.gas) / r.ms;
    lines.push(
      `| ${r.n} | ${r.gas} | ${r.ms.toFixed(2)} | ${(rate / 1000).toFixed(2)} | ${r.pairingMs.toFixed(1)}, ${(r.pairingGasPerMs / 1000).toFixed(2)} | ${(rate / r.pairingGasPerMs).toFixed(2)}x |`,
    );
  }
  return lines;
}

/** The verifier's rows as bench:ai prints them. */
export function verifierWorstTable(rows: VerifierWorstRow[]): string[] {
  const lines = [
    '| verifier call | n | gas | worst ms (cold key and trie, median) | Mgas/s | ecPairing beside it: ms, Mgas/s | worst vs ecPairing | cold trie, key cached ms | warm trie, key not cached ms | typical ms (both cached) |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    const rate = Number(r.gas) / r.coldMs;
    lines.push(
      `| ${r.name} | ${r.n} | ${r.gas} | ${r.coldMs.toFixed(2)} | ${(rate / 1000).toFixed(2)} | ${r.pairingMs.toFixed(1)}, ${(r.pairingGasPerMs / 1000).toFixed(2)} | ${(rate / r.pairingGasPerMs).toFixed(2)}x | ${r.coldTrieMs.toFixed(2)} | ${r.coldKeyMs.toFixed(2)} | ${r.warmMs.toFixed(2)} |`,
    );
  }
  return lines;
}

/**
 * `tsx bench/ai-worst.ts [runs] [sizes...]`: the verifier's and checkKey's worst cases alone
 * (what bench:ai prints of them, without compiling or proving anything).
 */
if (process.argv[1] === import.meta.filename) {
  const runs = Number(process.argv[2] ?? 30);
  const sizes = process.argv.slice(3).map(Number);
  const rows = await measureVerifierWorstCases(runs, sizes.length > 0 ? { sizes } : {});
  process.stdout.write(`${verifierWorstTable(rows).join('\n')}\n\n`);
  process.stdout.write(`${checkKeyTable(await measureCheckKeyWorstCases(runs)).join('\n')}\n`);
  process.exit(0);
}
