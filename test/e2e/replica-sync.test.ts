/**
 * The range catch-up's trust argument, against a real sequencer process and real libp2p peers:
 * a peer answering blocks-by-range with a well-formed chain that is not the signed one is
 * penalised and never imported; the catch-up takes the blocks from an honest peer, checked
 * against the hashes the signed block fixes (bodies re-fetched when they did not fit in memory),
 * and a chain that does not lead back to ours (another genesis) is refused as a whole. The
 * signed-head request: a forged answer is refused and penalised, the sequencer's starts a
 * catch-up; a replica process of an idle dev chain (signer from --sequencer-address) catches up
 * from it alone, with no block gossiped.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Block, createBlockHeader } from '@ethereumjs/block';
import { RLP } from '@ethereumjs/rlp';
import { bytesToHex, KECCAK256_RLP } from '@ethereumjs/util';
import type { Common } from '@ethereumjs/common';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getContractAddress, keccak256 } from 'viem';
import type { Hex } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { createAiPrecompiles } from '../../precompiles/index.ts';
import { blockFromValues } from '../../node/chain/block-codec.ts';
import { Chain } from '../../node/chain/chain.ts';
import { createL2Common } from '../../node/chain/common.ts';
import { nodeCrypto } from '../../node/chain/crypto.ts';
import { devGenesis, withPredeploys } from '../../node/chain/genesis.ts';
import { openKV } from '../../node/db/kv.ts';
import type { KV } from '../../node/db/kv.ts';
import { P2PService, TopicKind, p2pOptions } from '../../node/p2p/index.ts';
import { BlockFollower, verifyBlockSigner } from '../../node/sync/block-follower.ts';
import { checkBlockBody, decodeGossipBlock, signBlockHash } from '../../node/sync/block-gossip.ts';
import type { GossipBlock } from '../../node/sync/block-gossip.ts';
import { BlockImporter } from '../../node/sync/block-importer.ts';
import { fetchRawRange, serveBlocksByRange } from '../../node/sync/blocks-by-range.ts';
import { SyncErrorCode } from '../../node/sync/errors.ts';
import { defaultSyncOptions } from '../../node/sync/options.ts';
import type { SyncOptions } from '../../node/sync/options.ts';
import { RangeSync } from '../../node/sync/range-sync.ts';
import { SenderRecovery } from '../../node/sync/sender-recovery.ts';
import { fetchSignedHead, HeadPoller, serveSignedHead } from '../../node/sync/signed-head.ts';
import { DEV_KEYS, removeDir, startDevNode } from '../helpers/dev-node.ts';
import type { DevNode } from '../helpers/dev-node.ts';
import { sendLoad } from '../helpers/load.ts';
import { getBlocks } from '../helpers/chain-audit.ts';
import { blocksPeer, chainOf, joinBlocks, signedChild, startReplica } from '../helpers/replica.ts';
import { addr, blockNumber, must, nonceOf, sign } from '../helpers/txs.ts';
import { waitFor } from '../helpers/wait.ts';
import { WsRpc } from '../helpers/ws-rpc.ts';

const CHAIN_ID = 1337n;
const KEY = generatePrivateKey();
const GAS_LIMIT = 30_000_000n;
const silent = pino({ level: 'silent' });
const peerIdOf = (a: string) => a.split('/p2p/')[1]!;
/** Init code of a contract whose code is PUSH1 0 PUSH1 0 LOG0 STOP: one empty log per call. */
const LOG0_EMITTER_INITCODE: Hex = '0x6006600c60003960066000f360006000a000';
/** Small ranges and no room for bodies: the walk takes several requests and every body is fetched twice. */
const SMALL: SyncOptions = { ...defaultSyncOptions, rangeMaxBlocks: 8, catchUpBodyBytes: 1 };
/** The node's range limits (64 blocks per request). */
const NODE_LIMITS: SyncOptions = defaultSyncOptions;

async function openChain(dir: string, alloc = true): Promise<{ chain: Chain; kv: KV }> {
  const kv = await openKV(join(dir, 'chaindata'));
  const spec = devGenesis(CHAIN_ID, GAS_LIMIT);
  if (!alloc) spec.alloc = {};
  const { spec: genesis } = withPredeploys(spec);
  const common = createL2Common({ chainId: CHAIN_ID, customCrypto: nodeCrypto });
  const chain = await Chain.open({ common, genesis, precompiles: await createAiPrecompiles() }, { kv, logger: silent });
  return { chain, kv };
}

/** Well-formed empty blocks 1..n chained on a random parent: a plausible chain, not the signed one. */
function fakeChain(chain: Chain, n: number): Block[] {
  const out: Block[] = [];
  let parent = randomBytes(32) as Uint8Array;
  for (let i = 1; i <= n; i++) {
    const header = createBlockHeader(
      {
        parentHash: parent,
        number: BigInt(i),
        gasLimit: GAS_LIMIT,
        timestamp: BigInt(i),
        baseFeePerGas: 1_000_000n,
        stateRoot: randomBytes(32),
        transactionsTrie: KECCAK256_RLP,
        receiptTrie: KECCAK256_RLP,
        blobGasUsed: 0n,
        withdrawalsRoot: KECCAK256_RLP,
      },
      { common: chain.common, setHardfork: false },
    );
    const block = new Block(header, [], [], [], { common: chain.common, setHardfork: false });
    out.push(block);
    parent = block.hash();
  }
  return out;
}

describe('catch-up by blocks-by-range takes only ancestors of a sequencer-signed block', () => {
  let work: string;
  let seq: DevNode;
  let replicaP2P: P2PService;
  let liar: P2PService;
  let anchor: GossipBlock;
  const kvs: KV[] = [];

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'replica-sync-'));
    seq = await startDevNode({ blockTime: 0, args: ['--sequencer-key', KEY, '--p2p.listen', '/ip4/127.0.0.1/tcp/0'] });
    const payloads: Uint8Array[] = [];
    replicaP2P = await P2PService.create(p2pOptions(CHAIN_ID, { listen: ['/ip4/127.0.0.1/tcp/0'], gossip: { heartbeatMs: 200 } }), { logger: silent });
    replicaP2P.gossip.subscribe(TopicKind.Blocks, { decode: (b) => payloads.push(Uint8Array.from(b)), handle: () => 'ignore' as const });
    await replicaP2P.start();
    await replicaP2P.dial(seq.p2p[0]!);
    await waitFor('blocks mesh with the sequencer', () => replicaP2P.gossip.topicPeers(TopicKind.Blocks).mesh >= 1, 30_000);

    // automine: one block per transaction, 30 blocks
    const raws = await Promise.all(Array.from({ length: 30 }, (_, i) => sign(DEV_KEYS[0], { nonce: i, to: addr(generatePrivateKey()), value: 1n })));
    const sent = await sendLoad(
      seq.url,
      raws.map((raw) => ({ raw, hash: keccak256(raw) })),
    );
    expect(sent.refused).toEqual([]);
    await waitFor('30 blocks', async () => (await nonceOf(seq.url, addr(DEV_KEYS[0]))) === 30, 120_000);
    const { chain: scratch, kv } = await openChain(join(work, 'scratch'));
    kvs.push(kv);
    anchor = await waitFor(
      'the 30th block gossiped',
      () => {
        const last = payloads.at(-1);
        const gb = last === undefined ? undefined : decodeGossipBlock(last, scratch.common);
        return gb !== undefined && gb.block.header.number === 30n ? gb : undefined;
      },
      60_000,
    );

    liar = await P2PService.create(p2pOptions(CHAIN_ID, { listen: ['/ip4/127.0.0.1/tcp/0'] }), { logger: silent });
    const fake = fakeChain(scratch, 40);
    await serveBlocksByRange(liar.reqresp, { headNumber: () => 40n, blockRlp: async (n) => fake[Number(n) - 1]?.serialize() }, SMALL);
    await liar.start();
    await replicaP2P.dial(liar.listenAddrs[0]!);
  }, 300_000);

  afterAll(async () => {
    await replicaP2P?.stop();
    await liar?.stop();
    for (const kv of kvs) await kv.close();
    await seq?.stop();
    await removeDir(seq?.datadir ?? '');
    if (work !== undefined) await removeDir(work);
  });

  /** Blocks `start ..` as `peer` serves them over blocks-by-range, each body checked against its header. */
  async function servedBlocks(peer: string, start: bigint, count: number, common: Common): Promise<Block[]> {
    const raws = await fetchRawRange(replicaP2P.reqresp, peer, start, count, common, NODE_LIMITS);
    return raws.map((r) => {
      const block = blockFromValues(r.values, common);
      checkBlockBody(block);
      return block;
    });
  }

  function rangeSync(chain: Chain, peers: string[], senders?: SenderRecovery): RangeSync {
    const importer = new BlockImporter({
      chain,
      logger: silent,
      onFatal: (err) => {
        throw err;
      },
    });
    return new RangeSync(SMALL, { chain, importer, reqresp: replicaP2P.reqresp, peers: () => peers, logger: silent, senders });
  }

  it("refuses the liar's chain, penalises it, and imports nothing when no one else serves the range", async () => {
    await verifyBlockSigner(CHAIN_ID, privateKeyToAccount(KEY).address as Hex, anchor);
    const { chain, kv } = await openChain(join(work, 'only-liar'));
    kvs.push(kv);
    const liarId = liar.peerId;
    await expect(rangeSync(chain, [liarId]).syncTo(anchor.block, liarId)).rejects.toMatchObject({ code: SyncErrorCode.NoPeer });
    expect(chain.head.header.number).toBe(0n);
    // gossipsub recomputes scores on its heartbeat
    await waitFor('the liar scored down', () => replicaP2P.peerScore(liarId) < 0, 30_000);
  });

  let synced: Chain;

  it("takes the signed chain from the honest peer after the liar, every block re-executed to the sequencer's hashes", async () => {
    const { chain, kv } = await openChain(join(work, 'replica'));
    kvs.push(kv);
    synced = chain;
    await rangeSync(chain, [liar.peerId, peerIdOf(seq.p2p[0]!)]).syncTo(anchor.block, liar.peerId);
    expect(bytesToHex(chain.head.hash())).toBe(bytesToHex(anchor.block.hash()));
    const ours: string[] = [];
    for (let n = 0n; n <= 30n; n++) {
      const b = (await chain.store.getBlockByNumber(n))!;
      ours.push(`${n} ${bytesToHex(b.hash())} ${bytesToHex(b.header.stateRoot)}`);
    }
    expect(ours).toEqual(await chainOf(seq.url, 30n));
  }, 120_000);

  it('asks a server that sends fewer blocks than asked (its byte cap) again for fewer, ending where the signed chain needs', async () => {
    const capped = await P2PService.create(p2pOptions(CHAIN_ID, { listen: ['/ip4/127.0.0.1/tcp/0'] }), { logger: silent });
    try {
      // the replica of the test before serves the real chain, at most ~2 one-transaction blocks per answer
      await serveBlocksByRange(
        capped.reqresp,
        { headNumber: () => synced.head.header.number, blockRlp: async (n) => (await synced.store.getBlockByNumber(n))?.serialize() },
        { ...SMALL, rangeMaxBytes: 1_500 },
      );
      await capped.start();
      await replicaP2P.dial(capped.listenAddrs[0]!);
      const { chain, kv } = await openChain(join(work, 'from-capped'));
      kvs.push(kv);
      await rangeSync(chain, [capped.peerId]).syncTo(anchor.block, capped.peerId);
      expect(bytesToHex(chain.head.hash())).toBe(bytesToHex(anchor.block.hash()));
    } finally {
      await capped.stop();
    }
  }, 120_000);

  it("a peer serving the signed chain's headers with another body is penalised; that body comes from another peer", async () => {
    const seqId = peerIdOf(seq.p2p[0]!);
    const real = await servedBlocks(seqId, 1n, 30, anchor.block.common);
    // block 15 with its header (so its hash, which the walk checks) but without its transaction
    const tampered = real[14]!.raw();
    tampered[1] = [];
    expect(real[14]!.transactions).toHaveLength(1);
    const tamperer = await P2PService.create(p2pOptions(CHAIN_ID, { listen: ['/ip4/127.0.0.1/tcp/0'] }), { logger: silent });
    await serveBlocksByRange(tamperer.reqresp, { headNumber: () => 30n, blockRlp: async (n) => (n === 15n ? RLP.encode(tampered) : real[Number(n) - 1]?.serialize()) }, SMALL);
    await tamperer.start();
    try {
      await replicaP2P.dial(tamperer.listenAddrs[0]!);
      // bodies checked on the main thread, then by the sender-recovery thread's transactions root
      const senders = new SenderRecovery({ chainId: CHAIN_ID }, { logger: silent });
      await senders.start();
      for (const [name, withThread] of [
        ['tampered', undefined],
        ['tampered-thread', senders],
      ] as const) {
        const score = replicaP2P.peerScore(tamperer.peerId);
        const { chain, kv } = await openChain(join(work, name));
        kvs.push(kv);
        await rangeSync(chain, [tamperer.peerId, seqId], withThread).syncTo(anchor.block, tamperer.peerId);
        expect(bytesToHex(chain.head.hash())).toBe(bytesToHex(anchor.block.hash()));
        expect((await chain.store.getBlockByNumber(15n))!.transactions).toHaveLength(1);
        await waitFor('the tamperer scored down', () => replicaP2P.peerScore(tamperer.peerId) < score, 10_000);
      }
      await senders.stop();
    } finally {
      await tamperer.stop();
    }
  }, 120_000);

  it('a replica process of a dev chain (no rollup config: --sequencer-address) catches up on an idle chain from the signed head, then follows it', async () => {
    const before = await blockNumber(seq.url);
    const r = await startReplica(seq.p2p, ['--sequencer-address', privateKeyToAccount(KEY).address]);
    try {
      // no block is made meanwhile (automine, no transactions): the replica can only learn the
      // head by asking for it (signed-head), not from gossip
      await waitFor('the replica caught up to the idle head', async () => (await blockNumber(r.url)) === before, 60_000, 200);
      expect(await blockNumber(seq.url)).toBe(before);
      expect(await must(r.url, 'eth_syncing')).toBe(false);
      expect(Number(await must(r.url, 'net_peerCount'))).toBeGreaterThanOrEqual(1);
      expect(await chainOf(r.url, before)).toEqual(await chainOf(seq.url, before));
      const raw = await sign(DEV_KEYS[1], { nonce: 0, value: 1n });
      await sendLoad(seq.url, [{ raw, hash: keccak256(raw) }]);
      await waitFor('the replica followed the next block', async () => (await blockNumber(r.url)) === before + 1n, 60_000, 200);
      expect(await chainOf(r.url, before + 1n)).toEqual(await chainOf(seq.url, before + 1n));
    } finally {
      await r.stop();
      await removeDir(r.datadir);
    }
  }, 180_000);

  it('signed-head: the sequencer answers with its head under its key; a block signed by another key is refused and its sender penalised', async () => {
    const seqId = peerIdOf(seq.p2p[0]!);
    const head = await fetchSignedHead(replicaP2P.reqresp, seqId, anchor.block.common, SMALL);
    expect(head?.block.header.number).toBe(await blockNumber(seq.url));
    await verifyBlockSigner(CHAIN_ID, privateKeyToAccount(KEY).address, head!);

    const forger = await P2PService.create(p2pOptions(CHAIN_ID, { listen: ['/ip4/127.0.0.1/tcp/0'] }), { logger: silent });
    const forged = { block: head!.block, signature: await signBlockHash(generatePrivateKey(), CHAIN_ID, head!.block.hash()) };
    await serveSignedHead(forger.reqresp, async () => forged, SMALL);
    await forger.start();
    const { chain, kv } = await openChain(join(work, 'signed-head'));
    kvs.push(kv);
    const importer = new BlockImporter({
      chain,
      logger: silent,
      onFatal: (err) => {
        throw err;
      },
    });
    const follower = new BlockFollower(
      { ...SMALL, chainId: CHAIN_ID, signer: privateKeyToAccount(KEY).address },
      { chain, importer, range: rangeSync(chain, [seqId]), logger: silent },
    );
    const heads = new HeadPoller(SMALL, { chain, reqresp: replicaP2P.reqresp, offer: (gb, peer) => follower.offer(gb, peer), peers: () => [], logger: silent });
    try {
      await replicaP2P.dial(forger.listenAddrs[0]!);
      const forgerId = forger.peerId;
      const score = replicaP2P.peerScore(forgerId);
      heads.onConnect(forgerId);
      await waitFor('the forger penalised', () => replicaP2P.peerScore(forgerId) < score, 30_000);
      expect(chain.head.header.number).toBe(0n);
      // the honest answer starts the catch-up to the sequencer's head
      heads.onConnect(seqId);
      await waitFor('caught up from the signed head', () => chain.head.header.number === head!.block.header.number, 60_000);
      expect(bytesToHex(chain.head.hash())).toBe(bytesToHex(head!.block.hash()));
      expect(follower.signedHead?.block.header.number).toBe(head!.block.header.number);
    } finally {
      await heads.stop();
      await follower.stop();
      await forger.stop();
    }
  }, 120_000);

  it('eth_syncing: a replica that knows of a signed block it cannot fetch yet reports how far it is; the sequencer is not syncing', async () => {
    const head = (await fetchSignedHead(replicaP2P.reqresp, peerIdOf(seq.p2p[0]!), anchor.block.common, SMALL))!;
    // a peer that shows the real signed head but serves no ranges: the catch-up cannot finish
    const teaser = await P2PService.create(p2pOptions(CHAIN_ID, { listen: ['/ip4/127.0.0.1/tcp/0'] }), { logger: silent });
    await serveSignedHead(teaser.reqresp, async () => head, SMALL);
    await teaser.start();
    const r = await startReplica(teaser.listenAddrs, ['--sequencer-address', privateKeyToAccount(KEY).address]);
    try {
      const syncing = await waitFor(
        'eth_syncing reports the signed head',
        async () => {
          const s = await must(r.url, 'eth_syncing');
          return s !== false ? s : undefined;
        },
        60_000,
        200,
      );
      expect(syncing).toEqual({ startingBlock: '0x0', currentBlock: '0x0', highestBlock: `0x${head.block.header.number.toString(16)}` });
      expect(await blockNumber(r.url)).toBe(0n);
      expect(await must(seq.url, 'eth_syncing')).toBe(false);
    } finally {
      await r.stop();
      await removeDir(r.datadir);
      await teaser.stop();
    }
  }, 120_000);

  it("unsafe-chain reorg: a signed chain that forks from the replica's is followed, from the fork point, the blocks below kept", async () => {
    // the two blocks the fork replaces: a contract that logs on every call, and a call to it
    const from = DEV_KEYS[2];
    const deploy = await sign(from, { nonce: 0, to: null, data: LOG0_EMITTER_INITCODE, gas: 100_000n });
    const emitter = getContractAddress({ from: addr(from), nonce: 0n });
    const call = await sign(from, { nonce: 1, to: emitter, gas: 50_000n });
    const r = await startReplica(seq.p2p, ['--sequencer-address', privateKeyToAccount(KEY).address]);
    const forker = await blocksPeer(CHAIN_ID);
    let ws: WsRpc | undefined;
    try {
      const before = await blockNumber(seq.url);
      await waitFor('the replica caught up', async () => (await blockNumber(r.url)) === before, 60_000, 200);
      ws = await WsRpc.connect(r.wsUrl);
      const sub = await ws.request<string>('eth_subscribe', ['logs', { address: emitter }]);
      const filter = await must(r.url, 'eth_newFilter', [{ address: emitter }]);
      for (const [i, raw] of [deploy, call].entries()) {
        await sendLoad(seq.url, [{ raw, hash: keccak256(raw) }]);
        await waitFor('its block', async () => (await nonceOf(seq.url, addr(from))) === i + 1, 30_000, 100);
      }
      const head = before + 2n;
      await waitFor('the replica has both', async () => (await blockNumber(r.url)) === head, 60_000, 200);
      const logged = await ws.next<{ removed: boolean; blockNumber: string }>(sub);
      expect(logged).toMatchObject({ removed: false, blockNumber: `0x${head.toString(16)}` });
      expect(await must(r.url, 'eth_getFilterChanges', [filter])).toHaveLength(1);
      // the signer's other chain: three empty blocks on block head-2, one longer than ours
      const real = await servedBlocks(peerIdOf(seq.p2p[0]!), 1n, Number(head - 2n), forker.common);
      const fork: Block[] = [];
      let parent = real.at(-1)!;
      let tip!: Uint8Array;
      for (let i = 0; i < 3; i++) {
        const child = await signedChild(parent, forker.common, KEY, parent.header.stateRoot);
        fork.push(child.block);
        [parent, tip] = [child.block, child.payload];
      }
      const served = [...real, ...fork];
      await serveBlocksByRange(forker.p2p.reqresp, { headNumber: () => BigInt(served.length), blockRlp: async (n) => served[Number(n) - 1]?.serialize() }, NODE_LIMITS);
      await joinBlocks(forker, r);
      await forker.p2p.gossip.publish(TopicKind.Blocks, tip);
      await waitFor("the replica on the signer's other chain", async () => (await blockNumber(r.url)) === head + 1n, 60_000, 200);
      const theirs = await chainOf(r.url, head + 1n);
      expect(theirs.slice(0, Number(head) - 1)).toEqual(await chainOf(seq.url, head - 2n));
      expect(theirs.slice(Number(head) - 1).map((l) => l.split(' ')[1])).toEqual(fork.map((b) => bytesToHex(b.hash())));
      // the replaced blocks' transactions are no longer found by hash
      const replaced = (await getBlocks(seq.url, head - 1n, head, false)).flatMap((b: { transactions: string[] }) => b.transactions);
      expect(replaced).toEqual([keccak256(deploy), keccak256(call)]);
      for (const h of replaced) expect(await must(r.url, 'eth_getTransactionByHash', [h])).toBeNull();
      // and the log of the replaced block comes again, removed, to subscribers and filters (geth's reorg semantics)
      const removed = await ws.next<{ removed: boolean; blockNumber: string; transactionHash: string }>(sub);
      expect(removed).toMatchObject({ removed: true, blockNumber: `0x${head.toString(16)}`, transactionHash: keccak256(call) });
      expect(await must(r.url, 'eth_getFilterChanges', [filter])).toEqual([expect.objectContaining({ removed: true, transactionHash: keccak256(call) })]);
      expect(await must(r.url, 'eth_getLogs', [{ address: emitter, fromBlock: '0x0' }])).toEqual([]);
    } finally {
      await ws?.close();
      await r.stop();
      await removeDir(r.datadir);
      await forker.p2p.stop();
    }
  }, 120_000);

  it("a reorg never goes below the importer's safe floor (what L1 derived)", async () => {
    const { chain, kv } = await openChain(join(work, 'floor'));
    kvs.push(kv);
    const importer = new BlockImporter({
      chain,
      logger: silent,
      onFatal: (err) => {
        throw err;
      },
    });
    await rangeSync(chain, [peerIdOf(seq.p2p[0]!)]).syncTo(anchor.block);
    importer.safeFloor = () => 20n;
    await expect(importer.rewindTo(19n)).rejects.toMatchObject({ code: SyncErrorCode.ReorgTooDeep });
    expect(chain.head.header.number).toBe(30n);
    await importer.rewindTo(20n);
    expect(chain.head.header.number).toBe(20n);
  }, 120_000);

  it('refuses a signed chain that does not lead back to its own genesis', async () => {
    const { chain, kv } = await openChain(join(work, 'other-genesis'), false);
    kvs.push(kv);
    await expect(rangeSync(chain, [peerIdOf(seq.p2p[0]!)]).syncTo(anchor.block)).rejects.toMatchObject({ code: SyncErrorCode.NotConnected });
    expect(chain.head.header.number).toBe(0n);
  }, 120_000);
});
