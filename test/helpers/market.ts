import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BaseError, ContractFunctionRevertedError, parseAbi, toEventSelector, toFunctionSelector } from 'viem';
import type { Abi, AbiEvent, AbiFunction } from 'viem';
import { DEFAULT_GAS_LIMIT, devGenesis } from '../../node/chain/genesis.ts';
import { INFERENCE_MARKET_ADDRESS, inferenceMarketStorage } from '../../contracts/predeploys.ts';
import type { InferenceMarketParams } from '../../contracts/predeploys.ts';
import type { clients } from './dev-node.ts';

/** IInferenceMarket, typed for viem; `abiDrift` checks it against the committed artifact. */
export const marketAbi = parseAbi([
  'struct Request { address requester; uint64 deadline; uint8 status; address callback; uint32 callbackGas; uint32 outputCount; address claimant; uint64 claimedUntil; address prover; bytes32 modelId; uint256 fee; uint256 claimLock; uint256[] inputSignals; uint256[] outputs; }',
  'struct Prover { uint256 stake; uint256 locked; uint32 fulfilled; uint32 missed; uint32 rejected; }',
  'struct Parameters { uint256 minStake; uint256 claimStake; uint256 claimWindow; uint256 missSlashBps; uint256 rejectSlashBps; uint256 maxCallbackGas; }',
  'function registerProver() payable',
  'function withdrawStake(uint256 amount)',
  'function claim(uint256 id)',
  'function fulfill(uint256 id, uint256[] outputs, uint256[8] proof) returns (bool accepted)',
  'function reap(uint256 id) returns (uint256 slashed)',
  'function requestInference(bytes32 modelId, uint256[] inputSignals, uint64 ttlSeconds, address callback, uint32 callbackGas) payable returns (uint256 id)',
  'function refund(uint256 id)',
  'function withdrawCredit(address to)',
  'function getRequest(uint256 id) view returns (Request)',
  'function result(uint256 id) view returns (bool fulfilled, uint256[] outputs)',
  'function requestCount() view returns (uint256)',
  'function getProver(address prover) view returns (Prover)',
  'function freeStake(address prover) view returns (uint256)',
  'function credits(address account) view returns (uint256)',
  'function parameters() view returns (Parameters)',
  'event ProverStaked(address indexed prover, uint256 amount, uint256 stake)',
  'event StakeWithdrawn(address indexed prover, uint256 amount, uint256 stake)',
  'event InferenceRequested(uint256 indexed id, bytes32 indexed modelId, address indexed requester, uint256 fee, uint64 deadline, uint32 outputCount, uint32 callbackGas, uint256[] inputSignals)',
  'event Claimed(uint256 indexed id, address indexed prover, uint64 until)',
  'event ClaimMissed(uint256 indexed id, address indexed prover, uint256 slashed)',
  'event ProofRejected(uint256 indexed id, address indexed prover, uint256 slashed, bytes reason)',
  'event InferenceFulfilled(uint256 indexed id, bytes32 indexed modelId, address indexed prover, uint256 fee, uint256[] outputs)',
  'event CallbackFailed(uint256 indexed id, address indexed callback)',
  'event Refunded(uint256 indexed id, address indexed requester, uint256 fee)',
  'event PaymentDeferred(address indexed to, uint256 amount)',
  'error ZeroValue()',
  'error InvalidTtl(uint64 ttlSeconds, uint64 max)',
  'error CallbackGasTooHigh(uint32 given, uint256 max)',
  'error ModelUnavailable(bytes32 modelId, bytes reason)',
  'error InputSignalCount(uint256 publicInputs, uint256 given)',
  'error InvalidInputSignal(uint256 index)',
  'error UnknownRequest(uint256 id)',
  'error AlreadyFulfilled(uint256 id)',
  'error AlreadyRefunded(uint256 id)',
  'error Expired(uint256 id, uint64 deadline)',
  'error NotExpired(uint256 id, uint64 deadline)',
  'error NotRegistered(address prover, uint256 stake, uint256 minStake)',
  'error InsufficientFreeStake(uint256 free, uint256 needed)',
  'error StakeTooLow(uint256 stake, uint256 minStake)',
  'error AlreadyClaimed(uint256 id, address claimant, uint64 until)',
  'error TooLateToClaim(uint256 id, uint64 deadline)',
  'error NothingToReap(uint256 id)',
  'error InsufficientGas(uint256 callbackGas)',
  'error VerifierFailed(bytes reason)',
  'error TransferFailed(address to)',
]);

export const consumerAbi = parseAbi([
  'constructor(bytes32 modelId_)',
  'function ask(uint256[] inputSignals, uint64 ttlSeconds) payable returns (uint256 id)',
  'function onInferenceResult(uint256 id, bytes32 modelId_, uint256[] outputs)',
  'function resultOf(uint256 id) view returns (bool ready, uint256[] outputs)',
  'function label(uint256 id) view returns (bool ready, uint256 index)',
  'function asked(uint256 id) view returns (bool)',
  'event ResultReceived(uint256 indexed id, uint256[] outputs)',
  'error OnlyMarket(address caller)',
  'error NotAsked(uint256 id)',
]);

/** Typed ABI entries (by selector) missing from a compiled ABI: empty when they agree. */
export function abiDrift(typed: Abi, compiled: Abi): string[] {
  const sigs = (abi: Abi) =>
    abi.flatMap((i) => {
      if (i.type === 'function') return [`function ${toFunctionSelector(i as AbiFunction)}`];
      if (i.type === 'event') return [`event ${toEventSelector(i as AbiEvent)}`];
      if (i.type === 'error') return [`error ${toFunctionSelector(i as unknown as AbiFunction)}`];
      return [];
    });
  const have = new Set(sigs(compiled));
  return sigs(typed).filter((s) => !have.has(s));
}

/**
 * A genesis file as an operator writes one: the dev accounts funded, and the market's parameter
 * slots set in its alloc entry without code (the node adds the predeploy code).
 */
export async function writeMarketGenesis(dir: string, params: InferenceMarketParams, chainId = 1337n): Promise<string> {
  const spec = devGenesis(chainId, DEFAULT_GAS_LIMIT);
  spec.alloc[INFERENCE_MARKET_ADDRESS] = { storage: inferenceMarketStorage(params) };
  const file = join(dir, 'genesis.json');
  await writeFile(file, JSON.stringify(spec, null, 2));
  return file;
}

/** The custom error a call reverts with (throws if it does not revert, or not with one). */
export async function revertName(p: Promise<unknown>): Promise<{ name: string; args: readonly unknown[] }> {
  try {
    await p;
  } catch (err) {
    const r = (err as BaseError).walk?.((e) => e instanceof ContractFunctionRevertedError) as ContractFunctionRevertedError | undefined;
    if (r?.data?.errorName !== undefined) return { name: r.data.errorName, args: r.data.args ?? [] };
    throw err;
  }
  throw new Error('expected a revert');
}

type Clients = ReturnType<typeof clients>;

/**
 * With --block-time 0 the chain's clock moves only when a block is sealed, and eth_call /
 * eth_estimateGas run at the latest block's timestamp: seal empty-ish blocks (a 0-value
 * self-transfer) until the latest one is past `ts`. Each block is at least 1 s after its parent.
 */
export async function advancePast(c: Clients, ts: bigint): Promise<void> {
  for (;;) {
    const latest = await c.publicClient.getBlock({ blockTag: 'latest' });
    if (latest.timestamp > ts) return;
    const hash = await c.walletClient.sendTransaction({ to: c.account.address, value: 0n });
    await c.publicClient.waitForTransactionReceipt({ hash });
  }
}
