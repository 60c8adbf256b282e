/**
 * npm run bench:block — the sequencer's engine alone, no RPC: blocks of pre-decoded ETH and ERC-20
 * transfers built with the BlockAssembler on a real LevelDB chain, timed per phase (execute: every
 * runTx; seal: state root, tries, header; commit: the LevelDB write). Figures only, asserts nothing.
 * It isolates what bench:rpc mixes with ingest, so a change to execution can be measured alone.
 *
 *   npx tsx bench/block.ts [--txs 5000] [--senders 100] [--per-block 1000] [--cpu-prof DIR]
 *
 * `--cpu-prof DIR` writes one V8 profile per workload, of the timed blocks only, into DIR.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createTxFromRLP } from '@ethereumjs/tx';
import type { TypedTransaction } from '@ethereumjs/tx';
import { hexToBytes } from '@ethereumjs/util';
import pino from 'pino';
import { encodeDeployData, encodeFunctionData, getContractAddress, keccak256, parseEther, toHex } from 'viem';
import type { Address, Hex, TransactionSerializableEIP1559 } from 'viem';
import { privateKeyToAddress } from 'viem/accounts';
import { compileContracts } from '../contracts/compile.ts';
import { Chain } from '../node/chain/chain.ts';
import { createL2Common } from '../node/chain/common.ts';
import { nodeCrypto } from '../node/chain/crypto.ts';
import { devAccounts, devGenesis } from '../node/chain/genesis.ts';
import { openKV } from '../node/db/kv.ts';
import { BlockAssembler } from '../node/rollup/block-assembler.ts';
import { signTx as sign, table } from './lib.ts';

const { values: args } = parseArgs({
  options: {
    txs: { type: 'string', default: '5000' },
    senders: { type: 'string', default: '100' },
    'per-block': { type: 'string', default: '1000' },
    'cpu-prof': { type: 'string' },
  },
});
const TXS = Number(args.txs);
const SENDERS = Number(args.senders);
const PER_BLOCK = Number(args['per-block']);
const CHAIN_ID = 1337;
const GAS_LIMIT = 1_000_000_000n;
const FEES = { maxFeePerGas: 100_000_000_000n, maxPriorityFeePerGas: 1_000_000_000n };

interface Phase {
  execMs: number;
  sealMs: number;
  commitMs: number;
  blocks: number;
  txs: number;
}

async function buildBlocks(chain: Chain, raws: Hex[], perBlock: number): Promise<Phase> {
  const common = chain.common;
  // as the pool holds them: decoded once, sender recovered once (not timed here)
  const txs: TypedTransaction[] = raws.map((r) => createTxFromRLP(hexToBytes(r), { common }));
  for (const tx of txs) tx.getSenderPublicKey();
  const out: Phase = { execMs: 0, sealMs: 0, commitMs: 0, blocks: 0, txs: txs.length };
  for (let i = 0; i < txs.length; i += perBlock) {
    const parent = chain.head;
    const vm = await chain.builderVm(parent.header.stateRoot);
    const t0 = performance.now();
    const asm = await BlockAssembler.start(
      vm,
      { parentHash: parent.hash(), number: parent.header.number + 1n, timestamp: parent.header.timestamp + 1n, gasLimit: GAS_LIMIT, baseFeePerGas: 7n },
      { recordActivity: true },
    );
    const chunk = txs.slice(i, i + perBlock);
    for (const tx of chunk) {
      const r = await asm.add(tx);
      if (r.execResult.exceptionError !== undefined) throw new Error(`transaction failed: ${r.execResult.exceptionError.error}`);
    }
    const t1 = performance.now();
    const block = await asm.seal();
    const t2 = performance.now();
    await chain.commit(
      block,
      chunk.map((t) => t.getSenderAddress()),
      asm.receipts,
      asm.activity,
    );
    const t3 = performance.now();
    out.execMs += t1 - t0;
    out.sealMs += t2 - t1;
    out.commitMs += t3 - t2;
    out.blocks++;
  }
  return out;
}

/** Runs `f` under the V8 profiler when --cpu-prof is given. */
async function profiled<T>(name: string, f: () => Promise<T>): Promise<T> {
  const dir = args['cpu-prof'];
  if (dir === undefined) return f();
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  try {
    return await f();
  } finally {
    const { profile } = await session.post('Profiler.stop');
    await mkdir(dir, { recursive: true });
    const file = join(dir, `block-${name.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}.cpuprofile`);
    await writeFile(file, JSON.stringify(profile));
    console.log(`profile: ${file}`);
    session.disconnect();
  }
}

async function main(): Promise<void> {
  const { TestToken } = await compileContracts(['test/TestToken.sol']);
  const token = TestToken!;
  const dir = await mkdtemp(join(tmpdir(), 'bench-block-'));
  const kv = await openKV(dir);
  try {
    const common = createL2Common({ chainId: BigInt(CHAIN_ID), customCrypto: nodeCrypto });
    const chain = await Chain.open({ common, genesis: devGenesis(BigInt(CHAIN_ID), GAS_LIMIT) }, { kv, logger: pino({ level: 'silent' }) });
    const funderKey = devAccounts(1)[0]!.privateKey;
    const funder = privateKeyToAddress(funderKey);
    const keys = Array.from({ length: SENDERS }, (_, i) => keccak256(toHex(`bench-block-sender-${i}`)));
    const addrs = keys.map((k) => privateKeyToAddress(k));
    let fNonce = 0;
    const fromFunder = (to: Address | undefined, value: bigint, data?: Hex, gas = 21_000n) =>
      sign({ chainId: CHAIN_ID, type: 'eip1559', nonce: fNonce++, to, value, data, gas, ...FEES }, funderKey);
    const tokenAddr = getContractAddress({ from: funder, nonce: BigInt(SENDERS) });
    const setup = [
      ...addrs.map((a) => fromFunder(a, parseEther('10'))),
      fromFunder(undefined, 0n, encodeDeployData({ abi: token.abi, bytecode: token.bytecode, args: ['Bench', 'BNC', 0n] }), 2_000_000n),
      ...addrs.map((a) => fromFunder(tokenAddr, 0n, encodeFunctionData({ abi: token.abi, functionName: 'mint', args: [a, 10n ** 24n] }), 100_000n)),
    ];
    await buildBlocks(chain, setup, setup.length);
    const nonces = addrs.map(() => 0);
    const workload = (make: (s: number) => Omit<TransactionSerializableEIP1559, 'nonce'>): Hex[] => {
      const out: Hex[] = [];
      for (let i = 0; i < TXS; i++) {
        const s = i % SENDERS;
        out.push(sign({ ...make(s), nonce: nonces[s]!++ }, keys[s]!));
      }
      return out;
    };
    const next = (s: number) => addrs[(s + 1) % SENDERS]!;
    const eth = workload((s) => ({ chainId: CHAIN_ID, type: 'eip1559', to: next(s), value: 1n, gas: 21_000n, ...FEES }));
    const erc20 = workload((s) => ({
      chainId: CHAIN_ID,
      type: 'eip1559',
      to: tokenAddr,
      data: encodeFunctionData({ abi: token.abi, functionName: 'transfer', args: [next(s), 1n] }),
      gas: 80_000n,
      ...FEES,
    }));
    const rows: Record<string, string | number>[] = [];
    for (const [name, raws] of [
      ['ETH transfers', eth],
      ['ERC-20 transfers', erc20],
    ] as const) {
      const p = await profiled(name, () => buildBlocks(chain, raws, PER_BLOCK));
      const total = p.execMs + p.sealMs + p.commitMs;
      rows.push({
        workload: name,
        txs: p.txs,
        blocks: p.blocks,
        'tx/s': ((p.txs * 1000) / total).toFixed(0),
        'execute us/tx': ((p.execMs * 1000) / p.txs).toFixed(1),
        'seal us/tx': ((p.sealMs * 1000) / p.txs).toFixed(1),
        'commit us/tx': ((p.commitMs * 1000) / p.txs).toFixed(1),
      });
    }
    console.log(`\nbench:block — ${TXS} transactions per workload from ${SENDERS} senders, ${PER_BLOCK} per block, no RPC\n${table(rows)}`);
    const mem = process.memoryUsage();
    console.log(`heap used ${(mem.heapUsed / 2 ** 20).toFixed(0)} MiB, RSS ${(mem.rss / 2 ** 20).toFixed(0)} MiB`);
  } finally {
    await kv.close();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
