/**
 * `/ai-rollup/artifacts/1`: content-addressed downloads (circuit wasm, zkeys, verifying keys).
 * The request is the 32-byte sha256 of the wanted file; the answer its bytes. Because the name is
 * the hash, the client trusts no server: it hashes what it got, and a mismatch is an error and a
 * penalty for the peer that sent it.
 */
import { createHash } from 'node:crypto';
import type { PeerId } from '@libp2p/interface';
import type { ArtifactStore } from '../ai/artifact-store.ts';
import { P2PError, P2PErrorCode } from './errors.ts';
import { FrameStatus } from './framing.ts';
import type { Body } from './framing.ts';
import type { ReqResp, RequestOptions, ServerReply, ProtocolSpec } from './reqresp.ts';

export const ARTIFACTS_PROTOCOL = '/ai-rollup/artifacts/1';

/** Two minutes: a 64 MiB zkey over a ~1 MB/s link, with room to spare. */
export const artifactsProtocol: ProtocolSpec = { id: ARTIFACTS_PROTOCOL, maxRequestBytes: 32, timeoutMs: 120_000 };

/** Finds an artifact by its sha256; a `{ size, chunks }` body is streamed rather than loaded. */
export type ArtifactLookup = (sha256: Uint8Array) => Promise<Body | undefined>;

/** Serves what a node's ArtifactStore indexed (files it already checked against their manifests). */
export function artifactStoreLookup(store: Pick<ArtifactStore, 'file' | 'open'>): ArtifactLookup {
  return async (sha256) => {
    const entry = await store.file(Buffer.from(sha256).toString('hex'));
    if (entry === undefined) return undefined;
    const chunks = store.open(entry) as AsyncIterable<Uint8Array | string>;
    return { size: entry.size, chunks };
  };
}

export class Artifacts {
  constructor(private readonly reqresp: ReqResp) {}

  /** Answers artifact requests from `lookup`. */
  serve(lookup: ArtifactLookup): Promise<void> {
    return this.reqresp.register(artifactsProtocol, async (request): Promise<ServerReply> => {
      if (request.length !== 32) return { status: FrameStatus.InvalidRequest, reason: 'request must be a 32-byte sha256' };
      const body = await lookup(request);
      return body === undefined ? { status: FrameStatus.NotFound, reason: 'unknown artifact' } : { status: FrameStatus.Ok, body };
    });
  }

  /**
   * Fetches the artifact with this sha256 (32 bytes or 64 hex digits) from `peer`. Throws
   * NOT_FOUND, HASH_MISMATCH, RESPONSE_TOO_LARGE, TIMEOUT, ... as a P2PError.
   */
  async fetch(peer: PeerId | string, sha256: Uint8Array | string, opts: RequestOptions = {}): Promise<Uint8Array> {
    const want = typeof sha256 === 'string' ? hexHash(sha256) : sha256;
    if (want.length !== 32) throw new RangeError('sha256 must be 32 bytes');
    const body = await this.reqresp.request(peer, artifactsProtocol, want, opts);
    const got = createHash('sha256').update(body).digest();
    if (!got.equals(want)) {
      const id = peer.toString();
      this.reqresp.penalize(id, 'artifact hash mismatch');
      throw new P2PError(P2PErrorCode.HashMismatch, `artifact from ${id} hashes to ${got.toString('hex')}, asked for ${Buffer.from(want).toString('hex')}`, id);
    }
    return body;
  }
}

function hexHash(hex: string): Uint8Array {
  const h = hex.startsWith('0x') ? hex.slice(2) : hex;
  if (!/^[0-9a-fA-F]{64}$/.test(h)) throw new RangeError(`not a sha256: ${hex}`);
  return Buffer.from(h, 'hex');
}
