/**
 * Publish/subscribe over gossipsub with one handler per topic. Gossipsub runs in async-validation
 * mode: a message is relayed only after its handler's verdict, which the adapter below turns into
 * ACCEPT / IGNORE / REJECT (a reject costs the relaying peer score). Before a handler sees a
 * message, gossipsub has already dropped duplicates by message id (a content hash, see
 * `messageId`), and the adapter rejects anything above the topic's size cap without decoding it.
 */
import './polyfill.ts';
import { createHash } from 'node:crypto';
import { TopicValidatorResult } from '@libp2p/gossipsub';
import type { GossipSub, GossipsubMessage, Message } from '@libp2p/gossipsub';
import type { Logger } from 'pino';
import { P2PError, P2PErrorCode } from './errors.ts';
import { parseTopic, TOPIC_KINDS, topicName } from './topics.ts';
import type { TopicKind } from './topics.ts';
import { CodedError } from '../../precompiles/errors.ts';

export const GossipAction = { Accept: 'accept', Ignore: 'ignore', Reject: 'reject' } as const;
export type GossipAction = (typeof GossipAction)[keyof typeof GossipAction];

/**
 * What a handler throws to refuse a message: `ignore` when the message may be fine but is of no
 * use (already known, too old), `reject` when it is invalid (the sender is penalised).
 */
export class GossipValidationError extends CodedError {
  override name = 'GossipValidationError';
  constructor(
    readonly action: typeof GossipAction.Ignore | typeof GossipAction.Reject,
    override readonly code: string,
    message = code,
  ) {
    super(message);
  }
}

export interface GossipMeta {
  topic: TopicKind;
  /** The peer that relayed the message to us (not necessarily its author). */
  from: string;
  msgId: string;
  size: number;
}

export interface TopicHandler<T> {
  /** Bytes to value; a throw rejects the message as malformed. */
  decode(data: Uint8Array): T;
  /** Validates (and may act on) the value: returning nothing accepts; throw GossipValidationError to ignore or reject. */
  handle(value: T, meta: GossipMeta): void | GossipAction | Promise<void | GossipAction>;
}

export interface GossipVerdict {
  action: GossipAction;
  /** Why it was not accepted: OVERSIZED, MALFORMED, HANDLER_ERROR or the handler's own code. */
  reason?: string;
  /** The untyped error behind a HANDLER_ERROR, for the log. */
  error?: Error;
}

export interface GossipResultEvent extends GossipVerdict {
  topic: TopicKind;
  from: string;
  msgId: string;
}

/** Gossipsub as this module uses it: the class has these methods, its exported interface does not. */
export interface GossipRouter extends GossipSub {
  reportMessageValidationResult(msgId: string, propagationSource: string, acceptance: TopicValidatorResult): void;
  getScore(peerId: string): number;
  getMeshPeers(topic: string): string[];
}

export function asGossipRouter(pubsub: GossipSub): GossipRouter {
  const r = pubsub as Partial<GossipRouter>;
  if (typeof r.reportMessageValidationResult !== 'function' || typeof r.getScore !== 'function' || typeof r.getMeshPeers !== 'function') {
    throw new Error('this @libp2p/gossipsub version lacks reportMessageValidationResult/getScore/getMeshPeers');
  }
  return pubsub as GossipRouter;
}

/** Message id: sha256 of topic and data, first 20 bytes, so identical content dedupes whoever relays it. */
export function messageId(msg: Message): Uint8Array {
  return createHash('sha256').update(msg.topic).update(msg.data).digest().subarray(0, 20);
}

/** The one adapter from a handler's outcome to a gossipsub verdict. */
export async function runTopicHandler<T>(handler: TopicHandler<T>, data: Uint8Array, meta: GossipMeta, maxBytes: number): Promise<GossipVerdict> {
  if (data.length > maxBytes) return { action: GossipAction.Reject, reason: 'OVERSIZED' };
  let value: T;
  try {
    value = handler.decode(data);
  } catch (err) {
    if (err instanceof GossipValidationError) return { action: err.action, reason: err.code };
    return { action: GossipAction.Reject, reason: 'MALFORMED' };
  }
  try {
    return { action: (await handler.handle(value, meta)) ?? GossipAction.Accept };
  } catch (err) {
    if (err instanceof GossipValidationError) return { action: err.action, reason: err.code };
    // an unexpected throw is our bug, not the peer's fault: drop the message without penalty
    return { action: GossipAction.Ignore, reason: 'HANDLER_ERROR', error: err instanceof Error ? err : new Error(String(err)) };
  }
}

const toResult: Record<GossipAction, TopicValidatorResult> = {
  accept: TopicValidatorResult.Accept,
  ignore: TopicValidatorResult.Ignore,
  reject: TopicValidatorResult.Reject,
};

type Counters = Record<TopicKind, Record<GossipAction, number>>;

export class Gossip {
  private readonly handlers = new Map<string, { kind: TopicKind; handler: TopicHandler<unknown> }>();
  private readonly listeners = new Set<(ev: GossipResultEvent) => void>();
  private readonly counters: Counters = Object.fromEntries(TOPIC_KINDS.map((k) => [k, { accept: 0, ignore: 0, reject: 0 }])) as Counters;
  private router: GossipRouter | undefined;

  constructor(
    private readonly opts: { chainId: bigint; topicMaxBytes: Record<TopicKind, number> },
    private readonly logger: Logger,
  ) {}

  /** Registers the topic's handler and joins its mesh (now, or when the service starts). */
  subscribe<T>(kind: TopicKind, handler: TopicHandler<T>): void {
    const name = topicName(this.opts.chainId, kind);
    if (this.handlers.has(name)) throw new P2PError(P2PErrorCode.DuplicateHandler, `topic ${kind} already has a handler`);
    this.handlers.set(name, { kind, handler: handler as TopicHandler<unknown> });
    this.router?.subscribe(name);
  }

  unsubscribe(kind: TopicKind): void {
    const name = topicName(this.opts.chainId, kind);
    if (!this.handlers.delete(name)) return;
    this.router?.unsubscribe(name);
  }

  /** Sends to the topic's mesh; resolves to the number of peers it went to (0 when nobody listens yet). */
  async publish(kind: TopicKind, data: Uint8Array): Promise<number> {
    const router = this.requireRouter();
    const max = this.opts.topicMaxBytes[kind];
    if (data.length > max) throw new P2PError(P2PErrorCode.MessageTooLarge, `${kind} message of ${data.length} bytes exceeds ${max}`);
    const res = await router.publish(topicName(this.opts.chainId, kind), data);
    return res.recipients.length;
  }

  /** The peer's gossipsub score as this node sees it (0 for a peer it has no record of). */
  peerScore(peer: string): number {
    return this.router?.getScore(peer) ?? 0;
  }

  /** Peers subscribed to the topic / in our mesh for it. */
  topicPeers(kind: TopicKind): { subscribers: number; mesh: number } {
    const name = topicName(this.opts.chainId, kind);
    return { subscribers: this.router?.getSubscribers(name).length ?? 0, mesh: this.router?.getMeshPeers(name).length ?? 0 };
  }

  /** Verdicts so far, per topic. */
  stats(): Counters {
    return structuredClone(this.counters);
  }

  /** Called with every verdict; returns the unsubscribe function. */
  onResult(listener: (ev: GossipResultEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Wired by the service once gossipsub has started. */
  attach(router: GossipRouter): void {
    this.router = router;
    router.addEventListener('gossipsub:message', this.onMessage);
    for (const name of this.handlers.keys()) router.subscribe(name);
  }

  detach(): void {
    this.router?.removeEventListener('gossipsub:message', this.onMessage);
    this.router = undefined;
  }

  private requireRouter(): GossipRouter {
    if (this.router === undefined) throw new P2PError(P2PErrorCode.NotStarted, 'p2p service not started');
    return this.router;
  }

  private readonly onMessage = (ev: CustomEvent<GossipsubMessage>): void => {
    void this.validate(ev.detail);
  };

  private async validate({ msgId, propagationSource, msg }: GossipsubMessage): Promise<void> {
    const from = propagationSource.toString();
    const reg = this.handlers.get(msg.topic);
    const kind = reg?.kind ?? parseTopic(msg.topic)?.kind;
    const verdict: GossipVerdict =
      reg === undefined
        ? { action: GossipAction.Ignore, reason: 'NOT_SUBSCRIBED' }
        : await runTopicHandler(reg.handler, msg.data, { topic: reg.kind, from, msgId, size: msg.data.length }, this.opts.topicMaxBytes[reg.kind]);
    // the router may have stopped while the handler ran; its message cache is gone then
    this.router?.reportMessageValidationResult(msgId, from, toResult[verdict.action]);
    if (kind === undefined) return;
    this.counters[kind][verdict.action]++;
    if (verdict.action === GossipAction.Reject) this.logger.debug({ topic: kind, from, reason: verdict.reason }, 'rejected gossip message');
    else if (verdict.error !== undefined) this.logger.warn({ topic: kind, from, err: verdict.error }, 'gossip handler threw an untyped error; message ignored');
    for (const l of this.listeners) l({ topic: kind, from, msgId, ...verdict });
  }
}
