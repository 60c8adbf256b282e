/**
 * Derivation checks a batch's L1 side against L1, not only its header. A rollup sequencer on real
 * anvil batches blocks holding a real Bridge deposit, and stops; a second deposit is queued on L1.
 * Then, each time on L1 as it was at that point (evm_snapshot/evm_revert), the batcher's key posts
 * a batch of one block built and executed by hand (so it re-executes to its own hashes), the
 * header carrying the Bridge's real deposit count and rolling hash (so the Rollup accepts it),
 * and a fresh replica derives from L1: with the real second deposit it derives the block; with
 * that deposit's mint raised, or with a deposit the Bridge never queued, it refuses the batch
 * (BAD_ATTRIBUTES) and none of that block's ETH appears; an output proposed over such a batch is
 * deleted by a replica with the challenger key. A replica that refused a batch keeps following
 * L1: it skips the batch posted on top of the refused one, reports both in /metrics and /health,
 * and once an L1 reorg takes them away and a good batch is posted instead, derives it.
 */
import { cp, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Block } from '@ethereumjs/block';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWalletClient, decodeEventLog, http, keccak256, parseAbi, parseEther, toHex, zeroHash } from 'viem';
import type { Hex } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { createAiPrecompiles } from '../../precompiles/index.ts';
import { BlockAssembler } from '../../node/rollup/block-assembler.ts';
import { batchDataHash, encodeBatch } from '../../node/rollup/batch-codec.ts';
import type { BatchHeader } from '../../node/rollup/batch-codec.ts';
import { depositToTx, nextAttributes, nextDepositHash } from '../../node/rollup/l1-attributes.ts';
import type { L1Deposit } from '../../node/rollup/l1-attributes.ts';
import { rollupAbi } from '../../contracts/abi/rollup.ts';
import { Chain } from '../../node/chain/chain.ts';
import { createL2Common } from '../../node/chain/common.ts';
import { nodeCrypto } from '../../node/chain/crypto.ts';
import { devGenesis, withPredeploys } from '../../node/chain/genesis.ts';
import { readL1BlockInfo } from '../../node/chain/l1-block-info.ts';
import { openKV } from '../../node/db/kv.ts';
import { clients, removeDir, startDevNode } from '../helpers/dev-node.ts';
import { health, metricValue, scrapeMetrics } from '../helpers/metrics.ts';
import type { DevNode } from '../helpers/dev-node.ts';
import { bridgeTestAbi, l1Call, startL1, startRollupNode } from '../helpers/rollup.ts';
import type { L1Env } from '../helpers/rollup.ts';
import { waitFor } from '../helpers/wait.ts';

const CHAIN_ID = 1337n;
const silent = pino({ level: 'silent' });
const ATTACKER = privateKeyToAccount(generatePrivateKey()).address;
const DEPOSITED = privateKeyToAccount(generatePrivateKey()).address;
const LATER = privateKeyToAccount(generatePrivateKey()).address;
const depositEvent = parseAbi([
  'event DepositQueued(uint256 indexed index, address indexed from, address indexed to, uint256 mint, uint256 value, uint64 gasLimit, bool isCreation, bytes data, bytes32 depositHash)',
]);

const safeOf = async (node: DevNode) => (await clients(node).publicClient.getBlock({ blockTag: 'safe' })).number;

describe("derivation checks every block's deposits and L1 origin against L1", () => {
  let dir: string;
  let env: L1Env;
  let seq: DevNode | undefined;
  let replica: DevNode | undefined;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'derivation-attributes-'));
    env = await startL1(dir);
    seq = await startRollupNode(env, { datadir: join(dir, 'seq'), keys: false, args: ['--batcher-key', env.keys[1]!] });
  }, 120_000);

  afterAll(async () => {
    await replica?.stop();
    await seq?.stop();
    await env?.anvil.stop();
    if (dir !== undefined) await removeDir(dir);
  });

  const rollupRead = <T>(functionName: 'nextBlock' | 'batchCount' | 'lastBatchHash' | 'outputCount') =>
    env.l1.publicClient.readContract({ address: env.deployment.rollup, abi: rollupAbi, functionName }) as Promise<T>;

  let lastBatched: bigint;
  let queued: L1Deposit & { prevHash: Hex };
  let snapshot: unknown;

  it('derives a real deposit the sequencer included; a block built by hand with the next real deposit is derived too', async () => {
    await deposit(DEPOSITED, parseEther('2'));
    const l2 = clients(seq!).publicClient;
    await waitFor('the deposit on L2', async () => (await l2.getBalance({ address: DEPOSITED })) === parseEther('2'), 60_000, 200);
    const head = await l2.getBlockNumber();
    await waitFor('the deposit batched', async () => (await rollupRead<bigint>('nextBlock')) > head, 60_000, 250);
    expect(await seq!.stop()).toBe(0);
    seq = undefined;
    lastBatched = (await rollupRead<bigint>('nextBlock')) - 1n;
    // a second real deposit, which no L2 block has consumed yet
    queued = await deposit(LATER, parseEther('3'));
    expect(queued.index).toBe(1n);
    snapshot = await l1Call(env, 'evm_snapshot');

    const r = await deriveForged(queued, queued);
    await waitFor('the hand-built block derived', async () => (await safeOf(r)) === lastBatched + 1n, 60_000, 200);
    expect(await clients(r).publicClient.getBalance({ address: DEPOSITED })).toBe(parseEther('2'));
    expect(await clients(r).publicClient.getBalance({ address: LATER })).toBe(parseEther('3'));
  }, 300_000);

  it('refuses a real deposit with its mint raised: its fields no longer hash to its sourceHash', async () => {
    const r = await deriveForged(queued, { ...queued, mint: parseEther('1000') });
    const stopped = await refusedOn(r);
    expect(stopped.code).toBe('BAD_ATTRIBUTES');
    expect(stopped.err).toMatch(/deposit 1 \(transaction 1\) is not the Bridge's deposit 1/);
    await expectUntouched(r);
  }, 120_000);

  it('refuses a deposit the Bridge never queued, even one chained correctly on the rolling hash: the batch header (checked on L1) says otherwise', async () => {
    const fields = { index: 1n, from: ATTACKER, to: ATTACKER, mint: parseEther('1000'), value: 0n, gasLimit: 100_000n, isCreation: false, data: '0x' as Hex };
    const fabricated: L1Deposit = { ...fields, l1Block: queued.l1Block, depositHash: nextDepositHash(queued.prevHash, fields) };
    const r = await deriveForged(fabricated, fabricated, ['--challenger-key', env.keys[3]!]);
    const stopped = await refusedOn(r);
    expect(stopped.code).toBe('BAD_ATTRIBUTES');
    expect(stopped.err).toMatch(/its header \(checked by the Rollup against the Bridge\) says 2/);
    await expectUntouched(r);
    expect(await clients(r).publicClient.getBalance({ address: ATTACKER })).toBe(0n);

    await expectOutputDeleted(r);
  }, 120_000);

  it('refuses a valid block in a batch whose header commits to inference results its blocks do not have; the output over it is deleted', async () => {
    const r = await deriveForged(queued, queued, ['--challenger-key', env.keys[3]!], keccak256(toHex('a result nobody fulfilled')));
    const stopped = await refusedOn(r);
    expect(stopped.code).toBe('BAD_RESULTS');
    expect(stopped.err).toMatch(/resultsRoot 0x[0-9a-f]{64} is not its blocks' 0x0{64}/);
    await expectUntouched(r);
    await expectOutputDeleted(r);
  }, 120_000);

  it('after a refused batch the replica follows L1: skips the batch on top of it, reports it, and derives the good batch an L1 reorg puts in its place', async () => {
    const r = await deriveForged(queued, { ...queued, mint: parseEther('1000') });
    expect((await refusedOn(r)).code).toBe('BAD_ATTRIBUTES');
    const invalidFrom = lastBatched + 1n;
    // the Rollup chains every later batch onto the refused one: it does not continue the derived chain
    await postBatch([await handBuilt(lastBatched, queued, queued)], lastBatched + 2n, 2n, queued.depositHash);
    await l1Call(env, 'anvil_mine', ['0x3']);
    const l1Head = await env.l1.publicClient.getBlockNumber();
    const m = await waitFor(
      'the checkpoint past the skipped batch',
      async () => {
        const s = await scrapeMetrics(r.url);
        return (metricValue(s, 'ai_rollup_derivation_l1_block') ?? 0) >= Number(l1Head) ? s : undefined;
      },
      30_000,
      200,
    );
    expect(r.logs.some((l) => l.includes('batch skipped: it extends a refused batch'))).toBe(true);
    expect(r.logs.some((l) => l.includes('derivation stopped'))).toBe(false);
    expect(metricValue(m, 'ai_rollup_derivation_invalid_from')).toBe(Number(invalidFrom));
    expect(metricValue(m, 'ai_rollup_derivation_batches_invalid_total', { code: 'BAD_ATTRIBUTES' })).toBe(1);
    expect(metricValue(m, 'ai_rollup_derivation_batches_skipped_total')).toBe(1);
    expect(metricValue(m, 'ai_rollup_derivation_safe_head_number')).toBe(Number(lastBatched));
    expect(metricValue(m, 'ai_rollup_derivation_l1_lag_blocks')).toBe(0);
    const sick = await health(r.url);
    expect(sick.status).toBe(503);
    expect(sick.body.problems.map((p: { code: string }) => p.code)).toEqual(['DERIVATION_INVALID_BATCH']);
    expect(sick.body.derivation).toMatchObject({ invalidFrom: Number(invalidFrom), safe: Number(lastBatched) });

    // L1 reorganises: both batches gone, the good one posted in their place
    expect(await l1Call(env, 'evm_revert', [snapshot])).toBe(true);
    snapshot = await l1Call(env, 'evm_snapshot');
    await postBatch([await handBuilt(lastBatched, queued, queued)], lastBatched + 1n, 2n, queued.depositHash);
    await waitFor('the good batch derived', async () => (await safeOf(r)) === invalidFrom, 60_000, 200);
    expect(await clients(r).publicClient.getBalance({ address: LATER })).toBe(parseEther('3'));
    const healed = await scrapeMetrics(r.url);
    expect(metricValue(healed, 'ai_rollup_derivation_invalid_from')).toBe(-1);
    expect(metricValue(healed, 'ai_rollup_derivation_l1_reorgs_total')).toBeGreaterThanOrEqual(1);
    expect(metricValue(healed, 'ai_rollup_derivation_l1_reorg_depth_blocks_count')).toBe(metricValue(healed, 'ai_rollup_derivation_l1_reorgs_total'));
    expect(metricValue(healed, 'ai_rollup_derivation_batches_derived_total')).toBeGreaterThanOrEqual(1);
    expect((await health(r.url)).status).toBe(200);
  }, 180_000);

  /** An output over the refused batch (whatever its root) is deleted by the challenging replica. */
  async function expectOutputDeleted(r: DevNode): Promise<void> {
    const proposer = createWalletClient({ account: privateKeyToAccount(env.keys[2]!), chain: env.l1.publicClient.chain, transport: http(env.anvil.url) });
    const batch = (await rollupRead<bigint>('batchCount')) - 1n;
    const tx = await proposer.writeContract({ address: env.deployment.rollup, abi: rollupAbi, functionName: 'proposeOutput', args: [batch, keccak256(toHex('the forged chain'))] });
    expect((await env.l1.publicClient.waitForTransactionReceipt({ hash: tx })).status).toBe('success');
    expect(await rollupRead<bigint>('outputCount')).toBe(1n);
    await waitFor('the output deleted', async () => (await rollupRead<bigint>('outputCount')) === 0n, 30_000, 200);
    await waitFor('the challenger to log the deletion', () => r.logs.some((l) => l.includes('wrong output deleted')), 10_000, 100);
    expect(r.logs.some((l) => l.includes('differs from the derived chain'))).toBe(true);
  }

  async function deposit(to: Hex, value: bigint): Promise<L1Deposit & { prevHash: Hex }> {
    const { walletClient, publicClient } = env.l1;
    const hash = await walletClient.writeContract({ address: env.deployment.bridge, abi: bridgeTestAbi, functionName: 'depositETH', args: [to, 100_000n, '0x'], value });
    const receipt = await publicClient.waitForTransactionReceipt({ hash });
    expect(receipt.status).toBe('success');
    const a = decodeEventLog({ abi: depositEvent, ...receipt.logs[0]! }).args;
    const prevHash = a.index === 0n ? zeroHash : (previousHash ?? zeroHash);
    previousHash = a.depositHash;
    return {
      index: a.index,
      l1Block: receipt.blockNumber,
      from: a.from,
      to: a.to,
      mint: a.mint,
      value: a.value,
      gasLimit: a.gasLimit,
      isCreation: a.isCreation,
      data: a.data,
      depositHash: a.depositHash,
      prevHash,
    };
  }
  let previousHash: Hex | undefined;

  /**
   * On L1 as it was after the second deposit: a batch holding one block on the last batched one,
   * built and executed by hand with `included` as its deposit (its system deposit recording the
   * rolling hash `claimed` gives), the header claiming the Bridge's real position; then a fresh
   * replica deriving from L1.
   */
  async function deriveForged(claimed: L1Deposit, included: L1Deposit, args: string[] = [], resultsRoot: Hex = zeroHash): Promise<DevNode> {
    await replica?.stop();
    expect(await l1Call(env, 'evm_revert', [snapshot])).toBe(true);
    snapshot = await l1Call(env, 'evm_snapshot');
    const block = await handBuilt(lastBatched, claimed, included);
    await postBatch([block], lastBatched + 1n, 2n, queued.depositHash, resultsRoot);
    replica = await startDevNode({ chainId: Number(CHAIN_ID), args: ['--replica', '--rollup-config', env.configFile, '--l1-rpc', env.anvil.url, '--l1-poll-ms', '200', ...args] });
    return replica;
  }

  async function refusedOn(r: DevNode): Promise<{ code: string; err: string }> {
    return waitFor(
      'derivation to refuse the forged batch',
      () => {
        const line = r.logs.find((l) => l.includes('batch refused'));
        return line === undefined ? undefined : (JSON.parse(line) as { code: string; err: string });
      },
      60_000,
      200,
    );
  }

  /** The honest chain derived, nothing of the forged block. */
  async function expectUntouched(r: DevNode): Promise<void> {
    expect(await safeOf(r)).toBe(lastBatched);
    expect(await clients(r).publicClient.getBlockNumber()).toBe(lastBatched);
    expect(await clients(r).publicClient.getBalance({ address: DEPOSITED })).toBe(parseEther('2'));
    expect(await clients(r).publicClient.getBalance({ address: LATER })).toBe(0n);
  }

  /** Block `parent + 1` on a copy of the sequencer's chain, executed for real (it re-executes to its own hashes). */
  async function handBuilt(parent: bigint, claimed: L1Deposit, included: L1Deposit) {
    const copy = await mkdtemp(join(dir, 'forger-'));
    await cp(join(dir, 'seq', 'chaindata'), join(copy, 'chaindata'), { recursive: true });
    const kv = await openKV(join(copy, 'chaindata'));
    try {
      const { spec: genesis } = withPredeploys(devGenesis(CHAIN_ID, 30_000_000n));
      const common = createL2Common({ chainId: CHAIN_ID, customCrypto: nodeCrypto });
      const chain = await Chain.open({ common, genesis, precompiles: await createAiPrecompiles() }, { kv, logger: silent });
      const base = await chain.rewind(parent);
      const info = await readL1BlockInfo(chain.stateAt(base.header.stateRoot));
      expect(info.depositCount).toBe(1n);
      const timestamp = base.header.timestamp + 1n;
      const origin = { number: info.number, hash: toHex(info.hash), timestamp: info.timestamp, baseFee: info.basefee };
      // the system deposit as the sequencer would write it for `claimed`
      const attrs = nextAttributes(info, origin, { latest: () => undefined, deposits: () => [claimed] }, timestamp, 1_000_000n);
      expect(attrs.deposits).toHaveLength(1);
      const vm = await chain.vmAt(base.header.stateRoot);
      const asm = await BlockAssembler.start(vm, {
        parentHash: base.hash(),
        number: parent + 1n,
        gasLimit: base.header.gasLimit,
        timestamp,
        coinbase: base.header.coinbase,
        baseFeePerGas: base.header.calcNextBaseFee(),
      });
      await asm.addDeposit(attrs.l1InfoTx);
      await asm.addDeposit(depositToTx(included));
      return await asm.seal();
    } finally {
      await kv.close();
    }
  }

  async function postBatch(blocks: Block[], first: bigint, depositCount: bigint, depositHash: Hex, resultsRoot: Hex = zeroHash): Promise<void> {
    const data = await encodeBatch(blocks);
    const header: BatchHeader = {
      index: await rollupRead<bigint>('batchCount'),
      prevBatchHash: await rollupRead<Hex>('lastBatchHash'),
      firstBlock: first,
      lastBlock: first + BigInt(blocks.length) - 1n,
      depositCount,
      depositHash,
      dataHash: batchDataHash(data),
      resultsRoot,
    };
    const batcher = createWalletClient({ account: privateKeyToAccount(env.keys[1]!), chain: env.l1.publicClient.chain, transport: http(env.anvil.url) });
    const hash = await batcher.writeContract({ address: env.deployment.rollup, abi: rollupAbi, functionName: 'submitBatch', args: [header, toHex(data)] });
    expect((await env.l1.publicClient.waitForTransactionReceipt({ hash })).status).toBe('success');
  }
});
