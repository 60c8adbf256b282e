/**
 * Wire framing shared by every request/response protocol (artifacts now, block ranges later):
 *
 *   request:  uvarint(length) || bytes
 *   response: status (1 byte) || uvarint(length) || bytes, then the server closes its side
 *
 * Lengths come first so a reader refuses an oversized frame before reading a byte of it, and
 * bodies are written in chunks with back-pressure so a 64 MiB artifact is never copied whole.
 * A non-OK status carries a short UTF-8 reason as its body.
 */
import type { Stream } from '@libp2p/interface';
import { P2PError, P2PErrorCode } from './errors.ts';

export const FrameStatus = { Ok: 0, NotFound: 1, InvalidRequest: 2, ServerError: 3 } as const;
export type FrameStatus = (typeof FrameStatus)[keyof typeof FrameStatus];

/** Longest reason text after a non-OK status. */
export const MAX_REASON_BYTES = 256;
/** uvarint bytes for lengths below 2^35; more is a broken frame, not a big one. */
const MAX_VARINT_BYTES = 5;

/** A response body: bytes in memory, or a known size and the chunks that make it up (a file). */
export type Body = Uint8Array | { size: number; chunks: AsyncIterable<Uint8Array | string> };

type Chunk = { subarray(): Uint8Array };

/** Pulls exact byte counts out of a stream's chunks. */
export class ByteReader {
  private readonly it: AsyncIterator<Chunk>;
  private buf: Uint8Array = new Uint8Array(0);
  private ended = false;

  constructor(source: AsyncIterable<Chunk>) {
    this.it = source[Symbol.asyncIterator]();
  }

  /** Up to `max` buffered-or-next bytes; empty only at the end of the stream. */
  async readSome(max: number): Promise<Uint8Array> {
    if (this.buf.length === 0 && !(await this.fill())) return new Uint8Array(0);
    const out = this.buf.subarray(0, Math.min(max, this.buf.length));
    this.buf = this.buf.subarray(out.length);
    return out;
  }

  /** Memory grows with the bytes that arrive, not with the length a peer merely declared. */
  async readExactly(n: number): Promise<Uint8Array> {
    const parts: Uint8Array[] = [];
    for (let off = 0; off < n; ) {
      const part = await this.readSome(n - off);
      if (part.length === 0) throw new P2PError(P2PErrorCode.ProtocolError, `stream ended after ${off} of ${n} bytes`);
      parts.push(part);
      off += part.length;
    }
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts, n);
  }

  async readVarint(): Promise<number> {
    let value = 0;
    for (let i = 0; i < MAX_VARINT_BYTES; i++) {
      const b = (await this.readExactly(1))[0]!;
      value += (b & 0x7f) * 2 ** (7 * i);
      if ((b & 0x80) === 0) return value;
    }
    throw new P2PError(P2PErrorCode.ProtocolError, 'length prefix is too long');
  }

  /** True when the remote closed its side and nothing is left unread. */
  async atEnd(): Promise<boolean> {
    return this.buf.length === 0 && !(await this.fill());
  }

  private async fill(): Promise<boolean> {
    while (!this.ended) {
      const r = await this.it.next();
      if (r.done === true) {
        this.ended = true;
        break;
      }
      const chunk = r.value.subarray();
      if (chunk.length === 0) continue;
      // only called with an empty buffer, so the chunk becomes the buffer without a copy
      this.buf = chunk;
      return true;
    }
    return false;
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

export function encodeVarint(n: number): Uint8Array {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`cannot encode length ${n}`);
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return Uint8Array.from(out);
}

/** Sends bytes, waiting for the muxer's send buffer to drain when it says so. */
export async function send(stream: Stream, data: Uint8Array): Promise<void> {
  if (!stream.send(data)) await stream.onDrain();
}

export async function writeRequest(stream: Stream, payload: Uint8Array): Promise<void> {
  await send(stream, concat(encodeVarint(payload.length), payload));
}

/** The request's bytes; a declared length above `maxBytes` is refused unread. */
export async function readRequest(reader: ByteReader, maxBytes: number): Promise<Uint8Array> {
  const len = await reader.readVarint();
  if (len > maxBytes) throw new P2PError(P2PErrorCode.InvalidRequest, `request of ${len} bytes exceeds ${maxBytes}`);
  return reader.readExactly(len);
}

/** Writes the status, the length and the body; throws if the body's chunks do not add up to its size. */
export async function writeResponse(stream: Stream, status: FrameStatus, body: Body): Promise<void> {
  const size = body instanceof Uint8Array ? body.length : body.size;
  await send(stream, concat(Uint8Array.of(status), encodeVarint(size)));
  if (body instanceof Uint8Array) {
    if (body.length > 0) await send(stream, body);
    return;
  }
  let written = 0;
  for await (const c of body.chunks) {
    const chunk = typeof c === 'string' ? new TextEncoder().encode(c) : c;
    written += chunk.length;
    // a file that grew after it was indexed: stop rather than send bytes past the declared length
    if (written > size) throw new P2PError(P2PErrorCode.ProtocolError, `body longer than its declared ${size} bytes`);
    await send(stream, chunk);
  }
  if (written !== size) throw new P2PError(P2PErrorCode.ProtocolError, `body of ${written} bytes, declared ${size}`);
}

export function writeError(stream: Stream, status: Exclude<FrameStatus, 0>, reason: string): Promise<void> {
  return writeResponse(stream, status, new TextEncoder().encode(reason).subarray(0, MAX_REASON_BYTES));
}

export interface ResponseHeader {
  status: FrameStatus;
  length: number;
}

/** Status and length; an OK body above `maxBytes` (or an error reason above its cap) is refused unread. */
export async function readResponseHeader(reader: ByteReader, maxBytes: number): Promise<ResponseHeader> {
  const status = (await reader.readExactly(1))[0]!;
  if (!isFrameStatus(status)) throw new P2PError(P2PErrorCode.ProtocolError, `unknown response status ${status}`);
  const length = await reader.readVarint();
  if (status === FrameStatus.Ok && length > maxBytes) throw new P2PError(P2PErrorCode.ResponseTooLarge, `response of ${length} bytes exceeds ${maxBytes}`);
  if (status !== FrameStatus.Ok && length > MAX_REASON_BYTES) throw new P2PError(P2PErrorCode.ProtocolError, `error reason of ${length} bytes`);
  return { status, length };
}

/** Reads a body of the header's length and checks that nothing follows it. */
export async function readBody(reader: ByteReader, length: number): Promise<Uint8Array> {
  const body = await reader.readExactly(length);
  if (!(await reader.atEnd())) throw new P2PError(P2PErrorCode.ProtocolError, `bytes after the declared ${length}-byte body`);
  return body;
}

function isFrameStatus(b: number): b is FrameStatus {
  return b <= FrameStatus.ServerError;
}
