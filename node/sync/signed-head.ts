/**
 * `/ai-rollup/signed-head/1`: "what is the newest block signed by the block signer you hold?"
 * Gossip only carries blocks as they are made, so without this a replica that starts (or
 * restarts, or missed a message) on a quiet chain would wait for the next block before it
 * could even begin to catch up, and a gossipsub mesh takes a heartbeat or two to form.
 *
 *   request:  empty
 *   response: the `blocks` gossip payload (block-gossip.ts: signature || blockRlp), or NOT_FOUND
 *
 * A sequencer answers with its head, signed on demand; a replica with the newest signed block
 * it imported. The answer is checked exactly like a gossiped block (block-follower.ts `offer`),
 * so a peer gains nothing by lying but a penalty.
 */
import type { Common } from '@ethereumjs/common';
import type { Logger } from 'pino';
import type { Chain } from '../chain/chain.ts';
import { P2PError, P2PErrorCode } from '../p2p/errors.ts';
import { FrameStatus } from '../p2p/framing.ts';
import type { ProtocolSpec, ReqResp, ServerReply } from '../p2p/reqresp.ts';
import { decodeGossipBlock, encodeBlockGossip, SIGNATURE_BYTES } from './block-gossip.ts';
import type { GossipBlock } from './block-gossip.ts';
import { isSyncError, REJECT_CODES } from './errors.ts';
import type { SyncOptions } from './options.ts';

export const SIGNED_HEAD_PROTOCOL = '/ai-rollup/signed-head/1';

export function signedHeadSpec(o: SyncOptions): ProtocolSpec {
  return { id: SIGNED_HEAD_PROTOCOL, maxRequestBytes: 0, maxResponseBytes: SIGNATURE_BYTES + o.rangeMaxBytes, timeoutMs: o.rangeTimeoutMs };
}

/** What a server answers with; undefined when it holds no signed block. */
export type SignedHeadSource = () => Promise<GossipBlock | undefined>;

export function serveSignedHead(reqresp: ReqResp, source: SignedHeadSource, o: SyncOptions): Promise<void> {
  return reqresp.register(signedHeadSpec(o), async (): Promise<ServerReply> => {
    const head = await source();
    if (head === undefined) return { status: FrameStatus.NotFound, reason: 'no signed block held' };
    return { status: FrameStatus.Ok, body: encodeBlockGossip(head.signature, head.block.serialize()) };
  });
}

/** The peer's signed head, decoded and body-checked (not yet signature-checked); undefined if it holds none. */
export async function fetchSignedHead(reqresp: ReqResp, peer: string, common: Common, o: SyncOptions, signal?: AbortSignal): Promise<GossipBlock | undefined> {
  let body: Uint8Array;
  try {
    body = await reqresp.request(peer, signedHeadSpec(o), new Uint8Array(0), { signal });
  } catch (err) {
    if (err instanceof P2PError && err.code === P2PErrorCode.NotFound) return undefined;
    throw err;
  }
  try {
    return decodeGossipBlock(body, common);
  } catch (err) {
    reqresp.penalize(peer, `signed head: ${(err as Error).message}`);
    throw err;
  }
}

export interface HeadPollerDeps {
  chain: Pick<Chain, 'head' | 'common'>;
  reqresp: ReqResp;
  /** The follower's entry for a signed block from `peer` (checks the signature, imports or catches up). */
  offer(gb: GossipBlock, peer: string): Promise<void>;
  peers(): string[];
  logger: Logger;
}

/**
 * Asks every newly connected peer for its signed head, and, while the head does not move for
 * `headPollMs`, a few connected peers again: a replica never depends on catching a gossip message.
 */
export class HeadPoller {
  private timer: NodeJS.Timeout | undefined;
  private lastHead = -1n;
  private readonly abort = new AbortController();

  constructor(
    private readonly opts: SyncOptions,
    private readonly deps: HeadPollerDeps,
  ) {}

  start(): void {
    this.timer ??= setInterval(() => this.poll(), this.opts.headPollMs);
    this.timer.unref();
    for (const peer of this.deps.peers()) void this.ask(peer);
  }

  async stop(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.abort.abort();
  }

  /** Call when a peer connects. */
  onConnect(peer: string): void {
    if (!this.abort.signal.aborted) void this.ask(peer);
  }

  private poll(): void {
    const head = this.deps.chain.head.header.number;
    const moved = head !== this.lastHead;
    this.lastHead = head;
    if (moved) return;
    const peers = this.deps.peers();
    for (let i = 0; i < Math.min(3, peers.length); i++) void this.ask(peers.splice(Math.floor(Math.random() * peers.length), 1)[0]!);
  }

  private async ask(peer: string): Promise<void> {
    let gb: GossipBlock | undefined;
    try {
      gb = await fetchSignedHead(this.deps.reqresp, peer, this.deps.chain.common, this.opts, this.abort.signal);
    } catch (err) {
      this.deps.logger.debug({ peer, err: (err as Error).message }, 'signed head request failed');
      return;
    }
    if (gb === undefined || gb.block.header.number <= this.deps.chain.head.header.number) return;
    try {
      await this.deps.offer(gb, peer);
    } catch (err) {
      if (isSyncError(err) && REJECT_CODES.has(err.code)) {
        this.deps.reqresp.penalize(peer, `signed head: ${err.message}`);
        this.deps.logger.warn({ peer, code: err.code, number: gb.block.header.number, reason: err.message }, 'rejected signed head');
      }
    }
  }
}
