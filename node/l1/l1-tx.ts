/**
 * Sends the batcher's and the proposer's L1 transactions so that a restart never posts twice:
 * every transaction is signed locally and its hash recorded before it is sent (a lost reply
 * still leaves it tracked), at most one nonce is in flight, and before building anything new
 * the account's pending transactions (ours, or a killed predecessor's) are waited for.
 * A slow transaction is replaced at the same nonce with higher fees, so only one can land.
 */
import { BaseError, ContractFunctionRevertedError, HttpRequestError, TimeoutError, encodeFunctionData, keccak256 } from 'viem';
import type { Abi, Account, Address, Chain, Hex, LocalAccount, PublicClient, TransactionReceipt, Transport, WalletClient } from 'viem';
import type { Logger } from 'pino';
import { sleep } from './l1-loop.ts';
import { CodedError } from '../../precompiles/errors.ts';

export interface L1Clients {
  public: PublicClient;
  /** Its account must be a local one (a private key): transactions are signed here. */
  wallet: WalletClient<Transport, Chain | undefined, Account>;
}

export interface L1TxOptions {
  pollMs: number;
  /** Replace our transaction with 25% higher fees when it is not mined after this long. */
  resubmitAfterMs: number;
  /** Cancel a predecessor's pending transaction (self-transfer, higher fees) when not mined after this long. */
  stuckAfterMs: number;
  /** Replacements never raise maxFeePerGas past this (wei); at the cap the transaction is just awaited. */
  maxFeePerGasCap: bigint;
}

/** 500 gwei: far above normal L1 fees, low enough that a stuck batcher cannot drain its account. */
export const DEFAULT_MAX_FEE_PER_GAS_CAP = 500_000_000_000n;

export const L1TxErrorCode = {
  /** The call would revert (found by simulation: no gas spent). */
  Reverted: 'REVERTED',
  /** The transaction was mined and reverted (state changed between simulation and inclusion). */
  RevertedOnChain: 'REVERTED_ON_CHAIN',
  /** The L1 RPC did not answer or failed. */
  Unreachable: 'L1_UNREACHABLE',
  /** The L1 refused the transaction (funds, fee cap, ...). */
  Refused: 'REFUSED',
  /** The transaction is gone from L1, neither mined nor pending (an L1 reorg, an evicted transaction). */
  Dropped: 'DROPPED',
} as const;
export type L1TxErrorCode = (typeof L1TxErrorCode)[keyof typeof L1TxErrorCode];

export class L1TxError extends CodedError {
  constructor(
    override readonly code: L1TxErrorCode,
    message: string,
    /** The contract's custom error name, for reverts. */
    readonly errorName?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'L1TxError';
  }
}

export interface ContractCall {
  address: Address;
  abi: Abi;
  functionName: string;
  args: readonly unknown[];
}

interface InFlight {
  nonce: number;
  to: Address;
  data: Hex;
  gas: bigint;
  maxFeePerGas: bigint;
  maxPriorityFeePerGas: bigint;
  /** Every signed version (replacements included): whichever is mined is ours. */
  hashes: Hex[];
  sentAt: number;
  what: string;
}

/** Fee bump of a replacement: geth and anvil require at least 10% on both fee fields. */
const bump = (x: bigint) => (x * 125n) / 100n + 1n;

export class L1TxSender {
  private inflight: InFlight | undefined;
  private chainId: number | undefined;
  readonly address: Address;
  private readonly account: LocalAccount;

  constructor(
    private readonly l1: L1Clients,
    private readonly opts: L1TxOptions,
    private readonly logger: Logger,
  ) {
    const account = l1.wallet.account;
    if (account.type !== 'local') throw new Error('the L1 wallet client needs a local (private key) account');
    this.account = account;
    this.address = account.address;
  }

  /**
   * Waits until this account has no pending L1 transaction and returns the next nonce. Ours
   * are awaited (and replaced when slow); a predecessor's are awaited, then cancelled when stuck.
   */
  async settle(signal: AbortSignal): Promise<number> {
    const started = Date.now();
    let told = false;
    for (;;) {
      const [latest, pending] = await rpc(() =>
        Promise.all([
          this.l1.public.getTransactionCount({ address: this.address, blockTag: 'latest' }),
          this.l1.public.getTransactionCount({ address: this.address, blockTag: 'pending' }),
        ]),
      );
      const mine = this.inflight;
      if (mine !== undefined && latest > mine.nonce) {
        // mined while the wait for it was interrupted (an L1 outage, a stop)
        const receipt = await this.finish(mine);
        this.logger.info({ what: mine.what, nonce: mine.nonce, tx: receipt?.transactionHash, status: receipt?.status ?? 'not ours' }, 'earlier L1 transaction mined');
        continue;
      }
      if (pending <= latest) {
        if (mine !== undefined) {
          this.logger.warn({ nonce: mine.nonce, hashes: mine.hashes, what: mine.what }, 'L1 transaction dropped from the pool; rebuilding');
          this.inflight = undefined;
        }
        return latest;
      }
      if (mine !== undefined && mine.nonce === latest) {
        if (Date.now() - mine.sentAt > this.opts.resubmitAfterMs) await this.replace(mine);
      } else if (mine === undefined && Date.now() - started > this.opts.stuckAfterMs) {
        await this.cancel(latest);
        continue;
      } else if (mine === undefined && !told) {
        told = true;
        this.logger.info({ latest, pending }, "waiting for pending L1 transactions of this account (a previous run's)");
      }
      await sleep(this.opts.pollMs, signal);
    }
  }

  /**
   * Simulates `call` (a revert throws REVERTED with the custom error's name, spending nothing),
   * sends it at `nonce` (from settle) and waits until it is mined. Returns the receipt.
   */
  async send(call: ContractCall, nonce: number, what: string, signal: AbortSignal): Promise<TransactionReceipt> {
    const data = encodeFunctionData({ abi: call.abi, functionName: call.functionName, args: call.args });
    let gas: bigint;
    try {
      gas = await this.l1.public.estimateContractGas({ ...call, account: this.address });
    } catch (err) {
      throw classify(err, what);
    }
    const fees = await rpc(() => this.l1.public.estimateFeesPerGas());
    const tx: InFlight = {
      nonce,
      to: call.address,
      data,
      // calldata cost is exact; the margin covers storage costs that moved since the estimate
      gas: (gas * 120n) / 100n,
      maxFeePerGas: fees.maxFeePerGas,
      maxPriorityFeePerGas: fees.maxPriorityFeePerGas,
      hashes: [],
      sentAt: Date.now(),
      what,
    };
    this.inflight = tx;
    await this.broadcast(tx);
    for (;;) {
      await sleep(this.opts.pollMs, signal);
      const latest = await rpc(() => this.l1.public.getTransactionCount({ address: this.address, blockTag: 'latest' }));
      if (latest > nonce) {
        const receipt = await this.finish(tx);
        if (receipt === undefined) throw new L1TxError(L1TxErrorCode.RevertedOnChain, `${what}: nonce ${nonce} was used by another transaction`);
        if (receipt.status !== 'success') throw new L1TxError(L1TxErrorCode.RevertedOnChain, `${what} reverted on L1 (${receipt.transactionHash})`);
        return receipt;
      }
      // latest < nonce: an L1 reorg took out an earlier transaction of ours, so this one waits on a gap
      if (latest < nonce || (await this.dropped(tx))) {
        this.inflight = undefined;
        throw new L1TxError(L1TxErrorCode.Dropped, `${what}: nonce ${nonce} is neither mined nor pending (an L1 reorg took it or an earlier one out, or the pool dropped it)`);
      }
      if (Date.now() - tx.sentAt > this.opts.resubmitAfterMs) await this.replace(tx);
    }
  }

  /**
   * L1 no longer knows any version of `tx`: an L1 reorg removed the block that had mined it (a
   * dev L1 does not put it back in its pool), or the pool evicted it. The caller rebuilds from
   * what L1 holds now rather than send again what it built for the old chain.
   */
  private async dropped(tx: InFlight): Promise<boolean> {
    const pending = await rpc(() => this.l1.public.getTransactionCount({ address: this.address, blockTag: 'pending' }));
    if (pending > tx.nonce) return false;
    for (const hash of tx.hashes) {
      const known = await rpc(() => this.l1.public.getTransaction({ hash }).catch((err: unknown) => (isNetwork(err) ? Promise.reject(err) : undefined)));
      if (known !== undefined) return false;
    }
    return true;
  }

  private async ensureChainId(): Promise<number> {
    this.chainId ??= this.l1.wallet.chain?.id ?? (await rpc(() => this.l1.public.getChainId()));
    return this.chainId;
  }

  /** Signs `tx` at its current fees, records the hash, then sends it. */
  private async broadcast(tx: InFlight): Promise<void> {
    const raw = await this.account.signTransaction!({
      type: 'eip1559',
      chainId: await this.ensureChainId(),
      nonce: tx.nonce,
      to: tx.to,
      data: tx.data,
      gas: tx.gas,
      maxFeePerGas: tx.maxFeePerGas,
      maxPriorityFeePerGas: tx.maxPriorityFeePerGas,
    });
    tx.hashes.push(keccak256(raw));
    tx.sentAt = Date.now();
    try {
      await this.l1.public.sendRawTransaction({ serializedTransaction: raw });
    } catch (err) {
      const msg = err instanceof BaseError ? (err.details ?? err.shortMessage) : String(err);
      // the nonce was consumed meanwhile (by this tx's earlier version): settle()/send() see it mined
      if (/nonce too low|already known|replacement transaction underpriced/i.test(msg)) return;
      if (isNetwork(err)) {
        // it may or may not have reached the node: the hash is recorded, the wait loop finds out
        this.logger.warn({ what: tx.what, nonce: tx.nonce, err: msg }, 'L1 RPC failed while sending; will watch for the transaction');
        return;
      }
      throw new L1TxError(L1TxErrorCode.Refused, `${tx.what}: L1 refused the transaction: ${msg}`, undefined, { cause: err });
    }
    this.logger.debug({ what: tx.what, nonce: tx.nonce, hash: tx.hashes.at(-1) }, 'sent L1 transaction');
  }

  private async replace(tx: InFlight): Promise<void> {
    const cap = this.opts.maxFeePerGasCap;
    if (bump(tx.maxFeePerGas) > cap) {
      // a bump must raise both fields by 10%, so at the cap there is nothing left to do but wait
      tx.sentAt = Date.now();
      this.logger.warn({ what: tx.what, nonce: tx.nonce, maxFeePerGas: tx.maxFeePerGas, cap }, 'L1 transaction not mined and its fee is at the cap; waiting');
      return;
    }
    const fees = await rpc(() => this.l1.public.estimateFeesPerGas());
    tx.maxFeePerGas = min(max(bump(tx.maxFeePerGas), fees.maxFeePerGas), cap);
    tx.maxPriorityFeePerGas = min(max(bump(tx.maxPriorityFeePerGas), fees.maxPriorityFeePerGas), tx.maxFeePerGas);
    this.logger.warn({ what: tx.what, nonce: tx.nonce, maxFeePerGas: tx.maxFeePerGas }, 'L1 transaction not mined in time; replacing it with higher fees');
    await this.broadcast(tx);
  }

  /** A predecessor's transaction is stuck at `nonce`: replace it with a 0-value self-transfer. */
  private async cancel(nonce: number): Promise<void> {
    const fees = await rpc(() => this.l1.public.estimateFeesPerGas());
    const tx: InFlight = {
      nonce,
      to: this.address,
      data: '0x',
      gas: 21_000n,
      maxFeePerGas: min(fees.maxFeePerGas * 2n, this.opts.maxFeePerGasCap),
      maxPriorityFeePerGas: min(fees.maxPriorityFeePerGas * 2n, this.opts.maxFeePerGasCap),
      hashes: [],
      sentAt: Date.now(),
      what: 'cancel stuck transaction',
    };
    this.logger.warn({ nonce }, 'pending L1 transaction of a previous run is stuck; cancelling it');
    this.inflight = tx;
    await this.broadcast(tx);
  }

  /** The receipt of whichever version of `tx` was mined (undefined when none of ours was). */
  private async finish(tx: InFlight): Promise<TransactionReceipt | undefined> {
    this.inflight = undefined;
    for (const hash of tx.hashes) {
      const receipt = await rpc(() => this.l1.public.getTransactionReceipt({ hash }).catch((err: unknown) => (isNetwork(err) ? Promise.reject(err) : undefined)));
      if (receipt !== undefined) {
        if (receipt.status !== 'success') this.logger.warn({ what: tx.what, hash }, 'L1 transaction reverted');
        return receipt;
      }
    }
    return undefined;
  }
}

function max(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}

function min(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}

function isNetwork(err: unknown): boolean {
  if (!(err instanceof BaseError)) return false;
  return err.walk((e) => e instanceof HttpRequestError || e instanceof TimeoutError) !== null || /fetch failed|ECONNREFUSED|ECONNRESET|socket hang up/i.test(err.message);
}

/** Runs an L1 read; network failures become L1TxError(L1_UNREACHABLE). */
export async function rpc<T>(f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (err) {
    if (err instanceof L1TxError) throw err;
    if (isNetwork(err)) throw new L1TxError(L1TxErrorCode.Unreachable, `L1 RPC failed: ${(err as BaseError).shortMessage}`, undefined, { cause: err });
    throw err;
  }
}

export function classify(err: unknown, what: string): L1TxError {
  if (err instanceof L1TxError) return err;
  if (err instanceof BaseError) {
    const revert = err.walk((e) => e instanceof ContractFunctionRevertedError);
    if (revert instanceof ContractFunctionRevertedError) {
      const name = revert.data?.errorName;
      const args = revert.data?.args?.map((a) => String(a)).join(', ') ?? '';
      return new L1TxError(L1TxErrorCode.Reverted, `${what} would revert: ${name !== undefined ? `${name}(${args})` : (revert.reason ?? 'no reason')}`, name, { cause: err });
    }
    if (isNetwork(err)) return new L1TxError(L1TxErrorCode.Unreachable, `${what}: L1 RPC failed: ${err.shortMessage}`, undefined, { cause: err });
    return new L1TxError(L1TxErrorCode.Refused, `${what}: ${err.shortMessage}`, undefined, { cause: err });
  }
  return new L1TxError(L1TxErrorCode.Refused, `${what}: ${(err as Error).message}`, undefined, { cause: err });
}
