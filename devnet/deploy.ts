/**
 * Deploys the L1 side of a rollup: Bridge, then Rollup(bridge, batcher, proposer, challenger,
 * challengeWindow, inclusionWindow), then bridge.initialize(rollup), then
 * InferenceOracle(rollup), each mined before the next.
 * The Bridge's deployment block is the rollup's L1 start: no deposit can precede it.
 */
import { BaseError, ContractFunctionRevertedError, ExecutionRevertedError, createPublicClient, createWalletClient, defineChain, getAddress, http } from 'viem';
import type { Address, Hex, PublicClient, TransactionReceipt } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import type { Logger } from 'pino';
import { loadL1Artifact } from '../contracts/l1-artifacts.ts';
import { bridgeAbi, rollupAbi } from '../sequencer/rollup-abi.ts';

export interface DeployL1Options {
  l1Url: string;
  /** Deploys both contracts and initializes the Bridge (it must be the Bridge's deployer). */
  deployerKey: Hex;
  batcher: Address;
  proposer: Address;
  challenger: Address;
  /** Seconds after its proposal that an output becomes final. */
  challengeWindow: bigint;
  /** Seconds after a deposit that every batch must have consumed it. */
  inclusionWindow: bigint;
  /** Milliseconds to wait for each receipt (default 60 s). */
  receiptTimeoutMs?: number;
  logger?: Logger;
}

export interface L1Block {
  number: bigint;
  hash: Hex;
  timestamp: bigint;
}

export interface L1Deployment {
  l1ChainId: number;
  bridge: Address;
  rollup: Address;
  /** Checks each batch's inference proofs on L1 (IInferenceOracle). */
  inferenceOracle: Address;
  /** The block of the Bridge's deployment: the rollup's L1 start. */
  deployBlock: L1Block;
}

export const DeployErrorCode = {
  /** The L1 RPC did not answer. */
  Unreachable: 'L1_UNREACHABLE',
  /** A deployment or the initialize call reverted (or would). */
  Reverted: 'REVERTED',
  /** No receipt within the timeout. */
  Timeout: 'TIMEOUT',
  /** Anything else the L1 refused (e.g. the deployer cannot pay). */
  Failed: 'FAILED',
} as const;
export type DeployErrorCode = (typeof DeployErrorCode)[keyof typeof DeployErrorCode];

export class DeployError extends Error {
  constructor(
    readonly code: DeployErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'DeployError';
  }
}

export async function deployL1(opts: DeployL1Options): Promise<L1Deployment> {
  const log = opts.logger?.child({ module: 'devnet:deploy' });
  const timeout = opts.receiptTimeoutMs ?? 60_000;
  const probe = createPublicClient({ transport: http(opts.l1Url, { retryCount: 0, timeout: 10_000 }) });
  let chainId: number;
  try {
    chainId = await probe.getChainId();
  } catch (err) {
    throw new DeployError(DeployErrorCode.Unreachable, `L1 at ${opts.l1Url} does not answer: ${(err as Error).message}`, { cause: err });
  }
  const chain = defineChain({ id: chainId, name: `l1-${chainId}`, nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 }, rpcUrls: { default: { http: [opts.l1Url] } } });
  const account = privateKeyToAccount(opts.deployerKey);
  const publicClient = createPublicClient({ chain, transport: http(opts.l1Url), pollingInterval: 100 });
  const wallet = createWalletClient({ chain, account, transport: http(opts.l1Url) });

  // committed artifacts (npm run contracts:build): deploying needs no compiler
  const [bridgeCode, rollupCode, oracleCode] = [loadL1Artifact('Bridge'), loadL1Artifact('Rollup'), loadL1Artifact('InferenceOracle')];

  const bridgeReceipt = await mined(publicClient, 'Bridge deployment', timeout, () => wallet.deployContract({ abi: bridgeCode.abi, bytecode: bridgeCode.bytecode }));
  const bridge = getAddress(bridgeReceipt.contractAddress!);
  const rollupReceipt = await mined(publicClient, 'Rollup deployment', timeout, () =>
    wallet.deployContract({
      abi: rollupCode.abi,
      bytecode: rollupCode.bytecode,
      args: [bridge, opts.batcher, opts.proposer, opts.challenger, opts.challengeWindow, opts.inclusionWindow],
    }),
  );
  const rollup = getAddress(rollupReceipt.contractAddress!);
  await mined(publicClient, 'Bridge.initialize', timeout, async () => {
    // simulate first: a revert (e.g. AlreadyInitialized) is reported by name instead of burning gas
    const { request } = await publicClient.simulateContract({ account, address: bridge, abi: bridgeAbi, functionName: 'initialize', args: [rollup] });
    return wallet.writeContract(request);
  });

  const oracleReceipt = await mined(publicClient, 'InferenceOracle deployment', timeout, () => wallet.deployContract({ abi: oracleCode.abi, bytecode: oracleCode.bytecode, args: [rollup] }));
  const inferenceOracle = getAddress(oracleReceipt.contractAddress!);

  const block = await publicClient.getBlock({ blockNumber: bridgeReceipt.blockNumber });
  const deployBlock = { number: block.number, hash: block.hash, timestamp: block.timestamp };
  log?.info({ bridge, rollup, inferenceOracle, deployBlock: deployBlock.number, l1ChainId: chainId }, 'deployed L1 contracts');
  return { l1ChainId: chainId, bridge, rollup, inferenceOracle, deployBlock };
}

/** Sends one transaction and waits for its successful receipt, mapping failures to DeployError. */
async function mined(client: PublicClient, what: string, timeout: number, send: () => Promise<Hex>): Promise<TransactionReceipt> {
  let hash: Hex;
  try {
    hash = await send();
  } catch (err) {
    throw classify(err, what);
  }
  let receipt: TransactionReceipt;
  try {
    receipt = await client.waitForTransactionReceipt({ hash, timeout });
  } catch (err) {
    if (err instanceof BaseError && err.name === 'WaitForTransactionReceiptTimeoutError') {
      throw new DeployError(DeployErrorCode.Timeout, `${what}: no receipt for ${hash} within ${timeout} ms`, { cause: err });
    }
    throw classify(err, what);
  }
  if (receipt.status !== 'success') throw new DeployError(DeployErrorCode.Reverted, `${what} reverted (transaction ${hash})`);
  return receipt;
}

function classify(err: unknown, what: string): DeployError {
  if (err instanceof BaseError) {
    const revert = err.walk((e) => e instanceof ContractFunctionRevertedError);
    if (revert instanceof ContractFunctionRevertedError) {
      return new DeployError(DeployErrorCode.Reverted, `${what} reverted: ${revert.data?.errorName ?? revert.reason ?? 'no reason'}`, { cause: err });
    }
    if (err.walk((e) => e instanceof BaseError && (e.name === 'HttpRequestError' || e.name === 'TimeoutError')) !== null) {
      return new DeployError(DeployErrorCode.Unreachable, `${what}: L1 RPC failed: ${err.shortMessage}`, { cause: err });
    }
    if (err.walk((e) => e instanceof ExecutionRevertedError) !== null) {
      return new DeployError(DeployErrorCode.Reverted, `${what} reverted: ${err.shortMessage}`, { cause: err });
    }
    return new DeployError(DeployErrorCode.Failed, `${what} failed: ${err.shortMessage}`, { cause: err });
  }
  return new DeployError(DeployErrorCode.Failed, `${what} failed: ${(err as Error).message}`, { cause: err });
}

export { rollupAbi, bridgeAbi };
