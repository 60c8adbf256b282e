/**
 * The peer-to-peer service: libp2p over TCP with noise encryption, yamux multiplexing, identify,
 * ping, gossipsub for topics and a request/response protocol for content-addressed artifacts.
 * The node (sequencer, replicas) and the prover process both run one.
 *
 * Use:
 * ```ts
 * const p2p = await P2PService.create(
 *   p2pOptions(chainId, { listen: ['/ip4/0.0.0.0/tcp/9222'], bootstrap: [...], keyFile: join(datadir, 'p2p-key') }),
 *   { logger, signal },                    // the parent logger: the service names its `p2p*` children
 * );
 * p2p.gossip.subscribe(TopicKind.Blocks, {  // one handler per topic, before or after start()
 *   decode: (bytes) => decodeBlock(bytes),  // a throw rejects the message (the relayer loses score)
 *   handle: async (block, { from }) => {    // return: accept (then it is relayed); throw
 *     if (known(block)) throw new GossipValidationError('ignore', 'KNOWN');   // GossipValidationError
 *     if (!signedBySequencer(block)) throw new GossipValidationError('reject', 'BAD_SIGNATURE');
 *   },
 * });
 * await p2p.artifacts.serve(artifactStoreLookup(artifactStore));  // serve what the node indexed
 * await p2p.start();
 * await p2p.gossip.publish(TopicKind.Blocks, encodeBlock(block));  // resolves to the peer count
 * const zkey = await p2p.artifacts.fetch(peerId, sha256Hex);       // hash-checked, or a P2PError
 * await p2p.stop();
 * ```
 * Failures are `P2PError`s with a `code` (errors.ts). Another request/response protocol (block
 * ranges for replica sync) registers through `p2p.reqresp.register(spec, handler)` and reuses the
 * framing in framing.ts. Peers whose score falls below `scoring.disconnectThreshold` are
 * disconnected and banned for `scoring.banMs`.
 */
import './polyfill.ts';
import { createRequire } from 'node:module';
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { gossipsub } from '@libp2p/gossipsub';
import type { GossipSub, GossipsubOpts } from '@libp2p/gossipsub';
import { identify } from '@libp2p/identify';
import type { Identify } from '@libp2p/identify';
import type { Libp2p } from '@libp2p/interface';
import { ping } from '@libp2p/ping';
import type { Ping } from '@libp2p/ping';
import { tcp } from '@libp2p/tcp';
import { multiaddr } from '@multiformats/multiaddr';
import { createLibp2p } from 'libp2p';
import type { Logger } from 'pino';
import { Artifacts } from './artifacts.ts';
import { BootstrapDialer, parsePeerAddr } from './bootstrap.ts';
import type { PeerAddr } from './bootstrap.ts';
import { P2PError, P2PErrorCode } from './errors.ts';
import { asGossipRouter, Gossip, messageId } from './gossip.ts';
import type { GossipRouter } from './gossip.ts';
import type { P2POptions } from './options.ts';
import { PeerGuard } from './peer-guard.ts';
import { loadOrCreatePeerKey } from './peer-key.ts';
import { ReqResp } from './reqresp.ts';
import { PeerPenalties, peerScoreParams, peerScoreThresholds } from './scoring.ts';
import { TOPIC_KINDS, topicName } from './topics.ts';

const pkg = createRequire(import.meta.url)('../../package.json') as { version: string };

type Services = { identify: Identify; ping: Ping; pubsub: GossipSub };

export interface P2PDeps {
  /** Parent logger; the service logs as `p2p`, `p2p:gossip` and `p2p:reqresp`. */
  logger: Logger;
  /** Aborting it stops the service. */
  signal?: AbortSignal;
}

/** Room for gossipsub's protobuf envelope around the largest topic payload. */
const RPC_OVERHEAD_BYTES = 64 * 1024;

export class P2PService {
  private state: 'created' | 'starting' | 'started' | 'stopped' = 'created';
  private starting: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;
  private readonly onHeartbeat = (): void => this.guard.check(this.router.getPeers());

  private constructor(
    readonly options: P2POptions,
    /** The libp2p node itself, for what this service does not wrap (metrics, custom protocols). */
    readonly libp2p: Libp2p<Services>,
    private readonly router: GossipRouter,
    readonly gossip: Gossip,
    readonly reqresp: ReqResp,
    readonly artifacts: Artifacts,
    private readonly guard: PeerGuard,
    private readonly bootstrap: BootstrapDialer,
    private readonly logger: Logger,
  ) {}

  static async create(options: P2POptions, deps: P2PDeps): Promise<P2PService> {
    const logger = deps.logger.child({ module: 'p2p' });
    const privateKey = await loadOrCreatePeerKey(options.keyFile, logger);
    const bootstrapPeers = options.bootstrap.map(parsePeerAddr);
    const directPeers = options.directPeers.map(parsePeerAddr);
    const penalties = new PeerPenalties(options.scoring.penaltyHalfLifeMs);
    const { disconnectThreshold, banMs } = options.scoring;
    const guard = new PeerGuard({ disconnectThreshold, banMs, trusted: new Set(directPeers.map((p) => p.id.toString())) });
    const libp2p = await createLibp2p<Services>({
      start: false,
      privateKey,
      // identify's agent string; libp2p would otherwise report its own version as ours
      nodeInfo: { name: 'ai-rollup', version: pkg.version },
      addresses: { listen: options.listen },
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      connectionGater: guard.gater(),
      connectionManager: { maxConnections: options.maxConnections },
      services: { identify: identify(), ping: ping(), pubsub: gossipsub(gossipsubInit(options, penalties, directPeers)) },
    });
    const router = asGossipRouter(libp2p.services.pubsub);
    guard.attach({ score: (id) => router.getScore(id), hangUp: (p) => libp2p.hangUp(p), logger });
    const gossip = new Gossip(options, deps.logger.child({ module: 'p2p:gossip' }));
    const reqresp = new ReqResp(options.reqresp, {
      logger: deps.logger.child({ module: 'p2p:reqresp' }),
      penalize: (peer, reason) => {
        penalties.add(peer, options.scoring.reqrespPenalty);
        logger.debug({ peer, reason, score: router.getScore(peer) }, 'penalised peer');
      },
    });
    const dialer = new BootstrapDialer(bootstrapPeers, options.redialMs, { node: libp2p, isBanned: (p) => guard.isBanned(p), logger });
    const service = new P2PService(options, libp2p, router, gossip, reqresp, new Artifacts(reqresp), guard, dialer, logger);
    if (deps.signal?.aborted === true) void service.stop();
    else deps.signal?.addEventListener('abort', () => void service.stop(), { once: true });
    return service;
  }

  get peerId(): string {
    return this.libp2p.peerId.toString();
  }

  /** Addresses others can dial, each ending in `/p2p/<peer id>` (the actual port once started). */
  get listenAddrs(): string[] {
    return this.libp2p.getMultiaddrs().map((a) => a.toString());
  }

  get connectedPeers(): number {
    return this.libp2p.getPeers().length;
  }

  isConnected(peer: string): boolean {
    return this.libp2p.getPeers().some((p) => p.toString() === peer);
  }

  /** The peer's score (gossip behaviour plus request/response penalties) as this node sees it. */
  peerScore(peer: string): number {
    return this.gossip.peerScore(peer);
  }

  isBanned(peer: string): boolean {
    return this.guard.isBanned(peer);
  }

  /** Connects to a full peer address (`.../p2p/<id>`); bootstrap peers are dialled on their own. */
  async dial(addr: string): Promise<void> {
    if (this.state !== 'started') throw new P2PError(P2PErrorCode.NotStarted, 'p2p service not started');
    const { id } = parsePeerAddr(addr);
    try {
      await this.libp2p.dial(multiaddr(addr));
    } catch (err) {
      throw new P2PError(P2PErrorCode.DialFailed, `dial ${addr}: ${(err as Error).message}`, id.toString());
    }
  }

  /** Starts listening, joins the subscribed topics, serves the registered protocols. Repeat calls are no-ops. */
  start(): Promise<void> {
    if (this.state === 'stopped') return Promise.reject(new P2PError(P2PErrorCode.Stopped, 'a stopped p2p service cannot start again; create a new one'));
    this.starting ??= this.doStart();
    return this.starting;
  }

  private async doStart(): Promise<void> {
    this.state = 'starting';
    try {
      await this.libp2p.start();
    } catch (err) {
      throw new P2PError(P2PErrorCode.ListenFailed, `p2p could not listen on ${this.options.listen.join(', ')}: ${(err as Error).message}`);
    }
    this.gossip.attach(this.router);
    this.router.addEventListener('gossipsub:heartbeat', this.onHeartbeat);
    await this.reqresp.attach(this.libp2p);
    this.bootstrap.start();
    this.state = 'started';
    this.logger.info({ peerId: this.peerId, listen: this.listenAddrs }, 'p2p started');
  }

  /** Closes every connection and the listeners. Repeat calls are no-ops. */
  stop(): Promise<void> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    const wasStarted = this.starting !== undefined;
    await this.starting?.catch(() => undefined);
    this.state = 'stopped';
    if (!wasStarted) return;
    this.bootstrap.stop();
    this.router.removeEventListener('gossipsub:heartbeat', this.onHeartbeat);
    this.gossip.detach();
    this.reqresp.detach();
    await this.libp2p.stop();
    this.logger.info('p2p stopped');
  }
}

function gossipsubInit(o: P2POptions, penalties: PeerPenalties, direct: readonly PeerAddr[]): Partial<GossipsubOpts> {
  const g = o.gossip;
  return {
    // blocks carry the sequencer's own signature and other topics are judged by content, so
    // libp2p's per-message author signatures would only cost bytes and CPU (as in Ethereum's p2p)
    globalSignaturePolicy: 'StrictNoSign',
    // nothing is forwarded until our handler has given its verdict
    asyncValidation: true,
    // the seen cache keys on this content hash; no fastMsgIdFn, as it would hash every new
    // message a second time to save one native sha256 on duplicates
    msgIdFn: messageId,
    allowPublishToZeroTopicPeers: true,
    ignoreDuplicatePublishError: true,
    emitSelf: false,
    fallbackToFloodsub: false,
    doPX: false,
    allowedTopics: TOPIC_KINDS.map((k) => topicName(o.chainId, k)),
    // a frame above this is dropped by gossipsub's length-prefix decoder before it is read
    maxInboundDataLength: Math.max(...Object.values(o.topicMaxBytes)) + RPC_OVERHEAD_BYTES,
    directPeers: direct.map((p) => ({ id: p.id, addrs: [p.addr] })),
    D: g.D,
    Dlo: g.Dlo,
    Dhi: g.Dhi,
    Dscore: Math.min(4, g.Dlo),
    Dout: Math.min(2, Math.floor(g.D / 2)),
    Dlazy: g.D,
    heartbeatInterval: g.heartbeatMs,
    mcacheLength: g.mcacheLength,
    seenTTL: g.seenTtlMs,
    scoreParams: peerScoreParams(o.chainId, o.scoring, penalties),
    scoreThresholds: peerScoreThresholds(o.scoring),
  };
}
