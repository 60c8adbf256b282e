/**
 * The pool journal's file, in geth's format (`transactions.rlp`, core/txpool/legacypool/journal.go):
 * an RLP stream of signed transactions encoded as geth encodes one, a legacy transaction as its RLP
 * list and a typed one as an RLP string holding its envelope. One transaction is appended per
 * write; the whole file is rewritten ("rotated") through a temporary file and a rename, so a crash
 * leaves either the old journal or the new one, and at worst a torn last entry, which reading
 * ignores.
 */
import { closeSync, fsyncSync, ftruncateSync, fstatSync, openSync, renameSync, writeSync } from 'node:fs';
import { mkdir, open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';

/** One entry read back: a transaction's bytes (what eth_sendRawTransaction took), or one too large to read. */
export type JournalEntry = { raw: Uint8Array } | { oversized: number };

/** What reading stopped at: bytes at the end that hold no whole entry (a write cut short by a crash). */
export interface JournalTail {
  tornBytes: number;
}

/** The entry of one transaction: a legacy one is already an RLP list, a typed one goes in an RLP string. */
export function encodeEntry(raw: Uint8Array): Uint8Array {
  if (raw.length > 0 && raw[0]! >= 0xc0) return raw;
  return concat(rlpHeader(0x80, raw.length), raw);
}

function rlpHeader(offset: 0x80 | 0xc0, length: number): Uint8Array {
  if (length < 56) return Uint8Array.of(offset + length);
  const len: number[] = [];
  for (let n = length; n > 0; n = Math.floor(n / 256)) len.unshift(n % 256);
  return Uint8Array.of(offset + 55 + len.length, ...len);
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** An RLP item's header: its length, the payload's, and whether it is a list. Undefined: `b` is too short to tell. */
function parseHeader(b: Uint8Array): { header: number; payload: number; list: boolean } | undefined {
  const first = b[0];
  if (first === undefined) return undefined;
  if (first < 0x80) return { header: 0, payload: 1, list: false };
  const list = first >= 0xc0;
  const short = first - (list ? 0xc0 : 0x80);
  if (short < 56) return { header: 1, payload: short, list };
  const lenOfLen = short - 55;
  if (b.length < 1 + lenOfLen) return undefined;
  let payload = 0;
  // at most 8 length bytes: a length past 2^53 is garbage anyway, and lands past the end of the file
  for (let i = 1; i <= lenOfLen; i++) payload = payload * 256 + b[i]!;
  return { header: 1 + lenOfLen, payload, list };
}

const CHUNK = 1 << 20;

/**
 * The transactions of a journal, in file order, reading at most max(1 MiB, `maxRawBytes`) at a time;
 * a missing file is an empty journal. Entries larger than `maxRawBytes` (the pool would refuse them)
 * are skipped unread. Reading stops at the first entry that does not fit in the file: a torn tail.
 * Bytes that are not a transaction still frame as RLP items and come out as entries; the pool's
 * admission refuses them.
 */
export async function* readJournal(path: string, maxRawBytes: number): AsyncGenerator<JournalEntry, JournalTail> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { tornBytes: 0 };
    throw err;
  }
  try {
    const size = (await fh.stat()).size;
    const win = new ReadWindow(fh, size);
    let at = 0;
    while (at < size) {
      const h = parseHeader(await win.bytes(at, Math.min(9, size - at)));
      const end = h === undefined ? Number.POSITIVE_INFINITY : at + h.header + h.payload;
      if (h === undefined || end > size) return { tornBytes: size - at };
      const start = h.list ? at : at + h.header;
      if (end - start > maxRawBytes) yield { oversized: end - start };
      // a copy: a transaction the pool keeps must not pin the whole read chunk
      else yield { raw: (await win.bytes(start, end - start)).slice() };
      at = end;
    }
    return { tornBytes: 0 };
  } finally {
    await fh.close();
  }
}

/** Positional reads through one buffer of at least 1 MiB, so many small entries cost few reads. */
class ReadWindow {
  private buf = new Uint8Array(0);
  private start = 0;

  constructor(
    private readonly fh: FileHandle,
    private readonly size: number,
  ) {}

  /** `length` bytes at `offset`, which the caller keeps within the file. */
  async bytes(offset: number, length: number): Promise<Uint8Array> {
    if (offset < this.start || offset + length > this.start + this.buf.length) {
      const n = Math.min(Math.max(length, CHUNK), this.size - offset);
      const buf = new Uint8Array(n);
      for (let got = 0; got < n; ) {
        const { bytesRead } = await this.fh.read(buf, got, n - got, offset + got);
        if (bytesRead === 0) throw new Error(`transaction journal shrank while being read at byte ${offset + got}`);
        got += bytesRead;
      }
      this.buf = buf;
      this.start = offset;
    }
    return this.buf.subarray(offset - this.start, offset - this.start + length);
  }
}

/**
 * The journal open for appending. Appends are synchronous, so a transaction is in the file (the
 * OS's, which a kill -9 does not lose) before JSON-RPC answers with its hash. A rotation writes the
 * new file asynchronously; what is appended meanwhile goes to the old file and is copied into the
 * new one before the rename, so no admitted transaction is missing from either.
 */
export class JournalFile {
  private fd: number | undefined;
  private size = 0;
  private appended = 0;
  /** Entries appended while a rotation is writing the new file. */
  private pending: Uint8Array[] | undefined;

  constructor(readonly path: string) {}

  /** Bytes appended since the last rotation (what rotating would reclaim, at most). */
  get appendedBytes(): number {
    return this.appended;
  }

  /**
   * Appends one transaction. A failed write (a full disk) is cut back off, so the file keeps only
   * whole entries, and then thrown. After close() the file is opened for this one write.
   */
  append(raw: Uint8Array): void {
    const entry = encodeEntry(raw);
    this.pending?.push(entry);
    const closed = this.fd === undefined;
    const fd = this.fd ?? openSync(this.path, 'a');
    const at = closed ? fstatSync(fd).size : this.size;
    try {
      for (let done = 0; done < entry.length; ) done += writeSync(fd, entry, done, entry.length - done);
      this.size = at + entry.length;
      this.appended += entry.length;
    } catch (err) {
      try {
        ftruncateSync(fd, at);
      } catch {
        // the reader ignores a torn tail; the next rotation rewrites the file anyway
      }
      throw err;
    } finally {
      if (closed) closeSync(fd);
    }
  }

  /**
   * Replaces the journal with `entries` (each a transaction's bytes) plus whatever is appended
   * meanwhile, and keeps it open for appending. Returns the new file's size. One rotation at a time.
   */
  async rotate(entries: AsyncIterable<Uint8Array>): Promise<number> {
    if (this.pending !== undefined) throw new Error('a journal rotation is already running');
    await mkdir(dirname(this.path), { recursive: true });
    const tmp = `${this.path}.new`;
    this.pending = [];
    const out = await open(tmp, 'w');
    let size = 0;
    try {
      let buf: Uint8Array[] = [];
      let held = 0;
      for await (const raw of entries) {
        const e = encodeEntry(raw);
        buf.push(e);
        held += e.length;
        if (held >= CHUNK) {
          size += await writeAll(out, buf);
          buf = [];
          held = 0;
        }
      }
      size += await writeAll(out, buf);
      // from here on nothing awaits: no append can come between the copy of `pending` and the switch
      for (const e of this.pending) for (let done = 0; done < e.length; ) done += writeSync(out.fd, e, done, e.length - done);
      for (const e of this.pending) size += e.length;
      // a power cut must not leave the renamed journal empty; a kill -9 needs no sync
      fsyncSync(out.fd);
      renameSync(tmp, this.path);
      if (this.fd !== undefined) closeSync(this.fd);
      this.fd = openSync(this.path, 'a');
      this.size = size;
      this.appended = 0;
    } finally {
      this.pending = undefined;
      await out.close();
    }
    return size;
  }

  /** Closes the file; a later append() opens it for that write alone. */
  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

async function writeAll(fh: FileHandle, chunks: Uint8Array[]): Promise<number> {
  if (chunks.length === 0) return 0;
  const data = Buffer.concat(chunks);
  for (let done = 0; done < data.length; ) done += (await fh.write(data, done, data.length - done)).bytesWritten;
  return data.length;
}
