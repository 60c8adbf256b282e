/**
 * The blocks a catch-up will import next, prepared on a worker thread (what geth's senderCacher
 * does): from each block's transaction encodings it recovers every sender's public key and
 * computes the transactions root. Re-executing a block spends a good part of the main thread on
 * exactly that; with the work done ahead, the import only compares the root with the header's and
 * puts the keys into each transaction's own cache (`tx.cache.senderPubKey`, which ethereumjs's
 * getSenderPublicKey returns when set: applyKeys).
 *
 * A key is only set on the transaction whose encoding the worker decoded and recovered it from;
 * deposits (no signature) and whatever the worker could not recover are left to the main thread,
 * which then raises the proper error. A wrong key could not make a replica take a wrong block
 * anyway: the block would re-execute to another state and be refused (block-importer.ts); a
 * wrong root is compared with the header's, which the block hash covers. The worker is an
 * optimisation only: if it fails, or has not answered, imports check and recover alone.
 */
import { Worker } from 'node:worker_threads';
import type { Block } from '@ethereumjs/block';
import type { Logger } from 'pino';
import { isDepositTx } from '../chain/deposit-tx.ts';

/** An uncompressed secp256k1 key without its 0x04 prefix; all zeros (not a curve point) means "not recovered". */
export const PUBKEY_BYTES = 64;

export interface RecoveryWorkerData {
  chainId: bigint;
}

/** One block's transactions, serialized back to back: transaction i is bytes[ends[i-1] .. ends[i]). */
export interface RecoveryJob {
  id: number;
  bytes: ArrayBuffer;
  ends: Uint32Array;
  /** Whether to compute the transactions root too (a block's, not a pool's arrivals). */
  root: boolean;
}

export type RecoveryResult = { ready: true } | { id: number; keys: ArrayBuffer; txRoot: ArrayBuffer };

/** A block to prepare: its number and its transactions' canonical encodings. */
export interface RecoveryItem {
  number: bigint;
  txs: Uint8Array[];
  /** False for transactions that are not a block (the pool's arrivals): no root computed. */
  root?: boolean;
}

/** What the worker found: PUBKEY_BYTES per transaction (zero: not recovered), and the transactions root (empty when not asked). */
export interface Recovered {
  keys: Uint8Array;
  txRoot: Uint8Array;
}

/** Transaction i's key in what the worker found, or undefined where it recovered none. */
export function keyAt(keys: Uint8Array, i: number): Uint8Array | undefined {
  const key = keys.slice(i * PUBKEY_BYTES, (i + 1) * PUBKEY_BYTES);
  return key.length === PUBKEY_BYTES && key.some((b) => b !== 0) ? key : undefined;
}

/** Puts recovered keys into the transactions' caches (not deposits', nor where the worker found none). */
export function applyKeys(block: Block, keys: Uint8Array): void {
  block.transactions.forEach((tx, i) => {
    const dep: unknown = tx;
    if (isDepositTx(dep) || tx.cache.senderPubKey !== undefined) return;
    const key = keyAt(keys, i);
    if (key !== undefined) tx.cache.senderPubKey = key;
  });
}

/** A worker that has not answered for this long is not waited for: the import recovers on its own. */
const READY_TIMEOUT_MS = 10_000;

const ENTRY = new URL('./sender-recovery-entry.mjs', import.meta.url);

interface Job {
  done: Promise<Recovered | undefined>;
  resolve(r: Recovered | undefined): void;
}

export class SenderRecovery {
  private worker: Worker | undefined;
  private up = false;
  private down = false;
  private readonly log: Logger;
  private readonly jobs = new Map<number, Job>();
  private readonly byItem = new WeakMap<RecoveryItem, Job>();
  private nextId = 1;
  private started: Promise<void> | undefined;

  constructor(
    private readonly opts: { chainId: bigint },
    deps: { logger: Logger },
  ) {
    this.log = deps.logger.child({ module: 'sync:senders' });
  }

  /** Up and not failed: work handed over now will be done. */
  get available(): boolean {
    return this.up && !this.down;
  }

  /** Starts the worker; resolves once it is ready to take work, or has failed to start (never rejects). */
  start(): Promise<void> {
    if (this.started !== undefined) return this.started;
    this.started = new Promise<void>((resolve) => {
      let worker: Worker;
      try {
        worker = new Worker(ENTRY, { workerData: { chainId: this.opts.chainId } satisfies RecoveryWorkerData });
      } catch (err) {
        this.fail(err as Error);
        return resolve();
      }
      this.worker = worker;
      worker.unref();
      worker.on('message', (msg: RecoveryResult) => {
        if ('ready' in msg) {
          // unref'd again: the worker's start-up (tsx's loader) leaves a port that kept a process
          // whose node failed to start alive
          worker.unref();
          this.up = true;
          resolve();
        } else this.finish(msg.id, msg.keys, msg.txRoot);
      });
      worker.on('error', (err) => {
        this.fail(err);
        resolve();
      });
      worker.on('exit', (code) => {
        this.fail(new Error(`the sender recovery thread exited with code ${code}`));
        resolve();
      });
    });
    return this.started;
  }

  /** Ends the worker; blocks waited for are released at once. */
  async stop(): Promise<void> {
    this.down = true;
    this.releaseAll();
    const worker = this.worker;
    this.worker = undefined;
    await worker?.terminate();
  }

  /** Hands `items` to the worker (items already handed over are skipped). */
  prime(items: RecoveryItem[]): void {
    if (this.down || this.worker === undefined) return;
    for (const item of items) {
      if (this.byItem.has(item) || item.txs.length === 0) continue;
      const ends = new Uint32Array(item.txs.length);
      const bytes = new Uint8Array(item.txs.reduce((n, r) => n + r.length, 0));
      let at = 0;
      item.txs.forEach((r, i) => {
        bytes.set(r, at);
        at += r.length;
        ends[i] = at;
      });
      let resolve!: (r: Recovered | undefined) => void;
      const done = new Promise<Recovered | undefined>((r) => (resolve = r));
      const job: Job = { done, resolve };
      const id = this.nextId++;
      try {
        this.worker.postMessage({ id, bytes: bytes.buffer, ends, root: item.root !== false } satisfies RecoveryJob, [bytes.buffer, ends.buffer]);
      } catch (err) {
        this.fail(err as Error);
        return;
      }
      this.jobs.set(id, job);
      this.byItem.set(item, job);
    }
  }

  /**
   * What the worker found for `item`; undefined at once if it was never primed, the worker is not
   * up, or failed. Never rejects, and waits at most READY_TIMEOUT_MS.
   */
  async ready(item: RecoveryItem): Promise<Recovered | undefined> {
    const job = this.byItem.get(item);
    if (job === undefined || !this.up || this.down) return undefined;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), READY_TIMEOUT_MS)));
    const got = await Promise.race([job.done, late]);
    clearTimeout(timer);
    return got;
  }

  private finish(id: number, keys: ArrayBuffer, txRoot: ArrayBuffer): void {
    const job = this.jobs.get(id);
    if (job === undefined) return;
    this.jobs.delete(id);
    job.resolve({ keys: new Uint8Array(keys), txRoot: new Uint8Array(txRoot) });
  }

  /** Logs once; from then on nothing is primed and imports recover senders themselves. */
  private fail(err: Error): void {
    if (this.down) return;
    this.down = true;
    this.log.warn({ err: err.message }, 'sender recovery thread unavailable; recovering senders on the main thread');
    this.releaseAll();
    void this.worker?.terminate();
    this.worker = undefined;
  }

  private releaseAll(): void {
    for (const job of this.jobs.values()) job.resolve(undefined);
    this.jobs.clear();
  }
}
