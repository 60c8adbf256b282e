import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createPublicClient, createWalletClient, http } from 'viem';
import type { Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { startAnvil } from '../../devnet/anvil.ts';
import type { Anvil } from '../../devnet/anvil.ts';
import { deployL1 } from '../../devnet/deploy.ts';
import type { L1Deployment, ResourceConfig } from '../../devnet/deploy.ts';
import { rollupConfigJson } from '../../node/rollup-config.ts';
import type { RollupConfig } from '../../node/rollup-config.ts';
import { inferenceOracleAbi } from '../../contracts/abi/oracle.ts';
import { rollupAbi } from '../../contracts/abi/rollup.ts';
import { startDevNode } from './dev-node.ts';
import { waitFor } from './wait.ts';
import type { DevNode, DevNodeOptions } from './dev-node.ts';
import { chainAt } from '../../contracts/abi/chain.ts';

export const bridgeTestAbi = [
  {
    type: 'function',
    name: 'depositETH',
    stateMutability: 'payable',
    inputs: [
      { name: 'to', type: 'address' },
      { name: 'gasLimit', type: 'uint64' },
      { name: 'data', type: 'bytes' },
    ],
    outputs: [],
  },
] as const;

export interface L1Env {
  anvil: Anvil;
  deployment: L1Deployment;
  config: RollupConfig;
  configFile: string;
  /** anvil keys: 0 deployer, 1 batcher, 2 proposer, 3 challenger, 4 user, 5 inference poster, 6.. users */
  keys: Hex[];
  l1: ReturnType<typeof l1Clients>;
}

export function l1Clients(anvil: Anvil, key: Hex) {
  const chain = chainAt(anvil.chainId, anvil.url, 'l1');
  const account = privateKeyToAccount(key);
  return {
    account,
    publicClient: createPublicClient({ chain, transport: http(anvil.url), pollingInterval: 100 }),
    walletClient: createWalletClient({ chain, transport: http(anvil.url), account, pollingInterval: 100 }),
  };
}

/**
 * A real anvil with the L1 contracts deployed and a rollup config file for L2 chain `l2ChainId`.
 * anvil automines unless `l1BlockTime` (seconds) is given: tests want speed, bench:l1 the devnet's timing.
 */
/** A raw call to the L1 anvil (evm_snapshot, evm_revert, anvil_mine...); its error thrown with the method's name. */
export async function l1Call(env: L1Env, method: string, params: unknown[] = []): Promise<unknown> {
  const res = await fetch(env.anvil.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }) });
  const body = (await res.json()) as { result?: unknown; error?: { message: string } };
  if (body.error !== undefined) throw new Error(`${method}: ${body.error.message}`);
  return body.result;
}

export async function startL1(
  dir: string,
  opts: { challengeWindow?: bigint; inclusionWindow?: bigint; l2ChainId?: bigint; l1BlockTime?: number; resourceConfig?: ResourceConfig } = {},
): Promise<L1Env> {
  const anvil = await startAnvil({ blockTime: opts.l1BlockTime });
  const keys = anvil.accounts;
  const addr = (k: Hex) => privateKeyToAccount(k).address;
  const deployment = await deployL1({
    l1Url: anvil.url,
    deployerKey: keys[0]!,
    batcher: addr(keys[1]!),
    proposer: addr(keys[2]!),
    challenger: addr(keys[3]!),
    challengeWindow: opts.challengeWindow ?? 4n,
    inclusionWindow: opts.inclusionWindow ?? 3600n,
    resourceConfig: opts.resourceConfig,
  });
  const config: RollupConfig = {
    l2ChainId: opts.l2ChainId ?? 1337n,
    l1ChainId: BigInt(anvil.chainId),
    l1Start: deployment.deployBlock,
    contracts: { rollup: deployment.rollup, bridge: deployment.bridge, inferenceOracle: deployment.inferenceOracle },
    l1Confirmations: 0,
    challengeWindow: opts.challengeWindow ?? 4n,
    inclusionWindow: opts.inclusionWindow ?? 3600n,
  };
  const configFile = join(dir, 'rollup.json');
  await writeFile(configFile, rollupConfigJson(config));
  return { anvil, deployment, config, configFile, keys, l1: l1Clients(anvil, keys[4]!) };
}

/** The last L2 block in a batch accepted on L1 (the Rollup's own view). */
export async function batchedOnL1(env: L1Env): Promise<bigint> {
  const next = await env.l1.publicClient.readContract({ address: env.deployment.rollup, abi: rollupAbi, functionName: 'nextBlock' });
  return BigInt(next) - 1n;
}

/** The rollup node as a user starts it: --rollup-config and --l1-rpc, plus batcher/proposer/inference-poster keys unless `keys: false`. */
export function startRollupNode(env: L1Env, opts: DevNodeOptions & { keys?: boolean } = {}): Promise<DevNode> {
  const args = ['--rollup-config', env.configFile, '--l1-rpc', env.anvil.url, '--l1-poll-ms', '200', '--batch-max-age', '1000'];
  if (opts.keys !== false) args.push('--batcher-key', env.keys[1]!, '--proposer-key', env.keys[2]!, '--inference-poster-key', env.keys[5]!);
  return startDevNode({ ...opts, chainId: Number(env.config.l2ChainId), args: [...args, ...(opts.args ?? [])] });
}

/**
 * Waits until L1 holds batches covering the L2 block of every given fulfilment log and the
 * InferenceOracle has the node's poster's submission for each batch that holds one; returns those
 * batches with their logs and that submission (its root and record).
 */
export async function oracleBatchesFor<L extends { blockNumber: bigint }>(env: L1Env, logs: readonly L[], timeoutMs = 300_000) {
  const l1 = env.l1.publicClient;
  const { rollup, inferenceOracle } = env.config.contracts;
  const last = logs.reduce((m, l) => (l.blockNumber > m ? l.blockNumber : m), 0n);
  return waitFor(
    'batches covering every fulfilment, with their inference proofs on L1',
    async () => {
      const n = await l1.readContract({ address: rollup, abi: rollupAbi, functionName: 'batchCount' });
      const all = await Promise.all([...Array(Number(n)).keys()].map((i) => l1.readContract({ address: rollup, abi: rollupAbi, functionName: 'getBatch', args: [BigInt(i)] })));
      if (all.length === 0 || all.at(-1)!.lastBlock < last) return false;
      const withProofs = all
        .map((b, i) => ({ ...b, index: BigInt(i), logs: logs.filter((l) => l.blockNumber >= b.firstBlock && l.blockNumber <= b.lastBlock) }))
        .filter((b) => b.logs.length > 0);
      // the node's poster's submission (a batch may hold others' too)
      const poster = privateKeyToAccount(env.keys[5]!).address;
      const record = async (index: bigint) => {
        const root = await l1.readContract({ address: inferenceOracle!, abi: inferenceOracleAbi, functionName: 'submittedRoot', args: [index, poster] });
        return { root, ...(await l1.readContract({ address: inferenceOracle!, abi: inferenceOracleAbi, functionName: 'getSubmission', args: [index, root] })) };
      };
      const records = await Promise.all(withProofs.map((b) => record(b.index)));
      return records.every((r) => r.leafCount !== 0) ? withProofs.map((b, i) => ({ ...b, record: records[i]! })) : false;
    },
    timeoutMs,
    1_000,
  );
}
