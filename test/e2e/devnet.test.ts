import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { removeDir, rpc } from '../helpers/dev-node.ts';
import { DEFAULT_GAS_LIMIT, devGenesis } from '../../node/chain/genesis.ts';
import { createPublicClient, createWalletClient, http, parseAbi, parseEther, parseEventLogs } from 'viem';
import type { Hex } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { chainAt } from '../../contracts/abi/chain.ts';
import { loadL1Artifact } from '../../contracts/l1-artifacts.ts';
import { MESSAGE_PASSER_ADDRESS } from '../../contracts/predeploys.ts';

const passerAbi = parseAbi([
  'function initiateWithdrawal(address target, uint256 gasLimit, bytes data) payable',
  'event MessagePassed(uint256 indexed nonce, address indexed sender, address indexed target, uint256 value, uint256 gasLimit, bytes data, bytes32 withdrawalHash)',
]);
const DEV_KEY = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80' as const;

/**
 * A newcomer's first withdrawal, of ETH a dev account holds from L2 genesis: initiated on L2,
 * finalized on L1 once an output over it is final, paid from what the Bridge holds.
 */
async function withdrawGenesisEth(l1Url: string, l2Url: string, bridge: Hex): Promise<void> {
  const l2 = createPublicClient({ chain: chainAt(901, l2Url), transport: http(l2Url) });
  const l2Wallet = createWalletClient({ chain: chainAt(901, l2Url), transport: http(l2Url), account: privateKeyToAccount(DEV_KEY) });
  const l1Chain = chainAt(Number(await call(l1Url, 'eth_chainId')), l1Url);
  const l1 = createPublicClient({ chain: l1Chain, transport: http(l1Url) });
  const l1Wallet = createWalletClient({ chain: l1Chain, transport: http(l1Url), account: privateKeyToAccount(DEV_KEY) });
  const target = privateKeyToAccount(generatePrivateKey()).address;
  const hash = await l2Wallet.writeContract({
    address: MESSAGE_PASSER_ADDRESS,
    abi: passerAbi,
    functionName: 'initiateWithdrawal',
    args: [target, 100_000n, '0x'],
    value: parseEther('1'),
  });
  const receipt = await l2.waitForTransactionReceipt({ hash });
  const ev = parseEventLogs({ abi: passerAbi, logs: receipt.logs, eventName: 'MessagePassed' })[0]!.args;
  const finalized = await until(
    'a final output over the withdrawal',
    async () => {
      const s = await call(l2Url, 'rollup_syncStatus');
      return BigInt(s.finalized.number) >= receipt.blockNumber ? s.finalized.number : undefined;
    },
    90_000,
  );
  const out = await call(l2Url, 'rollup_outputAtBlock', [finalized, [ev.withdrawalHash]]);
  const w = { nonce: ev.nonce, sender: ev.sender, target: ev.target, value: ev.value, gasLimit: ev.gasLimit, data: ev.data };
  const { request } = await l1.simulateContract({
    account: l1Wallet.account,
    address: bridge,
    abi: loadL1Artifact('Bridge').abi,
    functionName: 'finalizeWithdrawal',
    args: [w, BigInt(out.l1Output.index), out.outputRootProof, out.withdrawalProofs[0].proof],
  });
  expect((await l1.waitForTransactionReceipt({ hash: await l1Wallet.writeContract(request) })).status).toBe('success');
  expect(await l1.getBalance({ address: target })).toBe(parseEther('1'));
}

const BIN = resolve(import.meta.dirname, '../../bin/ai-rollup.js');

interface Devnet {
  l1: string;
  l2: string;
  lines: string[];
  stop(signal: NodeJS.Signals): Promise<number | null>;
  pid: number;
}

function startDevnet(args: string[]): Promise<Devnet> {
  const proc = spawn(process.execPath, [BIN, 'devnet', '--l1-port', '0', '--rpc.port', '0', '--l1-block-time', '1', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const exited = new Promise<number | null>((res) => proc.once('exit', (c) => res(c)));
  return new Promise((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`devnet did not start:\n${lines.join('\n')}`)), 90_000);
    let l1: string | undefined;
    const onLine = (line: string) => {
      lines.push(line);
      l1 ??= /^L1 JSON-RPC:\s+(\S+)/.exec(line)?.[1];
      const l2 = /^L2 JSON-RPC:\s+(\S+)/.exec(line)?.[1];
      if (l2 !== undefined && l1 !== undefined) {
        clearTimeout(timer);
        res({ l1, l2, lines, pid: proc.pid!, stop: (s) => (proc.kill(s), exited) });
      }
    };
    createInterface({ input: proc.stdout! }).on('line', onLine);
    createInterface({ input: proc.stderr! }).on('line', (l) => lines.push(l));
    void exited.then((c) => rej(new Error(`devnet exited with ${c}:\n${lines.join('\n')}`)));
  });
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
    await withdrawGenesisEth(d.l1, d.l2, info.l1Contracts.bridge);
    const backed = genesisEth - parseEther('1');
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
