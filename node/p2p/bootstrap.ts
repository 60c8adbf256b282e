/**
 * Keeps this node connected to its bootstrap peers: dials them at start and re-dials any that
 * dropped, so a replica whose sequencer restarted finds it again without its own restart.
 */
import { multiaddr } from '@multiformats/multiaddr';
import type { Multiaddr } from '@multiformats/multiaddr';
import { peerIdFromString } from '@libp2p/peer-id';
import type { Libp2p, PeerId } from '@libp2p/interface';
import type { Logger } from 'pino';
import { P2PError, P2PErrorCode } from './errors.ts';

export interface PeerAddr {
  id: PeerId;
  addr: Multiaddr;
}

/** A full peer address, `/ip4/1.2.3.4/tcp/9222/p2p/12D3KooW...`. */
export function parsePeerAddr(text: string): PeerAddr {
  let addr: Multiaddr;
  try {
    addr = multiaddr(text);
  } catch (err) {
    throw new P2PError(P2PErrorCode.InvalidMultiaddr, `${text}: ${(err as Error).message}`);
  }
  const p2p = addr.getComponents().find((c) => c.name === 'p2p')?.value;
  if (p2p === undefined) throw new P2PError(P2PErrorCode.InvalidMultiaddr, `${text} has no /p2p/<peer id>`);
  try {
    return { id: peerIdFromString(p2p), addr };
  } catch (err) {
    throw new P2PError(P2PErrorCode.InvalidMultiaddr, `${text}: bad peer id: ${(err as Error).message}`);
  }
}

export class BootstrapDialer {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly peers: readonly PeerAddr[],
    private readonly redialMs: number,
    private readonly deps: { node: Pick<Libp2p, 'dial' | 'getConnections'>; isBanned(peer: string): boolean; logger: Logger },
  ) {}

  start(): void {
    if (this.peers.length === 0 || this.timer !== undefined) return;
    this.tick();
    this.timer = setInterval(() => this.tick(), this.redialMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private tick(): void {
    for (const p of this.peers) {
      const id = p.id.toString();
      if (this.deps.isBanned(id) || this.deps.node.getConnections(p.id).length > 0) continue;
      this.deps.node.dial(p.addr).then(
        () => this.deps.logger.debug({ peer: id }, 'connected to bootstrap peer'),
        (err: unknown) => this.deps.logger.debug({ peer: id, addr: p.addr.toString(), err: (err as Error).message }, 'bootstrap dial failed; will retry'),
      );
    }
  }
}
