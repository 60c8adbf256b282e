/**
 * npm run bench:ai — figures only, asserts nothing.
 *
 * For the 16-16-4 example and an MNIST-sized 784-32-10 MLP (seeded random weights), in public-
 * and private-input mode: constraints, compile and setup time, witness and proving time
 * (snarkjs), verification time inside the precompile (an in-process EVM with the registry
 * predeploy, the model registered through it, the precompile reached by a CALL), gas charged,
 * and gas per second next to the EVM's ecPairing precompile (0x08, 4 pairs) measured the same
 * way. Model execution: gas, time and gas/s for both models, and the worst case of every layer
 * type next to ecPairing (bench/ai-worst.ts), which the gas schedule must keep at or above parity;
 * the same for the verifier (a key in no cache, read through a cold trie) and its checkKey.
 *
 * First run: the MNIST circuit needs a K=14 Powers of Tau, generated locally (~10 min here) and
 * cached in .cache/ptau. `--quick` runs only the small model.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEVM } from '@ethereumjs/evm';
import type { EVM } from '@ethereumjs/evm';
import { MerkleStateManager } from '@ethereumjs/statemanager';
import { Account, createAddressFromString, hexToBytes } from '@ethereumjs/util';
import { createBlock } from '@ethereumjs/block';
import { encodeFunctionData, keccak256, toHex } from 'viem';
import type { Hex } from 'viem';
import { MODEL_REGISTRY_ADDRESS, loadArtifact } from '../contracts/predeploys.ts';
import { createL2Common } from '../node/chain/common.ts';
import { DEFAULT_GAS_LIMIT } from '../node/chain/genesis.ts';
import { registrationCommitment } from '../node/cli/model-register.ts';
import { createAiPrecompiles } from '../precompiles/index.ts';
import { execAbi, verifierAbi } from '../test/helpers/ai.ts';
import { serializeModel } from '../precompiles/model/codec.ts';
import { execWork } from '../precompiles/exec-gas.ts';
import {
  checkKeyTable,
  measureCheckKeyWorstCases,
  pairingCheckInput,
  measureVerifierWorstCases,
  measureWorstCase,
  verifierWorstTable,
  worstCases,
  worstTable,
} from './ai-worst.ts';
import type { Model } from '../precompiles/model/format.ts';
import { mulberry32, randomInput } from '../precompiles/model/random.ts';
import { parseModelSpecText } from '../precompiles/model/spec.ts';
import { compileModel } from '../prover/pipeline/compile-model.ts';
import { loadModelDir, proveInference } from '../prover/pipeline/prove.ts';
import { readFileSync } from 'node:fs';
import { mnistModel } from './lib.ts';

const quick = process.argv.includes('--quick');
const OWNER = createAddressFromString('0x' + '11'.repeat(20));
const REGISTRY = createAddressFromString(MODEL_REGISTRY_ADDRESS);
const VERIFIER = createAddressFromString('0x0000000000000000000000000000000000000a01');
const EXEC = createAddressFromString('0x0000000000000000000000000000000000000a02');
const ECPAIRING = createAddressFromString('0x0000000000000000000000000000000000000008');
const BLOCK_GAS_LIMIT = DEFAULT_GAS_LIMIT;
const registryAbi = loadArtifact('ModelRegistry').abi;

async function makeEvm(): Promise<EVM> {
  const common = createL2Common({ chainId: 1337n });
  const stateManager = new MerkleStateManager({ common });
  await stateManager.putAccount(OWNER, new Account(0n, 10n ** 24n));
  await stateManager.putAccount(REGISTRY, new Account(1n, 0n));
  await stateManager.putCode(REGISTRY, hexToBytes(loadArtifact('ModelRegistry').deployedBytecode));
  return createEVM({ common, stateManager, customPrecompiles: await createAiPrecompiles() });
}

async function call(evm: EVM, to: typeof REGISTRY, data: Hex, gasLimit = 30_000_000n, blockNumber = 0n) {
  const block = createBlock({ header: { number: blockNumber } }, { common: evm.common });
  const r = await evm.runCall({ caller: OWNER, origin: OWNER, to, data: hexToBytes(data), gasLimit, block });
  if (r.execResult.exceptionError !== undefined) throw new Error(`call to ${to} failed: ${r.execResult.exceptionError.error}`);
  return r.execResult;
}

/** Median wall time (ms) and the gas of one call, over `n` runs after one warm-up. */
async function timeCall(evm: EVM, to: typeof REGISTRY, data: Hex, n: number): Promise<{ ms: number; gas: bigint; ret: Uint8Array }> {
  const first = await call(evm, to, data);
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await call(evm, to, data);
    ms.push(performance.now() - t0);
  }
  ms.sort((a, b) => a - b);
  return { ms: ms[ms.length >> 1]!, gas: first.executionGasUsed, ret: first.returnValue };
}

interface Row {
  model: string;
  mode: string;
  constraints: number;
  publicInputs: number;
  compileS: number;
  setupS: number;
  witnessMs: number;
  proveMs: number;
  vkBytes: number;
  registerGas: bigint;
  verifyMs: number;
  verifyGas: bigint;
  execMs: number;
  execGas: bigint;
  work: number;
}

const f1 = (x: number) => x.toFixed(1);
const mgps = (gas: bigint, ms: number) => (Number(gas) / ms / 1000).toFixed(2);

async function benchModel(name: string, model: Model, mode: 'public' | 'private', work: string, runs: number): Promise<Row> {
  // one model id holds one verifying key: each input mode gets a chain of its own
  const evm = await makeEvm();
  const spec = { name, version: 1, model };
  const out = join(work, `${name}-${mode}`);
  process.stderr.write(`compiling ${name} (${mode} input)...\n`);
  const c = await compileModel(spec, { outDir: out, input: mode });
  const loaded = loadModelDir(out);
  const input = Array.from(randomInput(mulberry32(1), model));
  let witnessMs = 0;
  let proveMs = 0;
  let last;
  for (let i = 0; i < runs; i++) {
    last = await proveInference(loaded, input);
    if (i > 0 || runs === 1) {
      witnessMs += last.timings.witnessMs;
      proveMs += last.timings.proveMs;
    }
  }
  const counted = runs === 1 ? 1 : runs - 1;
  const vk = toHex(readFileSync(join(out, 'vk.bin')));
  const id = c.manifest.modelId;
  // a 784-input public-mode key is ~51 KB of storage: more gas than a block holds, so the bench
  // registers with a gas limit of its own and reports what registration would cost
  // commit-reveal: the commitment in block 1, the reveal in block 2
  const salt = keccak256(id);
  await call(
    evm,
    REGISTRY,
    encodeFunctionData({ abi: registryAbi, functionName: 'commitRegistration', args: [registrationCommitment(OWNER.toString(), id, vk, '', salt)] }),
    30_000_000n,
    1n,
  );
  const reg = await call(evm, REGISTRY, encodeFunctionData({ abi: registryAbi, functionName: 'register', args: [id, vk, '', salt] }), 1_000_000_000n, 2n);
  await call(evm, REGISTRY, encodeFunctionData({ abi: registryAbi, functionName: 'publishWeights', args: [id, toHex(serializeModel(model))] }));
  const words = last!.proofWords.map((w) => BigInt(w)) as unknown as readonly [bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint];
  const v = await timeCall(evm, VERIFIER, encodeFunctionData({ abi: verifierAbi, functionName: 'verify', args: [id, last!.publicSignals.map(BigInt), words] }), 20);
  if (v.ret[31] !== 1) throw new Error('the precompile did not accept the proof');
  const e = await timeCall(evm, EXEC, encodeFunctionData({ abi: execAbi, functionName: 'execute', args: [id, toHex(Uint8Array.from(input))] }), 50);
  return {
    model: name,
    mode,
    constraints: c.manifest.constraints,
    publicInputs: c.manifest.publicInputs,
    compileS: c.timings.circuitSeconds,
    setupS: c.timings.setupSeconds + c.timings.ptauSeconds,
    witnessMs: witnessMs / counted,
    proveMs: proveMs / counted,
    vkBytes: (vk.length - 2) / 2,
    registerGas: reg.executionGasUsed,
    verifyMs: v.ms,
    verifyGas: v.gas,
    execMs: e.ms,
    execGas: e.gas,
    work: execWork(model),
  };
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'bench-ai-'));
  try {
    const evm = await makeEvm();
    const pairing = await timeCall(evm, ECPAIRING, toHex(pairingCheckInput()), 20);
    const tiny = parseModelSpecText(readFileSync(new URL('../precompiles/model/examples/tiny-16-16-4.json', import.meta.url), 'utf8')).model;
    const rows: Row[] = [];
    for (const mode of ['public', 'private'] as const) rows.push(await benchModel('16-16-4', tiny, mode, work, 5));
    if (!quick) for (const mode of ['private', 'public'] as const) rows.push(await benchModel('784-32-10', mnistModel(), mode, work, 3));

    const lines = [
      '',
      `ecPairing (0x08), 4 pairs: ${f1(pairing.ms)} ms, ${pairing.gas} gas, ${mgps(pairing.gas, pairing.ms)} Mgas/s`,
      '',
      '| model | input | constraints | public signals | circuit compile s | setup s | witness ms | prove ms | vk bytes | register gas | verify in precompile ms | verify gas | verify Mgas/s (ecPairing = 1.00x) | exec work units | exec ms | exec gas | exec Mgas/s |',
      '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ];
    const pairingRate = Number(pairing.gas) / pairing.ms;
    for (const r of rows) {
      const rate = Number(r.verifyGas) / r.verifyMs;
      lines.push(
        `| ${r.model} | ${r.mode} | ${r.constraints} | ${r.publicInputs} | ${f1(r.compileS)} | ${f1(r.setupS)} | ${f1(r.witnessMs)} | ${f1(r.proveMs)} | ${r.vkBytes} | ${r.registerGas}${r.registerGas > BLOCK_GAS_LIMIT ? ' (over the block gas limit)' : ''} | ${r.verifyMs.toFixed(2)} | ${r.verifyGas} | ${mgps(r.verifyGas, r.verifyMs)} (${(rate / pairingRate).toFixed(2)}x) | ${r.work} | ${r.execMs.toFixed(3)} | ${r.execGas} | ${mgps(r.execGas, r.execMs)} |`,
      );
    }
    lines.push('', 'compile/setup: 0 when cached (.cache/circuits, .cache/ptau). Times are medians (precompile calls) or means (proofs after a warm-up).');
    // the pricing rule of model execution: every layer type's worst case at or above ecPairing parity
    const worstEvm = await makeEvm();
    const worst = [];
    for (const c of worstCases()) worst.push(await measureWorstCase(worstEvm, c, quick ? 10 : 30));
    const pairingAgain = await timeCall(evm, ECPAIRING, toHex(pairingCheckInput()), 20);
    lines.push(
      '',
      `Model execution, worst case of every layer type (ecPairing timed again beside them: ${f1(pairingAgain.ms)} ms, ${mgps(pairingAgain.gas, pairingAgain.ms)} Mgas/s):`,
      '',
    );
    lines.push(...worstTable(worst, Number(pairingAgain.gas) / pairingAgain.ms));
    // the same rule for the verifier: a key in no cache, read through a cold trie; and checkKey, which caches nothing
    lines.push(
      '',
      'Inference verifier, worst case (prepared-key cache empty, state read through a trie with no cache; ecPairing timed between the calls):',
      '',
      ...verifierWorstTable(await measureVerifierWorstCases(quick ? 15 : 40)),
      '',
      ...checkKeyTable(await measureCheckKeyWorstCases(quick ? 15 : 40)),
    );
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  process.exit(0);
}

await main();
