/**
 * Sender recovery of the blocks a catch-up will import next, on a worker thread (what geth's
 * senderCacher does). Re-executing a block spends a good part of the main thread recovering
 * transaction senders (message hash and ecdsaRecover per transaction); the worker does it for the
 * blocks ahead, and its keys go into each transaction's own cache (`tx.cache.senderPubKey`, which
 * ethereumjs's getSenderPublicKey returns when set), so the import finds them done.
 *
 * A key is only set on the transaction whose serialized bytes the worker decoded and recovered it
 * from; deposits (no signature) and whatever the worker could not recover are left to the main
 * thread, which then raises the proper error. A wrong key could not make a replica take a wrong
 * block anyway: the block would re-execute to another state and be refused (block-importer.ts).
 * The worker is an optimisation only: if it fails, or has not answered, imports recover alone.
 */
import { Worker } from 'node:worker_threads';
import type { Block } from '@ethereumjs/block';
import type { TypedTransaction } from '@ethereumjs/tx';
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
}

export type RecoveryResult = { ready: true } | { id: number; keys: ArrayBuffer };

/** A worker that has not answered for this long is not waited for: the import recovers on its own. */
const READY_TIMEOUT_MS = 10_000;

const ENTRY = new URL('./sender-recovery-entry.mjs', import.meta.url);

interface Job {
  txs: TypedTransaction[];
  done: Promise<void>;
  resolve(): void;
}

export class SenderRecovery {
  private worker: Worker | undefined;
  private up = false;
  private down = false;
  private readonly log: Logger;
  private readonly jobs = new Map<number, Job>();
  private readonly byBlock = new WeakMap<Block, Job>();
  private nextId = 1;
  private started: Promise<void> | undefined;

  constructor(
    private readonly opts: { chainId: bigint },
    deps: { logger: Logger },
  ) {
    this.log = deps.logger.child({ module: 'sync:senders' });
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
          this.up = true;
          resolve();
        } else this.finish(msg.id, msg.keys);
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

  /** Hands the signed transactions of `blocks` to the worker (blocks already primed are skipped). */
  prime(blocks: Block[]): void {
    if (this.down || this.worker === undefined) return;
    for (const block of blocks) {
      if (this.byBlock.has(block)) continue;
      const txs = block.transactions.filter((tx) => !isDepositTx(tx) && tx.cache.senderPubKey === undefined);
      if (txs.length === 0) continue;
      const raw = txs.map((tx) => tx.serialize());
      const ends = new Uint32Array(raw.length);
      const bytes = new Uint8Array(raw.reduce((n, r) => n + r.length, 0));
      let at = 0;
      raw.forEach((r, i) => {
        bytes.set(r, at);
        at += r.length;
        ends[i] = at;
      });
      let resolve!: () => void;
      const done = new Promise<void>((r) => (resolve = r));
      const job: Job = { txs, done, resolve };
      const id = this.nextId++;
      try {
        this.worker.postMessage({ id, bytes: bytes.buffer, ends } satisfies RecoveryJob, [bytes.buffer, ends.buffer]);
      } catch (err) {
        this.fail(err as Error);
        return;
      }
      this.jobs.set(id, job);
      this.byBlock.set(block, job);
    }
  }

  /**
   * Resolves once the keys of `block`'s transactions are set; at once if it was never primed, the
   * worker is not up, or failed. Never rejects, and waits at most READY_TIMEOUT_MS.
   */
  async ready(block: Block): Promise<void> {
    const job = this.byBlock.get(block);
    if (job === undefined || !this.up || this.down) return;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, READY_TIMEOUT_MS)));
    await Promise.race([job.done, late]);
    clearTimeout(timer);
  }

  private finish(id: number, keys: ArrayBuffer): void {
    const job = this.jobs.get(id);
    if (job === undefined) return;
    this.jobs.delete(id);
    const all = new Uint8Array(keys);
    job.txs.forEach((tx, i) => {
      const key = all.slice(i * PUBKEY_BYTES, (i + 1) * PUBKEY_BYTES);
      if (tx.cache.senderPubKey === undefined && key.some((b) => b !== 0)) tx.cache.senderPubKey = key;
    });
    job.resolve();
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
    for (const job of this.jobs.values()) job.resolve();
    this.jobs.clear();
  }
}
