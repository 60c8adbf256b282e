import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { removeDir, rpc } from '../helpers/dev-node.ts';
import { startDevnet } from '../helpers/devnet.ts';
import { DEFAULT_GAS_LIMIT, devGenesis } from '../../node/chain/genesis.ts';
import { createPublicClient, createWalletClient, http, parseEther } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { chainAt } from '../../contracts/abi/chain.ts';
import { aiRollupActions, aiRollupL1Actions } from '../../client/index.ts';

const DEV_KEY = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80' as const;

/**
 * A newcomer's first trip through the bridge, with the SDK (ai-rollup/client) as a dApp would:
 * a deposit from L1 followed to its L2 transaction, then a withdrawal of ETH a dev account holds
 * from L2 genesis: initiated on L2, finalized on L1 once an output over it is final, paid from what
 * the Bridge holds.
 */
async function bridgeRoundTrip(l1Url: string, l2Url: string): Promise<void> {
  const l2Chain = chainAt(901, l2Url);
  const l2 = createPublicClient({ chain: l2Chain, transport: http(l2Url), pollingInterval: 100 }).extend(aiRollupActions());
  const l2Wallet = createWalletClient({ chain: l2Chain, transport: http(l2Url), account: privateKeyToAccount(DEV_KEY), pollingInterval: 100 }).extend(aiRollupActions());
  const l1Chain = chainAt(Number(await call(l1Url, 'eth_chainId')), l1Url);
  const l1 = createWalletClient({ chain: l1Chain, transport: http(l1Url), account: privateKeyToAccount(DEV_KEY), pollingInterval: 100 }).extend(aiRollupL1Actions({ l2 }));
  const l1Public = createPublicClient({ chain: l1Chain, transport: http(l1Url), pollingInterval: 100 });

  // deposit: the SDK names the L2 transaction the deposit becomes before the sequencer includes it
  const depositTo = privateKeyToAccount(generatePrivateKey()).address;
  const { transactionHash, deposit } = await l1.depositETH({ to: depositTo, value: parseEther('0.5') });
  expect(deposit).toMatchObject({ to: depositTo, mint: parseEther('0.5'), value: parseEther('0.5'), isCreation: false });
  expect(await l1.getDeposits({ hash: transactionHash })).toEqual([deposit]);
  const included = await l2.waitForDeposit({ deposit, timeoutMs: 60_000, pollingIntervalMs: 500 });
  expect(included.status).toBe('success');
  expect(included.transactionHash).toBe(deposit.l2TransactionHash);
  expect(await l1.getDepositStatus({ deposit })).toMatchObject({ status: 'included' });
  expect(await l2.getBalance({ address: depositTo })).toBe(parseEther('0.5'));

  // withdrawal of genesis ETH
  const target = privateKeyToAccount(generatePrivateKey()).address;
  const { withdrawal } = await l2Wallet.initiateWithdrawal({ to: target, value: parseEther('1') });
  expect(await l1.getWithdrawalStatus({ withdrawal })).toBe('waiting-for-output');
  await expect(l1.finalizeWithdrawal({ withdrawal })).rejects.toMatchObject({ name: 'BridgeWaitError', code: 'NOT_FINALIZABLE' });
  await l1.waitForWithdrawalFinalizable({ withdrawal, timeoutMs: 90_000, pollingIntervalMs: 500 });
  expect(await l1.getWithdrawalStatus({ withdrawal })).toBe('ready-to-finalize');
  const { receipt } = await l1.finalizeWithdrawal({ withdrawal });
  expect(receipt.status).toBe('success');
  expect(await l1Public.getBalance({ address: target })).toBe(parseEther('1'));
  expect(await l1.getWithdrawalStatus({ withdrawal })).toBe('finalized');
  // a second finalization is refused with the Bridge's error, decoded
  await expect(l1.finalizeWithdrawal({ withdrawal })).rejects.toMatchObject({ name: 'AiRollupContractError', errorName: 'WithdrawalAlreadyFinalized' });
}

const call = async (url: string, method: string, params: unknown[] = []) => (await rpc(url, { jsonrpc: '2.0', id: 1, method, params })).json.result;

async function until<T>(what: string, f: () => Promise<T | undefined>, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('ai-rollup devnet', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await removeDir(d);
  });

  it('starts L1 + contracts + sequencer, prints URLs, addresses and keys, posts batches, and Ctrl-C stops it all', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'devnet-test-'));
    dirs.push(dir);
    const d = await startDevnet(['--datadir', dir, '--log-level', 'warn', '--challenge-window', '2']);
    const out = d.lines.join('\n');
    expect(out).toMatch(/Rollup\s+0x[0-9a-fA-F]{40}/);
    expect(out).toMatch(/Bridge\s+0x[0-9a-fA-F]{40}/);
    expect(out).toMatch(/L2ToL1MessagePasser\s+0x4200000000000000000000000000000000000016/);
    expect(out).toContain('0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80');
    // the example model is registered and its artifacts served
    const modelId = /tiny-16-16-4\s+(0x[0-9a-f]{64})/.exec(out)?.[1];
    expect(modelId).toBeDefined();
    const model = await call(d.l2, 'ai_getModel', [modelId]);
    expect(model.owner.toLowerCase()).toBe('0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266');
    expect(model.hasWeights).toBe(true);
    expect((await call(d.l2, 'ai_modelArtifacts', [modelId])).artifacts.length).toBeGreaterThan(0);
    expect(await call(d.l2, 'eth_chainId')).toBe('0x385'); // 901
    const info = await call(d.l2, 'rollup_getInfo');
    expect(info.l1ChainId).toBe(await call(d.l1, 'eth_chainId'));
    expect(await call(d.l1, 'eth_getCode', [info.l1Contracts.rollup, 'latest'])).not.toBe('0x');
    // the L2 genesis ETH of the dev accounts is held by the Bridge on L1, so it can be withdrawn
    const genesisEth = Object.values(devGenesis(901n, DEFAULT_GAS_LIMIT).alloc).reduce((sum, e) => sum + BigInt(e.balance ?? 0), 0n);
    expect(genesisEth).toBeGreaterThan(0n);
    expect(BigInt(await call(d.l1, 'eth_getBalance', [info.l1Contracts.bridge, 'latest']))).toBe(genesisEth);
    await until('a batch and an output on L1', async () => {
      const s = await call(d.l2, 'rollup_syncStatus');
      return BigInt(s.safe.number) > 0n && BigInt(s.outputCount) > 0n ? s : undefined;
    });
    await bridgeRoundTrip(d.l1, d.l2);
    const backed = genesisEth + parseEther('0.5') - parseEther('1');
    expect(await d.stop('SIGINT')).toBe(0);
    // anvil went with it
    expect(
      await call(d.l1, 'eth_chainId').then(
        () => 'up',
        () => 'down',
      ),
    ).toBe('down');
    expect(existsSync(join(dir, 'devnet.json'))).toBe(true);

    // the same datadir starts again on the same L1 state and deployment, and the chain goes on
    const again = await startDevnet(['--datadir', dir, '--log-level', 'warn']);
    expect((await call(again.l2, 'rollup_getInfo')).l1Contracts.rollup).toBe(info.l1Contracts.rollup);
    // backed once, not again on each start
    expect(BigInt(await call(again.l1, 'eth_getBalance', [info.l1Contracts.bridge, 'latest']))).toBe(backed);
    const head = BigInt(await call(again.l2, 'eth_blockNumber'));
    expect(head).toBeGreaterThan(0n);
    await until('batches after the restart', async () => {
      const s = await call(again.l2, 'rollup_syncStatus');
      return BigInt(s.safe.number) > head ? s : undefined;
    });
    expect(await again.stop('SIGTERM')).toBe(0);
  }, 240_000);
});
