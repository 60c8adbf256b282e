import { afterEach, describe, expect, it } from 'vitest';
import { isP2PError, P2PErrorCode } from '../../node/p2p/errors.ts';
import { GossipAction, GossipValidationError, runTopicHandler } from '../../node/p2p/gossip.ts';
import type { GossipResultEvent, TopicHandler } from '../../node/p2p/gossip.ts';
import { TopicKind, topicName } from '../../node/p2p/topics.ts';
import type { P2PService } from '../../node/p2p/p2p-service.ts';
import { CHAIN_ID, connect, Peers, waitFor } from './p2p-fixture.ts';

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

/** Accepts `ok:*`, rejects `bad:*`, ignores the rest; records what it accepted. */
function recorder(): TopicHandler<string> & { seen: string[] } {
  const seen: string[] = [];
  return {
    seen,
    decode: (b) => {
      const s = dec(b);
      if (!s.includes(':')) throw new Error('not a message');
      return s;
    },
    handle: (s) => {
      if (s.startsWith('bad:')) throw new GossipValidationError(GossipAction.Reject, 'BAD');
      if (!s.startsWith('ok:')) return GossipAction.Ignore;
      seen.push(s);
    },
  };
}

describe('gossip adapter', () => {
  const meta = { topic: TopicKind.Txs, from: 'p', msgId: 'm', size: 0 };
  const h = recorder();

  it('maps a handler outcome to accept / ignore / reject', async () => {
    expect(await runTopicHandler(h, enc('ok:1'), meta, 100)).toEqual({ action: 'accept' });
    expect(await runTopicHandler(h, enc('other:1'), meta, 100)).toEqual({ action: 'ignore' });
    expect(await runTopicHandler(h, enc('bad:1'), meta, 100)).toEqual({ action: 'reject', reason: 'BAD' });
  });

  it('rejects oversized messages before decoding, and undecodable ones', async () => {
    let decoded = 0;
    const counting: TopicHandler<string> = { decode: (b) => (decoded++, dec(b)), handle: () => undefined };
    expect(await runTopicHandler(counting, new Uint8Array(101), meta, 100)).toEqual({ action: 'reject', reason: 'OVERSIZED' });
    expect(decoded).toBe(0);
    expect(await runTopicHandler(h, enc('junk'), meta, 100)).toEqual({ action: 'reject', reason: 'MALFORMED' });
  });

  it('ignores (does not penalise) on an untyped handler error', async () => {
    const buggy: TopicHandler<string> = {
      decode: dec,
      handle: () => {
        throw new TypeError('oops');
      },
    };
    const v = await runTopicHandler(buggy, enc('ok:1'), meta, 100);
    expect(v.action).toBe('ignore');
    expect(v.reason).toBe('HANDLER_ERROR');
  });
});

describe('gossip between real peers', () => {
  const peers = new Peers();
  afterEach(() => peers.stopAll());

  /** A - B - C in a line, all on the txs topic; returns their handlers. */
  async function line(): Promise<{ a: P2PService; b: P2PService; c: P2PService; hb: ReturnType<typeof recorder>; hc: ReturnType<typeof recorder> }> {
    const [a, b, c] = await Promise.all([peers.start(), peers.start(), peers.start()]);
    const hb = recorder();
    const hc = recorder();
    a!.gossip.subscribe(TopicKind.Txs, recorder());
    b!.gossip.subscribe(TopicKind.Txs, hb);
    c!.gossip.subscribe(TopicKind.Txs, hc);
    await connect(a!, b!);
    await connect(c!, b!);
    await waitFor(
      'B meshed with A and C',
      () => b!.gossip.topicPeers(TopicKind.Txs).mesh === 2 && a!.gossip.topicPeers(TopicKind.Txs).mesh === 1 && c!.gossip.topicPeers(TopicKind.Txs).mesh === 1,
    );
    return { a: a!, b: b!, c: c!, hb, hc };
  }

  it('relays A -> B -> C what B accepts, and never what B rejects; the rejected sender loses score at B', async () => {
    const { a, b, c, hb, hc } = await line();
    const atB: GossipResultEvent[] = [];
    b.gossip.onResult((ev) => atB.push(ev));

    expect(await a.gossip.publish(TopicKind.Txs, enc('ok:1'))).toBe(1);
    await waitFor('C got ok:1', () => hc.seen.includes('ok:1'));
    expect(hb.seen).toEqual(['ok:1']);

    await a.gossip.publish(TopicKind.Txs, enc('bad:1'));
    await waitFor('B rejected bad:1', () => b.gossip.stats().txs.reject === 1);
    await a.gossip.publish(TopicKind.Txs, enc('meh:1'));
    await waitFor('B ignored meh:1', () => b.gossip.stats().txs.ignore === 1);
    await a.gossip.publish(TopicKind.Txs, enc('ok:2'));
    await waitFor('C got ok:2', () => hc.seen.includes('ok:2'));

    // C's handler never saw bad:1 or meh:1 at all: B forwarded neither
    expect(c.gossip.stats().txs).toEqual({ accept: 2, ignore: 0, reject: 0 });
    expect(atB.find((e) => e.action === 'reject')).toMatchObject({ topic: 'txs', from: a.peerId, reason: 'BAD' });
    await waitFor('A negative at B', () => b.peerScore(a.peerId) < 0);
    expect(c.isConnected(a.peerId)).toBe(false);
  });

  it('scores a peer publishing junk down until it is disconnected and banned', async () => {
    const small = { topicMaxBytes: { blocks: 1024 } };
    const [honest, junk] = await Promise.all([peers.start(small), peers.start(small)]);
    const h = recorder();
    honest!.gossip.subscribe(TopicKind.Blocks, h);
    junk!.gossip.subscribe(TopicKind.Blocks, recorder());
    await connect(junk!, honest!);
    await waitFor('mesh', () => honest!.gossip.topicPeers(TopicKind.Blocks).mesh === 1);
    const reasons = new Set<string | undefined>();
    honest!.gossip.onResult((ev) => reasons.add(ev.reason));

    // the junk peer goes under its own Gossip API (which would refuse oversized data)
    const raw = junk!.libp2p.services.pubsub;
    const topic = topicName(CHAIN_ID, TopicKind.Blocks);
    let i = 0;
    await waitFor('junk peer disconnected', async () => {
      const data = i % 2 === 0 ? enc(`junk-${i}`) : new Uint8Array(2000).fill(i);
      i++;
      await raw.publish(topic, data);
      return !honest!.isConnected(junk!.peerId) && honest!.isBanned(junk!.peerId);
    });

    expect(reasons).toEqual(new Set(['MALFORMED', 'OVERSIZED']));
    expect(honest!.gossip.stats().blocks.accept).toBe(0);
    expect(honest!.peerScore(junk!.peerId)).toBeLessThan(honest!.options.scoring.graylistThreshold);
    // the ban holds: once the junk peer has seen the hang-up, it cannot come back
    await waitFor('junk side closed', () => !junk!.isConnected(honest!.peerId));
    // (the dialer's side may see its upgrade finish before the refusal arrives, so it is the
    // honest side that is checked: it never admits the connection)
    await junk!.dial(honest!.listenAddrs[0]!).catch((e: unknown) => expect(isP2PError(e, P2PErrorCode.DialFailed)).toBe(true));
    await waitFor('refused connection closed', () => !junk!.isConnected(honest!.peerId));
    expect(honest!.isConnected(junk!.peerId)).toBe(false);
    expect(h.seen).toEqual([]);
  });

  it('refuses a second handler for a topic and oversized publishes', async () => {
    const p = await peers.start({ topicMaxBytes: { proofs: 10 } });
    p.gossip.subscribe(TopicKind.Proofs, recorder());
    expect(() => p.gossip.subscribe(TopicKind.Proofs, recorder())).toThrow(expect.objectContaining({ code: P2PErrorCode.DuplicateHandler }));
    await expect(p.gossip.publish(TopicKind.Proofs, new Uint8Array(11))).rejects.toMatchObject({ code: P2PErrorCode.MessageTooLarge });
    expect(await p.gossip.publish(TopicKind.Proofs, enc('ok:alone'))).toBe(0);
  });
});
