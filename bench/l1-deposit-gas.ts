/**
 * The deposit part of bench:l1: what a deposit costs on L1 for the L2 gas it asks for (the Bridge's
 * ResourceMetering, OP Stack's default market: 20M per L1 block, target 2M, price from 1 gwei),
 * and how the price moves when an attacker buys all it can, block after block.
 *
 * Automining anvil (its base fee falls below 1 gwei at once, so every burn is priced at the 1 gwei
 * floor, the cheapest case for a depositor); the flood mines its blocks by hand.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeFunctionData, formatGwei, toHex } from 'viem';
import type { Hex } from 'viem';
import { bridgeAbi } from '../contracts/abi/rollup.ts';
import { l1Call, startL1 } from '../test/helpers/rollup.ts';
import type { L1Env } from '../test/helpers/rollup.ts';
import { table } from './lib.ts';

interface Case {
  label: string;
  gasLimit: bigint;
  /** a plain ETH transfer to the Bridge (receive(): 100,000 L2 gas) instead of depositETH */
  plain?: boolean;
}

const CASES: Case[] = [
  { label: 'plain ETH transfer to the Bridge', gasLimit: 100_000n, plain: true },
  { label: 'depositETH', gasLimit: 100_000n },
  { label: 'depositETH', gasLimit: 1_000_000n },
  { label: 'depositETH', gasLimit: 10_000_000n },
];
/** Empty L1 blocks before each case: (7/8)^300 brings any price back to the 1 gwei minimum. */
const SETTLE_BLOCKS = 300;
const FLOOD_BLOCKS = 8;
const FLOOD_DEPOSIT = 1_000_000n;
/** anvil's block gas limit, less room for everyone else */
const FLOOD_L1_GAS = 28_000_000n;

export async function benchDepositGas(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-l1-deposit-'));
  let env: L1Env | undefined;
  try {
    env = await startL1(dir);
    await send(env, 100_000n); // deposit 0 writes slots no later deposit writes fresh
    const rows: Record<string, string | number>[] = [];
    for (const c of CASES) {
      await l1Call(env, 'anvil_mine', [toHex(SETTLE_BLOCKS)]);
      const gasUsed = await send(env, c.gasLimit, c.plain);
      const { price } = await params(env);
      rows.push({ deposit: c.label, 'L2 gas asked': c.gasLimit.toString(), 'price gwei': formatGwei(price), 'L1 gas (receipt)': gasUsed.toString() });
    }
    console.log(`\ndeposit L1 gas (Bridge on automining anvil, OP Stack's resource config; L1 base fee < 1 gwei, so L2 gas * price / 1 gwei is burned)`);
    console.log(table(rows));
    await flood(env);
  } finally {
    await env?.anvil.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

async function params(env: L1Env): Promise<{ price: bigint; bought: bigint }> {
  const [price, bought] = await env.l1.publicClient.readContract({ address: env.deployment.bridge, abi: bridgeAbi, functionName: 'params' });
  return { price, bought };
}

function depositData(gasLimit: bigint, to: Hex): Hex {
  return encodeFunctionData({ abi: bridgeAbi, functionName: 'depositETH', args: [to, gasLimit, '0x'] });
}

/** One deposit, mined at once (automine); its receipt's gas. */
async function send(env: L1Env, gasLimit: bigint, plain = false): Promise<bigint> {
  const { walletClient, publicClient, account } = env.l1;
  const data = plain ? undefined : depositData(gasLimit, account.address);
  const hash = await walletClient.sendTransaction({ to: env.deployment.bridge, data, value: 1n });
  const r = await publicClient.waitForTransactionReceipt({ hash });
  if (r.status !== 'success') throw new Error(`deposit of ${gasLimit} L2 gas reverted`);
  return r.gasUsed;
}

/**
 * An attacker buys 1M-gas deposits in every L1 block, as many as the cap (20M) and the L1 block's
 * gas let it; blocks mined by hand so that each holds one round.
 */
async function flood(env: L1Env): Promise<void> {
  const { walletClient, publicClient, account } = env.l1;
  const bridge = env.deployment.bridge;
  await l1Call(env, 'anvil_mine', [toHex(SETTLE_BLOCKS)]);
  await l1Call(env, 'evm_setAutomine', [false]);
  const rows: Record<string, string | number>[] = [];
  try {
    let nonce = await publicClient.getTransactionCount({ address: account.address });
    for (let b = 0; b < FLOOD_BLOCKS; b++) {
      // the first deposit of a block pays what every deposit of that block pays
      const each = (await publicClient.estimateGas({ account, to: bridge, data: depositData(FLOOD_DEPOSIT, account.address) })) + 30_000n;
      const n = Number(FLOOD_L1_GAS / each < 20n ? FLOOD_L1_GAS / each : 20n);
      const hashes: Hex[] = [];
      for (let i = 0; i < n; i++) hashes.push(await walletClient.sendTransaction({ to: bridge, data: depositData(FLOOD_DEPOSIT, account.address), gas: each, nonce: nonce++ }));
      await l1Call(env, 'evm_mine');
      const receipts = await Promise.all(hashes.map((hash) => publicClient.waitForTransactionReceipt({ hash })));
      const { price, bought } = await params(env);
      const l1Gas = receipts.reduce((s, r) => s + r.gasUsed, 0n);
      rows.push({
        'L1 block': b + 1,
        'price gwei': formatGwei(price),
        'L2 gas bought': bought.toString(),
        deposits: receipts.filter((r) => r.status === 'success').length,
        'L1 gas': l1Gas.toString(),
      });
    }
  } finally {
    await l1Call(env, 'evm_setAutomine', [true]);
  }
  console.log(`\ndeposit flood: 1M-gas deposits, as many per L1 block as the cap (20M) and ${FLOOD_L1_GAS} L1 gas allow`);
  console.log(table(rows));
}
