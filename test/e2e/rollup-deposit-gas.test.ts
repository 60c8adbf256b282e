/**
 * Deposits pay for their L2 gas on L1 (Bridge ResourceMetering), against anvil with 2-second
 * blocks and a real sequencer with its batcher: an attacker floods the Bridge with deposits that
 * run a keccak256 loop on L2 for all their gas, as many per L1 block as it can send.
 *
 * The market here is OP Stack's, with a 4M cap per L1 block (what this node executes with time to
 * spare every 2 s) and a price that rises slowly (denominator 50: +18% per full block instead of
 * +112%), so the attacker can keep every flood block filled to the cap: the sequencer's worst case.
 * Before the market existed a deposit cost ~62,000-79,000 L1 gas whatever it asked for: the same
 * flood with the then maximum of 10M per deposit queued 400M L2 gas per L1 block and froze the
 * sequencer (RPC and L1 requests timing out, no batch after the first deposits) until the oldest
 * deposit was past its inclusion deadline.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BaseError, ContractFunctionRevertedError, encodeFunctionData, parseAbi, parseEther } from 'viem';
import type { Hex, TransactionReceipt } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { L1_BLOCK_ADDRESS } from '../../contracts/predeploys.ts';
import { DEFAULT_RESOURCE_CONFIG } from '../../devnet/deploy.ts';
import type { ResourceConfig } from '../../devnet/deploy.ts';
import { bridgeAbi, rollupAbi } from '../../contracts/abi/rollup.ts';
import { clients, removeDir } from '../helpers/dev-node.ts';
import type { DevNode } from '../helpers/dev-node.ts';
import { l1Clients, startL1, startRollupNode } from '../helpers/rollup.ts';
import type { L1Env } from '../helpers/rollup.ts';
import { waitFor } from '../helpers/wait.ts';

const CAP = 4_000_000n;
const CONFIG: ResourceConfig = { ...DEFAULT_RESOURCE_CONFIG, maxResourceLimit: Number(CAP), baseFeeMaxChangeDenominator: 50 };
const TARGET = CAP / 10n;
/** L2 gas each attacking deposit asks for */
const ASK = 1_000_000n;
const INCLUSION_WINDOW = 120n;
const ROUNDS = 6;
/** deposits the attacker sends per L1 block at most, and the L1 gas it leaves to the batcher */
const PER_ROUND = 40n;
const ROUND_L1_GAS = 26_000_000n;
const GWEI = 1_000_000_000n;
/** runtime code: JUMPDEST PUSH1 32 PUSH1 0 KECCAK256 POP PUSH1 0 JUMP (keccak256 forever), behind initcode that returns it */
const KECCAK_LOOP_INITCODE: Hex = '0x695b602060002050600056600052600a6016f3';
const l1BlockAbi = parseAbi(['function depositCount() view returns (uint256)']);

/**
 * The price a block pays after a metered block that paid `price` and bought `bought`, `blocks`
 * later (OP Stack's rule: one EIP-1559 step, then (1 - 1/d) per empty block; Solidity's integer
 * division for the step, floating point for the decay, which powWad approximates).
 */
function nextPrice(price: bigint, bought: bigint, blocks: bigint): number {
  const d = BigInt(CONFIG.baseFeeMaxChangeDenominator);
  const min = BigInt(CONFIG.minimumBaseFee);
  let p = price + (price * (bought - TARGET)) / (TARGET * d);
  if (p < min) p = min;
  const decayed = Number(p) * (1 - 1 / Number(d)) ** Number(blocks - 1n);
  return Math.max(decayed, Number(min));
}

interface Sent {
  receipt: TransactionReceipt;
  gas: bigint;
}

describe('deposits buy their L2 gas on L1: a flood of expensive deposits', () => {
  let dir: string;
  let env: L1Env;
  let node: DevNode;
  let loop: Hex;
  const sent: Sent[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rollup-deposit-gas-'));
    env = await startL1(dir, { l1BlockTime: 2, inclusionWindow: INCLUSION_WINDOW, resourceConfig: CONFIG });
    node = await startRollupNode(env, { datadir: join(dir, 'l2') });
    const l2 = clients(node);
    const r = await l2.publicClient.waitForTransactionReceipt({ hash: await l2.walletClient.sendTransaction({ data: KECCAK_LOOP_INITCODE }) });
    loop = r.contractAddress!;
  }, 120_000);

  afterAll(async () => {
    await node?.stop();
    await env?.anvil.stop();
    if (dir !== undefined) await removeDir(dir);
  });

  const bridge = () => env.deployment.bridge;
  /** The deposit gas market after L1 block `blockNumber` (latest by default): [price, bought, block]. */
  const params = (blockNumber?: bigint) => env.l1.publicClient.readContract({ address: bridge(), abi: bridgeAbi, functionName: 'params', blockNumber });

  /** One L1 block's worth: as many 1M-gas deposits into the loop as the attacker can fit, sent at once. */
  async function round(attacker: ReturnType<typeof l1Clients>, nonce: number): Promise<number> {
    const { publicClient, walletClient } = attacker;
    const seen = await publicClient.getBlockNumber();
    await waitFor('a new L1 block', async () => (await publicClient.getBlockNumber()) > seen, 30_000, 50);
    // gas for the burn at up to +25% of the last price (the next block's is at most +18%)
    const [price] = await params();
    const gas = (ASK * price * 5n) / 4n / GWEI + 150_000n;
    const n = Number(ROUND_L1_GAS / gas < PER_ROUND ? ROUND_L1_GAS / gas : PER_ROUND);
    const data = encodeFunctionData({ abi: bridgeAbi, functionName: 'depositETH', args: [loop, ASK, '0x'] });
    const hashes = await Promise.all([...Array(n).keys()].map((i) => walletClient.sendTransaction({ to: bridge(), data, gas, nonce: nonce + i })));
    const receipts = await Promise.all(hashes.map((hash) => publicClient.waitForTransactionReceipt({ hash })));
    sent.push(...receipts.map((receipt) => ({ receipt, gas })));
    return nonce + n;
  }

  it('every L1 block of the flood buys at most the cap, at a price that rises block by block, paid in burned L1 gas', async () => {
    const attacker = l1Clients(env.anvil, env.keys[6]!);
    let nonce = await attacker.publicClient.getTransactionCount({ address: attacker.account.address });
    for (let i = 0; i < ROUNDS; i++) nonce = await round(attacker, nonce);

    const blocks = [...new Set(sent.map((s) => s.receipt.blockNumber))].sort((a, b) => (a < b ? -1 : 1));
    let last: { block: bigint; price: bigint; bought: bigint } | undefined;
    let full = 0;
    let rises = 0;
    for (const b of blocks) {
      const [price, bought] = await params(b);
      const header = await env.l1.publicClient.getBlock({ blockNumber: b });
      const accepted = sent.filter((s) => s.receipt.blockNumber === b && s.receipt.status === 'success');
      expect(bought).toBe(ASK * BigInt(accepted.length));
      expect(bought).toBeLessThanOrEqual(CAP);
      // (a) each deposit burned ASK * price / max(L1 base fee, 1 gwei) of L1 gas, about all it used
      const divisor = header.baseFeePerGas! > GWEI ? header.baseFeePerGas! : GWEI;
      for (const s of accepted) {
        expect(s.receipt.gasUsed).toBeGreaterThanOrEqual((ASK * price) / divisor);
        expect(s.receipt.gasUsed).toBeLessThan((ASK * price) / divisor + 40_000n);
      }
      // the price follows EIP-1559 from the previous flood block (no other deposits in between)
      if (last !== undefined) {
        const want = nextPrice(last.price, last.bought, b - last.block);
        expect(Math.abs(Number(price) - want)).toBeLessThanOrEqual(want * 1e-9 + 1);
        if (price > last.price) rises++;
      }
      last = { block: b, price, bought };
      if (bought === CAP) full++;
    }
    expect(full).toBeGreaterThanOrEqual(ROUNDS / 2);
    expect(rises).toBeGreaterThanOrEqual(ROUNDS / 2);
    expect(last!.price).toBeGreaterThan(GWEI);

    // (b) the deposits past the cap were refused, each with OutOfGas
    const refused = sent.filter((s) => s.receipt.status === 'reverted');
    expect(refused.length).toBeGreaterThan(0);
    for (const s of refused) expect(await revertName(s)).toBe('OutOfGas');
  }, 300_000);

  /** Why a mined deposit reverted: the same call replayed on top of its block (the cap already used). */
  async function revertName(s: Sent): Promise<string | undefined> {
    try {
      const args = [loop, ASK, '0x'] as const;
      await env.l1.publicClient.simulateContract({
        account: s.receipt.from,
        address: bridge(),
        abi: bridgeAbi,
        functionName: 'depositETH',
        args,
        gas: s.gas,
        blockNumber: s.receipt.blockNumber,
      });
    } catch (err) {
      const r = err instanceof BaseError ? err.walk((e) => e instanceof ContractFunctionRevertedError) : null;
      if (r instanceof ContractFunctionRevertedError) return r.data?.errorName;
      return (err as Error).message;
    }
    return undefined;
  }

  it('the sequencer includes every accepted deposit in a batch before its deadline, then an honest deposit arrives', async () => {
    const accepted = sent.filter((s) => s.receipt.status === 'success');
    expect(accepted.length).toBeGreaterThan(0);
    const honest = l1Clients(env.anvil, env.keys[7]!);
    const to = privateKeyToAccount(generatePrivateKey()).address; // not a dev account: those are funded on L2
    const hash = await honest.walletClient.writeContract({ address: bridge(), abi: bridgeAbi, functionName: 'depositETH', args: [to, 100_000n, '0x'], value: parseEther('1') });
    expect((await honest.publicClient.waitForTransactionReceipt({ hash })).status).toBe('success');
    const total = BigInt(await env.l1.publicClient.readContract({ address: bridge(), abi: bridgeAbi, functionName: 'depositCount' }));

    const l2 = clients(node).publicClient;
    await waitFor('the honest deposit on L2', async () => (await l2.getBalance({ address: to })) === parseEther('1'), 240_000, 500);
    expect(await l2.readContract({ address: L1_BLOCK_ADDRESS, abi: l1BlockAbi, functionName: 'depositCount' })).toBe(total);
    // the flood really ran on L2: each accepted deposit looped for all of its gas
    const head = await l2.getBlockNumber();
    let l2Gas = 0n;
    for (let n = 1n; n <= head; n++) l2Gas += (await l2.getBlock({ blockNumber: n })).gasUsed;
    expect(l2Gas).toBeGreaterThanOrEqual(ASK * BigInt(accepted.length));
    const batches = await waitFor(
      'batches consuming every deposit',
      async () => {
        const n = await env.l1.publicClient.readContract({ address: env.deployment.rollup, abi: rollupAbi, functionName: 'batchCount' });
        const all = await Promise.all(
          [...Array(Number(n)).keys()].map((i) =>
            env.l1.publicClient.readContract({ address: env.deployment.rollup, abi: rollupAbi, functionName: 'getBatch', args: [BigInt(i)] }),
          ),
        );
        return all.at(-1) !== undefined && all.at(-1)!.depositCount >= total ? all : undefined;
      },
      240_000,
      1_000,
    );
    // (c) the batch that consumed deposit i landed on L1 before depositTime(i) + inclusionWindow
    let consumed = 0n;
    for (const b of batches) {
      for (let i = consumed; i < b.depositCount; i++) {
        const time = await env.l1.publicClient.readContract({ address: bridge(), abi: bridgeAbi, functionName: 'depositTime', args: [i] });
        expect(b.timestamp, `deposit ${i}`).toBeLessThan(time + INCLUSION_WINDOW);
      }
      consumed = b.depositCount;
    }
  }, 300_000);

  it('a sequencer whose block gas limit cannot hold one L1 block of deposits refuses to start', async () => {
    const tooSmall = CAP + BigInt(CONFIG.systemTxMaxGas) - 1n;
    const start = startRollupNode(env, { datadir: join(dir, 'small'), keys: false, args: ['--gas-limit', tooSmall.toString()] });
    // the CLI's exit message for a DepositCapacityError (its message, as the operator sees it)
    await expect(start).rejects.toThrow(`block gas limit ${tooSmall} is below ${tooSmall + 1n}`);
  });
});
