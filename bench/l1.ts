/**
 * npm run bench:l1 — what L2 transactions cost on L1. Prints figures, asserts nothing.
 *
 * A rollup-mode L2 node runs in-process against anvil (so blocks carry their L1-info deposit, as
 * in production); ERC-20 transfers between 200 senders and 1,000 recipients fill blocks of
 * --per-block transactions; batches of 100, 500 and 1,000 transactions are posted with
 * Rollup.submitBatch, compressed (the batcher's encoding) and, on a second Rollup, as raw RLP,
 * and the receipts give L1 gas. Then a brotli quality/window sweep on the largest batch. Then the
 * L1 gas of deposits by the L2 gas they buy, and a deposit flood's price (bench/l1-deposit-gas.ts).
 * Then, on a second anvil with the devnet's timing, deposit-to-L2 latency and
 * Bridge.finalizeWithdrawal gas (bench/l1-bridge.ts).
 *
 *   npx tsx bench/l1.ts [--per-block N] [--sizes 100,500,1000] [--deposits 10] [--fill 1000]
 */
import { EMPTY_RESULTS_ROOT } from '../node/rollup/result-leaf.ts';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { promisify } from 'node:util';
import { brotliCompress, constants as zlib } from 'node:zlib';
import pino from 'pino';
import { bytesToHex, createPublicClient, createWalletClient, encodeDeployData, encodeFunctionData, hexToBytes, http, keccak256, parseEther, size } from 'viem';
import type { Address, Hex } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { compileContracts } from '../contracts/compile.ts';
import { startAnvil } from '../devnet/anvil.ts';
import type { Anvil } from '../devnet/anvil.ts';
import { deployL1 } from '../devnet/deploy.ts';
import { devAccounts } from '../node/chain/genesis.ts';
import { RollupNode } from '../node/assembly/node.ts';
import { defaultNodeOptions } from '../node/assembly/options.ts';
import { BROTLI_QUALITY, batchDataHash, encodeBatchData, encodeBatchPayload } from '../node/rollup/batch-codec.ts';
import type { BatchHeader } from '../node/rollup/batch-codec.ts';
import { depositCursorAt } from '../node/rollup/output-root.ts';
import { rollupAbi } from '../contracts/abi/rollup.ts';
import { benchBridge } from './l1-bridge.ts';
import { benchDepositGas } from './l1-deposit-gas.ts';
import { table } from './lib.ts';
import { chainAt } from '../contracts/abi/chain.ts';

const { values: args } = parseArgs({ options: { 'per-block': { type: 'string' }, sizes: { type: 'string' }, deposits: { type: 'string' }, fill: { type: 'string' } } });
const PER_BLOCK = Number(args['per-block'] ?? 100);
const SIZES = (args.sizes ?? '100,500,1000').split(',').map(Number);
const SENDERS = 200;
const RECIPIENTS = 1_000;
const L2_CHAIN_ID = 1337;
for (const s of SIZES) if (s % PER_BLOCK !== 0) throw new Error(`batch size ${s} is not a multiple of --per-block ${PER_BLOCK}`);

const tokenAbi = [
  {
    type: 'function',
    name: 'transfer',
    stateMutability: 'nonpayable',
    inputs: [
      { name: 'to', type: 'address' },
      { name: 'amount', type: 'uint256' },
    ],
    outputs: [{ type: 'bool' }],
  },
] as const;

interface Posted {
  gasUsed: bigint;
  calldataBytes: number;
}

/** Posts blocks first..last to a Rollup as one batch with `data` as the batch data; returns the receipt's gas. */
async function post(l1: L1, rollup: Address, node: RollupNode, first: bigint, last: bigint, data: Uint8Array): Promise<Posted> {
  const [index, prevBatchHash] = await Promise.all([
    l1.public.readContract({ address: rollup, abi: rollupAbi, functionName: 'batchCount' }),
    l1.public.readContract({ address: rollup, abi: rollupAbi, functionName: 'lastBatchHash' }),
  ]);
  const deposits = await depositCursorAt(node.chain, last);
  const header: BatchHeader = {
    index,
    prevBatchHash,
    firstBlock: first,
    lastBlock: last,
    dataHash: batchDataHash(data),
    depositCount: deposits.count,
    depositHash: deposits.hash,
    resultsRoot: EMPTY_RESULTS_ROOT,
  };
  const args = [header, bytesToHex(data)] as const;
  const hash = await l1.batcher.writeContract({ address: rollup, abi: rollupAbi, functionName: 'submitBatch', args });
  const receipt = await l1.public.waitForTransactionReceipt({ hash });
  if (receipt.status !== 'success') throw new Error(`submitBatch ${index} reverted`);
  return { gasUsed: receipt.gasUsed, calldataBytes: size(encodeFunctionData({ abi: rollupAbi, functionName: 'submitBatch', args })) };
}

type L1 = ReturnType<typeof l1Clients>;

function l1Clients(anvil: Anvil) {
  const chain = chainAt(anvil.chainId, anvil.url, 'l1');
  return {
    public: createPublicClient({ chain, transport: http(anvil.url), pollingInterval: 50 }),
    batcher: createWalletClient({ chain, transport: http(anvil.url), account: privateKeyToAccount(anvil.accounts[1]!) }),
  };
}

async function deploy(anvil: Anvil) {
  const addr = (k: Hex) => privateKeyToAccount(k).address;
  return deployL1({
    l1Url: anvil.url,
    deployerKey: anvil.accounts[0]!,
    batcher: addr(anvil.accounts[1]!),
    proposer: addr(anvil.accounts[2]!),
    challenger: addr(anvil.accounts[3]!),
    challengeWindow: 3600n,
    inclusionWindow: 86_400n,
  });
}

async function brotli(payload: Uint8Array, quality: number, lgwin: number): Promise<{ bytes: number; ms: number }> {
  const run = promisify(brotliCompress);
  const times: number[] = [];
  let bytes = 0;
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    const out = await run(payload, { params: { [zlib.BROTLI_PARAM_QUALITY]: quality, [zlib.BROTLI_PARAM_LGWIN]: lgwin, [zlib.BROTLI_PARAM_SIZE_HINT]: payload.length } });
    times.push(performance.now() - t);
    bytes = out.length + 1;
  }
  return { bytes, ms: times.sort((a, b) => a - b)[1]! };
}

async function main(): Promise<void> {
  console.log(`bench:l1 — ERC-20 transfers, ${PER_BLOCK} per L2 block, ${SENDERS} senders, ${RECIPIENTS} recipients; batch sizes ${SIZES.join(', ')} txs`);
  const anvil = await startAnvil();
  const dir = await mkdtemp(join(tmpdir(), 'bench-l1-'));
  let node: RollupNode | undefined;
  try {
    const l1 = l1Clients(anvil);
    const compressedRollup = await deploy(anvil);
    const rawRollup = await deploy(anvil);
    node = await RollupNode.init(
      {
        ...defaultNodeOptions,
        datadir: dir,
        dev: true,
        rpc: { ...defaultNodeOptions.rpc, port: 0 },
        sequencer: { ...defaultNodeOptions.sequencer, blockTime: 3600 },
        rollup: {
          config: {
            l2ChainId: BigInt(L2_CHAIN_ID),
            l1ChainId: BigInt(anvil.chainId),
            l1Start: compressedRollup.deployBlock,
            contracts: { rollup: compressedRollup.rollup, bridge: compressedRollup.bridge },
            l1Confirmations: 0,
            challengeWindow: 3600n,
            inclusionWindow: 86_400n,
          },
          l1Rpc: anvil.url,
          l1PollMs: 1_000,
          batchMaxAgeMs: 60_000,
        },
      },
      pino({ level: 'warn' }),
    );
    const n = node;
    const mine = async (raws: Hex[]) => {
      for (const r of raws) await n.pool.addRaw(hexToBytes(r));
      const b = await n.producer.mineOne();
      if (b === undefined || b.transactions.length < raws.length) throw new Error(`block holds ${b?.transactions.length} of ${raws.length} transactions`);
    };

    // setup: token, funded senders
    const { TestToken } = await compileContracts(['test/TestToken.sol']);
    const owner = privateKeyToAccount(devAccounts()[0]!.privateKey as Hex);
    const fees = { maxFeePerGas: 10n ** 10n, maxPriorityFeePerGas: 10n ** 6n };
    let ownerNonce = 0;
    const deployData = encodeDeployData({ abi: TestToken.abi, bytecode: TestToken.bytecode, args: ['Bench', 'BNC', 10n ** 30n] });
    const token = contractAddress(owner.address, ownerNonce);
    await mine([await owner.signTransaction({ chainId: L2_CHAIN_ID, nonce: ownerNonce++, data: deployData, gas: 3_000_000n, ...fees })]);
    const senders = Array.from({ length: SENDERS }, () => privateKeyToAccount(generatePrivateKey()));
    const recipients = Array.from({ length: RECIPIENTS }, () => privateKeyToAccount(generatePrivateKey()).address);
    for (let i = 0; i < SENDERS; i += 100) {
      const raws: Hex[] = [];
      for (const s of senders.slice(i, i + 100)) {
        raws.push(await owner.signTransaction({ chainId: L2_CHAIN_ID, nonce: ownerNonce++, to: s.address, value: parseEther('1'), gas: 21_000n, ...fees }));
        raws.push(
          await owner.signTransaction({
            chainId: L2_CHAIN_ID,
            nonce: ownerNonce++,
            to: token,
            data: encodeFunctionData({ abi: tokenAbi, functionName: 'transfer', args: [s.address, 10n ** 24n] }),
            gas: 100_000n,
            ...fees,
          }),
        );
      }
      await mine(raws);
    }
    const setupLast = n.chain.head.header.number;

    // measured blocks: SIZES in order, each its own range of blocks
    const nonces = new Map<Address, number>();
    let rnd = 1;
    const next = () => (rnd = (rnd * 1_103_515_245 + 12_345) % 2 ** 31);
    const ranges: { txs: number; first: bigint; last: bigint }[] = [];
    const t0 = performance.now();
    for (const txs of SIZES) {
      const first = n.chain.head.header.number + 1n;
      for (let b = 0; b < txs / PER_BLOCK; b++) {
        const raws: Hex[] = [];
        for (let i = 0; i < PER_BLOCK; i++) {
          const s = senders[next() % SENDERS]!;
          const nonce = nonces.get(s.address) ?? 0;
          nonces.set(s.address, nonce + 1);
          const amount = BigInt(next() % 1_000_000) * 10n ** 12n;
          const data = encodeFunctionData({ abi: tokenAbi, functionName: 'transfer', args: [recipients[next() % RECIPIENTS]!, amount] });
          raws.push(await s.signTransaction({ chainId: L2_CHAIN_ID, nonce, to: token, data, gas: 80_000n, ...fees }));
        }
        await mine(raws);
      }
      ranges.push({ txs, first, last: n.chain.head.header.number });
    }
    console.log(`L2: ${n.chain.head.header.number} blocks (${setupLast} of setup), built in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

    const rlpsOf = async (first: bigint, last: bigint) => {
      const out: Uint8Array[] = [];
      for (let k = first; k <= last; k++) out.push((await n.chain.store.getBlockByNumber(k))!.serialize());
      return out;
    };
    // batch 0 of each Rollup: the setup blocks
    const setup = await rlpsOf(1n, setupLast);
    await post(l1, compressedRollup.rollup, n, 1n, setupLast, await encodeBatchData(setup));
    await post(l1, rawRollup.rollup, n, 1n, setupLast, new Uint8Array([0, ...encodeBatchPayload(setup)]));

    const rows: Record<string, string | number>[] = [];
    let largest: Uint8Array | undefined;
    for (const r of ranges) {
      const rlps = await rlpsOf(r.first, r.last);
      const payload = encodeBatchPayload(rlps);
      const t = performance.now();
      const data = await encodeBatchData(rlps);
      const ms = performance.now() - t;
      const c = await post(l1, compressedRollup.rollup, n, r.first, r.last, data);
      // the raw variant: the same payload uncompressed (the Rollup checks only its hash)
      const raw = await post(l1, rawRollup.rollup, n, r.first, r.last, new Uint8Array([0, ...payload]));
      rows.push({
        'L2 txs': r.txs,
        blocks: rlps.length,
        'raw RLP B': payload.length,
        'brotli B': data.length,
        ratio: (payload.length / data.length).toFixed(2),
        'B/tx raw': (payload.length / r.txs).toFixed(1),
        'B/tx brotli': (data.length / r.txs).toFixed(1),
        'compress ms': ms.toFixed(0),
        'L1 gas/tx raw': (Number(raw.gasUsed) / r.txs).toFixed(0),
        'L1 gas/tx brotli': (Number(c.gasUsed) / r.txs).toFixed(0),
        'L1 gas batch': c.gasUsed.toString(),
        'calldata B': c.calldataBytes,
      });
      largest = payload;
    }
    console.log(`\nbatches (brotli quality ${BROTLI_QUALITY}); L1 gas from the receipts of Rollup.submitBatch on anvil (Prague: EIP-7623 calldata floor)`);
    console.log(table(rows));

    if (largest !== undefined) {
      const sweep: Record<string, string | number>[] = [];
      const best = await brotli(largest, 11, 24);
      for (const [q, w] of [
        [1, 22],
        [5, 22],
        [6, 22],
        [9, 22],
        [9, 24],
        [10, 22],
        [11, 22],
        [11, 24],
      ] as const) {
        const r = await brotli(largest, q, w);
        sweep.push({ quality: q, lgwin: w, bytes: r.bytes, 'vs q11/24': `${((r.bytes / best.bytes - 1) * 100).toFixed(1)}%`, 'ms (median of 3)': r.ms.toFixed(0) });
      }
      console.log(`\nbrotli sweep on the ${SIZES.at(-1)}-tx batch (${largest.length} B raw)`);
      console.log(table(sweep));
    }
  } finally {
    await node?.close();
    await anvil.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

/** CREATE address of `deployer`'s transaction with `nonce` (single-byte nonces). */
function contractAddress(deployer: Address, nonce: number): Address {
  if (nonce > 0x7f) throw new Error('nonce too large for this helper');
  const rlp = new Uint8Array([0xd6, 0x94, ...hexToBytes(deployer), nonce === 0 ? 0x80 : nonce]);
  return `0x${keccak256(rlp).slice(-40)}` as Address;
}

await main();
await benchDepositGas();
// after main's anvil and node are gone: the latency figures should not share the CPU with them
await benchBridge({ deposits: Number(args.deposits ?? 10), fill: Number(args.fill ?? 1_000) });
