import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { P2PErrorCode } from '../../node/p2p/errors.ts';
import { p2pOptions } from '../../node/p2p/options.ts';
import { P2PService } from '../../node/p2p/p2p-service.ts';
import { parseTopic, topicName, TopicKind } from '../../node/p2p/topics.ts';
import { CHAIN_ID, logger, Peers, waitFor } from './p2p-fixture.ts';

describe('p2p service lifecycle', () => {
  const peers = new Peers();
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'p2p-service-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));
  afterEach(() => peers.stopAll());

  it('keeps its peer id across a restart with the same key file (mode 0600), and bootstrap peers find it again', async () => {
    const keyFile = join(dir, 'data', 'p2p-key');
    const first = await peers.start({ keyFile });
    expect((await stat(keyFile)).mode & 0o777).toBe(0o600);
    const addr = first.listenAddrs[0]!;
    const port = /\/tcp\/(\d+)\//.exec(addr)![1]!;

    const follower = await peers.start({ bootstrap: [addr], redialMs: 200 });
    await waitFor('bootstrap connection', () => follower.isConnected(first.peerId));

    await first.stop();
    await waitFor('follower saw the drop', () => !follower.isConnected(first.peerId));
    const again = await peers.start({ keyFile, listen: [`/ip4/127.0.0.1/tcp/${port}`] });
    expect(again.peerId).toBe(first.peerId);
    await waitFor('re-dialled after restart', () => follower.isConnected(again.peerId));
    expect(follower.connectedPeers).toBe(1);
  });

  it('refuses a key file that holds no key', async () => {
    const keyFile = join(dir, 'garbage-key');
    await writeFile(keyFile, 'not a key', { mode: 0o600 });
    await expect(peers.create({ keyFile })).rejects.toMatchObject({ code: P2PErrorCode.InvalidKeyFile });
  });

  it('start and stop are idempotent; a stopped service does not start again', async () => {
    const p = await peers.create();
    await Promise.all([p.start(), p.start()]);
    expect(p.listenAddrs[0]).toMatch(/^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\/12D3KooW/);
    await Promise.all([p.stop(), p.stop()]);
    await expect(p.start()).rejects.toMatchObject({ code: P2PErrorCode.Stopped });
    await expect(p.gossip.publish(TopicKind.Txs, new Uint8Array(1))).rejects.toMatchObject({ code: P2PErrorCode.NotStarted });
  });

  it('stops when its abort signal fires', async () => {
    const ac = new AbortController();
    const p = await P2PService.create(p2pOptions(CHAIN_ID, { listen: ['/ip4/127.0.0.1/tcp/0'] }), { logger, signal: ac.signal });
    await p.start();
    ac.abort();
    await waitFor('stopped', () => p.libp2p.status === 'stopped');
  });

  it('reports a listen port in use as LISTEN_FAILED', async () => {
    const a = await peers.start();
    const port = /\/tcp\/(\d+)\//.exec(a.listenAddrs[0]!)![1]!;
    const b = await peers.create({ listen: [`/ip4/127.0.0.1/tcp/${port}`] });
    await expect(b.start()).rejects.toMatchObject({ code: P2PErrorCode.ListenFailed });
  });

  it('rejects peer addresses without a peer id', async () => {
    await expect(peers.create({ bootstrap: ['/ip4/127.0.0.1/tcp/1'] })).rejects.toMatchObject({ code: P2PErrorCode.InvalidMultiaddr });
  });

  it('names topics by chain id and version', () => {
    expect(topicName(CHAIN_ID, TopicKind.Blocks)).toBe('/ai-rollup/901/blocks/1');
    expect(parseTopic('/ai-rollup/901/proofs/1')).toEqual({ chainId: 901n, kind: 'proofs' });
    expect(parseTopic('/ai-rollup/901/proofs/2')).toBeUndefined();
    expect(parseTopic('/ai-rollup/901/other/1')).toBeUndefined();
  });
});
