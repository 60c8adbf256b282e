/**
 * npm run bench:rpc — JSON-RPC throughput against this node and anvil in the same run.
 * 10,000 pre-signed transactions from 100 senders, sent as eth_sendRawTransaction batches of
 * 100, timed from the first send to the last inclusion; ETH transfers, then ERC-20 transfers.
 * Both nodes mine on a 1-second interval with a 30M gas limit. Prints figures, asserts nothing.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import native from 'secp256k1';
import { bytesToHex, encodeDeployData, encodeFunctionData, hexToBytes, keccak256, parseEther, serializeTransaction, toHex } from 'viem';
import type { Hex, TransactionSerializableEIP1559 } from 'viem';
import { privateKeyToAddress } from 'viem/accounts';
import { compileContracts } from '../contracts/compile.ts';
import { ROOT, anvilBinary, freePort, rpc, rpcBatch, sleep, startTarget, table } from './lib.ts';
import type { Target } from './lib.ts';

const { values: args } = parseArgs({
  options: { only: { type: 'string' }, txs: { type: 'string', default: '10000' }, senders: { type: 'string', default: '100' } },
});
const TXS = Number(args.txs);
const SENDERS = Number(args.senders);
const PER_SENDER = Math.ceil(TXS / SENDERS);
const CHAIN_ID = 1337;
const FUNDER = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80' as const;
const BATCH = 100;
const IN_FLIGHT = 4;
const FEES = { maxFeePerGas: 100_000_000_000n, maxPriorityFeePerGas: 1_000_000_000n };

/** Signs with libsecp256k1: signing 20,000 transactions with the JS curve would take longer than the run. */
function sign(tx: TransactionSerializableEIP1559, key: Hex): Hex {
  const hash = hexToBytes(keccak256(serializeTransaction(tx)));
  const { signature, recid } = native.ecdsaSign(hash, hexToBytes(key));
  return serializeTransaction(tx, { r: bytesToHex(signature.slice(0, 32)), s: bytesToHex(signature.slice(32)), yParity: recid });
}

const keys = Array.from({ length: SENDERS }, (_, i) => keccak256(toHex(`bench-sender-${i}`)));
const addrs = keys.map((k) => privateKeyToAddress(k));

interface Workload {
  name: string;
  /** Transactions that prepare state (funding, deploy, mint), from the funder, nonces 0.. */
  setup: Hex[];
  measured: Hex[];
}

async function workloads(): Promise<Workload[]> {
  const { TestToken } = await compileContracts(['test/TestToken.sol']);
  let nonce = 0;
  const fromFunder = (to: Hex | undefined, value: bigint, data?: Hex, gas = 21_000n) =>
    sign({ chainId: CHAIN_ID, type: 'eip1559', nonce: nonce++, to, value, data, gas, ...FEES }, FUNDER);
  const fund = addrs.map((a) => fromFunder(a, parseEther('100')));
  const deployNonce = nonce;
  const deploy = fromFunder(undefined, 0n, encodeDeployData({ abi: TestToken!.abi, bytecode: TestToken!.bytecode, args: ['Bench', 'BNC', 0n] }), 2_000_000n);
  const tokenAddr = contractAddress(privateKeyToAddress(FUNDER), deployNonce);
  const mint = addrs.map((a) => fromFunder(tokenAddr, 0n, encodeFunctionData({ abi: TestToken!.abi, functionName: 'mint', args: [a, 10n ** 24n] }), 100_000n));
  const each = (make: (s: number, n: number) => TransactionSerializableEIP1559) => {
    const out: Hex[] = [];
    for (let n = 0; n < PER_SENDER; n++) for (let s = 0; s < SENDERS && out.length < TXS; s++) out.push(sign(make(s, n), keys[s]!));
    return out;
  };
  const eth = each((s, n) => ({ chainId: CHAIN_ID, type: 'eip1559', nonce: n, to: addrs[(s + 1) % SENDERS], value: 1n, gas: 21_000n, ...FEES }));
  const erc20 = each((s, n) => ({
    chainId: CHAIN_ID,
    type: 'eip1559',
    nonce: PER_SENDER + n,
    to: tokenAddr,
    data: encodeFunctionData({ abi: TestToken!.abi, functionName: 'transfer', args: [addrs[(s + 1) % SENDERS]!, 1n] }),
    gas: 80_000n,
    ...FEES,
  }));
  return [
    { name: 'ETH transfers', setup: [...fund, deploy, ...mint], measured: eth },
    { name: 'ERC-20 transfers', setup: [], measured: erc20 },
  ];
}

function contractAddress(from: Hex, nonce: number): Hex {
  // rlp([from, nonce]) for nonce < 0x80 short list encoding, enough for this bench's setup nonces
  const n = nonce === 0 ? '80' : nonce < 0x80 ? nonce.toString(16).padStart(2, '0') : `81${nonce.toString(16).padStart(2, '0')}`;
  const body = `94${from.slice(2)}${n}`;
  return `0x${keccak256(`0x${(0xc0 + body.length / 2).toString(16)}${body}`).slice(26)}`;
}

async function send(url: string, raws: Hex[]): Promise<number> {
  let errors = 0;
  let next = 0;
  const worker = async () => {
    while (next < raws.length) {
      const chunk = raws.slice(next, next + BATCH);
      next += BATCH;
      const res = await rpcBatch(url, chunk.map((raw) => ({ method: 'eth_sendRawTransaction', params: [raw] })));
      for (const r of res) if (r.error !== undefined) errors++;
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  return errors;
}

/** Waits until every sender's nonce reached `want`. */
async function waitNonces(url: string, who: Hex[], want: number[]): Promise<void> {
  for (;;) {
    const res = await rpcBatch(url, who.map((a) => ({ method: 'eth_getTransactionCount', params: [a, 'latest'] })));
    if (res.every((r, i) => Number(r.result) >= want[i]!)) return;
    await sleep(50);
  }
}

interface Figures {
  txs: number;
  seconds: number;
  gas: bigint;
  errors: number;
}

async function measure(t: Target, w: Workload, baseNonces: number[]): Promise<Figures> {
  if (w.setup.length > 0) {
    const errs = await send(t.url, w.setup);
    if (errs > 0) throw new Error(`${t.name}: ${errs} setup transactions refused`);
    await waitNonces(t.url, [privateKeyToAddress(FUNDER)], [w.setup.length]);
  }
  const startBlock = Number(await rpc(t.url, 'eth_blockNumber'));
  const t0 = performance.now();
  const errors = await send(t.url, w.measured);
  const want = baseNonces.map((b, s) => b + w.measured.filter((_, i) => i % SENDERS === s).length);
  await waitNonces(t.url, addrs, want);
  const seconds = (performance.now() - t0) / 1000;
  const endBlock = Number(await rpc(t.url, 'eth_blockNumber'));
  let gas = 0n;
  for (let b = startBlock + 1; b <= endBlock; b++) gas += BigInt((await rpc(t.url, 'eth_getBlockByNumber', [toHex(b), false])).gasUsed);
  return { txs: w.measured.length, seconds, gas, errors };
}

async function runTarget(name: 'anvil' | 'ours', ws: Workload[]): Promise<{ figs: Figures[]; rss: number } | string> {
  const port = await freePort();
  let t: Target;
  try {
    t =
      name === 'anvil'
        ? await startTarget('anvil', anvilBinary(), ['--port', String(port), '--block-time', '1', '--chain-id', String(CHAIN_ID), '--gas-limit', '30000000', '--silent'], port)
        : await startTarget('ours', process.execPath, [resolve(ROOT, 'bin/ai-rollup.js'), 'node', '--dev', '--rpc.port', String(port), '--block-time', '1', '--log-level', 'warn'], port);
  } catch (err) {
    return (err as Error).message;
  }
  try {
    const figs: Figures[] = [];
    let base = addrs.map(() => 0);
    for (const w of ws) {
      const f = await measure(t, w, base);
      figs.push(f);
      base = base.map((b, s) => b + w.measured.filter((_, i) => i % SENDERS === s).length);
      console.log(`  ${name}: ${w.name} done in ${f.seconds.toFixed(1)} s${f.errors > 0 ? ` (${f.errors} refused)` : ''}`);
    }
    return { figs, rss: t.peakRssMiB() };
  } catch (err) {
    return (err as Error).message;
  } finally {
    await t.stop();
  }
}

async function main(): Promise<void> {
  console.log(`bench:rpc — ${TXS} transactions from ${SENDERS} senders, batches of ${BATCH}, 1 s blocks, 30M gas`);
  const t0 = performance.now();
  const ws = await workloads();
  console.log(`signed ${ws.reduce((n, w) => n + w.setup.length + w.measured.length, 0)} transactions in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const targets = (args.only === undefined ? ['anvil', 'ours'] : [args.only]) as ('anvil' | 'ours')[];
  const results: Record<string, Awaited<ReturnType<typeof runTarget>>> = {};
  for (const name of targets) results[name] = await runTarget(name, ws);
  for (const [name, r] of Object.entries(results)) if (typeof r === 'string') console.log(`${name} failed: ${r}`);
  ws.forEach((w, i) => {
    const rows: Record<string, string | number>[] = [];
    const tps: Record<string, number> = {};
    for (const [name, r] of Object.entries(results)) {
      if (typeof r === 'string') continue;
      const f = r.figs[i]!;
      tps[name] = f.txs / f.seconds;
      rows.push({
        node: name,
        'tx/s': tps[name]!.toFixed(0),
        'Mgas/s': (Number(f.gas) / 1e6 / f.seconds).toFixed(2),
        'peak RSS MiB': r.rss.toFixed(0),
        seconds: f.seconds.toFixed(2),
        refused: f.errors,
      });
    }
    console.log(`\n${w.name}\n${table(rows)}`);
    if (tps.ours !== undefined && tps.anvil !== undefined) console.log(`ratio ours/anvil: ${(tps.ours / tps.anvil).toFixed(2)}x`);
  });
}

await main();
