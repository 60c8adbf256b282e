/**
 * The Bridge part of bench:l1: deposit-to-L2 latency and the L1 gas of Bridge.finalizeWithdrawal.
 *
 * Unlike the batch part (automining anvil, blocks mined by hand), this runs the rollup as the
 * devnet does: anvil with 2-second blocks, an in-process rollup node with 1-second L2 blocks that
 * polls L1 every 500 ms and runs its own batcher and proposer. Only the challenge window is
 * shorter than the devnet's, so a withdrawal becomes final in seconds.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { bytesToHex, createPublicClient, createWalletClient, decodeEventLog, encodeFunctionData, http, parseAbi, parseEther, size, toHex } from 'viem';
import type { Address, Hex, PrivateKeyAccount } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { compileContracts } from '../contracts/compile.ts';
import { loadL1Artifact } from '../contracts/l1-artifacts.ts';
import { MESSAGE_PASSER_ADDRESS } from '../contracts/predeploys.ts';
import { resourceConfigFor } from '../devnet/deploy.ts';
import { devAccounts } from '../node/chain/genesis.ts';
import { RollupNode } from '../node/assembly/node.ts';
import { defaultNodeOptions } from '../node/assembly/options.ts';
import type { NodeOptions } from '../node/assembly/options.ts';
import { depositToTx, nextDepositHash } from '../node/rollup/l1-attributes.ts';
import { bridgeAbi } from '../contracts/abi/rollup.ts';
import { startL1 } from '../test/helpers/rollup.ts';
import type { L1Env } from '../test/helpers/rollup.ts';
import { rpc, rpcBatch, sleep, table } from './lib.ts';
import { chainAt } from '../contracts/abi/chain.ts';

/** The devnet's defaults (ai-rollup devnet --l1-block-time, --block-time; devnet/devnet.ts). */
const L1_BLOCK_TIME_S = 2;
const L2_BLOCK_TIME_S = 1;
const L1_POLL_MS = 500;
const BATCH_MAX_AGE_MS = 4_000;
/** The devnet's is 10 s; every second of it is waited for once per withdrawal round. */
const CHALLENGE_WINDOW_S = 4n;
/** Receipts are polled this often: it bounds the error of each latency figure. */
const POLL_MS = 25;
const CALL_GAS = 100_000n;
const L2_FEES = { maxFeePerGas: 10n ** 10n, maxPriorityFeePerGas: 10n ** 6n };

const passerAbi = parseAbi([
  'function initiateWithdrawal(address target, uint256 gasLimit, bytes data) payable',
  'function messageNonce() view returns (uint256)',
  'event MessagePassed(uint256 indexed nonce, address indexed sender, address indexed target, uint256 value, uint256 gasLimit, bytes data, bytes32 withdrawalHash)',
]);
const depositQueued = parseAbi([
  'event DepositQueued(uint256 indexed index, address indexed from, address indexed to, uint256 mint, uint256 value, uint64 gasLimit, bool isCreation, bytes data, bytes32 depositHash)',
]);
// the committed artifact: finalizeWithdrawal's structs are not in the typed bridgeAbi
const bridgeFullAbi = loadL1Artifact('Bridge').abi;

export interface BridgeBenchOptions {
  deposits: number;
  /** Withdrawals added to the message passer before a second ETH withdrawal: a deeper storage proof. */
  fill: number;
}

export async function benchBridge(opts: BridgeBenchOptions): Promise<void> {
  if (!(opts.deposits >= 1)) throw new Error('--deposits must be at least 1: the withdrawals spend deposited ETH');
  const dir = await mkdtemp(join(tmpdir(), 'bench-l1-bridge-'));
  let env: L1Env | undefined;
  let node: RollupNode | undefined;
  try {
    env = await startL1(dir, { l1BlockTime: L1_BLOCK_TIME_S, challengeWindow: CHALLENGE_WINDOW_S, resourceConfig: resourceConfigFor(L1_BLOCK_TIME_S) });
    node = await RollupNode.init(nodeOptions(env, join(dir, 'l2')), pino({ level: 'warn' }));
    // L2 ETH that comes from L1 deposits, so the Bridge holds what the withdrawals take out
    const withdrawer = privateKeyToAccount(generatePrivateKey());
    await depositLatency(env, node.rpcUrl, withdrawer.address, opts.deposits);
    await withdrawalGas(env, node.rpcUrl, withdrawer, opts.fill);
  } finally {
    await node?.close();
    await env?.anvil.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

function nodeOptions(env: L1Env, datadir: string): NodeOptions {
  return {
    ...defaultNodeOptions,
    datadir,
    dev: true,
    chainId: env.config.l2ChainId,
    rpc: { ...defaultNodeOptions.rpc, port: 0 },
    sequencer: { ...defaultNodeOptions.sequencer, blockTime: L2_BLOCK_TIME_S },
    rollup: { config: env.config, l1Rpc: env.anvil.url, batcherKey: env.keys[1], proposerKey: env.keys[2], l1PollMs: L1_POLL_MS, batchMaxAgeMs: BATCH_MAX_AGE_MS },
  };
}

// ---- deposits ----

async function depositLatency(env: L1Env, l2Url: string, to: Address, n: number): Promise<void> {
  const l1: number[] = [];
  const l2: number[] = [];
  for (let i = 0; i < n; i++) {
    // spread the sends over the L1 block interval, so the figures do not all come from one phase of it
    await sleep(((i * 0.37) % 1) * L1_BLOCK_TIME_S * 1000);
    const t = await timeDeposit(env, l2Url, to, parseEther('1'));
    l1.push(t.l1Ms);
    l2.push(t.l2Ms);
  }
  const rows = [
    { from: 'send → L1 receipt', ...stats(l1) },
    { from: 'send → L2 receipt', ...stats(l2) },
    { from: 'L1 receipt → L2 receipt', ...stats(l2.map((x, i) => x - l1[i]!)) },
  ];
  console.log(
    `\ndeposit-to-L2 latency, ${n} depositETH calls one after another, ms (anvil --block-time ${L1_BLOCK_TIME_S} as the devnet; ` +
      `L2 node in-process: block time ${L2_BLOCK_TIME_S} s, l1PollMs ${L1_POLL_MS}, l1Confirmations ${env.config.l1Confirmations}; receipts polled every ${POLL_MS} ms)`,
  );
  console.log(table(rows));
}

/**
 * One depositETH. The L2 transaction hash is known before sending (the Bridge's rolling hash is
 * its sourceHash), so both receipts are polled from the moment of sending, independently.
 */
async function timeDeposit(env: L1Env, l2Url: string, to: Address, value: bigint): Promise<{ l1Ms: number; l2Ms: number }> {
  const { publicClient, walletClient, account } = env.l1;
  const bridge = env.deployment.bridge;
  const index = await publicClient.readContract({ address: bridge, abi: bridgeAbi, functionName: 'depositCount' });
  const prev = await publicClient.readContract({ address: bridge, abi: bridgeAbi, functionName: 'depositHashAt', args: [index] });
  const d = { index: BigInt(index), from: account.address, to, mint: value, value, gasLimit: CALL_GAS, isCreation: false, data: '0x' as Hex };
  const depositHash = nextDepositHash(prev, d);
  const l2Hash = bytesToHex(depositToTx({ ...d, depositHash, l1Block: 0n }).hash());
  const data = encodeFunctionData({ abi: bridgeAbi, functionName: 'depositETH', args: [to, CALL_GAS, '0x'] });
  const serializedTransaction = await walletClient.signTransaction(await walletClient.prepareTransactionRequest({ to: bridge, value, data }));
  const t0 = performance.now();
  const hash = await walletClient.sendRawTransaction({ serializedTransaction });
  const [l1, l2] = await Promise.all([receiptAt(env.anvil.url, hash), receiptAt(l2Url, l2Hash)]);
  const ev = decodeEventLog({ abi: depositQueued, eventName: 'DepositQueued', data: l1.receipt.logs[0].data, topics: l1.receipt.logs[0].topics });
  if (ev.args.depositHash !== depositHash) throw new Error(`deposit ${index}: L1 rolling hash ${ev.args.depositHash}, predicted ${depositHash}`);
  if (l2.receipt.status !== '0x1') throw new Error(`deposit ${index} failed on L2 (${l2Hash})`);
  return { l1Ms: l1.at - t0, l2Ms: l2.at - t0 };
}

async function receiptAt(url: string, hash: Hex): Promise<{ receipt: any; at: number }> {
  const deadline = performance.now() + 120_000;
  for (;;) {
    const receipt = await rpc(url, 'eth_getTransactionReceipt', [hash]);
    if (receipt !== null) return { receipt, at: performance.now() };
    if (performance.now() > deadline) throw new Error(`no receipt for ${hash} at ${url}`);
    await sleep(POLL_MS);
  }
}

function stats(xs: number[]): { min: string; median: string; max: string } {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
  return { min: s[0]!.toFixed(0), median: mid.toFixed(0), max: s.at(-1)!.toFixed(0) };
}

// ---- withdrawals ----

interface Planned {
  label: string;
  target: Address;
  value: bigint;
  data: Hex;
}

interface Withdrawal {
  label: string;
  tx: { nonce: bigint; sender: Address; target: Address; value: bigint; gasLimit: bigint; data: Hex };
  hash: Hex;
  block: bigint;
}

function l2Clients(url: string, chainId: bigint, account: PrivateKeyAccount) {
  const chain = chainAt(chainId, url, 'l2');
  return {
    url,
    publicClient: createPublicClient({ chain, transport: http(url), pollingInterval: 100 }),
    walletClient: createWalletClient({ chain, transport: http(url), account }),
  };
}
type L2 = ReturnType<typeof l2Clients>;

async function withdrawalGas(env: L1Env, l2Url: string, withdrawer: PrivateKeyAccount, fill: number): Promise<void> {
  const l2 = l2Clients(l2Url, env.config.l2ChainId, withdrawer);
  // a funded L1 account: paying one that does not exist yet would add CALL's 25,000 new-account gas
  const eoa = privateKeyToAccount(env.keys[5]!).address;
  const setValue = encodeFunctionData({ abi: parseAbi(['function setValue(uint256 v)']), functionName: 'setValue', args: [42n] });
  const rows: Record<string, string | number>[] = [];
  const waits: string[] = [];
  // a near-empty passer trie gives proofs of 2-4 nodes by chance; the filled one shows what depth costs
  for (let round = 0; round < (fill > 0 ? 2 : 1); round++) {
    if (round === 1) await fillPasser(l2Url, env.config.l2ChainId, fill);
    // a fresh receiver each round, so every setValue is the same zero-to-nonzero SSTORE
    const receiver = await deployReceiver(env);
    const planned: Planned[] = [
      { label: 'ETH to an EOA', target: eoa, value: parseEther('0.5'), data: '0x' },
      { label: 'setValue(42) on a contract, no ETH', target: receiver, value: 0n, data: setValue },
    ];
    const r = await withdrawalRound(env, l2, planned);
    rows.push(...r.rows);
    waits.push((r.waitMs / 1000).toFixed(1));
  }
  console.log(
    `\nBridge.finalizeWithdrawal on L1 (anvil, Prague), gas from the receipt; proof = storage proof nodes + the 128-byte output root proof; ` +
      `"passer slots": storage slots of the message passer at the proven block (withdrawals + its nonce), which set the proof's depth`,
  );
  console.log(table(rows));
  console.log(
    `initiateWithdrawal on L2 → covered by a final output: ${waits.join(' s, ')} s (batch max age ${BATCH_MAX_AGE_MS / 1000} s, challenge window ${CHALLENGE_WINDOW_S} s, ` +
      `L1 blocks ${L1_BLOCK_TIME_S} s)`,
  );
}

/** Initiates `planned` on L2, waits for a final output covering them, and finalizes each on L1. */
async function withdrawalRound(env: L1Env, l2: L2, planned: Planned[]): Promise<{ rows: Record<string, string | number>[]; waitMs: number }> {
  const l2Url = l2.url;
  const t0 = performance.now();
  const initiated: Withdrawal[] = [];
  for (const p of planned) initiated.push(await initiate(l2, p));
  const last = initiated.reduce((m, w) => (w.block > m ? w.block : m), 0n);
  const finalized = await finalizedAtLeast(l2Url, last);
  const waitMs = performance.now() - t0;
  const out = await rpc(l2Url, 'rollup_outputAtBlock', [toHex(finalized), initiated.map((w) => w.hash)]);
  if (out.l1Output?.finalized !== true || out.l1Output.matches !== true) throw new Error(`output at L2 block ${finalized}: ${JSON.stringify(out.l1Output)}`);
  const nonce = await l2.publicClient.readContract({ address: MESSAGE_PASSER_ADDRESS, abi: passerAbi, functionName: 'messageNonce', blockNumber: finalized });
  const rows: Record<string, string | number>[] = [];
  for (const [k, w] of initiated.entries()) rows.push({ withdrawal: w.label, 'passer slots': Number(nonce) + 1, ...(await finalize(env, w, out, out.withdrawalProofs[k])) });
  return { rows, waitMs };
}

/** The calldata case needs a contract on L1 that accepts a call from the Bridge: contracts/test/Events.sol. */
async function deployReceiver(env: L1Env): Promise<Address> {
  const { Events } = await compileContracts(['test/Events.sol']);
  const { walletClient, publicClient } = env.l1;
  const hash = await walletClient.deployContract({ abi: Events!.abi, bytecode: Events!.bytecode });
  const r = await publicClient.waitForTransactionReceipt({ hash });
  if (r.contractAddress == null) throw new Error('Events deployment gave no address');
  return r.contractAddress;
}

async function initiate(l2: L2, p: Planned): Promise<Withdrawal> {
  const hash = await l2.walletClient.writeContract({
    address: MESSAGE_PASSER_ADDRESS,
    abi: passerAbi,
    functionName: 'initiateWithdrawal',
    args: [p.target, CALL_GAS, p.data],
    value: p.value,
  });
  const receipt = await l2.publicClient.waitForTransactionReceipt({ hash });
  if (receipt.status !== 'success') throw new Error(`initiateWithdrawal (${p.label}) reverted on L2`);
  const log = receipt.logs.find((l) => l.address.toLowerCase() === MESSAGE_PASSER_ADDRESS.toLowerCase());
  if (log === undefined) throw new Error('no MessagePassed log');
  const ev = decodeEventLog({ abi: passerAbi, ...log });
  if (ev.eventName !== 'MessagePassed') throw new Error('no MessagePassed log');
  const a = ev.args;
  return {
    label: p.label,
    tx: { nonce: a.nonce, sender: a.sender, target: a.target, value: a.value, gasLimit: a.gasLimit, data: a.data },
    hash: a.withdrawalHash,
    block: receipt.blockNumber,
  };
}

async function finalizedAtLeast(l2Url: string, block: bigint): Promise<bigint> {
  const deadline = performance.now() + 180_000;
  for (;;) {
    const s = await rpc(l2Url, 'rollup_syncStatus');
    const n = BigInt(s.finalized.number);
    if (n >= block) return n;
    if (performance.now() > deadline) throw new Error(`no final output covering L2 block ${block} (finalized ${n})`);
    await sleep(200);
  }
}

async function finalize(env: L1Env, w: Withdrawal, out: any, proof: { value: Hex; proof: Hex[] }): Promise<Record<string, string | number>> {
  if (BigInt(proof.value) !== 1n) throw new Error(`withdrawal ${w.hash} is not in the message passer at the proven block`);
  const { publicClient, walletClient, account } = env.l1;
  const args = [w.tx, BigInt(out.l1Output.index), out.outputRootProof, proof.proof] as const;
  const { request } = await publicClient.simulateContract({ account, address: env.deployment.bridge, abi: bridgeFullAbi, functionName: 'finalizeWithdrawal', args: args as never });
  const r = await publicClient.waitForTransactionReceipt({ hash: await walletClient.writeContract(request) });
  if (r.status !== 'success') throw new Error(`finalizeWithdrawal ${w.hash} reverted`);
  const storageBytes = proof.proof.reduce((n, node) => n + size(node), 0);
  const rootProofBytes = Object.values(out.outputRootProof as Record<string, Hex>).reduce((n, h) => n + size(h), 0);
  return {
    'proof nodes': proof.proof.length,
    'storage proof B': storageBytes,
    'proof B total': storageBytes + rootProofBytes,
    'calldata B': size(encodeFunctionData({ abi: bridgeFullAbi, functionName: 'finalizeWithdrawal', args: args as never })),
    'L1 gasUsed': r.gasUsed.toString(),
  };
}

/** `count` zero-value withdrawals from the dev accounts (funded in the L2 dev genesis), so the passer's storage trie is deeper. */
async function fillPasser(l2Url: string, chainId: bigint, count: number): Promise<void> {
  const senders = devAccounts().map((a) => privateKeyToAccount(a.privateKey as Hex));
  const nonces = await Promise.all(senders.map(async (s) => Number(await rpc(l2Url, 'eth_getTransactionCount', [s.address, 'pending']))));
  const data = encodeFunctionData({ abi: passerAbi, functionName: 'initiateWithdrawal', args: [senders[0]!.address, 0n, '0x'] });
  const raws: Hex[] = [];
  for (let i = 0; i < count; i++) {
    const k = i % senders.length;
    raws.push(await senders[k]!.signTransaction({ chainId: Number(chainId), nonce: nonces[k]!++, to: MESSAGE_PASSER_ADDRESS, data, gas: CALL_GAS, ...L2_FEES }));
  }
  const hashes: Hex[] = [];
  for (let i = 0; i < raws.length; i += 100) {
    const answers = await rpcBatch(
      l2Url,
      raws.slice(i, i + 100).map((r) => ({ method: 'eth_sendRawTransaction', params: [r] })),
    );
    const bad = answers.find((a) => a.error !== undefined);
    if (bad !== undefined) throw new Error(`filling the message passer: ${bad.error!.message}`);
    hashes.push(...answers.map((a) => a.result as Hex));
  }
  // round robin: the last transaction of each sender is among the last senders.length, and it comes after all of its sender's others
  for (const h of hashes.slice(-senders.length)) await receiptAt(l2Url, h);
}
