/** Peer count and gossip verdicts, read from the p2p service at scrape time (the gossip layer keeps its own totals). */
import type { P2PService } from '../p2p/index.ts';
import type { Registry } from './registry.ts';

export function p2pMetrics(reg: Registry, service: Pick<P2PService, 'connectedPeers' | 'gossip'>): void {
  const peers = reg.gauge({ name: 'ai_rollup_p2p_peers', help: 'Connected libp2p peers' });
  const messages = reg.counter({
    name: 'ai_rollup_p2p_gossip_messages_total',
    help: 'Gossip messages received, by topic kind and verdict (accept: relayed; ignore: dropped; reject: dropped and the sender scored down)',
    labels: ['topic', 'verdict'],
  });
  reg.collect(() => {
    peers.set(undefined, service.connectedPeers);
    for (const [topic, verdicts] of Object.entries(service.gossip.stats())) {
      for (const [verdict, n] of Object.entries(verdicts)) messages.setTotal({ topic, verdict }, n);
    }
  });
}
