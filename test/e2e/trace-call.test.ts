/**
 * debug_trace* with geth's callTracer, side by side with anvil started by the test: the same
 * contracts at the same addresses, the same signed transactions (so the same hashes), and the
 * traces compared field by field: a transaction with a CALL, a reverting subcall, a STATICCALL, a
 * DELEGATECALL, a precompile call, a CREATE and a CREATE2; a reverting transaction; a plain
 * transfer; onlyTopCall and withLog; debug_traceCall and debug_traceBlockByNumber. Then a call
 * into the AI precompiles, which only this chain has, and the refusals.
 */
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeFunctionData, parseAbi } from 'viem';
import type { Address, Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { compileContracts } from '../../contracts/compile.ts';
import type { CompiledContract } from '../../contracts/compile.ts';
import { MODEL_EXEC_ADDRESS } from '../../contracts/abi/precompiles.ts';
import { type Anvil, startAnvil } from '../../devnet/anvil.ts';
import { devAccounts } from '../../node/chain/genesis.ts';
import { removeDir, rpc, startDevNode } from '../helpers/dev-node.ts';
import type { DevNode } from '../helpers/dev-node.ts';

const CAST = resolve(import.meta.dirname, '../../node_modules/.bin/cast');
const callerAbi = parseAbi(['function run(uint256 v) returns (uint256)', 'function boom()', 'function callee() view returns (address)']);
const call = async (url: string, method: string, params: unknown[] = []) => (await rpc(url, { jsonrpc: '2.0', id: 1, method, params })).json;
const must = async (url: string, method: string, params: unknown[] = []) => {
  const r = await call(url, method, params);
  if (r.error !== undefined) throw new Error(`${method} on ${url}: ${JSON.stringify(r.error)}`);
  return r.result;
};

/** Lowercases every address-like string so the two nodes' spellings compare. */
function normal(v: unknown): unknown {
  if (typeof v === 'string') return /^0x[0-9a-fA-F]{40}$/.test(v) ? v.toLowerCase() : v;
  if (Array.isArray(v)) return v.map(normal);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, normal(x)]));
  return v;
}

describe('tracing (struct logger and callTracer), side by side with anvil', () => {
  let anvil: Anvil;
  let node: DevNode;
  let caller: Address;
  let contracts: Record<string, CompiledContract>;
  const sender = devAccounts(6)[5]!;
  const account = privateKeyToAccount(sender.privateKey as Hex);
  let nonce = 0;

  /** Signs once, sends the same bytes to both nodes, waits for both receipts. */
  async function sendBoth(tx: { to?: Address; data?: Hex; value?: bigint; gas?: bigint }): Promise<Hex> {
    const raw = await account.signTransaction({
      chainId: 1337,
      type: 'eip1559',
      nonce: nonce++,
      maxFeePerGas: 10n ** 11n,
      maxPriorityFeePerGas: 10n ** 9n,
      gas: tx.gas ?? 3_000_000n,
      to: tx.to,
      data: tx.data,
      value: tx.value ?? 0n,
    });
    const [a, b] = await Promise.all([must(node.url, 'eth_sendRawTransaction', [raw]), must(anvil.url, 'eth_sendRawTransaction', [raw])]);
    expect(a).toBe(b);
    for (const url of [node.url, anvil.url]) {
      for (let i = 0; i < 100 && (await must(url, 'eth_getTransactionReceipt', [a])) === null; i++) await new Promise((r) => setTimeout(r, 100));
    }
    return a as Hex;
  }

  beforeAll(async () => {
    contracts = await compileContracts(['test/Tracing.sol']);
    // anvil records opcode steps only with --steps-tracing
    [anvil, node] = await Promise.all([startAnvil({ chainId: 1337, args: ['--steps-tracing'] }), startDevNode()]);
    const deployHash = await sendBoth({ data: contracts.TraceCaller!.bytecode });
    caller = (await must(node.url, 'eth_getTransactionReceipt', [deployHash])).contractAddress;
    expect((await must(anvil.url, 'eth_getTransactionReceipt', [deployHash])).contractAddress).toBe(caller);
  }, 120_000);
  afterAll(async () => {
    await Promise.all([anvil?.stop(), node?.stop()]);
    await removeDir(node?.datadir ?? '');
  });

  it('every kind of frame, a reverting transaction, a transfer and a deployment: the same trees as anvil', async () => {
    const hashes = [
      await sendBoth({ to: caller, data: encodeFunctionData({ abi: callerAbi, functionName: 'run', args: [5n] }) }),
      await sendBoth({ to: caller, data: encodeFunctionData({ abi: callerAbi, functionName: 'boom' }) }),
      await sendBoth({ to: devAccounts(7)[6]!.address as Address, value: 12345n }),
      await sendBoth({ data: contracts.TraceCallee!.bytecode }),
    ];
    for (const hash of hashes) {
      for (const cfg of [{ tracer: 'callTracer' }, { tracer: 'callTracer', tracerConfig: { onlyTopCall: true } }]) {
        const ours = await must(node.url, 'debug_traceTransaction', [hash, cfg]);
        const theirs = await must(anvil.url, 'debug_traceTransaction', [hash, cfg]);
        expect(normal(ours), `${hash} ${JSON.stringify(cfg)}`).toEqual(normal(theirs));
      }
    }
    const run = await must(node.url, 'debug_traceTransaction', [hashes[0], { tracer: 'callTracer' }]);
    expect(run.calls.map((c: { type: string }) => c.type)).toEqual(expect.arrayContaining(['CALL', 'STATICCALL', 'DELEGATECALL', 'CREATE', 'CREATE2']));
    expect(run.calls.find((c: { error?: string }) => c.error !== undefined)).toMatchObject({ error: 'execution reverted', revertReason: 'callee says no' });
  });

  it('transactions and receipts carry the fields anvil carries (blockTimestamp, blobGasPrice), with the same values', async () => {
    const hash = await sendBoth({ to: caller, data: encodeFunctionData({ abi: callerAbi, functionName: 'run', args: [2n] }) });
    for (const m of ['eth_getTransactionByHash', 'eth_getTransactionReceipt']) {
      const ours = await must(node.url, m, [hash]);
      const theirs = await must(anvil.url, m, [hash]);
      expect(Object.keys(ours).sort(), m).toEqual(Object.keys(theirs).sort());
      const block = await must(node.url, 'eth_getBlockByNumber', [ours.blockNumber, false]);
      expect(ours.blockTimestamp).toBe(block.timestamp);
      for (const l of ours.logs ?? []) expect(l.blockTimestamp).toBe(block.timestamp);
    }
    expect((await must(node.url, 'eth_getTransactionReceipt', [hash])).blobGasPrice).toBe((await must(anvil.url, 'eth_getTransactionReceipt', [hash])).blobGasPrice);
  });

  it('the struct logger, with each of its options: the same entries as anvil', async () => {
    const hashes = [
      await sendBoth({ to: caller, data: encodeFunctionData({ abi: callerAbi, functionName: 'run', args: [11n] }) }),
      await sendBoth({ to: caller, data: encodeFunctionData({ abi: callerAbi, functionName: 'boom' }) }),
    ];
    for (const hash of hashes) {
      for (const cfg of [{}, { enableMemory: true, enableReturnData: true }, { disableStack: true, disableStorage: true }, { limit: 10 }]) {
        const ours = await must(node.url, 'debug_traceTransaction', [hash, cfg]);
        const theirs = await must(anvil.url, 'debug_traceTransaction', [hash, cfg]);
        // geth stops at `limit` entries; anvil ignores the option, so its first `limit` are compared
        if ('limit' in cfg) theirs.structLogs = theirs.structLogs.slice(0, cfg.limit);
        const n = Math.max(ours.structLogs.length, theirs.structLogs.length);
        expect(n).toBeGreaterThan(0);
        for (let i = 0; i < n; i++) expect(normal(ours.structLogs[i]), `${hash} ${JSON.stringify(cfg)} entry ${i}`).toEqual(normal(theirs.structLogs[i]));
        expect({ ...ours, structLogs: [] }).toEqual({ ...theirs, structLogs: [] });
      }
    }
  });

  it('withLog: each frame its own logs, at their position among its calls', async () => {
    const hash = await sendBoth({ to: caller, data: encodeFunctionData({ abi: callerAbi, functionName: 'run', args: [9n] }) });
    const cfg = { tracer: 'callTracer', tracerConfig: { withLog: true } };
    const ours = await must(node.url, 'debug_traceTransaction', [hash, cfg]);
    const theirs = await must(anvil.url, 'debug_traceTransaction', [hash, cfg]);
    expect(normal(ours)).toEqual(normal(theirs));
    expect(ours.logs).toHaveLength(1);
  });

  it('debug_traceCall and debug_traceBlockByNumber agree with anvil', async () => {
    const req = { from: sender.address, to: caller, data: encodeFunctionData({ abi: callerAbi, functionName: 'run', args: [3n] }), gas: '0x2dc6c0' };
    const cfg = { tracer: 'callTracer' };
    expect(normal(await must(node.url, 'debug_traceCall', [req, 'latest', cfg]))).toEqual(normal(await must(anvil.url, 'debug_traceCall', [req, 'latest', cfg])));
    const hash = await sendBoth({ to: caller, data: encodeFunctionData({ abi: callerAbi, functionName: 'run', args: [4n] }) });
    const ourBlock = (await must(node.url, 'eth_getTransactionReceipt', [hash])).blockNumber;
    const theirBlock = (await must(anvil.url, 'eth_getTransactionReceipt', [hash])).blockNumber;
    const ours = await must(node.url, 'debug_traceBlockByNumber', [ourBlock, cfg]);
    const theirs = await must(anvil.url, 'debug_traceBlockByNumber', [theirBlock, cfg]);
    expect(normal(ours.find((t: { txHash: string }) => t.txHash === hash))).toEqual(normal(theirs.find((t: { txHash: string }) => t.txHash === hash)));
  });

  it('cast run and cast call --trace print the call tree against the node', async () => {
    const hash = await sendBoth({ to: caller, data: encodeFunctionData({ abi: callerAbi, functionName: 'run', args: [6n] }) });
    const run = await promisify(execFile)(CAST, ['run', hash, '--rpc-url', node.url, '--quick'], { timeout: 120_000 });
    // cast replays the transaction itself from the node's historical state and prints the tree
    expect(run.stdout).toMatch(/\[staticcall\]\n.*\[Revert\] callee says no/);
    expect(run.stdout).toContain('[delegatecall]');
    expect(run.stdout).toContain('PRECOMPILES::sha256');
    expect(run.stdout.match(/→ new /g)).toHaveLength(2);
    expect(run.stdout).toContain(`Gas used: ${BigInt((await must(node.url, 'eth_getTransactionReceipt', [hash])).gasUsed)}`);
    const traced = await promisify(execFile)(CAST, ['call', '--trace', '--rpc-url', node.url, '--from', sender.address, caller, 'run(uint256)', '8'], { timeout: 120_000 });
    expect(traced.stdout).toContain('[delegatecall]');
    expect(traced.stdout).toMatch(/Revert\] callee says no/);
  }, 150_000);

  it('a call into the AI precompiles is a frame with its address, input, output and revert; refusals are clear', async () => {
    const t = await must(node.url, 'debug_traceCall', [{ from: sender.address, to: MODEL_EXEC_ADDRESS, data: '0x12345678' }, 'latest', { tracer: 'callTracer' }]);
    expect(t).toMatchObject({ type: 'CALL', to: MODEL_EXEC_ADDRESS.toLowerCase(), input: '0x12345678', error: 'execution reverted' });
    expect(BigInt(t.gasUsed)).toBeGreaterThan(0n);
    expect((await call(node.url, 'debug_traceTransaction', [`0x${'00'.repeat(32)}`, { tracer: 'callTracer' }])).error).toMatchObject({
      code: -32000,
      message: 'transaction not found',
    });
    expect((await call(node.url, 'debug_traceCall', [{ to: caller }, 'latest', { tracer: 'fourByteTracer' }])).error).toMatchObject({ code: -32602 });
    expect((await call(node.url, 'debug_traceBlockByNumber', ['0xffffff', { tracer: 'callTracer' }])).error).toMatchObject({ code: -32000, message: 'header not found' });
  });
});
