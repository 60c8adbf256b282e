import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BaseError, ContractFunctionRevertedError, decodeErrorResult, encodeErrorResult, encodeFunctionData, keccak256, parseAbi, toHex, zeroAddress } from 'viem';
import type { Address, Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { clients, removeDir, rpc, startDevNode } from '../helpers/dev-node.ts';
import type { DevNode } from '../helpers/dev-node.ts';
import { deploy, loadTestContracts, reverterAbi } from '../helpers/contracts.ts';

/** The ContractFunctionRevertedError viem found in an error chain (fails the test if there is none). */
function reverted(err: unknown): ContractFunctionRevertedError {
  expect(err).toBeInstanceOf(BaseError);
  const found = (err as BaseError).walk((e) => e instanceof ContractFunctionRevertedError);
  expect(found, `no ContractFunctionRevertedError in: ${String(err)}`).toBeInstanceOf(ContractFunctionRevertedError);
  return found as ContractFunctionRevertedError;
}

/** The same functions declared nonpayable: viem only estimates and sends those (selectors do not change). */
const asWrite = parseAbi(['error Custom(uint256 x, address who)', 'function revertWithReason()', 'function revertWithCustom(uint256 x)']);

async function caught(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected the call to throw');
}

describe('reverts: eth_call and eth_estimateGas errors (code 3, message, data)', () => {
  let node: DevNode;
  let c: ReturnType<typeof clients>;
  let reverter: Address;

  beforeAll(async () => {
    node = await startDevNode({ blockTime: 0 });
    c = clients(node);
    const { Reverter } = await loadTestContracts();
    ({ address: reverter } = await deploy(c.walletClient, c.publicClient, Reverter));
  });
  afterAll(async () => {
    await node.stop();
    await removeDir(node.datadir);
  });

  const data = {
    reason: encodeFunctionData({ abi: reverterAbi, functionName: 'revertWithReason' }),
    custom: encodeFunctionData({ abi: reverterAbi, functionName: 'revertWithCustom', args: [7n] }),
    panic: encodeFunctionData({ abi: reverterAbi, functionName: 'revertPanic' }),
  };

  /** Raw JSON-RPC: the full error object. */
  async function rawError(method: 'eth_call' | 'eth_estimateGas', input: Hex, from?: Address) {
    const params: unknown[] = [{ to: reverter, data: input, ...(from ? { from } : {}) }];
    if (method === 'eth_call') params.push('latest');
    const { json } = await rpc(node.url, { jsonrpc: '2.0', id: 9, method, params });
    expect(json.result).toBeUndefined();
    expect(json.id).toBe(9);
    return json.error as { code: number; message: string; data?: Hex };
  }

  it('a passing call still works (sanity): ok() returns 42', async () => {
    expect(await c.publicClient.readContract({ address: reverter, abi: reverterAbi, functionName: 'ok' })).toBe(42n);
  });

  it('require(false, "nope"): code 3, "execution reverted: nope", Error(string) data', async () => {
    for (const method of ['eth_call', 'eth_estimateGas'] as const) {
      const e = await rawError(method, data.reason, c.account.address);
      expect(e.code).toBe(3);
      expect(e.message).toBe('execution reverted: nope');
      expect(e.data).toBe(encodeErrorResult({ abi: [{ type: 'error', name: 'Error', inputs: [{ type: 'string' }] }], errorName: 'Error', args: ['nope'] }));
    }
    const viaRead = reverted(await caught(c.publicClient.readContract({ address: reverter, abi: reverterAbi, functionName: 'revertWithReason' })));
    expect(viaRead.reason).toBe('nope');
    expect(viaRead.data?.errorName).toBe('Error');
    const viaEstimate = reverted(await caught(c.publicClient.estimateContractGas({ address: reverter, abi: asWrite, functionName: 'revertWithReason', account: c.account })));
    expect(viaEstimate.reason).toBe('nope');
  });

  it('custom error Custom(x, msg.sender): code 3, "execution reverted", data that viem decodes with the caller', async () => {
    for (const method of ['eth_call', 'eth_estimateGas'] as const) {
      const e = await rawError(method, data.custom, c.account.address);
      expect(e.code).toBe(3);
      expect(e.message).toBe('execution reverted');
      expect(e.data).toBe(encodeErrorResult({ abi: reverterAbi, errorName: 'Custom', args: [7n, c.account.address] }));
      const decoded = decodeErrorResult({ abi: reverterAbi, data: e.data! });
      expect(decoded.args).toEqual([7n, c.account.address]);
    }
    const sim = reverted(await caught(c.publicClient.simulateContract({ address: reverter, abi: asWrite, functionName: 'revertWithCustom', args: [7n], account: c.account })));
    expect(sim.data?.errorName).toBe('Custom');
    expect(sim.data?.args).toEqual([7n, c.account.address]);

    // without "from" the caller is the zero address, as in geth
    const read = reverted(await caught(c.publicClient.readContract({ address: reverter, abi: reverterAbi, functionName: 'revertWithCustom', args: [99n] })));
    expect(read.data?.errorName).toBe('Custom');
    expect(read.data?.args).toEqual([99n, zeroAddress]);

    const est = reverted(await caught(c.publicClient.estimateContractGas({ address: reverter, abi: asWrite, functionName: 'revertWithCustom', args: [5n], account: c.account })));
    expect(est.data?.args).toEqual([5n, c.account.address]);
  });

  it("a panic (division by zero) decodes as Panic(0x12) with geth's reason text", async () => {
    const e = await rawError('eth_call', data.panic);
    expect(e.code).toBe(3);
    expect(e.message).toBe('execution reverted: division or modulo by zero');
    const decoded = decodeErrorResult({ data: e.data! });
    expect(decoded.errorName).toBe('Panic');
    expect(decoded.args).toEqual([0x12n]);
    const read = reverted(await caught(c.publicClient.readContract({ address: reverter, abi: reverterAbi, functionName: 'revertPanic' })));
    expect(read.data?.errorName).toBe('Panic');
    expect(read.data?.args).toEqual([0x12n]);
    expect(read.reason).toMatch(/division or modulo by zero/i);
  });

  it('a reverting transaction is still mined, with status "reverted"', async () => {
    const hash = await c.walletClient.writeContract({ address: reverter, abi: asWrite, functionName: 'revertWithReason', gas: 100_000n, chain: node.chain, account: c.account });
    const r = await c.publicClient.waitForTransactionReceipt({ hash });
    expect(r.status).toBe('reverted');
    expect(r.gasUsed).toBeGreaterThan(21000n);
    expect(r.gasUsed).toBeLessThan(100_000n);
    expect(r.logs).toEqual([]);
  });

  it('running out of gas is not a revert: code -32000 "out of gas"; estimateGas finds enough gas for a heavy call', async () => {
    const burn = encodeFunctionData({ abi: reverterAbi, functionName: 'burnGas', args: [20n] });
    const { json } = await rpc(node.url, { jsonrpc: '2.0', id: 1, method: 'eth_call', params: [{ to: reverter, data: burn, gas: '0xc350' }, 'latest'] });
    expect(json.error).toEqual({ code: -32000, message: 'out of gas' });

    const gas = await c.publicClient.estimateContractGas({ address: reverter, abi: reverterAbi, functionName: 'burnGas', args: [20n], account: c.account });
    expect(gas).toBeGreaterThan(20n * 20_000n);
    const hash = await c.walletClient.writeContract({ address: reverter, abi: reverterAbi, functionName: 'burnGas', args: [20n], gas, chain: node.chain, account: c.account });
    expect((await c.publicClient.waitForTransactionReceipt({ hash })).status).toBe('success');

    // more than the RPC gas cap can ever pay for
    const { json: tooMuch } = await rpc(node.url, {
      jsonrpc: '2.0',
      id: 1,
      method: 'eth_estimateGas',
      params: [{ from: c.account.address, to: reverter, data: encodeFunctionData({ abi: reverterAbi, functionName: 'burnGas', args: [100_000n] }) }],
    });
    expect(tooMuch.error.code).toBe(-32000);
    expect(tooMuch.error.message).toMatch(/^gas required exceeds allowance \(\d+\)$/);
  });

  it('refuses to call or estimate with a value the sender cannot afford, like geth', async () => {
    const poor = privateKeyToAccount(keccak256(toHex('rpc-revert poor'))).address;
    const to = privateKeyToAccount(keccak256(toHex('rpc-revert payee'))).address;
    for (const method of ['eth_call', 'eth_estimateGas'] as const) {
      const { json } = await rpc(node.url, { jsonrpc: '2.0', id: 1, method, params: [{ from: poor, to, value: '0x1000' }] });
      expect(json.error).toEqual({ code: -32000, message: `insufficient funds for gas * price + value: address ${poor} have 0 want 4096` });
    }
    // a priced estimate needs the value below the balance...
    const priced = { from: poor, to, value: '0x1000', maxFeePerGas: '0x3b9aca00' };
    const { json: est } = await rpc(node.url, { jsonrpc: '2.0', id: 1, method: 'eth_estimateGas', params: [priced] });
    expect(est.error).toEqual({ code: -32000, message: 'insufficient funds for transfer' });
    await c.publicClient.waitForTransactionReceipt({ hash: await c.walletClient.sendTransaction({ account: c.account, chain: node.chain, to: poor, value: 0x2000n }) });
    const { json: little } = await rpc(node.url, { jsonrpc: '2.0', id: 1, method: 'eth_estimateGas', params: [priced] });
    expect(little.error).toEqual({ code: -32000, message: 'gas required exceeds allowance (0)' });
    // ...and is capped by what the rest of the balance pays for: 1 gwei x 21000 is enough for a transfer
    await c.publicClient.waitForTransactionReceipt({
      hash: await c.walletClient.sendTransaction({ account: c.account, chain: node.chain, to: poor, value: 21000n * 10n ** 9n - 0x1000n }),
    });
    expect(await c.publicClient.estimateGas({ account: poor, to, value: 0x1000n, maxFeePerGas: 10n ** 9n })).toBe(21000n);
    expect(await c.publicClient.estimateGas({ account: poor, to, value: 0x1000n })).toBe(21000n);
    // eth_call of a funded sender passes the check
    expect(await rpc(node.url, { jsonrpc: '2.0', id: 1, method: 'eth_call', params: [{ from: poor, to, value: '0x1000' }, 'latest'] })).toMatchObject({ json: { result: '0x' } });
  });
});
