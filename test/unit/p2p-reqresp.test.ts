import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ArtifactStore } from '../../node/ai/artifact-store.ts';
import { ARTIFACTS_PROTOCOL, artifactStoreLookup } from '../../node/p2p/artifacts.ts';
import { P2PErrorCode } from '../../node/p2p/errors.ts';
import { encodeVarint, FrameStatus } from '../../node/p2p/framing.ts';
import type { P2PService } from '../../node/p2p/p2p-service.ts';
import { connect, logger, Peers, waitFor } from './p2p-fixture.ts';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest();

describe('artifact request/response between real peers', () => {
  const peers = new Peers();
  let root: string;
  let store: ArtifactStore;
  const big = randomBytes(3 * 1024 * 1024 + 17); // several muxer windows, streamed from a file

  beforeAll(async () => {
    // a model directory as `ai-rollup model compile` leaves it: files plus a manifest of their hashes
    root = await mkdtemp(join(tmpdir(), 'p2p-artifacts-'));
    const dir = join(root, 'm1');
    await mkdir(dir);
    await writeFile(join(dir, 'circuit.zkey'), big);
    const manifest = { modelId: `0x${'ab'.repeat(32)}`, artifacts: [{ name: 'circuit.zkey', sha256: sha(big).toString('hex'), size: big.length }] };
    await writeFile(join(dir, 'manifest.json'), JSON.stringify(manifest));
    store = new ArtifactStore(root, logger);
  });
  afterAll(() => rm(root, { recursive: true, force: true }));
  afterEach(() => peers.stopAll());

  async function pair(serverLookup: Parameters<P2PService['artifacts']['serve']>[0], clientOverrides = {}): Promise<{ server: P2PService; client: P2PService }> {
    const server = await peers.start();
    await server.artifacts.serve(serverLookup);
    const client = await peers.start(clientOverrides);
    await connect(client, server);
    return { server, client };
  }

  it('fetches an artifact from the ArtifactStore by hash, and reports an unknown hash as NOT_FOUND', async () => {
    const { server, client } = await pair(artifactStoreLookup(store));
    const got = await client.artifacts.fetch(server.peerId, sha(big).toString('hex'));
    expect(Buffer.from(got).equals(big)).toBe(true);
    await expect(client.artifacts.fetch(server.peerId, sha(Buffer.from('nobody has this')))).rejects.toMatchObject({ code: P2PErrorCode.NotFound, peer: server.peerId });
    expect(client.peerScore(server.peerId)).toBeGreaterThanOrEqual(0);
  });

  it('detects a server answering the wrong bytes, and scores it down', async () => {
    const { server, client } = await pair(async () => new TextEncoder().encode('not what you asked for'));
    await expect(client.artifacts.fetch(server.peerId, sha(big))).rejects.toMatchObject({ code: P2PErrorCode.HashMismatch, peer: server.peerId });
    await waitFor('server scored down', () => client.peerScore(server.peerId) < 0);
  });

  it('cuts off a response larger than the client accepts', async () => {
    const { server, client } = await pair(artifactStoreLookup(store), { reqresp: { maxResponseBytes: 1024 * 1024 } });
    await expect(client.artifacts.fetch(server.peerId, sha(big))).rejects.toMatchObject({ code: P2PErrorCode.ResponseTooLarge });
    // a per-request cap works the same way, and the connection survives the cut stream
    await expect(client.artifacts.fetch(server.peerId, sha(big), { maxResponseBytes: 10 })).rejects.toMatchObject({ code: P2PErrorCode.ResponseTooLarge });
    expect(client.isConnected(server.peerId)).toBe(true);
  });

  it('times out a server that never answers', async () => {
    let release = (): void => undefined;
    const never = new Promise<undefined>((r) => (release = () => r(undefined)));
    const { server, client } = await pair(() => never);
    await expect(client.artifacts.fetch(server.peerId, sha(big), { timeoutMs: 300 })).rejects.toMatchObject({ code: P2PErrorCode.Timeout });
    release();
  });

  it('treats a server that sends more than it declared as a protocol error', async () => {
    const liar = await peers.start();
    // a misbehaving peer speaking the protocol by hand: declares 4 bytes, sends 8
    await liar.libp2p.handle(ARTIFACTS_PROTOCOL, async (stream) => {
      stream.send(Uint8Array.of(FrameStatus.Ok, ...encodeVarint(4), 1, 2, 3, 4, 5, 6, 7, 8));
      await stream.close();
    });
    const client = await peers.start();
    await connect(client, liar);
    await expect(client.artifacts.fetch(liar.peerId, sha(big))).rejects.toMatchObject({ code: P2PErrorCode.ProtocolError, peer: liar.peerId });
    await waitFor('liar scored down', () => client.peerScore(liar.peerId) < 0);
  });

  it('refuses a request that is not a 32-byte hash', async () => {
    const server = await peers.start();
    await server.artifacts.serve(artifactStoreLookup(store));
    const client = await peers.start();
    await connect(client, server);
    const spec = { id: ARTIFACTS_PROTOCOL, maxRequestBytes: 64 };
    await expect(client.reqresp.request(server.peerId, spec, new Uint8Array(31))).rejects.toMatchObject({ code: P2PErrorCode.InvalidRequest });
  });
});
