/**
 * What a prover asks of the L2 over JSON-RPC: market reads, the registry's view of a model, and
 * its own transactions (register, claim, fulfil).
 *
 * A prover sends claims and fulfilments for several jobs at once from one account, so nonces are
 * assigned here, one send at a time, from the node's `pending` count and what we sent since;
 * after any failed send the next one re-reads the count (a node restart drops its pool, and
 * with it our unmined transactions).
 */
import { BaseError, ContractFunctionRevertedError, createPublicClient, createWalletClient, decodeEventLog, http, zeroAddress } from 'viem';
import type { Account, Address, Chain, Hex, PublicClient, TransactionReceipt, Transport, WalletClient } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { INFERENCE_MARKET_ADDRESS } from '../../contracts/predeploys.ts';
import { marketAbi } from '../../contracts/abi/market.ts';
import { CodedError } from '../../precompiles/errors.ts';
import { chainAt } from '../../contracts/abi/chain.ts';

export interface MarketRequest {
  id: bigint;
  modelId: Hex;
  status: number;
  deadline: bigint;
  claimant: Address;
  claimedUntil: bigint;
  outputCount: number;
  fee: bigint;
  inputSignals: readonly bigint[];
}

export type FulfilOutcome = { kind: 'paid'; fee: bigint; tx: Hex } | { kind: 'rejected'; reason: Hex; tx: Hex };

/** A market call the chain refused: `errorName` is the contract's custom error (AlreadyClaimed, ...). */
export class MarketRevert extends CodedError {
  override readonly code = 'MARKET_REVERT';

  override name = 'MarketRevert';
  constructor(
    readonly errorName: string,
    readonly args: readonly unknown[],
    message: string,
  ) {
    super(message);
  }
}

export class ProverChain {
  readonly address: Address;
  private readonly public: PublicClient;
  private readonly wallet: WalletClient<Transport, Chain, Account>;
  private nextNonce: number | undefined;
  private sending: Promise<unknown> = Promise.resolve();

  constructor(readonly options: { rpcUrl: string; chainId: number; privateKey: Hex; market?: Address }) {
    const chain = chainAt(options.chainId, options.rpcUrl, `l2-${options.chainId}`);
    const account = privateKeyToAccount(options.privateKey);
    this.address = account.address;
    const transport = http(options.rpcUrl, { retryCount: 0, timeout: 15_000 });
    this.public = createPublicClient({ chain, transport, pollingInterval: 250 });
    this.wallet = createWalletClient({ chain, transport, account });
  }

  private get market(): Address {
    return this.options.market ?? INFERENCE_MARKET_ADDRESS;
  }

  static async chainIdOf(rpcUrl: string): Promise<number> {
    return createPublicClient({ transport: http(rpcUrl, { retryCount: 2 }) }).getChainId();
  }

  async latestTimestamp(): Promise<bigint> {
    return (await this.public.getBlock({ blockTag: 'latest' })).timestamp;
  }

  async blockNumber(): Promise<bigint> {
    return this.public.getBlockNumber({ cacheTime: 0 });
  }

  async getRequest(id: bigint): Promise<MarketRequest> {
    const r = await this.public.readContract({ address: this.market, abi: marketAbi, functionName: 'getRequest', args: [id] });
    return {
      id,
      modelId: r.modelId,
      status: r.status,
      deadline: r.deadline,
      claimant: r.claimant,
      claimedUntil: r.claimedUntil,
      outputCount: r.outputCount,
      fee: r.fee,
      inputSignals: r.inputSignals,
    };
  }

  /** The request, or undefined when the market has none with this id (UnknownRequest). */
  async findRequest(id: bigint): Promise<MarketRequest | undefined> {
    try {
      return await this.getRequest(id);
    } catch (err) {
      const r = err instanceof BaseError ? (err.walk((e) => e instanceof ContractFunctionRevertedError) as ContractFunctionRevertedError | null) : null;
      if (r?.data?.errorName === 'UnknownRequest') return undefined;
      throw err;
    }
  }

  /** Requests made so far: ids run from 1 to this. */
  async requestCount(): Promise<bigint> {
    return this.public.readContract({ address: this.market, abi: marketAbi, functionName: 'requestCount' });
  }

  async parameters() {
    return this.public.readContract({ address: this.market, abi: marketAbi, functionName: 'parameters' });
  }

  async proverInfo() {
    return this.public.readContract({ address: this.market, abi: marketAbi, functionName: 'getProver', args: [this.address] });
  }

  /** The registry's verifying-key hash of a usable model; undefined when unknown or deprecated. */
  async modelKey(modelId: Hex): Promise<Hex | undefined> {
    const m = await this.public.request<{ Method: 'ai_getModel'; Parameters: [Hex]; ReturnType: { deprecated: boolean; verifyingKeyHash: Hex } | null }>({
      method: 'ai_getModel',
      params: [modelId],
    });
    return m === null || m.deprecated ? undefined : m.verifyingKeyHash;
  }

  /** sha256 of the model package's manifest, if the node serves the package. */
  async modelManifest(modelId: Hex): Promise<string | undefined> {
    const a = await this.public.request<{ Method: 'ai_modelArtifacts'; Parameters: [Hex]; ReturnType: { manifest?: { sha256: string } } | null }>({
      method: 'ai_modelArtifacts',
      params: [modelId],
    });
    return a?.manifest?.sha256;
  }

  /** InferenceRequested logs in [from, to]. */
  async requestedBetween(from: bigint, to: bigint) {
    const logs = await this.public.getContractEvents({ address: this.market, abi: marketAbi, eventName: 'InferenceRequested', fromBlock: from, toBlock: to });
    return logs.map((l) => l.args);
  }

  register(value: bigint): Promise<TransactionReceipt> {
    return this.send('registerProver', [], value);
  }

  claim(id: bigint): Promise<TransactionReceipt> {
    return this.send('claim', [id]);
  }

  async fulfil(id: bigint, outputs: readonly bigint[], proof: readonly bigint[]): Promise<FulfilOutcome> {
    const receipt = await this.send('fulfill', [id, outputs, proof as unknown as readonly [bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint]]);
    for (const log of receipt.logs) {
      if (log.address.toLowerCase() !== this.market.toLowerCase()) continue;
      const ev = decodeEventLog({ abi: marketAbi, data: log.data, topics: log.topics, strict: false });
      if (ev.eventName === 'InferenceFulfilled') return { kind: 'paid', fee: ev.args.fee ?? 0n, tx: receipt.transactionHash };
      if (ev.eventName === 'ProofRejected') return { kind: 'rejected', reason: ev.args.reason ?? '0x', tx: receipt.transactionHash };
    }
    throw new Error(`fulfil transaction ${receipt.transactionHash} emitted neither InferenceFulfilled nor ProofRejected`);
  }

  /**
   * Simulates (a revert throws MarketRevert and costs nothing), then sends with the next nonce
   * and waits for the receipt; a transaction that reverts on chain throws MarketRevert too.
   */
  private send(functionName: 'registerProver' | 'claim' | 'fulfill', args: readonly unknown[], value?: bigint): Promise<TransactionReceipt> {
    const run = async (): Promise<Hex> => {
      const { request } = await this.simulate(functionName, args, value);
      this.nextNonce ??= await this.public.getTransactionCount({ address: this.address, blockTag: 'pending' });
      try {
        const hash = await this.wallet.writeContract({ ...request, nonce: this.nextNonce } as Parameters<typeof this.wallet.writeContract>[0]);
        this.nextNonce++;
        return hash;
      } catch (err) {
        this.nextNonce = undefined;
        throw err;
      }
    };
    const sent = this.sending.then(run, run);
    this.sending = sent.catch(() => undefined);
    return sent.then(async (hash) => {
      const receipt = await this.public.waitForTransactionReceipt({ hash, timeout: 120_000 });
      if (receipt.status !== 'success') {
        // state changed between simulation and inclusion: replay it to learn why
        await this.simulate(functionName, args, value, receipt.blockNumber - 1n);
        throw new MarketRevert('Reverted', [], `${functionName} reverted on chain (${hash})`);
      }
      return receipt;
    });
  }

  private async simulate(functionName: 'registerProver' | 'claim' | 'fulfill', args: readonly unknown[], value: bigint | undefined, blockNumber?: bigint) {
    try {
      return await this.public.simulateContract({ account: this.wallet.account, address: this.market, abi: marketAbi, functionName, args, value, blockNumber } as Parameters<
        typeof this.public.simulateContract
      >[0]);
    } catch (err) {
      const r = err instanceof BaseError ? (err.walk((e) => e instanceof ContractFunctionRevertedError) as ContractFunctionRevertedError | null) : null;
      if (r?.data?.errorName !== undefined) throw new MarketRevert(r.data.errorName, r.data.args ?? [], `${functionName}: ${r.data.errorName}(${(r.data.args ?? []).join(', ')})`);
      throw err;
    }
  }
}

export const NO_CLAIMANT = zeroAddress;
