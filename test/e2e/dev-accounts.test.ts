/**
 * Node-managed dev accounts (`--dev` only), side by side with anvil started by the test on the
 * same mnemonic: the same account list and byte-identical signatures for eth_sign, personal_sign
 * and eth_signTypedData_v4; eth_sendTransaction through viem's JSON-RPC account (as Remix and
 * Hardhat's remote accounts send), filled in by the node and admitted by the pool like any
 * transaction; and a node without --dev signs nothing.
 */
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPublicClient, createWalletClient, http, parseEther, toHex } from 'viem';
import type { Address, Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { type Anvil, startAnvil } from '../../devnet/anvil.ts';
import { chainAt } from '../../contracts/abi/chain.ts';
import { devAccounts } from '../../node/chain/genesis.ts';
import { removeDir, rpc, startDevNode } from '../helpers/dev-node.ts';
import type { DevNode } from '../helpers/dev-node.ts';

const TYPED = {
  types: {
    EIP712Domain: [
      { name: 'name', type: 'string' },
      { name: 'version', type: 'string' },
      { name: 'chainId', type: 'uint256' },
      { name: 'verifyingContract', type: 'address' },
    ],
    Person: [
      { name: 'name', type: 'string' },
      { name: 'wallet', type: 'address' },
    ],
    Mail: [
      { name: 'from', type: 'Person' },
      { name: 'to', type: 'Person' },
      { name: 'contents', type: 'string' },
    ],
  },
  primaryType: 'Mail',
  domain: { name: 'Ether Mail', version: '1', chainId: 1, verifyingContract: '0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC' },
  message: {
    from: { name: 'Cow', wallet: '0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826' },
    to: { name: 'Bob', wallet: '0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB' },
    contents: 'Hello, Bob!',
  },
} as const;

const CAST = resolve(import.meta.dirname, '../../node_modules/.bin/cast');
const call = async (url: string, method: string, params: unknown[] = []) => (await rpc(url, { jsonrpc: '2.0', id: 1, method, params })).json;

describe('dev accounts: eth_accounts and signing by the node, as anvil does (--dev only)', () => {
  let anvil: Anvil;
  let node: DevNode;
  let plain: DevNode;
  const [a0, a1] = devAccounts(2) as [{ address: Address; privateKey: Hex }, { address: Address; privateKey: Hex }];

  beforeAll(async () => {
    [anvil, node, plain] = await Promise.all([startAnvil(), startDevNode(), startDevNode({ dev: false })]);
  }, 90_000);
  afterAll(async () => {
    await Promise.all([anvil?.stop(), node?.stop(), plain?.stop()]);
    await removeDir(node?.datadir ?? '');
    await removeDir(plain?.datadir ?? '');
  });

  it('lists the same funded accounts as anvil, and signs byte for byte as anvil does', async () => {
    const ours = (await call(node.url, 'eth_accounts')).result as string[];
    const theirs = (await call(anvil.url, 'eth_accounts')).result as string[];
    expect(ours.map((a) => a.toLowerCase())).toEqual(theirs.map((a) => a.toLowerCase()));
    for (const a of ours) expect(BigInt((await call(node.url, 'eth_getBalance', [a, 'latest'])).result)).toBeGreaterThan(parseEther('1000'));
    const cases: [string, unknown[]][] = [
      ['eth_sign', [a0.address, '0xdeadbeef']],
      ['eth_sign', [a1.address, toHex('hello world')]],
      ['personal_sign', ['0x', a0.address]],
      ['personal_sign', [toHex('x'.repeat(300)), a1.address]],
      ['eth_signTypedData_v4', [a0.address, JSON.stringify(TYPED)]],
      ['eth_signTypedData_v4', [a1.address, TYPED]],
    ];
    for (const [m, params] of cases) {
      const mine = await call(node.url, m, params);
      const ref = await call(anvil.url, m, params);
      expect(mine.result, `${m} ${JSON.stringify(params).slice(0, 60)}`).toBe(ref.result);
      expect(mine.result).toMatch(/^0x[0-9a-f]{130}$/);
    }
  });

  it('eth_sendTransaction from a JSON-RPC account: filled in, signed and mined (1559, legacy, a deployment)', async () => {
    const chain = chainAt(1337, node.url);
    const pub = createPublicClient({ chain, transport: http(node.url) });
    const wallet = createWalletClient({ chain, transport: http(node.url), account: a1.address });
    const to = privateKeyToAccount(`0x${'42'.repeat(32)}`).address;
    const h1 = await wallet.sendTransaction({ to, value: parseEther('1') });
    const h2 = await wallet.sendTransaction({ to, value: 5n, gasPrice: 10_000_000_000n });
    const r1 = await pub.waitForTransactionReceipt({ hash: h1 });
    const r2 = await pub.waitForTransactionReceipt({ hash: h2 });
    expect([r1.status, r2.status]).toEqual(['success', 'success']);
    expect([r1.type, r2.type]).toEqual(['eip1559', 'legacy']);
    expect(await pub.getBalance({ address: to })).toBe(parseEther('1') + 5n);
    const tx = await pub.getTransaction({ hash: h2 });
    expect(tx.from.toLowerCase()).toBe(a1.address.toLowerCase());
    expect(tx.nonce).toBe((await pub.getTransaction({ hash: h1 })).nonce + 1);
    // a deployment: runtime code 0x2a (PUSH?) returned by initcode
    const h3 = await wallet.sendTransaction({ data: '0x600a600c600039600a6000f3602a60005260206000f3' });
    const r3 = await pub.waitForTransactionReceipt({ hash: h3 });
    expect(r3.contractAddress).toBeTruthy();
    expect(await pub.getCode({ address: r3.contractAddress! })).toBe('0x602a60005260206000f3');
    // Foundry: cast send --unlocked has the node sign
    const out = await promisify(execFile)(CAST, ['send', '--unlocked', '--from', a1.address, '--rpc-url', node.url, '--json', to, '--value', '7']);
    expect(JSON.parse(out.stdout)).toMatchObject({ status: '0x1' });
    expect(await pub.getBalance({ address: to })).toBe(parseEther('1') + 12n);
    // viem's signTypedData through the node equals signing locally with the key
    const sig = await wallet.signTypedData({ account: a1.address, ...TYPED, types: { Person: TYPED.types.Person, Mail: TYPED.types.Mail } });
    expect(sig).toBe(await privateKeyToAccount(a1.privateKey).signTypedData({ ...TYPED, types: { Person: TYPED.types.Person, Mail: TYPED.types.Mail } }));
  });

  it('refuses an account it does not hold, bad typed data and a transaction the pool refuses; a node without --dev signs nothing', async () => {
    const stranger = privateKeyToAccount(`0x${'07'.repeat(32)}`).address;
    expect((await call(node.url, 'eth_sendTransaction', [{ from: stranger, to: stranger }])).error).toMatchObject({ code: -32000, message: 'unknown account' });
    expect((await call(node.url, 'eth_sign', [stranger, '0x00'])).error).toMatchObject({ code: -32000, message: 'unknown account' });
    expect((await call(node.url, 'eth_signTypedData_v4', [a0.address, '{not json'])).error).toMatchObject({ code: -32602 });
    for (const params of [[], [{ to: stranger }], [{ from: '0x1234', to: stranger }], ['not an object'], [{ from: a0.address, value: '0xzz' }]]) {
      expect((await call(node.url, 'eth_sendTransaction', params)).error?.code, JSON.stringify(params)).toBeOneOf([-32602, -32000]);
    }
    expect((await call(node.url, 'eth_sign', [a0.address])).error?.code).toBe(-32602);
    expect((await call(node.url, 'eth_signTypedData_v4', [a0.address, { types: {}, primaryType: 'Nope', domain: {}, message: {} }])).error).toMatchObject({ code: -32602 });
    // the pool's own rules: a nonce already used
    const used = (await call(node.url, 'eth_sendTransaction', [{ from: a1.address, to: stranger, nonce: '0x0' }])).error; // a1 sent three above
    expect(used?.message).toMatch(/nonce too low/);
    // more value than the account holds
    const rich = (await call(node.url, 'eth_sendTransaction', [{ from: a0.address, to: stranger, value: toHex(10n ** 30n) }])).error;
    expect(rich?.code).toBeLessThan(0);
    expect((await call(plain.url, 'eth_accounts')).result).toEqual([]);
    for (const [m, params] of [
      ['eth_sendTransaction', [{ from: a0.address, to: stranger }]],
      ['eth_sign', [a0.address, '0x00']],
      ['personal_sign', ['0x00', a0.address]],
      ['eth_signTypedData_v4', [a0.address, TYPED]],
    ] as const) {
      expect((await call(plain.url, m, [...params])).error?.code, m).toBe(-32601);
    }
  });
});
