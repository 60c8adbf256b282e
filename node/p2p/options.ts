import { defaultTopicMaxBytes } from './topics.ts';
import type { TopicKind } from './topics.ts';

/** Peer-to-peer settings; the CLI (and the prover's CLI) map their flags onto these. */
export interface P2POptions {
  /** Chain the topics are scoped to (`/ai-rollup/<chainId>/...`). */
  chainId: bigint;
  /** Multiaddrs to listen on. `/ip4/127.0.0.1/tcp/0` picks a free port (tests). */
  listen: string[];
  /**
   * Peers dialled at start and re-dialled every `redialMs` while not connected, each a full
   * multiaddr ending in `/p2p/<peer id>`. They are scored like anyone else.
   */
  bootstrap: string[];
  /**
   * Trusted peers (e.g. the sequencer and its own replicas), same format: gossipsub keeps a
   * connection to them, forwards every message to them and never graylists them.
   */
  directPeers: string[];
  /**
   * File holding this node's private key (libp2p protobuf encoding, mode 0600), created on first
   * start, so the peer id survives restarts and peers' bootstrap lists stay valid. The node uses
   * `DATADIR/p2p-key`. Unset: a fresh key (and peer id) on every start.
   */
  keyFile?: string;
  /** Most open connections; libp2p prunes the lowest-value ones above it. */
  maxConnections: number;
  /** Milliseconds between re-dials of disconnected bootstrap peers. */
  redialMs: number;
  /** Largest message per topic, bytes (defaults in topics.ts). */
  topicMaxBytes: Record<TopicKind, number>;
  gossip: GossipTuning;
  scoring: ScoringOptions;
  reqresp: ReqRespOptions;
}

/** Gossipsub mesh parameters. Defaults are gossipsub's (and Ethereum consensus clients'). */
export interface GossipTuning {
  /** Target number of peers per topic that receive full messages (gossipsub D). */
  D: number;
  /** Below this many mesh peers the heartbeat grafts more (Dlo). */
  Dlo: number;
  /** Above this many it prunes (Dhi). */
  Dhi: number;
  /** Milliseconds between heartbeats: mesh maintenance, gossip emission, score decay checks. */
  heartbeatMs: number;
  /**
   * Heartbeats a message stays in the message cache. Under async validation a handler must
   * answer within roughly this many heartbeats, or the message is no longer forwarded.
   */
  mcacheLength: number;
  /** Milliseconds a message id stays in the seen cache: a duplicate within it is dropped before any decoding. */
  seenTtlMs: number;
}

/**
 * Peer scoring (gossipsub v1.1). A peer's score is the sum over topics of its mesh time bonus,
 * its first-delivery bonus and its invalid-message penalty (weight × invalid count²), plus an
 * application penalty from failed request/response exchanges.
 */
export interface ScoringOptions {
  /** Below this we stop sending gossip (IHAVE) to a peer and ignore its gossip. */
  gossipThreshold: number;
  /** Below this our own messages are not flood-published to a peer. */
  publishThreshold: number;
  /** Below this every RPC from the peer is ignored (graylisted). */
  graylistThreshold: number;
  /** Below this the peer is disconnected and banned for `banMs`; our policy, gossipsub only graylists. */
  disconnectThreshold: number;
  banMs: number;
  /** Score per invalid message on each topic, squared with the count (negative). */
  invalidMessageWeight: Record<TopicKind, number>;
  /** Factor the invalid-message count is multiplied by every `decayIntervalMs` (0.99/s: half-life ~69 s). */
  invalidMessageDecay: number;
  decayIntervalMs: number;
  /** Points a request/response failure that proves misbehaviour (wrong hash, broken framing) costs. */
  reqrespPenalty: number;
  /** Half-life of those points, milliseconds. */
  penaltyHalfLifeMs: number;
  /** Peers sharing one IP before the co-location penalty starts (provers behind one NAT are normal). */
  ipColocationThreshold: number;
}

export interface ReqRespOptions {
  /** Largest response body accepted, bytes; a larger declared length is cut off unread. */
  maxResponseBytes: number;
  /** Milliseconds a whole request (dial, send, full response) may take. */
  timeoutMs: number;
  /** Concurrent inbound streams per connection and protocol. */
  maxInboundStreams: number;
}

export const defaultGossipTuning: GossipTuning = {
  D: 6,
  Dlo: 4,
  Dhi: 12,
  heartbeatMs: 1000,
  mcacheLength: 6,
  seenTtlMs: 120_000,
};

export const defaultScoringOptions: ScoringOptions = {
  gossipThreshold: -100,
  publishThreshold: -200,
  graylistThreshold: -400,
  disconnectThreshold: -400,
  banMs: 10 * 60_000,
  // blocks and proofs come from few, accountable senders: junk there weighs more
  invalidMessageWeight: { blocks: -20, txs: -10, jobs: -10, proofs: -20 },
  invalidMessageDecay: 0.99,
  decayIntervalMs: 1000,
  reqrespPenalty: 100,
  penaltyHalfLifeMs: 10 * 60_000,
  ipColocationThreshold: 10,
};

export const defaultReqRespOptions: ReqRespOptions = {
  maxResponseBytes: 64 * 1024 * 1024,
  timeoutMs: 30_000,
  maxInboundStreams: 32,
};

export const defaultP2POptions: Omit<P2POptions, 'chainId'> = {
  listen: ['/ip4/0.0.0.0/tcp/9222'],
  bootstrap: [],
  directPeers: [],
  maxConnections: 100,
  redialMs: 10_000,
  topicMaxBytes: { ...defaultTopicMaxBytes },
  gossip: defaultGossipTuning,
  scoring: defaultScoringOptions,
  reqresp: defaultReqRespOptions,
};

/** Defaults with `overrides` merged one level deep (so `{ gossip: { heartbeatMs: 100 } }` keeps the other gossip fields). */
export function p2pOptions(chainId: bigint, overrides: P2POptionsOverrides = {}): P2POptions {
  const d = defaultP2POptions;
  return {
    ...d,
    ...overrides,
    chainId,
    topicMaxBytes: { ...d.topicMaxBytes, ...overrides.topicMaxBytes },
    gossip: { ...d.gossip, ...overrides.gossip },
    scoring: {
      ...d.scoring,
      ...overrides.scoring,
      invalidMessageWeight: { ...d.scoring.invalidMessageWeight, ...overrides.scoring?.invalidMessageWeight },
    },
    reqresp: { ...d.reqresp, ...overrides.reqresp },
  };
}

export type P2POptionsOverrides = Partial<Omit<P2POptions, 'chainId' | 'topicMaxBytes' | 'gossip' | 'scoring' | 'reqresp'>> & {
  topicMaxBytes?: Partial<Record<TopicKind, number>>;
  gossip?: Partial<GossipTuning>;
  scoring?: Partial<Omit<ScoringOptions, 'invalidMessageWeight'>> & { invalidMessageWeight?: Partial<Record<TopicKind, number>> };
  reqresp?: Partial<ReqRespOptions>;
};
