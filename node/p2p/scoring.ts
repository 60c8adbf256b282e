/**
 * Peer scoring: gossipsub v1.1 score parameters per topic, and the application-specific part
 * (P5) that request/response failures feed, so one number judges a peer for both.
 */
import type { PeerScoreParams, PeerScoreThresholds, TopicScoreParams } from '@libp2p/gossipsub/score';
import type { ScoringOptions } from './options.ts';
import { TOPIC_KINDS, topicName } from './topics.ts';
import type { TopicKind } from './topics.ts';

/**
 * One topic's parameters. Mesh delivery penalties (P3, P3b) are off: they punish peers for a
 * quiet topic (jobs and proofs can be silent for minutes), which honest peers cannot help.
 */
function topicParams(kind: TopicKind, o: ScoringOptions): TopicScoreParams {
  return {
    topicWeight: 1,
    // P1: +0.1 per second in the mesh, at most +30: staying connected earns a little slack
    timeInMeshWeight: 0.1,
    timeInMeshQuantum: 1000,
    timeInMeshCap: 300,
    // P2: +1 per message first delivered to us, decaying, at most +20
    firstMessageDeliveriesWeight: 1,
    firstMessageDeliveriesDecay: 0.9,
    firstMessageDeliveriesCap: 20,
    meshMessageDeliveriesWeight: 0,
    meshMessageDeliveriesDecay: 0.5,
    meshMessageDeliveriesCap: 1,
    meshMessageDeliveriesThreshold: 1,
    meshMessageDeliveriesWindow: 10,
    meshMessageDeliveriesActivation: 5000,
    meshFailurePenaltyWeight: 0,
    meshFailurePenaltyDecay: 0.5,
    // P4: weight × (invalid count)², the count decaying every decay interval
    invalidMessageDeliveriesWeight: o.invalidMessageWeight[kind],
    invalidMessageDeliveriesDecay: o.invalidMessageDecay,
  };
}

export function peerScoreParams(chainId: bigint, o: ScoringOptions, penalties: PeerPenalties): Partial<PeerScoreParams> {
  const topics: Record<string, TopicScoreParams> = {};
  for (const kind of TOPIC_KINDS) topics[topicName(chainId, kind)] = topicParams(kind, o);
  return {
    topics,
    // the positive part is bounded, so good behaviour cannot bank enough credit to hide junk
    topicScoreCap: 50,
    appSpecificScore: (peer) => penalties.score(peer),
    appSpecificWeight: 1,
    IPColocationFactorWeight: -5,
    IPColocationFactorThreshold: o.ipColocationThreshold,
    IPColocationFactorWhitelist: new Set(),
    decayInterval: o.decayIntervalMs,
    decayToZero: 0.1,
    // a misbehaving peer cannot reset its score by reconnecting within the hour
    retainScore: 3_600_000,
  };
}

export function peerScoreThresholds(o: ScoringOptions): Partial<PeerScoreThresholds> {
  return {
    gossipThreshold: o.gossipThreshold,
    publishThreshold: o.publishThreshold,
    graylistThreshold: o.graylistThreshold,
    acceptPXThreshold: 100,
    opportunisticGraftThreshold: 5,
  };
}

/**
 * Penalty points per peer outside gossip (a wrong artifact, broken framing), halving every
 * `halfLifeMs`; gossipsub reads them as the application-specific score.
 */
export class PeerPenalties {
  private readonly points = new Map<string, { value: number; at: number }>();

  constructor(private readonly halfLifeMs: number) {}

  add(peer: string, points: number): void {
    const value = this.current(peer) + points;
    this.points.set(peer, { value, at: Date.now() });
  }

  /** The (negative) application score of a peer. */
  score(peer: string): number {
    const v = this.current(peer);
    return v === 0 ? 0 : -v;
  }

  private current(peer: string): number {
    const p = this.points.get(peer);
    if (p === undefined) return 0;
    const v = p.value * 0.5 ** ((Date.now() - p.at) / this.halfLifeMs);
    // forget the peer once the penalty has faded, so the map does not grow with every peer ever seen
    if (v < 0.5) {
      this.points.delete(peer);
      return 0;
    }
    return v;
  }
}
