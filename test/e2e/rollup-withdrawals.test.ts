import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BaseError, ContractFunctionRevertedError, decodeEventLog, parseAbi, parseEther } from 'viem';
import type { Hex } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { loadL1Artifact } from '../../contracts/l1-artifacts.ts';
import { MESSAGE_PASSER_ADDRESS } from '../../contracts/predeploys.ts';
import { clients, removeDir, rpc } from '../helpers/dev-node.ts';
import type { DevNode } from '../helpers/dev-node.ts';
import { bridgeTestAbi, startL1, startRollupNode } from '../helpers/rollup.ts';
import type { L1Env } from '../helpers/rollup.ts';

const passerAbi = parseAbi([
  'function initiateWithdrawal(address target, uint256 gasLimit, bytes data) payable',
  'event MessagePassed(uint256 indexed nonce, address indexed sender, address indexed target, uint256 value, uint256 gasLimit, bytes data, bytes32 withdrawalHash)',
]);
const bridgeAbi = loadL1Artifact('Bridge').abi;

async function until<T>(what: string, f: () => Promise<T | undefined>, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function revertName(err: unknown): string | undefined {
  if (err instanceof BaseError) {
    const r = err.walk((e) => e instanceof ContractFunctionRevertedError);
    if (r instanceof ContractFunctionRevertedError) return r.data?.errorName;
  }
  return undefined;
}

describe('withdrawals: L2 -> L1 with a storage proof against a finalized output root', () => {
  let dir: string;
  let env: L1Env;
  let node: DevNode;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rollup-withdrawals-'));
    env = await startL1(dir, { challengeWindow: 3n });
    node = await startRollupNode(env, { datadir: join(dir, 'l2') });
  }, 120_000);

  afterAll(async () => {
    await node?.stop();
    await env?.anvil.stop();
    if (dir !== undefined) await removeDir(dir);
  });

  it('deposit, withdraw on L2, wait for the window, prove and finalize on L1 once; forged proofs revert', async () => {
    // the user's L2 ETH comes from L1, so the Bridge holds what it pays out
    const key = generatePrivateKey();
    const user = privateKeyToAccount(key);
    const { walletClient: l1Wallet, publicClient: l1 } = env.l1;
    const dep = await l1Wallet.writeContract({
      address: env.deployment.bridge,
      abi: bridgeTestAbi,
      functionName: 'depositETH',
      args: [user.address, 100_000n, '0x'],
      value: parseEther('2'),
    });
    await l1.waitForTransactionReceipt({ hash: dep });
    const { publicClient, walletClient } = clients(node, key);
    await until('the deposit on L2', async () => ((await publicClient.getBalance({ address: user.address })) > 0n ? true : undefined));

    const target = privateKeyToAccount(generatePrivateKey()).address;
    const hash = await walletClient.writeContract({
      address: MESSAGE_PASSER_ADDRESS,
      abi: passerAbi,
      functionName: 'initiateWithdrawal',
      args: [target, 100_000n, '0x'],
      value: parseEther('1'),
      chain: node.chain,
    });
    const receipt = await publicClient.waitForTransactionReceipt({ hash });
    expect(receipt.status).toBe('success');
    const ev = decodeEventLog({ abi: passerAbi, ...receipt.logs.find((l) => l.address.toLowerCase() === MESSAGE_PASSER_ADDRESS.toLowerCase())! });
    if (ev.eventName !== 'MessagePassed') throw new Error('no MessagePassed');
    const w = { nonce: ev.args.nonce, sender: ev.args.sender, target: ev.args.target, value: ev.args.value, gasLimit: ev.args.gasLimit, data: ev.args.data };

    // a batch covering the withdrawal lands, its output is proposed, the window passes
    const finalized = await until(
      'a finalized output covering the withdrawal',
      async () => {
        const s = (await rpc(node.url, { jsonrpc: '2.0', id: 1, method: 'rollup_syncStatus', params: [] })).json.result;
        return BigInt(s.finalized.number) >= receipt.blockNumber ? BigInt(s.finalized.number) : undefined;
      },
      120_000,
    );
    const out = (await rpc(node.url, { jsonrpc: '2.0', id: 1, method: 'rollup_outputAtBlock', params: [`0x${finalized.toString(16)}`, [ev.args.withdrawalHash]] })).json.result;
    expect(out.l1Output).not.toBeNull();
    expect(out.l1Output.matches).toBe(true);
    expect(out.l1Output.finalized).toBe(true);
    const proof = out.withdrawalProofs[0];
    expect(BigInt(proof.value)).toBe(1n);
    const outputIndex = BigInt(out.l1Output.index);
    const args = [w, outputIndex, out.outputRootProof, proof.proof] as const;
    const finalize = (a: readonly unknown[]) =>
      l1.simulateContract({ account: env.l1.account, address: env.deployment.bridge, abi: bridgeAbi, functionName: 'finalizeWithdrawal', args: a as never });

    // forged: another value, a tampered proof node, a wrong output root proof
    const forged: [string, readonly unknown[]][] = [
      ['InvalidWithdrawalProof', [{ ...w, value: w.value * 2n }, outputIndex, out.outputRootProof, proof.proof]],
      [
        'InvalidWithdrawalProof',
        [
          w,
          outputIndex,
          out.outputRootProof,
          proof.proof.map((n: Hex, i: number) => (i === proof.proof.length - 1 ? (`${n.slice(0, -2)}${n.endsWith('00') ? '01' : '00'}` as Hex) : n)),
        ],
      ],
      ['InvalidOutputRootProof', [w, outputIndex, { ...out.outputRootProof, stateRoot: `0x${'11'.repeat(32)}` }, proof.proof]],
    ];
    for (const [name, a] of forged) {
      const err = await finalize(a).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err, name).toBeDefined();
      const got = revertName(err);
      // a tampered node may also trip the trie library's own checks before the value compare
      if (got !== undefined && name !== 'InvalidWithdrawalProof') expect(got).toBe(name);
    }

    const before = await l1.getBalance({ address: target });
    const { request } = await finalize(args);
    const tx = await l1Wallet.writeContract(request);
    const r = await l1.waitForTransactionReceipt({ hash: tx });
    expect(r.status).toBe('success');
    expect((await l1.getBalance({ address: target })) - before).toBe(parseEther('1'));

    const again = await finalize(args).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(revertName(again)).toBe('WithdrawalAlreadyFinalized');
  }, 240_000);
});
