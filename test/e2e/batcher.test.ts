/**
 * Batcher and proposer against a real anvil (through a real TCP proxy that can take it down)
 * and a real in-process L2 node (LevelDB in a temporary datadir), with real signed transactions.
 * Every check is made against what L1 holds: calldata fetched back and decoded, stored hashes.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bytesToHex } from '@ethereumjs/util';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createPublicClient, createWalletClient, decodeFunctionData, hexToBytes, http, keccak256, parseEther } from 'viem';
import type { Address, Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { RLP } from '@ethereumjs/rlp';
import { startAnvil } from '../../devnet/anvil.ts';
import type { Anvil } from '../../devnet/anvil.ts';
import { deployL1 } from '../../devnet/deploy.ts';
import { RollupNode } from '../../node/assembly/node.ts';
import { defaultNodeOptions } from '../../node/assembly/options.ts';
import { batchHash } from '../../node/rollup/batch-codec.ts';
import { decodeBatchData } from '../../node/rollup/batch-codec.ts';
import { Batcher } from '../../sequencer/batcher.ts';
import type { BatcherOptions, ConfirmedBatch } from '../../sequencer/batcher.ts';
import { outputAt } from '../../node/rollup/output-root.ts';
import { Proposer } from '../../sequencer/proposer.ts';
import { rollupAbi } from '../../contracts/abi/rollup.ts';
import { DEV_KEYS, removeDir } from '../helpers/dev-node.ts';
import { startTcpProxy } from '../helpers/tcp-proxy.ts';
import type { TcpProxy } from '../helpers/tcp-proxy.ts';
import { chainAt } from '../../contracts/abi/chain.ts';
import { chainResultsRoot } from '../../node/ai/batch-results.ts';
import { chainFulfilledInferences } from '../../node/ai/fulfilled-inferences.ts';
import { CallExecutor } from '../../node/chain/call.ts';

const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
const FAST: Partial<BatcherOptions> = { maxBlocksPerBatch: 4, maxBatchAgeMs: 0, pollMs: 50, maxBackoffMs: 400, resubmitAfterMs: 60_000, stuckAfterMs: 60_000 };

async function until<T>(what: string, f: () => Promise<T | undefined | false>, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function l1Clients(url: string, chainId: number, key: Hex) {
  const chain = chainAt(chainId, url, 'l1');
  // no viem retries and a short timeout: the services retry on their own schedule
  const transport = http(url, { retryCount: 0, timeout: 2_000 });
  return {
    public: createPublicClient({ chain, transport, pollingInterval: 50 }),
    wallet: createWalletClient({ chain, transport, account: privateKeyToAccount(key) }),
  };
}

describe('batcher and proposer on a real L1', () => {
  let anvil: Anvil;
  let proxy: TcpProxy;
  let dir: string;
  let node: RollupNode;
  let rollup: Address;
  let l1: ReturnType<typeof l1Clients>;
  let nonce = 0;
  /** The batcher account's nonce when this test's Rollup was deployed (one anvil serves every test). */
  let batcherNonce0 = 0;
  const running: { stop(): Promise<void> }[] = [];
  const addr = (k: Hex) => privateKeyToAccount(k).address;

  beforeAll(async () => {
    anvil = await startAnvil();
    proxy = await startTcpProxy({ port: anvil.port });
  }, 60_000);

  afterAll(async () => {
    await proxy?.close();
    await anvil?.stop();
  });

  beforeEach(async () => {
    const keys = anvil.accounts;
    const d = await deployL1({
      l1Url: anvil.url,
      deployerKey: keys[0]!,
      batcher: addr(keys[1]!),
      proposer: addr(keys[2]!),
      challenger: addr(keys[3]!),
      challengeWindow: 3600n,
      inclusionWindow: 3600n,
    });
    rollup = d.rollup;
    l1 = l1Clients(anvil.url, anvil.chainId, keys[3]!);
    dir = await mkdtemp(join(tmpdir(), 'batcher-test-'));
    node = await RollupNode.init(
      {
        ...defaultNodeOptions,
        datadir: dir,
        dev: true,
        rpc: { ...defaultNodeOptions.rpc, port: 0 },
        // blocks are sealed by the test (mineOne), not by a timer
        sequencer: { ...defaultNodeOptions.sequencer, blockTime: 3600 },
      },
      logger,
    );
    nonce = 0;
    batcherNonce0 = await l1.public.getTransactionCount({ address: addr(keys[1]!) });
  }, 60_000);

  afterEach(async () => {
    for (const s of running.splice(0)) await s.stop();
    await node?.close();
    if (dir !== undefined) await removeDir(dir);
  });

  function batcher(opts: Partial<BatcherOptions> = {}, url = proxy.url): Batcher {
    const results = chainResultsRoot(chainFulfilledInferences(node.chain, new CallExecutor(node.chain, 50_000_000n)), node.chain.common.chainId());
    const deps = { chain: node.chain, l1: l1Clients(url, anvil.chainId, anvil.accounts[1]!), rollup, logger: logger.child({ module: 'batcher' }), resultsRoot: results };
    const b = new Batcher(deps, { ...FAST, ...opts });
    running.push(b);
    return b;
  }

  function proposer(url = proxy.url): Proposer {
    const p = new Proposer(
      { chain: node.chain, l1: l1Clients(url, anvil.chainId, anvil.accounts[2]!), rollup, logger: logger.child({ module: 'proposer' }) },
      { pollMs: 50, maxBackoffMs: 400 },
    );
    running.push(p);
    return p;
  }

  /** Seals `n` L2 blocks, each with `txs` real signed transfers (some with calldata). */
  async function produce(n: number, txs = 3): Promise<void> {
    const account = privateKeyToAccount(DEV_KEYS[0]);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < txs; j++) {
        const raw = await account.signTransaction({
          chainId: 1337,
          nonce: nonce++,
          to: addr(DEV_KEYS[(j % 3) + 1]),
          value: parseEther('0.001') * BigInt(j + 1),
          data: j === 2 ? (`0x${'ab'.repeat(nonce % 50)}` as Hex) : undefined,
          gas: 100_000n,
          maxFeePerGas: 10n ** 10n,
          maxPriorityFeePerGas: 1n,
        });
        await node.pool.addRaw(hexToBytes(raw));
      }
      const b = await node.producer.mineOne();
      expect(b?.transactions.length).toBe(txs);
    }
  }

  const read = <F extends 'batchCount' | 'nextBlock' | 'outputCount'>(functionName: F) =>
    l1.public.readContract({ address: rollup, abi: rollupAbi, functionName }) as Promise<F extends 'nextBlock' ? bigint : bigint>;

  const l1rpc = (method: string, params: unknown[] = []) => l1.public.request({ method: method as never, params: params as never });

  /**
   * Runs `f` with anvil's automine off, so batch transactions stay pending until `f` mines.
   * Returns once the first batch transaction of `start()` sits in the pool.
   */
  async function withAutomineOff(f: (pooled: () => Promise<{ maxFeePerGas: Hex; hash: Hex; to: string | null } | undefined>) => Promise<void>): Promise<void> {
    const batcherAddr = addr(anvil.accounts[1]!).toLowerCase();
    const pooled = async () => {
      const content = (await l1rpc('txpool_content')) as { pending: Record<string, Record<string, { maxFeePerGas: Hex; hash: Hex; to: string | null }>> };
      return Object.entries(content.pending).find(([a]) => a.toLowerCase() === batcherAddr)?.[1]?.[String(batcherNonce0)];
    };
    await l1rpc('evm_setAutomine', [false]);
    try {
      await f(pooled);
    } finally {
      await l1rpc('evm_setAutomine', [true]);
    }
  }

  /** Waits until L1 holds every local block. */
  const caughtUp = () => until('L1 to hold every L2 block', async () => (await read('nextBlock')) === node.chain.head.header.number + 1n);

  /**
   * Fetches every batch's calldata back from L1 and checks it decodes to exactly the local
   * blocks: contiguous from block 1, same hashes, header fields and hash chain as stored.
   * Also: every transaction of the batcher account succeeded (no gas burned on a duplicate).
   */
  async function auditBatches(otherTxs = 0): Promise<number> {
    const count = Number(await read('batchCount'));
    const logs = await l1.public.getContractEvents({ address: rollup, abi: rollupAbi, eventName: 'BatchSubmitted', fromBlock: 0n });
    expect(logs.length).toBe(count);
    let expectedFirst = 1n;
    let prev: Hex = `0x${'00'.repeat(32)}`;
    for (const [i, log] of logs.entries()) {
      const tx = await l1.public.getTransaction({ hash: log.transactionHash });
      const { functionName, args } = decodeFunctionData({ abi: rollupAbi, data: tx.input });
      expect(functionName).toBe('submitBatch');
      const [header, data] = args as unknown as [Parameters<typeof batchHash>[0], Hex];
      expect(header.index).toBe(BigInt(i));
      expect(header.prevBatchHash).toBe(prev);
      expect(header.firstBlock).toBe(expectedFirst);
      expect(header.dataHash).toBe(keccak256(data));
      const stored = await l1.public.readContract({ address: rollup, abi: rollupAbi, functionName: 'getBatch', args: [BigInt(i)] });
      expect(stored.hash).toBe(batchHash(header));
      expect(log.args.batchHash).toBe(stored.hash);
      const rlps = await decodeBatchData(hexToBytes(data));
      expect(BigInt(rlps.length)).toBe(header.lastBlock - header.firstBlock + 1n);
      for (const [k, rlp] of rlps.entries()) {
        const local = await node.chain.store.getBlockByNumber(header.firstBlock + BigInt(k));
        expect(bytesToHex(rlp)).toBe(bytesToHex(local!.serialize()));
        expect(keccak256(RLP.encode((RLP.decode(rlp) as Uint8Array[][])[0]!))).toBe(bytesToHex(local!.hash()));
      }
      prev = stored.hash;
      expectedFirst = header.lastBlock + 1n;
    }
    expect(expectedFirst).toBe(node.chain.head.header.number + 1n);
    // every transaction the batcher ever sent landed and succeeded: none was a duplicate
    const sent = await l1.public.getTransactionCount({ address: addr(anvil.accounts[1]!) });
    const batcherTxs = new Set(logs.map((l) => l.transactionHash));
    expect(batcherTxs.size).toBe(count);
    expect(sent - batcherNonce0).toBe(count + otherTxs);
    return count;
  }

  /** Every output on L1 equals the output root recomputed from the local chain, one per batch. */
  async function auditOutputs(): Promise<void> {
    const outputs = Number(await read('outputCount'));
    const batches = Number(await read('batchCount'));
    expect(outputs).toBe(batches);
    for (let i = 0; i < outputs; i++) {
      const o = await l1.public.readContract({ address: rollup, abi: rollupAbi, functionName: 'getOutput', args: [BigInt(i)] });
      const b = await l1.public.readContract({ address: rollup, abi: rollupAbi, functionName: 'getBatch', args: [BigInt(i)] });
      expect(o.batchIndex).toBe(BigInt(i));
      expect(o.l2Block).toBe(b.lastBlock);
      const expected = await outputAt(node.chain, b.lastBlock);
      expect(o.root).toBe(expected.root);
      expect(expected.parts.blockHash).toBe(bytesToHex((await node.chain.store.getBlockByNumber(b.lastBlock))!.hash()));
    }
  }

  it('posts several batches that decode back to exactly the L2 blocks, and proposes their outputs', async () => {
    await produce(10);
    const b = batcher();
    const p = proposer();
    const confirmed: ConfirmedBatch[] = [];
    b.onBatchConfirmed((ev) => {
      confirmed.push(ev);
      p.poke();
    });
    b.start();
    p.start();
    await caughtUp();
    await produce(3, 1);
    await caughtUp();
    const count = await auditBatches();
    expect(count).toBeGreaterThanOrEqual(4); // 13+ blocks, at most 4 a batch
    await until('an output per batch', async () => (await read('outputCount')) === BigInt(count));
    await auditOutputs();
    await until('the batcher to report every batch', async () => b.status().confirmedBatchCount === BigInt(count));
    expect(b.status().safeL2Block).toBe(node.chain.head.header.number);
    expect(confirmed.map((c) => c.index)).toEqual(Array.from({ length: count }, (_, i) => BigInt(i)));
    expect(confirmed.at(-1)!.lastBlock).toBe(node.chain.head.header.number);
    await until('the proposer to report the last output', async () => p.status().lastProposedBatch === BigInt(count - 1));
  }, 120_000);

  it('cuts batches at maxBatchBytes of compressed data', async () => {
    await produce(12, 6);
    const max = 2_500;
    const b = batcher({ maxBlocksPerBatch: 100, maxBatchBytes: max });
    b.start();
    await caughtUp();
    const count = await auditBatches();
    const logs = await l1.public.getContractEvents({ address: rollup, abi: rollupAbi, eventName: 'BatchSubmitted', fromBlock: 0n });
    for (const [i, log] of logs.entries()) {
      const tx = await l1.public.getTransaction({ hash: log.transactionHash });
      const [, data] = decodeFunctionData({ abi: rollupAbi, data: tx.input }).args as unknown as [unknown, Hex];
      expect(hexToBytes(data).length).toBeLessThanOrEqual(max);
      // filled, not cut early (a block here compresses to ~650 bytes)
      if (i < logs.length - 1) expect(hexToBytes(data).length).toBeGreaterThan(max - 1_000);
    }
    expect(count).toBeGreaterThanOrEqual(4);
  }, 120_000);

  it('a second batcher continues where a stopped one left off: no gap, no duplicate', async () => {
    await produce(6);
    const first = batcher();
    first.start();
    await until('a first batch', async () => (await read('batchCount')) >= 1n);
    await first.stop();
    const afterFirst = await read('batchCount');
    await produce(5);
    const second = batcher();
    second.start();
    await caughtUp();
    expect(await read('batchCount')).toBeGreaterThan(afterFirst);
    await auditBatches();
  }, 120_000);

  it("waits for a previous run's pending batch instead of posting it twice", async () => {
    await produce(3);
    await withAutomineOff(async (pooled) => {
      const first = batcher({ maxBlocksPerBatch: 10 });
      first.start();
      await until('the batch transaction in the L1 pool', pooled);
      // killed with its transaction in flight; a new run must not build on the stale L1 state
      await first.stop();
      await produce(2);
      const second = batcher({ maxBlocksPerBatch: 10 });
      second.start();
      // give the new run every chance to (wrongly) post a duplicate index 0 while the first is pending
      await new Promise((r) => setTimeout(r, 500));
      const pending = await l1.public.getTransactionCount({ address: addr(anvil.accounts[1]!), blockTag: 'pending' });
      expect(pending).toBe(batcherNonce0 + 1);
      await l1rpc('evm_mine');
    });
    await caughtUp();
    await auditBatches();
  }, 120_000);

  it('replaces a batch transaction that is not mined in time (same nonce, higher fees): one lands', async () => {
    await produce(3);
    await withAutomineOff(async (pooled) => {
      batcher({ maxBlocksPerBatch: 10, resubmitAfterMs: 300 }).start();
      const first = await until('the batch transaction in the L1 pool', pooled);
      // the pool's transaction at that nonce now pays more
      const replaced = await until('a replacement with higher fees', async () => {
        const tx = await pooled();
        return tx !== undefined && BigInt(tx.maxFeePerGas) > BigInt(first.maxFeePerGas) ? tx : undefined;
      });
      expect(replaced.hash).not.toBe(first.hash);
      await l1rpc('evm_mine');
    });
    await caughtUp();
    await auditBatches();
  }, 120_000);

  it("cancels a previous run's stuck transaction, then posts from the L1 state", async () => {
    await produce(3);
    const batcherAddr = addr(anvil.accounts[1]!).toLowerCase();
    await withAutomineOff(async (pooled) => {
      const first = batcher({ maxBlocksPerBatch: 10 });
      first.start();
      await until('the batch transaction in the L1 pool', pooled);
      await first.stop();
      batcher({ maxBlocksPerBatch: 10, stuckAfterMs: 300 }).start();
      // the cancel (a 0-value self-transfer at the stuck nonce) replaces the old batch in the pool
      await until('the cancel in the pool', async () => (await pooled())?.to?.toLowerCase() === batcherAddr);
      await l1rpc('evm_mine');
    });
    await caughtUp();
    await auditBatches(1); // the cancel used one nonce
  }, 120_000);

  it('survives the L1 RPC going down: logs, backs off, catches up without a gap', async () => {
    await produce(4);
    const b = batcher();
    const p = proposer();
    b.onBatchConfirmed(() => p.poke());
    b.start();
    p.start();
    await caughtUp();
    const before = await read('batchCount');

    proxy.pause('reset');
    await produce(6);
    await until('the batcher to notice', async () => b.status().lastError !== undefined);
    await until('the proposer to notice', async () => p.status().lastError !== undefined);
    expect(await read('batchCount')).toBe(before); // read straight from anvil: nothing got through
    proxy.pause('blackhole'); // now requests hang until the client's timeout
    await new Promise((r) => setTimeout(r, 2_500));
    proxy.resume();

    await caughtUp();
    await until('the batcher error to clear', async () => b.status().lastError === undefined);
    await auditBatches();
    await until('an output per batch', async () => (await read('outputCount')) === (await read('batchCount')));
    await auditOutputs();
  }, 120_000);

  it('proposes deleted outputs again', async () => {
    await produce(8);
    const b = batcher();
    const p = proposer();
    b.onBatchConfirmed(() => p.poke());
    b.start();
    p.start();
    await caughtUp();
    const batches = await read('batchCount');
    await until('an output per batch', async () => (await read('outputCount')) === batches);
    await p.stop(); // so the deletion is observed on the next run, not raced

    const challenger = l1Clients(anvil.url, anvil.chainId, anvil.accounts[3]!);
    const hash = await challenger.wallet.writeContract({ address: rollup, abi: rollupAbi, functionName: 'deleteOutputs', args: [1n] });
    expect((await challenger.public.waitForTransactionReceipt({ hash })).status).toBe('success');
    expect(await read('outputCount')).toBe(1n);

    const again = proposer();
    again.start();
    await until('the deleted outputs proposed again', async () => (await read('outputCount')) === batches);
    await auditOutputs();
    const events = await l1.public.getContractEvents({ address: rollup, abi: rollupAbi, eventName: 'OutputProposed', fromBlock: 0n });
    expect(events.length).toBe(Number(batches) * 2 - 1);
  }, 120_000);
});
