/**
 * Local transactions survive a restart, as geth's `--txpool.journal` makes them: every transaction
 * admitted over this node's JSON-RPC is appended to the journal (sequencer/pool-journal.ts); at
 * start-up the journal is replayed through the pool's ordinary admission, so it can never get a
 * transaction in that the pool would refuse now (signature, nonce, balance, fees, size, limits);
 * then, every `rejournalMs`, when the appends outgrow what the pool holds, and at a clean stop, the
 * journal is rewritten with the pool's local transactions only, so it stays bounded.
 */
import { setImmediate as turn } from 'node:timers/promises';
import type { Logger } from 'pino';
import { TxPoolError } from '../node/txpool/errors.ts';
import type { PoolTx } from '../node/txpool/pool-tx.ts';
import type { TxPoolView } from '../node/txpool/view.ts';
import type { PoolJournalOptions } from './options.ts';
import { JournalFile, readJournal } from './pool-journal.ts';

/** What the journal needs of the pool (sequencer/mempool.ts). */
export interface LocalPool extends TxPoolView {
  addRaw(raw: Uint8Array, origin?: { local?: boolean }): Promise<PoolTx>;
  /** Local transactions in admission order. */
  locals(): PoolTx[];
}

export interface LocalJournalDeps {
  pool: LocalPool;
  logger: Logger;
}

/**
 * Appends since the last rotation that start one early. Every local transaction goes through
 * JSON-RPC here (there is no transaction gossip), so at thousands per second an hour of appends
 * would be gigabytes; rotating once they exceed what the last rotation wrote (and this floor)
 * keeps the file within twice the pool's local transactions plus this much.
 */
const ROTATE_AFTER_BYTES = 16 << 20;
/** Node's timers take at most 2^31 - 1 ms (about 24.8 days); a longer interval would fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** Transactions serialized between two turns of the event loop while rotating. */
const ROTATE_SLICE = 256;

export class LocalTxJournal {
  private file: JournalFile | undefined;
  private timer: NodeJS.Timeout | undefined;
  private rotating: Promise<void> | undefined;
  private lastRotatedBytes = 0;
  private appendFailed = false;
  private stopped = false;

  constructor(
    private readonly opts: PoolJournalOptions & { maxTxBytes: number },
    private readonly deps: LocalJournalDeps,
  ) {}

  /**
   * Replays the journal into the pool, rewrites it with what was admitted, and starts the periodic
   * rewrite. A journal that cannot be read or written is logged and journaling stays off: the
   * node starts anyway, as geth's does.
   */
  async start(): Promise<void> {
    const { logger } = this.deps;
    const file = new JournalFile(this.opts.path);
    await this.load().catch((err: unknown) => logger.error({ err, path: this.opts.path }, 'cannot read the transaction journal'));
    try {
      this.lastRotatedBytes = await file.rotate(this.serialized(this.deps.pool.locals()));
    } catch (err) {
      logger.error({ err, path: this.opts.path }, 'cannot write the transaction journal: local transactions will not survive a restart');
      return;
    }
    this.file = file;
    const every = Math.min(this.opts.rejournalMs, MAX_TIMER_MS);
    this.timer = setInterval(() => void this.rotate(), every);
    this.timer.unref();
  }

  /** The pool as JSON-RPC sees it: what it admits is local and journaled before the answer. */
  view(): TxPoolView {
    const pool = this.deps.pool;
    return {
      addRaw: async (raw) => {
        const p = await pool.addRaw(raw, { local: true });
        this.append(raw);
        return p;
      },
      get: (hash) => pool.get(hash),
      pendingNonce: (sender, stateNonce) => pool.pendingNonce(sender, stateNonce),
      status: () => pool.status(),
      onAdded: (listener) => pool.onAdded(listener),
    };
  }

  /** Rewrites the journal with the pool's local transactions (after the last block: stop the producer first). */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    await this.rotating;
    await this.rotate();
    // transactions JSON-RPC still admits during the rest of the shutdown are appended one write each
    this.file?.close();
  }

  private async load(): Promise<void> {
    const { pool, logger } = this.deps;
    const started = Date.now();
    const entries = readJournal(this.opts.path, this.opts.maxTxBytes);
    let total = 0;
    let dropped = 0;
    for (;;) {
      const next = await entries.next();
      if (next.done === true) {
        const { tornBytes } = next.value;
        if (tornBytes > 0) logger.warn({ path: this.opts.path, bytes: tornBytes }, 'ignored a torn tail of the transaction journal (a write cut short)');
        break;
      }
      total++;
      const e = next.value;
      if ('oversized' in e) {
        dropped++;
        logger.debug({ size: e.oversized }, 'journaled transaction over the size limit dropped');
        continue;
      }
      try {
        await pool.addRaw(e.raw, { local: true });
      } catch (err) {
        dropped++;
        // stale (already mined), replaced, or not a transaction at all: what admission says is enough
        if (err instanceof TxPoolError) logger.debug({ code: err.code, reason: err.message }, 'journaled transaction refused');
        else logger.warn({ err }, 'journaled transaction could not be admitted');
      }
    }
    logger.info({ transactions: total, dropped, ms: Date.now() - started }, 'loaded local transaction journal');
  }

  private append(raw: Uint8Array): void {
    const file = this.file;
    if (file === undefined) return;
    try {
      file.append(raw);
      this.appendFailed = false;
    } catch (err) {
      // once per run of failures: a full disk would otherwise log every transaction
      if (!this.appendFailed) this.deps.logger.warn({ err, path: file.path }, 'cannot append to the transaction journal');
      this.appendFailed = true;
      return;
    }
    if (!this.stopped && file.appendedBytes > Math.max(ROTATE_AFTER_BYTES, this.lastRotatedBytes)) void this.rotate();
  }

  /** One rotation at a time; a request while one runs is served by that one. */
  private rotate(): Promise<void> {
    const file = this.file;
    if (file === undefined) return Promise.resolve();
    this.rotating ??= (async () => {
      const locals = this.deps.pool.locals();
      const started = Date.now();
      try {
        this.lastRotatedBytes = await file.rotate(this.serialized(locals));
        this.deps.logger.info({ transactions: locals.length, bytes: this.lastRotatedBytes, ms: Date.now() - started }, 'regenerated local transaction journal');
      } catch (err) {
        this.deps.logger.warn({ err, path: file.path }, 'cannot rewrite the transaction journal');
      } finally {
        this.rotating = undefined;
      }
    })();
    return this.rotating;
  }

  /** Serialized in slices, so a large pool does not hold the event loop (~10 us a transaction). */
  private async *serialized(txs: PoolTx[]): AsyncGenerator<Uint8Array> {
    for (let i = 0; i < txs.length; i++) {
      if (i > 0 && i % ROTATE_SLICE === 0) await turn();
      yield txs[i]!.tx.serialize();
    }
  }
}
