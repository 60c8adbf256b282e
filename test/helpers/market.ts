import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type BaseError, ContractFunctionRevertedError, parseAbi, parseEventLogs, toEventSelector, toFunctionSelector } from 'viem';
import type { Abi, AbiEvent, AbiFunction, Address } from 'viem';
import { inputHash } from '../../precompiles/model/input-hash.ts';
import { marketAbi } from '../../contracts/abi/market.ts';
import { DEFAULT_GAS_LIMIT, devGenesis } from '../../node/chain/genesis.ts';
import { INFERENCE_MARKET_ADDRESS, inferenceMarketStorage } from '../../contracts/predeploys.ts';
import type { InferenceMarketParams } from '../../contracts/predeploys.ts';
import type { clients } from './dev-node.ts';

/** IInferenceMarket, typed for viem (the prover's own); `abiDrift` checks it against the committed artifact. */
export { marketAbi };

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

/**
 * The InferenceConsumer at `consumer` asks for an inference of `input` (the input values, or their
 * Poseidon hash for a private-input model, whose input the dApp then hands to the node with
 * ai_submitJobInput: it is on no chain). Returns the market request id.
 */
export async function askConsumer(c: Clients, consumer: Address, input: number[], opts: { private: boolean; fee: bigint; ttl?: bigint }): Promise<bigint> {
  const signals = opts.private ? [inputHash(Uint8Array.from(input))] : input.map(BigInt);
  const hash = await c.walletClient.writeContract({ address: consumer, abi: consumerAbi, functionName: 'ask', args: [signals, opts.ttl ?? 900n], value: opts.fee });
  const r = await c.publicClient.waitForTransactionReceipt({ hash });
  if (r.status !== 'success') throw new Error(`ask reverted (${hash})`);
  const id = parseEventLogs({ abi: marketAbi, logs: r.logs, eventName: 'InferenceRequested' })[0]!.args.id;
  if (opts.private) await c.publicClient.request({ method: 'ai_submitJobInput' as never, params: [`0x${id.toString(16)}`, input] as never });
  return id;
}

export interface Ask {
  consumer: Address;
  input: number[];
  private: boolean;
  fee: bigint;
  ttl?: bigint;
}

/**
 * askConsumer for many asks from one account, without a block's wait between them: each ask's
 * gas estimated on the current state (a later ask costs no more: the consumer's counter is then
 * already nonzero), all sent with consecutive nonces, then their receipts awaited. Returns the
 * request ids in the order of `asks`; private inputs are handed to the node as askConsumer does.
 */
export async function askMany(c: Clients, asks: readonly Ask[]): Promise<bigint[]> {
  const { publicClient, walletClient, account } = c;
  const calls = asks.map((a) => ({
    address: a.consumer,
    abi: consumerAbi,
    functionName: 'ask' as const,
    args: [a.private ? [inputHash(Uint8Array.from(a.input))] : a.input.map(BigInt), a.ttl ?? 900n] as const,
    value: a.fee,
  }));
  const gas = await Promise.all(calls.map((call) => publicClient.estimateContractGas({ ...call, account })));
  const nonce = await publicClient.getTransactionCount({ address: account.address, blockTag: 'pending' });
  const hashes: `0x${string}`[] = [];
  for (const [i, call] of calls.entries()) hashes.push(await walletClient.writeContract({ ...call, gas: (gas[i]! * 12n) / 10n, nonce: nonce + i }));
  const ids: bigint[] = [];
  for (const [i, hash] of hashes.entries()) {
    const r = await publicClient.waitForTransactionReceipt({ hash });
    if (r.status !== 'success') throw new Error(`ask reverted (${hash})`);
    const id = parseEventLogs({ abi: marketAbi, logs: r.logs, eventName: 'InferenceRequested' })[0]!.args.id;
    if (asks[i]!.private) await publicClient.request({ method: 'ai_submitJobInput' as never, params: [`0x${id.toString(16)}`, asks[i]!.input] as never });
    ids.push(id);
  }
  return ids;
}
