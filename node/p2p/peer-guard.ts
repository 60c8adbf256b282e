/**
 * Disconnects and bans peers whose score fell below the disconnect threshold. Gossipsub on its
 * own only graylists (ignores) them, which still leaves them a connection slot and our
 * request/response handlers; a ban frees the slot and refuses them for `banMs`. Bans live in
 * memory: after a restart gossipsub's retained scores are gone too, so both start afresh.
 */
import type { ConnectionGater, PeerId } from '@libp2p/interface';
import type { Logger } from 'pino';

export interface PeerGuardDeps {
  score(peer: string): number;
  hangUp(peer: PeerId): Promise<void>;
  logger: Logger;
}

export class PeerGuard {
  private readonly bannedUntil = new Map<string, number>();
  private deps: PeerGuardDeps | undefined;

  constructor(private readonly opts: { disconnectThreshold: number; banMs: number; trusted: ReadonlySet<string> }) {}

  /** The guard exists before libp2p (which takes its gater), its dependencies after. */
  attach(deps: PeerGuardDeps): void {
    this.deps = deps;
  }

  isBanned(peer: string): boolean {
    const until = this.bannedUntil.get(peer);
    if (until === undefined) return false;
    if (until > Date.now()) return true;
    this.bannedUntil.delete(peer);
    return false;
  }

  /** Refuses banned peers both ways, before the muxer is set up. */
  gater(): ConnectionGater {
    return {
      denyDialPeer: (peer) => this.isBanned(peer.toString()),
      denyInboundEncryptedConnection: (peer) => this.isBanned(peer.toString()),
      denyOutboundEncryptedConnection: (peer) => this.isBanned(peer.toString()),
    };
  }

  /** Run on every gossipsub heartbeat, right after scores were refreshed. */
  check(peers: readonly PeerId[]): void {
    const deps = this.deps;
    if (deps === undefined) return;
    for (const peer of peers) {
      const id = peer.toString();
      if (this.opts.trusted.has(id)) continue;
      const score = deps.score(id);
      if (score >= this.opts.disconnectThreshold) continue;
      this.ban(id);
      deps.logger.warn({ peer: id, score }, 'peer score below disconnect threshold; disconnecting and banning');
      deps.hangUp(peer).catch((err: unknown) => deps.logger.debug({ peer: id, err: (err as Error).message }, 'hang up failed'));
    }
  }

  ban(peer: string, ms = this.opts.banMs): void {
    this.bannedUntil.set(peer, Date.now() + ms);
  }
}
