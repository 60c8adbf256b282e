/**
 * eth_createAccessList against anvil, started by the test on the same dev mnemonic: the same
 * contracts deployed at the same addresses on both, then the same requests (a transfer, token
 * calls that read and write storage, a revert, a deployment, precompiles, a given starting list,
 * a state override) answered with the same access list (as sets) and the same gasUsed. And the
 * list is what a transaction then uses: sent with it, a transaction costs what gasUsed said.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPublicClient, createWalletClient, encodeFunctionData, http, pad, toHex } from 'viem';
import type { Address, Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { type Anvil, startAnvil } from '../../devnet/anvil.ts';
import { chainAt } from '../../contracts/abi/chain.ts';
import { devAccounts } from '../../node/chain/genesis.ts';
import { MODEL_EXEC_ADDRESS } from '../../contracts/abi/precompiles.ts';
import { eventsAbi, loadTestContracts, reverterAbi, tokenAbi } from '../helpers/contracts.ts';
import type { TestContracts } from '../helpers/contracts.ts';
import { removeDir, rpc, startDevNode } from '../helpers/dev-node.ts';
import type { DevNode } from '../helpers/dev-node.ts';

interface Answer {
  accessList?: { address: string; storageKeys: string[] }[];
  gasUsed?: string;
  error?: string;
}

const call = async (url: string, method: string, params: unknown[] = []) => (await rpc(url, { jsonrpc: '2.0', id: 1, method, params })).json;
const canonical = (a: Answer['accessList']) =>
  (a ?? [])
    .map(
      (e) =>
        `${e.address.toLowerCase()}:${e.storageKeys
          .map((k) => k.toLowerCase())
          .sort()
          .join(',')}`,
    )
    .sort();

describe('eth_createAccessList, side by side with anvil', () => {
  let anvil: Anvil;
  let node: DevNode;
  let c: TestContracts;
  const deployer = devAccounts(3)[2]!;
  const addresses: Record<'token' | 'reverter' | 'events', Address> = { token: '0x', reverter: '0x', events: '0x' } as never;

  /** Deploys the three test contracts from the same account at the same nonces on `url`. */
  async function deployAll(url: string, chainId: number): Promise<Record<string, Address>> {
    const chain = chainAt(chainId, url);
    const wallet = createWalletClient({ chain, transport: http(url), account: privateKeyToAccount(deployer.privateKey as Hex) });
    const pub = createPublicClient({ chain, transport: http(url) });
    const out: Record<string, Address> = {};
    for (const [name, contract, args] of [
      ['token', c.TestToken, ['T', 'T', 10n ** 24n]],
      ['reverter', c.Reverter, []],
      ['events', c.Events, []],
    ] as const) {
      const hash = await wallet.deployContract({ abi: contract.abi, bytecode: contract.bytecode, args: args as never });
      out[name] = (await pub.waitForTransactionReceipt({ hash })).contractAddress!;
    }
    return out;
  }

  beforeAll(async () => {
    c = await loadTestContracts();
    [anvil, node] = await Promise.all([startAnvil({ chainId: 1337 }), startDevNode()]);
    const [ours, theirs] = await Promise.all([deployAll(node.url, 1337), deployAll(anvil.url, 1337)]);
    expect(ours).toEqual(theirs);
    Object.assign(addresses, ours);
  }, 120_000);
  afterAll(async () => {
    await Promise.all([anvil?.stop(), node?.stop()]);
    await removeDir(node?.datadir ?? '');
  });

  it('answers every request as anvil does: the same list and the same gasUsed', async () => {
    const from = deployer.address;
    const other = devAccounts(4)[3]!.address;
    const slot = (n: bigint) => pad(toHex(n), { size: 32 });
    const requests: [string, Record<string, unknown>, Record<string, unknown>?][] = [
      ['plain transfer', { from, to: other, value: '0x1' }],
      ['token transfer (two balance slots)', { from, to: addresses.token, data: encodeFunctionData({ abi: tokenAbi, functionName: 'transfer', args: [other, 5n] }) }],
      ['token read', { from: other, to: addresses.token, data: encodeFunctionData({ abi: tokenAbi, functionName: 'balanceOf', args: [from] }) }],
      ['token approve then nothing else', { from, to: addresses.token, data: encodeFunctionData({ abi: tokenAbi, functionName: 'approve', args: [other, 1n] }) }],
      ['storage write', { from, to: addresses.events, data: encodeFunctionData({ abi: eventsAbi, functionName: 'setValue', args: [7n] }) }],
      ['revert with a reason', { from, to: addresses.reverter, data: encodeFunctionData({ abi: reverterAbi, functionName: 'revertWithReason' }) }],
      ['a precompile as the recipient (sha256)', { from, to: '0x0000000000000000000000000000000000000002', data: '0x1234' }],
      ['a deployment', { from, data: c.Events.bytecode }],
      [
        'a starting list with an unrelated address and slot',
        {
          from,
          to: addresses.events,
          data: encodeFunctionData({ abi: eventsAbi, functionName: 'setValue', args: [1n] }),
          accessList: [{ address: other, storageKeys: [slot(9n)] }],
        },
      ],
      [
        'a starting list naming the recipient without slots',
        { from, to: addresses.events, data: encodeFunctionData({ abi: eventsAbi, functionName: 'value' }), accessList: [{ address: addresses.events, storageKeys: [] }] },
      ],
      ['legacy-priced', { from, to: addresses.token, gasPrice: '0x3b9aca00', data: encodeFunctionData({ abi: tokenAbi, functionName: 'transfer', args: [other, 1n] }) }],
      [
        'from an empty account, unpriced',
        { from: '0x00000000000000000000000000000000000000aa', to: addresses.token, data: encodeFunctionData({ abi: tokenAbi, functionName: 'totalSupply' }) },
      ],
    ];
    for (const [name, req] of requests) {
      const ours = await call(node.url, 'eth_createAccessList', [req, 'latest']);
      const theirs = await call(anvil.url, 'eth_createAccessList', [req, 'latest']);
      expect(ours.error, `${name}: ${JSON.stringify(ours.error)}`).toBeUndefined();
      const a = ours.result as Answer;
      if (name.startsWith('revert')) {
        // geth answers a failing call with its list and an "error" field; anvil with a JSON-RPC error (code 3): both say it reverts
        expect(a.error).toMatch(/^execution reverted/);
        expect(theirs.error).toMatchObject({ code: 3, message: expect.stringMatching(/^execution reverted/) });
        expect(canonical(a.accessList)).toEqual([]);
        continue;
      }
      expect(theirs.error, `${name} (anvil): ${JSON.stringify(theirs.error)}`).toBeUndefined();
      const b = theirs.result as Answer;
      expect(canonical(a.accessList), name).toEqual(canonical(b.accessList));
      expect(BigInt(a.gasUsed!), name).toBe(BigInt(b.gasUsed!));
      expect(a.error, name).toBe(b.error);
    }
  });

  it('a transaction sent with the list costs the gasUsed it was given; the AI precompiles are left out like any precompile', async () => {
    const from = deployer.address;
    const other = devAccounts(4)[3]!.address;
    const req = { from, to: addresses.token, data: encodeFunctionData({ abi: tokenAbi, functionName: 'transfer', args: [other, 3n] }) };
    const { result } = await call(node.url, 'eth_createAccessList', [req]);
    expect(result.accessList).toHaveLength(1);
    expect(result.accessList[0].storageKeys).toHaveLength(2);
    const hash = (await call(node.url, 'eth_sendTransaction', [{ ...req, accessList: result.accessList }])).result as Hex;
    const chain = chainAt(1337, node.url);
    const receipt = await createPublicClient({ chain, transport: http(node.url) }).waitForTransactionReceipt({ hash });
    expect(receipt.status).toBe('success');
    expect(receipt.gasUsed).toBe(BigInt(result.gasUsed));
    expect(receipt.type).toBe('eip1559');
    // a call into the model-execution precompile: the precompile itself is never listed
    const exec = await call(node.url, 'eth_createAccessList', [{ from, to: MODEL_EXEC_ADDRESS, data: '0x' }]);
    expect(canonical(exec.result.accessList)).toEqual([]);
  });

  it('bad input gets a clear error, and the call gate bounds it like eth_call', async () => {
    const bad = await call(node.url, 'eth_createAccessList', [{ to: addresses.token, accessList: [{ address: '0x12', storageKeys: [] }] }]);
    expect(bad.error).toMatchObject({ code: -32602 });
    const badKey = await call(node.url, 'eth_createAccessList', [{ to: addresses.token, accessList: [{ address: addresses.token, storageKeys: ['0x01'] }] }]);
    expect(badKey.error?.message).toMatch(/want 32 bytes/);
    const poor = await call(node.url, 'eth_createAccessList', [{ from: '0x00000000000000000000000000000000000000bb', to: addresses.token, value: '0x1', gasPrice: '0x1' }]);
    expect(poor.error?.message).toMatch(/insufficient funds/);
  });
});
