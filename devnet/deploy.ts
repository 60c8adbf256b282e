/**
 * Deploys the L1 side of a rollup: Bridge(resourceConfig), then Rollup(bridge, batcher, proposer,
 * challenger, challengeWindow, inclusionWindow), then bridge.initialize(rollup), then
 * InferenceOracle(rollup), each mined before the next.
 * The Bridge's deployment block is the rollup's L1 start: no deposit can precede it.
 */
import { BaseError, ContractFunctionRevertedError, ExecutionRevertedError, createPublicClient, createWalletClient, getAddress, http } from 'viem';
import type { Address, Hex, PublicClient, TransactionReceipt } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import type { Logger } from 'pino';
import { loadL1Artifact } from '../contracts/l1-artifacts.ts';
import { L1_INFO_GAS } from '../node/rollup/l1-attributes.ts';
import { bridgeAbi, rollupAbi } from '../contracts/abi/rollup.ts';
import { CodedError } from '../precompiles/errors.ts';
import { chainAt } from '../contracts/abi/chain.ts';

/** The Bridge's deposit gas market (contracts/interfaces/IResourceMetering.sol). */
export interface ResourceConfig {
  /** L2 gas the deposits of one L1 block may ask for in all. */
  maxResourceLimit: number;
  /** target = maxResourceLimit / elasticityMultiplier */
  elasticityMultiplier: number;
  baseFeeMaxChangeDenominator: number;
  /** wei per L2 gas */
  minimumBaseFee: number;
  systemTxMaxGas: number;
  maximumBaseFee: bigint;
}

/** OP Stack's defaults (Constants.DEFAULT_RESOURCE_CONFIG), sized for Ethereum's 12-second blocks. */
export const DEFAULT_RESOURCE_CONFIG: ResourceConfig = {
  maxResourceLimit: 20_000_000,
  elasticityMultiplier: 10,
  baseFeeMaxChangeDenominator: 8,
  minimumBaseFee: 1_000_000_000,
  systemTxMaxGas: Number(L1_INFO_GAS),
  maximumBaseFee: 2n ** 128n - 1n,
};

/**
 * Deposit L2 gas per second of L1 time the devnet lets in at most: about half of the slowest EVM
 * work this node runs per second on one core (ecPairing ~4.6 Mgas/s, a keccak256 loop ~5.8 Mgas/s
 * in @ethereumjs/evm), so that deposits filling every L1 block to the cap, which the sequencer
 * must include, leave it time for everything else (README "Deposit gas is paid on L1").
 */
export const DEPOSIT_GAS_PER_L1_SECOND = 2_500_000;

/**
 * The resource config for an L1 with blocks every `l1BlockTime` seconds: OP Stack's, with the
 * per-block cap cut to DEPOSIT_GAS_PER_L1_SECOND * l1BlockTime where that is below 20M (anvil's
 * 2-second devnet blocks: 5M). Ethereum's 12 s give OP's 20M.
 */
export function resourceConfigFor(l1BlockTime: number): ResourceConfig {
  const e = DEFAULT_RESOURCE_CONFIG.elasticityMultiplier;
  const byTime = Math.floor((DEPOSIT_GAS_PER_L1_SECOND * Math.max(l1BlockTime, 1)) / e) * e;
  return { ...DEFAULT_RESOURCE_CONFIG, maxResourceLimit: Math.min(byTime, DEFAULT_RESOURCE_CONFIG.maxResourceLimit) };
}

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
  /** The Bridge's deposit gas market (default: OP Stack's, DEFAULT_RESOURCE_CONFIG). */
  resourceConfig?: ResourceConfig;
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

export class DeployError extends CodedError {
  constructor(
    override readonly code: DeployErrorCode,
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
  const chain = chainAt(chainId, opts.l1Url, `l1-${chainId}`);
  const account = privateKeyToAccount(opts.deployerKey);
  const publicClient = createPublicClient({ chain, transport: http(opts.l1Url), pollingInterval: 100 });
  const wallet = createWalletClient({ chain, account, transport: http(opts.l1Url) });

  // committed artifacts (npm run contracts:build): deploying needs no compiler
  const [bridgeCode, rollupCode, oracleCode] = [loadL1Artifact('Bridge'), loadL1Artifact('Rollup'), loadL1Artifact('InferenceOracle')];

  const resourceConfig = opts.resourceConfig ?? DEFAULT_RESOURCE_CONFIG;
  const bridgeReceipt = await mined(publicClient, 'Bridge deployment', timeout, () =>
    wallet.deployContract({ abi: bridgeCode.abi, bytecode: bridgeCode.bytecode, args: [resourceConfig] }),
  );
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

  const oracleReceipt = await mined(publicClient, 'InferenceOracle deployment', timeout, () =>
    wallet.deployContract({ abi: oracleCode.abi, bytecode: oracleCode.bytecode, args: [rollup] }),
  );
  const inferenceOracle = getAddress(oracleReceipt.contractAddress!);

  const block = await publicClient.getBlock({ blockNumber: bridgeReceipt.blockNumber });
  const deployBlock = { number: block.number, hash: block.hash, timestamp: block.timestamp };
  log?.info(
    { bridge, rollup, inferenceOracle, deployBlock: deployBlock.number, l1ChainId: chainId, depositGasPerL1Block: resourceConfig.maxResourceLimit },
    'deployed L1 contracts',
  );
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
