/** Helpers for the p2p tests: real libp2p peers on loopback, free ports, fast heartbeats. */
import pino from 'pino';
import { P2PService } from '../../node/p2p/p2p-service.ts';
import { p2pOptions } from '../../node/p2p/options.ts';
import type { P2POptionsOverrides } from '../../node/p2p/options.ts';
import { waitFor } from '../helpers/wait.ts';

export const CHAIN_ID = 901n;
export const logger = pino({ level: process.env.P2P_TEST_LOG ?? 'silent' });

/** Starts peers and stops every one of them in `stopAll` (call it from afterEach). */
export class Peers {
  private readonly started: P2PService[] = [];

  async start(overrides: P2POptionsOverrides = {}): Promise<P2PService> {
    const svc = await this.create(overrides);
    await svc.start();
    return svc;
  }

  /** Created, not started: for registering handlers first. */
  async create(overrides: P2POptionsOverrides = {}): Promise<P2PService> {
    const svc = await P2PService.create(
      p2pOptions(CHAIN_ID, {
        listen: ['/ip4/127.0.0.1/tcp/0'],
        ...overrides,
        // a short heartbeat forms meshes and applies score checks quickly; the score decay
        // interval cannot go below gossipsub's 1 s minimum
        gossip: { heartbeatMs: 100, ...overrides.gossip },
      }),
      { logger },
    );
    this.started.push(svc);
    return svc;
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.started.splice(0).map((s) => s.stop()));
  }
}

export { waitFor };

/** Dials b from a and waits until both sides see the connection. */
export async function connect(a: P2PService, b: P2PService): Promise<void> {
  await a.dial(b.listenAddrs[0]!);
  await waitFor('connection', () => a.isConnected(b.peerId) && b.isConnected(a.peerId));
}
