/**
 * npm run bench:aggregate — L1 gas of checking a batch's inference proofs. Prints figures,
 * asserts nothing.
 *
 * On a real anvil with the real Rollup (one 1-block rollup batch per submission) and the
 * InferenceOracle, for the 16-16-4 example model:
 *  - per proof: snarkjs's generated Groth16Verifier.sol, one transaction per proof (the usual
 *    way), for 1, 16 and 64 inferences in private-input (5 public signals) and public-input (20)
 *    mode;
 *  - per batch: one InferenceOracle.submitBatchProofs of the same proofs, with the key in
 *    calldata and with the key stored once by addKey;
 *  - multi-inference circuits (prover/circuit/multi.ts: k inferences per proof, 2 signals each):
 *    constraints for k = 1, 2, 4, 8 (circom2 --O2) and the gas of 64 inferences as 64/k proofs.
 *    k = 8 of this model needs 8,712 constraints, a K=14 ptau, past the K=13 this machine makes
 *    in minutes; its L1 gas is measured with an 8-slot circuit of the model's 16->4 last layer
 *    alone, which has the same public-signal shape (L1 gas depends on proofs, signals and
 *    calldata bytes, not on the circuit behind a key).
 * Proofs are cached in .cache/aggregate/bench-*.json (keys and setups in .cache/aggregate).
 * Then the L1 gas of consuming one result by the fast and the final path (result-consumption.ts).
 * `--live` measures the node's InferencePoster instead, end to end (bench/aggregate-live.ts).
 */
import { EMPTY_RESULTS_ROOT } from '../node/rollup/result-leaf.ts';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as snarkjs from 'snarkjs';
import { createPublicClient, createWalletClient, decodeEventLog, encodeFunctionData, http, keccak256, parseAbi } from 'viem';
import type { Address, Hex, PublicClient, WalletClient } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { loadL1Artifact } from '../contracts/l1-artifacts.ts';
import { startAnvil } from '../devnet/anvil.ts';
import { deployL1 } from '../devnet/deploy.ts';
import { bridgeAbi, rollupAbi } from '../contracts/abi/rollup.ts';
import { type InferenceProofInput, buildBatchSubmission } from '../node/rollup/oracle-submission.ts';
import { AGGREGATE_CACHE, cachedModel, cachedMultiCircuit, multiConstraints, proveMulti } from '../prover/aggregate/circuits.ts';
import { inferenceOracleAbi } from '../contracts/abi/oracle.ts';
import { mulberry32, randomInput } from '../precompiles/model/random.ts';
import { type ParsedSpec, parseModelSpecText } from '../precompiles/model/spec.ts';
import { proveInference } from '../prover/pipeline/prove.ts';
import { quietLogger } from '../prover/setup/snarkjs-curve.ts';
import { ROOT, table } from './lib.ts';
import { chainAt } from '../contracts/abi/chain.ts';
import { consumptionGas } from './result-consumption.ts';

const SIZES = [1, 16, 64];
const BATCH = 64;
const TINY = parseModelSpecText(readFileSync(join(ROOT, 'precompiles/model/examples/tiny-16-16-4.json'), 'utf8'));
/** The 16->4 int8 last layer of the example alone: a stand-in with the same 2-signal slots. */
const STAND_IN: ParsedSpec = { name: 'tiny-last-layer-16-4', version: 1, model: { inputShape: [16], layers: [TINY.model.layers[1]!] } };

interface Proof {
  publicSignals: string[];
  proofWords: Hex[];
  proveMs: number;
}

interface ProofSet {
  name: string;
  vk: Hex;
  zkey: string;
  /** Inferences per proof. */
  k: number;
  proofs: Proof[];
}

/** `count` proofs under one key, cached by the key's hash so a new setup is never mixed with old proofs. */
async function proofSet(name: string, vk: Uint8Array, zkey: string, k: number, count: number, prove: (i: number) => Promise<Proof>): Promise<ProofSet> {
  const vkHex = `0x${Buffer.from(vk).toString('hex')}` as Hex;
  const file = join(AGGREGATE_CACHE, `bench-${name}.json`);
  let proofs: Proof[] = [];
  if (existsSync(file)) {
    const cached = JSON.parse(readFileSync(file, 'utf8')) as { vkHash: Hex; proofs: Proof[] };
    if (cached.vkHash === keccak256(vkHex)) proofs = cached.proofs;
  }
  for (let i = proofs.length; i < count; i++) proofs.push(await prove(i));
  writeFileSync(file, JSON.stringify({ vkHash: keccak256(vkHex), proofs }));
  process.stderr.write(`${name}: ${count} proofs\n`);
  return { name, vk: vkHex, zkey, k, proofs: proofs.slice(0, count) };
}

async function singleSet(mode: 'private' | 'public'): Promise<ProofSet> {
  const m = await cachedModel(TINY, mode);
  const rng = mulberry32(64_000 + (mode === 'private' ? 1 : 2));
  const inputs = Array.from({ length: BATCH }, () => Array.from(randomInput(rng, TINY.model)));
  return proofSet(`tiny-${mode}`, readFileSync(join(m.dir, 'vk.bin')), join(m.dir, 'circuit.zkey'), 1, BATCH, async (i) => {
    const p = await proveInference(m, inputs[i]!);
    return { publicSignals: p.publicSignals, proofWords: p.proofWords, proveMs: p.timings.witnessMs + p.timings.proveMs };
  });
}

async function multiSet(spec: ParsedSpec, k: number): Promise<ProofSet> {
  const c = await cachedMultiCircuit(spec, k);
  const rng = mulberry32(64_000 + k);
  const inputs = Array.from({ length: BATCH }, () => randomInput(rng, spec.model));
  return proofSet(`${spec.name}-multi${k}`, c.vk, join(c.dir, 'circuit.zkey'), k, BATCH / k, (i) => proveMulti(spec, c, inputs.slice(i * k, i * k + k)));
}

// ------------------------------------------------------------------------------------------ L1

interface L1 {
  pub: PublicClient;
  wallet: WalletClient;
  batcher: WalletClient;
  rollup: Address;
  bridge: Address;
  oracle: Address;
  stop(): Promise<void>;
}

async function startL1(): Promise<L1> {
  const anvil = await startAnvil({ gasLimit: 60_000_000n });
  const chain = chainAt(anvil.chainId, anvil.url, 'anvil');
  const pub = createPublicClient({ chain, transport: http(anvil.url), pollingInterval: 50 }) as PublicClient;
  const [deployer, batcherKey] = anvil.accounts.map((k) => privateKeyToAccount(k));
  const wallet = createWalletClient({ chain, account: deployer!, transport: http(anvil.url) });
  const batcher = createWalletClient({ chain, account: batcherKey!, transport: http(anvil.url) });
  const d = await deployL1({
    l1Url: anvil.url,
    deployerKey: anvil.accounts[0]!,
    batcher: batcherKey!.address,
    proposer: deployer!.address,
    challenger: deployer!.address,
    challengeWindow: 3600n,
    inclusionWindow: 86_400n,
  });
  const art = loadL1Artifact('InferenceOracle');
  const hash = await wallet.deployContract({ abi: art.abi, bytecode: art.bytecode, args: [d.rollup], account: deployer!, chain });
  const oracle = (await pub.waitForTransactionReceipt({ hash })).contractAddress!;
  return { pub, wallet, batcher, rollup: d.rollup, bridge: d.bridge, oracle, stop: () => anvil.stop() };
}

async function send(l1: L1, from: WalletClient, to: Address | undefined, data: Hex): Promise<{ gas: bigint; address?: Address; logs: { data: Hex; topics: Hex[] }[] }> {
  const hash = await from.sendTransaction({ to: to ?? null, data, account: from.account!, chain: from.chain, gas: 30_000_000n });
  const r = await l1.pub.waitForTransactionReceipt({ hash });
  if (r.status !== 'success') throw new Error(`transaction ${hash} reverted`);
  return { gas: r.gasUsed, address: r.contractAddress ?? undefined, logs: r.logs as { data: Hex; topics: Hex[] }[] };
}

/** Posts a one-block rollup batch and returns its index (the oracle accepts only known batches). */
async function rollupBatch(l1: L1): Promise<bigint> {
  const read = <T>(functionName: 'batchCount' | 'nextBlock' | 'lastBatchHash') => l1.pub.readContract({ address: l1.rollup, abi: rollupAbi, functionName }) as Promise<T>;
  const [index, first, prev] = [await read<bigint>('batchCount'), await read<bigint>('nextBlock'), await read<Hex>('lastBatchHash')];
  const depositHash = await l1.pub.readContract({ address: l1.bridge, abi: bridgeAbi, functionName: 'depositHashAt', args: [0n] });
  const header = { index, prevBatchHash: prev, firstBlock: first, lastBlock: first, dataHash: keccak256('0x00'), depositCount: 0n, depositHash, resultsRoot: EMPTY_RESULTS_ROOT };
  await send(l1, l1.batcher, l1.rollup, encodeFunctionData({ abi: rollupAbi, functionName: 'submitBatch', args: [header, '0x00'] }));
  return index;
}

/** Gas of one submission of `set`'s first `proofs` proofs; the emitted root must be the one built here. */
async function submit(l1: L1, set: ProofSet, proofs: number, storedKeys: Hex[] = []): Promise<bigint> {
  const items: InferenceProofInput[] = set.proofs.slice(0, proofs).map((p) => ({ vk: set.vk, publicSignals: p.publicSignals, proofWords: p.proofWords }));
  const sub = buildBatchSubmission(await rollupBatch(l1), items, { storedKeys });
  const r = await send(l1, l1.wallet, l1.oracle, sub.calldata);
  const ev = decodeEventLog({ abi: inferenceOracleAbi, eventName: 'BatchProofsVerified', data: r.logs[0]!.data, topics: r.logs[0]!.topics as [Hex] });
  if (ev.args?.root !== sub.root) throw new Error(`oracle root ${ev.args?.root} differs from batch-proof.ts's ${sub.root}`);
  return r.gas;
}

const stored = new Map<Hex, bigint>();

/** addKey once per key; its gas. */
async function storeKey(l1: L1, vk: Hex): Promise<bigint> {
  let gas = stored.get(vk);
  if (gas === undefined) {
    gas = (await send(l1, l1.wallet, l1.oracle, encodeFunctionData({ abi: inferenceOracleAbi, functionName: 'addKey', args: [vk] }))).gas;
    stored.set(vk, gas);
  }
  return gas;
}

// ----------------------------------------------------------------------- baseline: per proof

const require = createRequire(import.meta.url);
const verifierAbi = (n: number) => parseAbi([`function verifyProof(uint256[2] a, uint256[2][2] b, uint256[2] c, uint256[${n}] pub) view returns (bool)`]);

async function deployVerifier(l1: L1, set: ProofSet): Promise<Address> {
  // the templates are not in snarkjs's package exports: found next to its build directory
  const template = readFileSync(join(dirname(require.resolve('snarkjs')), '../templates/verifier_groth16.sol.ejs'), 'utf8');
  const zKey = snarkjs.zKey as unknown as { exportSolidityVerifier(zkey: string, t: { groth16: string }, l: unknown): Promise<string> };
  const source = await zKey.exportSolidityVerifier(set.zkey, { groth16: template }, quietLogger);
  const solc = require('solc') as { compile(input: string): string };
  const input = {
    language: 'Solidity',
    sources: { 'V.sol': { content: source } },
    settings: { evmVersion: 'cancun', optimizer: { enabled: true, runs: 200 }, outputSelection: { '*': { '*': ['evm.bytecode.object'] } } },
  };
  const out = JSON.parse(solc.compile(JSON.stringify(input))) as { contracts: Record<string, Record<string, { evm: { bytecode: { object: string } } }>> };
  const r = await send(l1, l1.wallet, undefined, `0x${out.contracts['V.sol']!.Groth16Verifier!.evm.bytecode.object}`);
  return r.address!;
}

/** Gas of each verifyProof transaction, in proof order. */
async function perProofGas(l1: L1, set: ProofSet): Promise<bigint[]> {
  const verifier = await deployVerifier(l1, set);
  const gas: bigint[] = [];
  for (const p of set.proofs) {
    const w = p.proofWords.map(BigInt);
    const args = [
      [w[0]!, w[1]!],
      [
        [w[2]!, w[3]!],
        [w[4]!, w[5]!],
      ],
      [w[6]!, w[7]!],
      p.publicSignals.map(BigInt),
    ] as const;
    const data = encodeFunctionData({ abi: verifierAbi(p.publicSignals.length), functionName: 'verifyProof', args: args as never });
    const ok = await l1.pub.call({ to: verifier, data });
    if (ok.data === undefined || BigInt(ok.data) !== 1n) throw new Error(`${set.name}: the snarkjs verifier rejects proof ${gas.length}`);
    gas.push((await send(l1, l1.wallet, verifier, data)).gas);
  }
  return gas;
}

// ------------------------------------------------------------------------------------- report

const fmt = (n: number | bigint): string => Math.round(Number(n)).toLocaleString('en-US');

async function main(): Promise<void> {
  const priv = await singleSet('private');
  const pub = await singleSet('public');
  const multis = [await multiSet(TINY, 1), await multiSet(TINY, 2), await multiSet(TINY, 4), await multiSet(STAND_IN, 8)];
  const shapes = [];
  for (const k of [1, 2, 4, 8]) shapes.push({ k, ...(await multiConstraints(TINY, k)) });

  const l1 = await startL1();
  try {
    const rows: Record<string, string>[] = [];
    const summary: Record<string, string>[] = [];
    for (const set of [priv, pub]) {
      const signals = set.proofs[0]!.publicSignals.length;
      const perProof = await perProofGas(l1, set);
      const addKey = await storeKey(l1, set.vk);
      for (const n of SIZES) {
        const verifier = perProof.slice(0, n).reduce((a, b) => a + b, 0n);
        const inline = await submit(l1, set, n);
        const stored = await submit(l1, set, n, [keccak256(set.vk)]);
        rows.push({
          circuit: set.name,
          signals: String(signals),
          inferences: String(n),
          'verifier txs': fmt(verifier),
          '/inf': fmt(Number(verifier) / n),
          'batch, calldata key': fmt(inline),
          '/inf ': fmt(Number(inline) / n),
          'batch, stored key': fmt(stored),
          '/inf  ': fmt(Number(stored) / n),
        });
        if (n === BATCH) {
          summary.push({
            option: `${set.name} (${signals} signals), one verifier tx per proof`,
            proofs: String(n),
            'key in calldata': '',
            'stored key': '',
            'snarkjs verifier': fmt(Number(verifier) / n),
          });
          summary.push({
            option: `${set.name} (${signals} signals), one batch submission`,
            proofs: String(n),
            'key in calldata': fmt(Number(inline) / n),
            'stored key': fmt(Number(stored) / n),
            'snarkjs verifier': '',
          });
        }
      }
      process.stdout.write(`addKey(${set.name}): ${fmt(addKey)} gas, ${(set.vk.length - 2) / 2} key bytes\n`);
    }
    process.stdout.write(`\n${table(rows)}\n\n`);

    const multiRows: Record<string, string>[] = [];
    for (const s of shapes) {
      const set = multis.find((m) => m.k === s.k)!;
      const addKey = await storeKey(l1, set.vk);
      if (s.k > 1) process.stdout.write(`addKey(${set.name}): ${fmt(addKey)} gas, ${(set.vk.length - 2) / 2} key bytes\n`);
      const stored = await submit(l1, set, BATCH / s.k, [keccak256(set.vk)]);
      const inline = await submit(l1, set, BATCH / s.k);
      // when the proofs were made: a shared machine makes these rough
      const proveMs = set.proofs.reduce((a, p) => a + p.proveMs, 0) / set.proofs.length;
      multiRows.push({
        k: String(s.k),
        constraints: fmt(s.constraints),
        ptau: `K=${s.ptauPower}`,
        signals: String(s.publicSignals),
        proofs: String(BATCH / s.k),
        'prove ms/proof': fmt(proveMs),
        'calldata key': fmt(inline),
        '/inf': fmt(Number(inline) / BATCH),
        'stored key': fmt(stored),
        '/inf ': fmt(Number(stored) / BATCH),
        'gas measured with': set.name,
      });
      summary.push({
        option: `multi.ts k=${s.k} (${s.publicSignals} signals), one batch submission`,
        proofs: String(BATCH / s.k),
        'key in calldata': fmt(Number(inline) / BATCH),
        'stored key': fmt(Number(stored) / BATCH),
        'snarkjs verifier': '',
      });
    }
    process.stdout.write(`64 inferences of 16-16-4 (private input) as 64/k proofs of k inferences:\n${table(multiRows)}\n\n`);
    process.stdout.write(`L1 gas per inference at ${BATCH} inferences per batch (whole transactions: 21,000 + calldata + execution):\n${table(summary)}\n`);
  } finally {
    await l1.stop();
  }
}

// --live: the node's InferencePoster itself on a real L2 and L1 (bench/aggregate-live.ts)
if (process.argv.includes('--live')) await (await import('./aggregate-live.ts')).liveBench();
else {
  await main();
  await consumptionGas();
}
process.exit(0);
