/**
 * A tiny real Groth16 setup for the precompile tests: a circom circuit with three public
 * signals, a K=8 powers of tau and a zkey with one phase-2 contribution (without it snarkjs
 * leaves delta = gamma = the G2 generator, a key anyone can forge proofs for, which the chain
 * refuses), built once and cached under .cache/precompile-fixture (the directory is keyed by the
 * circuit's cache key and the setup's version, so a change rebuilds).
 * Proofs are made fresh per call: snarkjs proving of a circuit this size takes milliseconds.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { createBlock } from '@ethereumjs/block';
import { Common, Hardfork, Mainnet } from '@ethereumjs/common';
import type { CustomPrecompile, EVMResult } from '@ethereumjs/evm';
import { bytesToHex, createAddressFromString, hexToBytes } from '@ethereumjs/util';
import { Caches, MerkleStateManager } from '@ethereumjs/statemanager';
import { createVM, type VM } from '@ethereumjs/vm';
import { encodeFunctionData, type Hex, keccak256 } from 'viem';
import { loadArtifact } from '../../contracts/predeploys.ts';
import { registrationCommitment } from '../../node/cli/model-register.ts';
import { createAiPrecompiles } from '../../precompiles/index.ts';
import { compileCircuit, releaseSnarkjsCurve } from '../../prover/circuit/compile.ts';
import type { SnarkjsProof, SnarkjsVerificationKey } from '../../precompiles/groth16/encoding.ts';

const CACHE = resolve(import.meta.dirname, '../../.cache/precompile-fixture');

/** out = a*b + c; d = out*out; public: out (output), a, c (inputs), in snarkjs order. */
export const FIXTURE_CIRCUIT = `pragma circom 2.1.0;
template T() {
  signal input a;
  signal input b;
  signal input c;
  signal output out;
  signal ab;
  ab <== a * b;
  out <== ab + c;
  signal sq;
  sq <== out * out;
}
component main {public [a, c]} = T();
`;

const quiet = { info() {}, warn() {}, error() {}, debug() {} };
/** Bumped when the setup steps change (2: a phase-2 contribution). */
const SETUP_VERSION = 2;

interface Snarkjs {
  powersOfTau: {
    newAccumulator(curve: unknown, power: number, file: string, logger?: unknown): Promise<unknown>;
    contribute(oldFile: string, newFile: string, name: string, entropy: string, logger?: unknown): Promise<unknown>;
    preparePhase2(oldFile: string, newFile: string, logger?: unknown): Promise<unknown>;
  };
  zKey: {
    newZKey(r1cs: string, ptau: string, zkey: string, logger?: unknown): Promise<unknown>;
    contribute(oldZkey: string, newZkey: string, name: string, entropy: string, logger?: unknown): Promise<unknown>;
    exportVerificationKey(zkey: string, logger?: unknown): Promise<SnarkjsVerificationKey>;
  };
  groth16: {
    fullProve(input: Record<string, unknown>, wasm: string, zkey: string, logger?: unknown): Promise<{ proof: SnarkjsProof; publicSignals: string[] }>;
    verify(vk: SnarkjsVerificationKey, publicSignals: readonly string[], proof: SnarkjsProof, logger?: unknown): Promise<boolean>;
  };
  curves: { getCurveFromName(name: string): Promise<unknown> };
}

export async function snarkjs(): Promise<Snarkjs> {
  return (await import('snarkjs')) as unknown as Snarkjs;
}

export interface Fixture {
  vk: SnarkjsVerificationKey;
  zkeyPath: string;
  wasmPath: string;
}

export interface FixtureProof {
  proof: SnarkjsProof;
  publicSignals: string[];
}

async function build(dir: string, r1csPath: string): Promise<void> {
  const s = await snarkjs();
  const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`;
  mkdirSync(tmp, { recursive: true });
  try {
    const curve = await s.curves.getCurveFromName('bn128');
    await s.powersOfTau.newAccumulator(curve, 8, join(tmp, 'p0.ptau'), quiet);
    await s.powersOfTau.contribute(join(tmp, 'p0.ptau'), join(tmp, 'p1.ptau'), 'test', randomBytes(32).toString('hex'), quiet);
    await s.powersOfTau.preparePhase2(join(tmp, 'p1.ptau'), join(tmp, 'final.ptau'), quiet);
    await s.zKey.newZKey(r1csPath, join(tmp, 'final.ptau'), join(tmp, 'circuit0.zkey'), quiet);
    await s.zKey.contribute(join(tmp, 'circuit0.zkey'), join(tmp, 'circuit.zkey'), 'test', randomBytes(32).toString('hex'), quiet);
    const vk = await s.zKey.exportVerificationKey(join(tmp, 'circuit.zkey'), quiet);
    writeFileSync(join(tmp, 'verification_key.json'), JSON.stringify(vk));
    try {
      renameSync(tmp, dir);
    } catch (e) {
      if (!existsSync(join(dir, 'verification_key.json'))) throw e;
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** The cached setup; the caller releases snarkjs's curve (releaseFixture) when done. */
export async function loadFixture(): Promise<Fixture> {
  const compiled = await compileCircuit(FIXTURE_CIRCUIT);
  const dir = join(CACHE, `${compiled.key.slice(0, 16)}-${SETUP_VERSION}`);
  if (!existsSync(join(dir, 'verification_key.json'))) await build(dir, compiled.r1csPath);
  const vk = JSON.parse(readFileSync(join(dir, 'verification_key.json'), 'utf8')) as SnarkjsVerificationKey;
  return { vk, zkeyPath: join(dir, 'circuit.zkey'), wasmPath: compiled.wasmPath };
}

export async function proveFixture(f: Fixture, a: bigint, b: bigint, c: bigint): Promise<FixtureProof> {
  const s = await snarkjs();
  return s.groth16.fullProve({ a: a.toString(), b: b.toString(), c: c.toString() }, f.wasmPath, f.zkeyPath, quiet);
}

export async function snarkjsVerify(f: Fixture, p: FixtureProof): Promise<boolean> {
  const s = await snarkjs();
  return s.groth16.verify(f.vk, p.publicSignals, p.proof, quiet);
}

export const releaseFixture = releaseSnarkjsCurve;

// ---- a VM with the real ModelRegistry runtime code at its predeploy address ----

export const REGISTRY = '0x4200000000000000000000000000000000000a00' as const;
export const ALICE = '0x00000000000000000000000000000000000a11ce' as const;
/** Calls run in this block unless told otherwise; a registration commits in the one before. */
export const BLOCK = 7n;

export interface RegistryVm {
  vm: VM;
  /** A message call; `caller` defaults to ALICE, `block` to BLOCK. */
  call(to: Hex, data: Hex, opts?: { caller?: Hex; gasLimit?: bigint; block?: bigint }): Promise<EVMResult>;
  /** A call to the registry that must succeed. */
  registry(fn: string, args: readonly unknown[], caller?: Hex, block?: bigint): Promise<Hex>;
  /** commitRegistration in block BLOCK - 1, then register in BLOCK (registeredAt = BLOCK). */
  register(modelId: Hex, vk: Hex, uri: string, caller?: Hex): Promise<void>;
}

/** The AI precompiles by default: the registry asks the verifier's checkKey for every key. */
export async function registryVm(precompiles?: CustomPrecompile[]): Promise<RegistryVm> {
  const common = new Common({ chain: Mainnet, hardfork: Hardfork.Cancun });
  // read caches as the node's state has them (node/chain/chain.ts)
  const stateManager = new MerkleStateManager({ common, caches: new Caches({ storage: { size: 100_000 } }) });
  const customPrecompiles = precompiles ?? (await createAiPrecompiles());
  const vm = await createVM({ common, stateManager, evmOpts: { customPrecompiles } });
  await vm.stateManager.putCode(createAddressFromString(REGISTRY), hexToBytes(loadArtifact('ModelRegistry').deployedBytecode));
  const call: RegistryVm['call'] = (to, data, opts = {}) =>
    vm.evm.runCall({
      to: createAddressFromString(to),
      caller: createAddressFromString(opts.caller ?? ALICE),
      data: hexToBytes(data),
      gasLimit: opts.gasLimit ?? 30_000_000n,
      block: createBlock({ header: { number: opts.block ?? BLOCK } }, { common }),
    });
  const registry: RegistryVm['registry'] = async (fn, args, caller, block) => {
    const data = encodeFunctionData({ abi: registryAbi, functionName: fn as 'register', args: args as never });
    const r = await call(REGISTRY, data, { caller, block });
    if (r.execResult.exceptionError) throw new Error(`registry.${fn} failed: ${r.execResult.exceptionError.error} ${bytesToHex(r.execResult.returnValue)}`);
    return bytesToHex(r.execResult.returnValue);
  };
  return {
    vm,
    call,
    registry,
    async register(modelId, vk, uri, caller = ALICE) {
      const salt = keccak256(modelId);
      await registry('commitRegistration', [registrationCommitment(caller, modelId, vk, uri, salt)], caller, BLOCK - 1n);
      await registry('register', [modelId, vk, uri, salt], caller);
    },
  };
}

export const registryAbi = loadArtifact('ModelRegistry').abi;
