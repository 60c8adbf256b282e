/**
 * debug_trace* with geth's callTracer, struct logger and prestateTracer, side by side with anvil
 * started by the test: the same contracts at the same addresses, the same signed transactions (so
 * the same hashes), and the traces compared field by field: a transaction with a CALL, a reverting
 * subcall, a STATICCALL, a DELEGATECALL, a precompile call, a CREATE and a CREATE2; a reverting
 * transaction; a plain transfer; a deployment; onlyTopCall and withLog; prestateTracer's diffMode,
 * disableCode and disableStorage; debug_traceCall and debug_traceBlockByNumber. Then calls into
 * the AI precompiles, which only this chain has, and the refusals.
 */
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeFunctionData, getContractAddress, keccak256, parseAbi } from 'viem';
import type { Address, Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { compileContracts } from '../../contracts/compile.ts';
import type { CompiledContract } from '../../contracts/compile.ts';
import { MODEL_EXEC_ADDRESS } from '../../contracts/abi/precompiles.ts';
import { type Anvil, startAnvil } from '../../devnet/anvil.ts';
import { devAccounts } from '../../node/chain/genesis.ts';
import { removeDir, rpc, startDevNode } from '../helpers/dev-node.ts';
import type { DevNode } from '../helpers/dev-node.ts';
import type { PrestateAccount, PrestateMap, PrestateResult } from '../../node/trace/prestate-tracer.ts';

const CAST = resolve(import.meta.dirname, '../../node_modules/.bin/cast');
const callerAbi = parseAbi(['function run(uint256 v) returns (uint256)', 'function boom()', 'function callee() view returns (address)']);
const doomerAbi = parseAbi(['function doom(address heir, address other) payable returns (bytes32)']);
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

/**
 * A prestate trace less what legitimately differs between this chain and anvil:
 * - each chain's coinbase: anvil's is the zero address, this chain's the fee vault predeploy
 *   (0x42..11), and the tips it gets differ with each chain's base fee;
 * - `codeHash`, which geth prints since v1.16.3 (#32391) and anvil (revm-inspectors) does not:
 *   ours is checked to be the hash of the code wherever the code is printed, then dropped;
 * - accounts anvil prints in `pre` though they were empty before the transaction (a precompile
 *   called, a contract about to be created): geth leaves them out since v1.16.0 (#31427), and so
 *   does this node. (Every contract here has a nonce, so "no nonce, no code, no balance" is empty
 *   with disableCode too.)
 */
function comparablePrestate(trace: PrestateResult, coinbase: string, ours: boolean): unknown {
  const clean = (m: PrestateMap, pre: boolean) => {
    const out: PrestateMap = {};
    for (const [address, account] of Object.entries(m)) {
      if (address.toLowerCase() === coinbase.toLowerCase()) continue;
      const { codeHash, ...rest }: PrestateAccount = account;
      if (ours && rest.code !== undefined) expect(codeHash, address).toBe(keccak256(rest.code));
      if (!ours && pre && rest.balance === '0x0' && rest.nonce === undefined && rest.code === undefined) continue;
      out[address.toLowerCase()] = rest;
    }
    return out;
  };
  if ('pre' in trace && 'post' in trace) return { pre: clean(trace.pre as PrestateMap, true), post: clean(trace.post as PrestateMap, false) };
  return clean(trace, true);
}

describe('tracing (struct logger, callTracer and prestateTracer), side by side with anvil', () => {
  let anvil: Anvil;
  let node: DevNode;
  let caller: Address;
  let contracts: Record<string, CompiledContract>;
  const sender = devAccounts(6)[5]!;
  const account = privateKeyToAccount(sender.privateKey as Hex);
  let nonce = 0;
  // the prestate tests' sender pays maxFeePerGas (= maxPriorityFeePerGas) whatever the base fee, so
  // its balance stays the same on both chains though their base fees differ
  const payer = privateKeyToAccount(devAccounts(8)[7]!.privateKey as Hex);
  let payerNonce = 0;

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
    await receipts([a]);
    return a as Hex;
  }

  async function receipts(hashes: Hex[]): Promise<void> {
    for (const url of [node.url, anvil.url]) {
      for (const h of hashes) for (let i = 0; i < 100 && (await must(url, 'eth_getTransactionReceipt', [h])) === null; i++) await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** The payer's transactions, sent in order to both nodes at once (one block of this node's). */
  async function sendAllBoth(txs: { to?: Address; data?: Hex; value?: bigint }[]): Promise<Hex[]> {
    const hashes: Hex[] = [];
    for (const tx of txs) {
      const fee = 5n * 10n ** 9n;
      const raw = await payer.signTransaction({ chainId: 1337, type: 'eip1559', nonce: payerNonce++, maxFeePerGas: fee, maxPriorityFeePerGas: fee, gas: 3_000_000n, ...tx });
      const [a, b] = await Promise.all([must(node.url, 'eth_sendRawTransaction', [raw]), must(anvil.url, 'eth_sendRawTransaction', [raw])]);
      expect(a).toBe(b);
      hashes.push(a);
    }
    await receipts(hashes);
    return hashes;
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

  it('prestateTracer, plain and diffMode, with disableCode and disableStorage: the same accounts and values as anvil', async () => {
    const doomer = getContractAddress({ from: payer.address, nonce: BigInt(payerNonce + 3) });
    const doomed = getContractAddress({ from: doomer, nonce: 1n });
    const heir = `0x${'be'.repeat(20)}` as Address;
    const [transfer, run, boom, deploy, , doom] = await sendAllBoth([
      { to: devAccounts(7)[6]!.address as Address, value: 777n },
      { to: caller, data: encodeFunctionData({ abi: callerAbi, functionName: 'run', args: [21n] }) },
      { to: caller, data: encodeFunctionData({ abi: callerAbi, functionName: 'boom' }) },
      { data: contracts.TraceDoomer!.bytecode },
      // funded before its creation: it has a state before the transaction that creates and deletes it
      { to: doomed, value: 5n },
      { to: doomer, data: encodeFunctionData({ abi: doomerAbi, functionName: 'doom', args: [heir, caller] }), value: 1000n },
    ]);
    const [ourCoinbase, theirCoinbase] = await Promise.all([must(node.url, 'eth_coinbase'), must(anvil.url, 'eth_coinbase')]);
    const configs = [{}, { diffMode: true }, { disableCode: true, disableStorage: true }, { diffMode: true, disableCode: true }, { diffMode: true, disableStorage: true }];
    const traces = new Map<string, PrestateResult>();
    for (const hash of [transfer!, run!, boom!, deploy!, doom!]) {
      for (const tracerConfig of configs) {
        const cfg = { tracer: 'prestateTracer', tracerConfig };
        const ours = await must(node.url, 'debug_traceTransaction', [hash, cfg]);
        const theirs = await must(anvil.url, 'debug_traceTransaction', [hash, cfg]);
        expect(comparablePrestate(ours, ourCoinbase, true), `${hash} ${JSON.stringify(tracerConfig)}`).toEqual(comparablePrestate(theirs, theirCoinbase, false));
        traces.set(`${hash} ${JSON.stringify(tracerConfig)}`, ours);
      }
    }
    // what the comparison covers: slots read and written, the callee, the contracts about to be created
    const pre = traces.get(`${run} {}`) as PrestateMap;
    expect(Object.keys(pre[caller.toLowerCase()]!.storage!)).toHaveLength(2);
    const diff = traces.get(`${run} {"diffMode":true}`) as { pre: PrestateMap; post: PrestateMap };
    expect(Object.values(diff.post).filter((a) => a.code !== undefined)).toHaveLength(2);
    // a contract created and self-destructed by the transaction is deleted: in `pre` as it was, not in `post`; its heir got all
    const died = traces.get(`${doom} {"diffMode":true}`) as { pre: PrestateMap; post: PrestateMap };
    const gone = doomed.toLowerCase();
    expect([died.pre[gone], gone in died.post, died.post[heir.toLowerCase()]]).toEqual([{ balance: '0x5' }, false, { balance: '0x3ed' }]);
    expect(Object.keys(traces.get(`${doom} {}`)!)).toContain(caller.toLowerCase());
    // the fee vault's gain is the tip: gas used times what the price exceeds the base fee by
    const receipt = await must(node.url, 'eth_getTransactionReceipt', [run]);
    const { baseFeePerGas } = await must(node.url, 'eth_getBlockByNumber', [receipt.blockNumber, false]);
    const gain = BigInt(diff.post[ourCoinbase]!.balance!) - BigInt(diff.pre[ourCoinbase]!.balance!);
    expect(gain).toBe(BigInt(receipt.gasUsed) * (BigInt(receipt.effectiveGasPrice) - BigInt(baseFeePerGas)));
    // a block traced whole answers what each transaction traced alone does
    const block = await must(node.url, 'debug_traceBlockByNumber', [receipt.blockNumber, { tracer: 'prestateTracer', tracerConfig: { diffMode: true } }]);
    expect(block.find((t: { txHash: string }) => t.txHash === run).result).toEqual(diff);
  });

  it('prestateTracer in debug_traceCall agrees with anvil; a call into an AI precompile touches it; bad configs are -32602', async () => {
    const req = { from: payer.address, to: caller, data: encodeFunctionData({ abi: callerAbi, functionName: 'run', args: [22n] }), gas: '0x2dc6c0' };
    const [ourCoinbase, theirCoinbase] = await Promise.all([must(node.url, 'eth_coinbase'), must(anvil.url, 'eth_coinbase')]);
    for (const tracerConfig of [{}, { diffMode: true }]) {
      const cfg = { tracer: 'prestateTracer', tracerConfig };
      const ours = await must(node.url, 'debug_traceCall', [req, 'latest', cfg]);
      const theirs = await must(anvil.url, 'debug_traceCall', [req, 'latest', cfg]);
      expect(comparablePrestate(ours, ourCoinbase, true), JSON.stringify(tracerConfig)).toEqual(comparablePrestate(theirs, theirCoinbase, false));
    }
    // the precompile has no balance, nonce or code: listed only with includeEmpty
    const ai = { from: payer.address, to: MODEL_EXEC_ADDRESS, data: '0x12345678' };
    const plain = await must(node.url, 'debug_traceCall', [ai, 'latest', { tracer: 'prestateTracer' }]);
    expect(Object.keys(plain)).toContain(payer.address.toLowerCase());
    expect(Object.keys(plain)).not.toContain(MODEL_EXEC_ADDRESS.toLowerCase());
    const all = await must(node.url, 'debug_traceCall', [ai, 'latest', { tracer: 'prestateTracer', tracerConfig: { includeEmpty: true } }]);
    expect(all[MODEL_EXEC_ADDRESS.toLowerCase()]).toEqual({ balance: '0x0' });
    for (const tracerConfig of [{ diffMode: 'yes' }, { disableCode: 1 }, { diffMode: true, includeEmpty: true }]) {
      const r = await call(node.url, 'debug_traceCall', [ai, 'latest', { tracer: 'prestateTracer', tracerConfig }]);
      expect(r.error, JSON.stringify(tracerConfig)).toMatchObject({ code: -32602 });
    }
  });

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
