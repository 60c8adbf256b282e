import type { TypedTransaction } from '@ethereumjs/tx';
import { createTxFromRLP } from '@ethereumjs/tx';
import type { Common } from '@ethereumjs/common';
import type { Address } from '@ethereumjs/util';
import { RLP } from '@ethereumjs/rlp';
import { bytesToBigInt, bytesToHex } from '@ethereumjs/util';
import type { Logger } from 'pino';
import { TxPoolError, TxPoolErrorCode as E } from '../node/txpool/errors.ts';
import type { PoolOptions } from './options.ts';
import { feeCaps } from '../node/txpool/pool-tx.ts';
import type { PoolTx } from '../node/txpool/pool-tx.ts';
import { BlockTxSelector } from './tx-selector.ts';

/** What the pool needs to know of the head state. */
export interface PoolStateReader {
  account(address: Address): Promise<{ nonce: bigint; balance: bigint }>;
}

export interface PoolDeps {
  common: Common;
  state: PoolStateReader;
  logger: Logger;
  /** Current block gas limit and minimum acceptable fee cap. */
  limits(): { gasLimit: bigint; minFee: bigint };
  /**
   * The sender's public key recovered off the main thread from a raw transaction, or undefined
   * (the pool then recovers it itself): node/txpool/ingest-recovery.ts.
   */
  recoverKey?(raw: Uint8Array): Promise<Uint8Array | undefined>;
}

interface SenderQueue {
  stateNonce: bigint;
  txs: Map<bigint, PoolTx>;
}

/**
 * Pending and queued transactions per sender, keyed by nonce. "Pending" is the run of
 * consecutive nonces starting at the sender's state nonce; everything past a gap is queued
 * and becomes pending as soon as the gap fills.
 */
export class Mempool {
  private readonly senders = new Map<string, SenderQueue>();
  private readonly byHash = new Map<string, PoolTx>();
  private seq = 0;
  private readonly listeners = new Set<(tx: PoolTx) => void>();

  constructor(
    private readonly opts: PoolOptions,
    private readonly deps: PoolDeps,
  ) {}

  get size(): number {
    return this.byHash.size;
  }

  /** Decodes, validates and admits a signed transaction; `local`: it came over this node's JSON-RPC (PoolTx.local). */
  async addRaw(raw: Uint8Array, origin: { local?: boolean } = {}): Promise<PoolTx> {
    if (raw.length > this.opts.maxTxBytes) {
      throw new TxPoolError(E.Oversized, `oversized data: transaction size ${raw.length}, limit ${this.opts.maxTxBytes}`);
    }
    const tx = decode(raw, this.deps.common);
    const key = await this.deps.recoverKey?.(raw);
    // getSenderPublicKey returns a frozen transaction's cached key (the one its bytes give)
    if (key !== undefined && Object.isFrozen(tx) && tx.cache.senderPubKey === undefined) tx.cache.senderPubKey = key;
    const ptx = this.checkStateless(tx, raw.length);
    if (origin.local === true) ptx.local = true;
    const known = this.byHash.get(ptx.hash);
    if (known !== undefined) throw new TxPoolError(E.AlreadyKnown, 'already known');
    const acct = await this.deps.state.account(ptx.sender);
    this.checkStateful(ptx, acct);
    this.insert(ptx, acct.nonce);
    return ptx;
  }

  /**
   * Admits a transaction whose sender the node vouches for instead of a signature: an account a
   * `--dev` chain impersonates (anvil_impersonateAccount). Every other rule applies.
   */
  async addImpersonated(tx: TypedTransaction, sender: Address): Promise<PoolTx> {
    const raw = tx.serialize();
    if (raw.length > this.opts.maxTxBytes) {
      throw new TxPoolError(E.Oversized, `oversized data: transaction size ${raw.length}, limit ${this.opts.maxTxBytes}`);
    }
    const ptx = this.checkStateless(tx, raw.length, sender);
    const acct = await this.deps.state.account(ptx.sender);
    this.checkStateful(ptx, acct);
    this.insert(ptx, acct.nonce);
    return ptx;
  }

  private checkStateless(tx: TypedTransaction, size: number, vouched?: Address): PoolTx {
    const { gasLimit, minFee } = this.deps.limits();
    const chainId = this.deps.common.chainId();
    if ('chainId' in tx && typeof tx.chainId === 'bigint' && tx.chainId !== chainId) {
      throw new TxPoolError(E.InvalidChainId, `invalid chain id: have ${tx.chainId}, want ${chainId}`);
    }
    let sender: Address;
    try {
      sender = vouched ?? tx.getSenderAddress();
    } catch (err) {
      throw new TxPoolError(E.InvalidSender, `invalid sender: ${(err as Error).message}`);
    }
    if (tx.gasLimit > gasLimit) throw new TxPoolError(E.GasLimit, `exceeds block gas limit: ${tx.gasLimit} > ${gasLimit}`);
    const intrinsic = tx.getIntrinsicGas();
    if (tx.gasLimit < intrinsic) {
      throw new TxPoolError(E.IntrinsicGas, `intrinsic gas too low: have ${tx.gasLimit}, want ${intrinsic}`);
    }
    const { maxFee, maxTip } = feeCaps(tx);
    if (maxTip > maxFee) {
      throw new TxPoolError(E.TipAboveFeeCap, `max priority fee per gas higher than max fee per gas: ${maxTip} > ${maxFee}`);
    }
    if (maxFee < minFee) {
      throw new TxPoolError(E.Underpriced, `transaction underpriced: fee cap ${maxFee} below the minimum base fee ${minFee}`);
    }
    return {
      tx,
      sender,
      senderHex: sender.toString(),
      hash: bytesToHex(tx.hash()),
      nonce: tx.nonce,
      maxFee,
      maxTip,
      size,
      seq: this.seq++,
    };
  }

  private checkStateful(p: PoolTx, acct: { nonce: bigint; balance: bigint }): void {
    if (p.nonce < acct.nonce) {
      throw new TxPoolError(E.NonceTooLow, `nonce too low: address ${p.senderHex}, tx: ${p.nonce} state: ${acct.nonce}`);
    }
    const cost = p.tx.gasLimit * p.maxFee + p.tx.value;
    if (acct.balance < cost) {
      throw new TxPoolError(E.InsufficientFunds, `insufficient funds for gas * price + value: address ${p.senderHex} have ${acct.balance} want ${cost}`);
    }
  }

  /** Synchronous from the replacement check to the insert, so concurrent adds cannot race. */
  private insert(p: PoolTx, stateNonce: bigint): void {
    if (this.byHash.has(p.hash)) throw new TxPoolError(E.AlreadyKnown, 'already known');
    const q = this.senders.get(p.senderHex) ?? { stateNonce, txs: new Map<bigint, PoolTx>() };
    if (stateNonce > q.stateNonce) this.dropBelow(q, stateNonce);
    if (p.nonce < q.stateNonce) {
      throw new TxPoolError(E.NonceTooLow, `nonce too low: address ${p.senderHex}, tx: ${p.nonce} state: ${q.stateNonce}`);
    }
    const old = q.txs.get(p.nonce);
    if (old !== undefined) {
      const bump = 100n + this.opts.priceBumpPercent;
      if (p.maxFee * 100n < old.maxFee * bump || p.maxTip * 100n < old.maxTip * bump) {
        throw new TxPoolError(E.ReplacementUnderpriced, 'replacement transaction underpriced');
      }
      this.byHash.delete(old.hash);
    } else {
      if (q.txs.size >= this.opts.maxPerSender) this.makeRoomInSender(q, p);
      if (this.byHash.size >= this.opts.maxTotal) this.evictFor(p);
    }
    q.txs.set(p.nonce, p);
    this.senders.set(p.senderHex, q);
    this.byHash.set(p.hash, p);
    for (const l of this.listeners) l(p);
  }

  /**
   * A sender at its limit may still fill a nonce gap: like geth, the pool keeps the lowest
   * nonces and drops the sender's highest one. Otherwise a sender whose slots are all taken by
   * future nonces could never send the transaction that makes them executable.
   */
  private makeRoomInSender(q: SenderQueue, p: PoolTx): void {
    let last: PoolTx | undefined;
    for (const t of q.txs.values()) if (last === undefined || t.nonce > last.nonce) last = t;
    if (last === undefined || last.nonce < p.nonce) {
      throw new TxPoolError(E.AccountLimit, `account limit exceeded: ${p.senderHex} has ${q.txs.size} transactions in the pool`);
    }
    q.txs.delete(last.nonce);
    this.byHash.delete(last.hash);
    this.deps.logger.debug({ hash: last.hash, for: p.hash }, 'dropped highest nonce of a sender at its limit');
  }

  /** Makes room by dropping the cheapest last-in-line transaction, if the newcomer pays more. */
  private evictFor(p: PoolTx): void {
    let victim: PoolTx | undefined;
    for (const [hex, q] of this.senders) {
      if (hex === p.senderHex || q.txs.size === 0) continue;
      let last: PoolTx | undefined;
      for (const t of q.txs.values()) if (last === undefined || t.nonce > last.nonce) last = t;
      if (last !== undefined && (victim === undefined || last.maxFee < victim.maxFee)) victim = last;
    }
    if (victim === undefined || victim.maxFee >= p.maxFee) {
      throw new TxPoolError(E.PoolFull, 'txpool is full');
    }
    this.remove(victim.hash);
    this.deps.logger.debug({ hash: victim.hash }, 'evicted cheapest transaction');
  }

  get(hash: string): PoolTx | undefined {
    return this.byHash.get(hash.toLowerCase());
  }

  /** The local transactions in the pool, in the order they were admitted (what the journal is rewritten with). */
  locals(): PoolTx[] {
    const out: PoolTx[] = [];
    // byHash keeps insertion order, and a replacement is deleted and re-inserted: admission order
    for (const p of this.byHash.values()) if (p.local === true) out.push(p);
    return out;
  }

  /** Next nonce a sender should use, counting its pending transactions. */
  pendingNonce(senderHex: string, stateNonce: bigint): bigint {
    const q = this.senders.get(senderHex.toLowerCase());
    let n = q === undefined || q.stateNonce < stateNonce ? stateNonce : q.stateNonce;
    while (q?.txs.has(n) === true) n++;
    return n;
  }

  /** Pending (executable) and queued transaction counts. */
  status(): { pending: number; queued: number } {
    let pending = 0;
    for (const q of this.senders.values()) {
      for (let n = q.stateNonce; q.txs.has(n); n++) pending++;
    }
    return { pending, queued: this.byHash.size - pending };
  }

  /** Executable transactions, best effective tip first and nonce order within a sender. */
  selector(baseFee: bigint): BlockTxSelector {
    const heads: PoolTx[] = [];
    for (const q of this.senders.values()) {
      const first = q.txs.get(q.stateNonce);
      if (first !== undefined) heads.push(first);
    }
    return new BlockTxSelector(heads, baseFee, (p) => this.senders.get(p.senderHex)?.txs.get(p.nonce + 1n));
  }

  /** After a block: senders' nonces moved on, so their included transactions leave the pool. */
  onBlockIncluded(nonces: Map<string, bigint>): void {
    for (const [hex, next] of nonces) {
      const q = this.senders.get(hex);
      if (q !== undefined && next > q.stateNonce) this.dropBelow(q, next);
      if (q !== undefined && q.txs.size === 0) this.senders.delete(hex);
    }
  }

  /**
   * After the chain was rewound (an L1 reorg on the sequencer): senders' state nonces went back,
   * so the transactions of the dropped blocks can come back in, below what the pool had pending.
   */
  onRewound(nonces: Map<string, bigint>): void {
    for (const [hex, n] of nonces) {
      const q = this.senders.get(hex);
      if (q !== undefined && n < q.stateNonce) q.stateNonce = n;
    }
  }

  remove(hash: string): void {
    const p = this.byHash.get(hash);
    if (p === undefined) return;
    this.byHash.delete(hash);
    const q = this.senders.get(p.senderHex);
    q?.txs.delete(p.nonce);
    if (q !== undefined && q.txs.size === 0) this.senders.delete(p.senderHex);
  }

  /** Drops every pooled transaction of one sender (a dev chain's anvil_removePoolTransactions). */
  removeSender(senderHex: string): void {
    const q = this.senders.get(senderHex.toLowerCase());
    for (const t of [...(q?.txs.values() ?? [])]) this.remove(t.hash);
  }

  /** Drops every pooled transaction (a dev chain's snapshot revert). */
  clear(): void {
    for (const hash of [...this.byHash.keys()]) this.remove(hash);
  }

  onAdded(l: (tx: PoolTx) => void): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  private dropBelow(q: SenderQueue, nonce: bigint): void {
    for (const [n, t] of q.txs) {
      if (n < nonce) {
        q.txs.delete(n);
        this.byHash.delete(t.hash);
      }
    }
    q.stateNonce = nonce;
  }
}

/** Typed transactions the pool takes: access-list (1), dynamic-fee (2) and set-code (4); no blob transactions on the L2. */
const SUPPORTED_TYPES = new Set([1, 2, 4]);

/**
 * Decodes like geth: unsupported types, foreign chain ids and tips above the fee cap get geth's
 * wording (the decoder only has its own), and a signature that cannot be valid is an invalid
 * sender rather than an undecodable transaction. The raw fields are only inspected when the
 * decoder refused the payload, so a good transaction is decoded once.
 */
function decode(raw: Uint8Array, common: Common): TypedTransaction {
  const first = raw[0];
  if (first === undefined) throw new TxPoolError(E.InvalidTx, 'invalid transaction: typed transaction too short');
  const typed = first <= 0x7f;
  if (typed && !SUPPORTED_TYPES.has(first)) {
    throw new TxPoolError(E.TxTypeNotSupported, `transaction type not supported: tx type ${first} not supported by this pool`);
  }
  try {
    return createTxFromRLP(raw, { common });
  } catch (err) {
    const msg = (err as Error).message;
    explainRefusal(raw, typed, common);
    if (/invalid signature|y-parity|yparity/i.test(msg)) throw new TxPoolError(E.InvalidSender, `invalid sender: ${msg}`);
    throw new TxPoolError(E.InvalidTx, `invalid transaction: ${msg}`);
  }
}

/** Throws geth's error for a payload the decoder refused, where geth has a specific one. */
function explainRefusal(raw: Uint8Array, typed: boolean, common: Common): void {
  const fields = rawFields(typed ? raw.subarray(1) : raw);
  if (fields === undefined) return;
  const have = signedChainId(fields, typed);
  const want = common.chainId();
  if (have !== undefined && have !== want) throw new TxPoolError(E.InvalidChainId, `invalid chain id: have ${have}, want ${want}`);
  if (typed && (raw[0] === 2 || raw[0] === 4)) {
    const [tip, cap] = [uint(fields[2]), uint(fields[3])]; // [chainId, nonce, maxPriorityFeePerGas, maxFeePerGas, ...]
    if (tip !== undefined && cap !== undefined && tip > cap) {
      throw new TxPoolError(E.TipAboveFeeCap, `max priority fee per gas higher than max fee per gas: ${tip} > ${cap}`);
    }
  }
}

/** The top-level RLP list of a transaction payload; undefined if it is not one (the decoder reports that). */
function rawFields(payload: Uint8Array): unknown[] | undefined {
  try {
    const fields: unknown = RLP.decode(payload);
    return Array.isArray(fields) ? fields : undefined;
  } catch {
    return undefined;
  }
}

const uint = (field: unknown): bigint | undefined => (field instanceof Uint8Array ? bytesToBigInt(field) : undefined);

/** The chain id a transaction is signed for; undefined if unprotected (legacy v = 27/28). */
function signedChainId(fields: unknown[], typed: boolean): bigint | undefined {
  if (typed) return uint(fields[0]);
  const v = uint(fields[6]);
  return v !== undefined && v >= 35n ? (v - 35n) / 2n : undefined; // EIP-155: v = chainId * 2 + 35/36
}
