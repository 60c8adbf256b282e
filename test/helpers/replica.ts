/** Replica tests: replicas started as users start them, a libp2p peer on the blocks topic, chain comparisons. */
import { createServer } from 'node:net';
import { Block, createBlockHeader } from '@ethereumjs/block';
import type { Common } from '@ethereumjs/common';
import { KECCAK256_RLP } from '@ethereumjs/util';
import pino from 'pino';
import type { Hex } from 'viem';
import { decodeBlock } from '../../node/chain/block-codec.ts';
import { createL2Common } from '../../node/chain/common.ts';
import { nodeCrypto } from '../../node/chain/crypto.ts';
import { P2PService, TopicKind, p2pOptions } from '../../node/p2p/index.ts';
import { encodeBlockGossip, signBlockHash, splitBlockGossip } from '../../node/sync/block-gossip.ts';
import { getBlocks } from './chain-audit.ts';
import { startDevNode } from './dev-node.ts';
import type { DevNode, DevNodeOptions } from './dev-node.ts';
import { waitFor } from './wait.ts';

/** A TCP port nobody listens on right now (the sequencer keeps its p2p port across a restart). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  const { port } = server.address() as { port: number };
  await new Promise((res) => server.close(res));
  return port;
}

/** `ai-rollup node --replica` with these bootnodes (and a free loopback p2p port of its own). */
export function startReplica(bootnodes: string[], args: string[], opts: DevNodeOptions = {}): Promise<DevNode> {
  return startDevNode({ ...opts, args: ['--replica', '--p2p.listen', '/ip4/127.0.0.1/tcp/0', '--p2p.bootnodes', bootnodes.join(','), ...args, ...(opts.args ?? [])] });
}

/** A libp2p peer in the test process on the blocks topic, recording every payload it is handed. */
export async function blocksPeer(chainId: bigint) {
  const payloads: Uint8Array[] = [];
  const decoded: Block[] = [];
  const common = createL2Common({ chainId, customCrypto: nodeCrypto });
  const p2p = await P2PService.create(p2pOptions(chainId, { listen: ['/ip4/127.0.0.1/tcp/0'], gossip: { heartbeatMs: 200 } }), { logger: pino({ level: 'silent' }) });
  p2p.gossip.subscribe(TopicKind.Blocks, {
    decode: (bytes) => {
      payloads.push(Uint8Array.from(bytes));
      decoded.push(decodeBlock(splitBlockGossip(bytes).blockRlp, common));
      return bytes;
    },
    // never relayed by this peer: what reaches another node came from the node it is connected to
    handle: () => 'ignore' as const,
  });
  await p2p.start();
  return { p2p, payloads, blocks: () => decoded, common };
}
export type BlocksPeer = Awaited<ReturnType<typeof blocksPeer>>;

/** Dials the node and waits until the blocks mesh with it is up, so nothing published is missed. */
export async function joinBlocks(peer: BlocksPeer, node: DevNode): Promise<void> {
  await peer.p2p.dial(node.p2p[0]!);
  await waitFor('blocks mesh with the node', () => peer.p2p.gossip.topicPeers(TopicKind.Blocks).mesh >= 1, 30_000);
}

/** A child of `parent` with no transactions and the given state root, signed by `key`: the gossip payload. */
export async function signedChild(parent: Block, common: Common, key: Hex, stateRoot: Uint8Array): Promise<{ block: Block; payload: Uint8Array }> {
  const p = parent.header;
  const header = createBlockHeader(
    {
      parentHash: parent.hash(),
      coinbase: p.coinbase,
      number: p.number + 1n,
      gasLimit: p.gasLimit,
      timestamp: p.timestamp + 1n,
      baseFeePerGas: p.baseFeePerGas,
      stateRoot,
      transactionsTrie: KECCAK256_RLP,
      receiptTrie: KECCAK256_RLP,
      gasUsed: 0n,
      blobGasUsed: 0n,
      withdrawalsRoot: KECCAK256_RLP,
    },
    { common, setHardfork: false },
  );
  const block = new Block(header, [], [], [], { common, setHardfork: false });
  return { block, payload: encodeBlockGossip(await signBlockHash(key, common.chainId(), block.hash()), block.serialize()) };
}

/** Hash and state root of blocks 0..to, as the node serves them. */
export async function chainOf(url: string, to: bigint): Promise<string[]> {
  const blocks = await getBlocks(url, 0n, to, false);
  return blocks.map((b: { number: string; hash: string; stateRoot: string }) => `${BigInt(b.number)} ${b.hash} ${b.stateRoot}`);
}
