/** The pool journal's flags (geth's `--txpool.journal`, `--txpool.rejournal`, `--txpool.nolocals`) mapped onto options. */
import { isAbsolute, join } from 'node:path';
import type { PoolJournalOptions } from '../../sequencer/options.ts';

/** The journal's file name in the datadir, geth's. */
export const JOURNAL_FILE = 'transactions.rlp';
/** Node's timers take at most 2^31 - 1 ms. */
const MAX_REJOURNAL_MS = 2 ** 31 - 1;

/**
 * Where local transactions are journaled, or undefined for none: a replica keeps no pool, a
 * `--dev` node on a temporary datadir loses its directory at exit anyway (unless given a file),
 * and `--txpool.nolocals` treats nothing as local. A relative file is inside the datadir, as geth
 * resolves it.
 */
export function poolJournalOptions(f: Record<string, unknown>, datadir: string, temporaryDatadir: boolean): PoolJournalOptions | undefined {
  const file = f['txpool.journal'] as string | undefined;
  const rejournalMs = f['txpool.rejournal'] as number;
  if (file === '') throw new Error('--txpool.journal needs a file name (--txpool.nolocals turns the journal off)');
  if (f.replica === true) {
    if (file !== undefined) throw new Error('--txpool.journal is for the sequencer: a replica keeps no pool (it forwards transactions)');
    return undefined;
  }
  if (f['txpool.nolocals'] === true) {
    if (file !== undefined) throw new Error('--txpool.journal and --txpool.nolocals contradict each other: with no local transactions nothing is journaled');
    return undefined;
  }
  if (rejournalMs < 1000 || rejournalMs > MAX_REJOURNAL_MS) throw new Error('--txpool.rejournal must be between 1s and 596h');
  if (file === undefined && temporaryDatadir) return undefined;
  const name = file ?? JOURNAL_FILE;
  return { path: isAbsolute(name) ? name : join(datadir, name), rejournalMs };
}
