import { randomBytes } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bytesToHex } from '@ethereumjs/util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keccak256, parseEther } from 'viem';
import type { Hex } from 'viem';
import { generatePrivateKey } from 'viem/accounts';
import { devAccounts } from '../../node/chain/genesis.ts';
import { TopicKind } from '../../node/p2p/index.ts';
import { rollupConfigJson } from '../../node/rollup-config.ts';
import { cli } from '../helpers/ai.ts';
import { DEV_KEYS, removeDir } from '../helpers/dev-node.ts';
import type { DevNode } from '../helpers/dev-node.ts';
import { sendLoad } from '../helpers/load.ts';
import { blocksPeer, chainOf, freePort, joinBlocks, signedChild, startReplica } from '../helpers/replica.ts';
import type { BlocksPeer } from '../helpers/replica.ts';
import { bridgeTestAbi, startL1, startRollupNode } from '../helpers/rollup.ts';
import type { L1Env } from '../helpers/rollup.ts';
import { addr, balanceOf, blockNumber, call, must, newKeys, nonceOf, sign, waitReceipt } from '../helpers/txs.ts';
import { waitFor } from '../helpers/wait.ts';

const CHAIN_ID = 1337n;
/** The sequencer's block key in this test; the rollup config names its address as unsafeBlockSigner. */
const SEQ_KEY = generatePrivateKey();
const peerIdOf = (addr: string) => addr.split('/p2p/')[1]!;

/** Waits until `node` has block `n`, then returns its chain 0..n (hashes and state roots). */
async function chainAt(node: DevNode, n: bigint, what: string): Promise<string[]> {
  await waitFor(`${what} at block ${n}`, async () => (await blockNumber(node.url)) >= n, 180_000, 250);
  return chainOf(node.url, n);
}

describe('replicas follow the sequencer over libp2p: gossiped signed blocks, re-executed; catch-up by ranges', () => {
  let work: string;
  let env: L1Env;
  let configFile: string;
  let seqPort: number;
  let seq: DevNode;
  let a: DevNode;
  let b: DevNode;
  const late: DevNode[] = [];
  const peers: BlocksPeer[] = [];

  // a fixed p2p port: the replicas' bootnode address must survive a sequencer restart
  const startSequencer = (datadir?: string) =>
    startRollupNode({ ...env, configFile }, { keys: false, blockTime: 1, datadir, args: ['--sequencer-key', SEQ_KEY, '--p2p.listen', `/ip4/127.0.0.1/tcp/${seqPort}`] });
  const replicaArgs = (forward: boolean) => ['--rollup-config', configFile, ...(forward ? ['--sequencer-rpc', seq.url] : [])];
  const startB = (datadir?: string) => startReplica([seq.p2p[0]!, a.p2p[0]!], replicaArgs(false), { datadir });

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'replica-'));
    env = await startL1(work);
    configFile = join(work, 'rollup-signed.json');
    await writeFile(configFile, rollupConfigJson({ ...env.config, unsafeBlockSigner: addr(SEQ_KEY) }));
    seqPort = await freePort();
    seq = await startSequencer();
    // A also reads L1 (safe/finalized, rollup_ methods); B and C follow from p2p alone
    a = await startReplica(seq.p2p, [...replicaArgs(true), '--l1-rpc', env.anvil.url]);
    b = await startB();
  }, 300_000);

  afterAll(async () => {
    await Promise.all(peers.map((p) => p.p2p.stop()));
    for (const n of [...late, b, a, seq]) await n?.stop();
    await env?.anvil.stop();
    for (const n of [...late, b, a, seq]) if (n !== undefined) await removeDir(n.datadir);
    if (work !== undefined) await removeDir(work);
  }, 120_000);

  it("refuses a sequencer key that is not the rollup config's unsafeBlockSigner", async () => {
    const r = await cli([
      'node',
      '--dev',
      '--rollup-config',
      configFile,
      '--l1-rpc',
      env.anvil.url,
      '--p2p.listen',
      '/ip4/127.0.0.1/tcp/0',
      '--sequencer-key',
      generatePrivateKey(),
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: --sequencer-key belongs to 0x[0-9a-fA-F]{40}, the rollup config's unsafeBlockSigner is/);
  });

  it("two replicas re-execute 1,000 transactions and an L1 deposit into the sequencer's exact chain", async () => {
    const recipient = addr(generatePrivateKey());
    const { l1, deployment } = env;
    const depositTx = await l1.walletClient.writeContract({
      address: deployment.bridge,
      abi: bridgeTestAbi,
      functionName: 'depositETH',
      args: [recipient, 100_000n, '0x'],
      value: parseEther('1'),
    });
    await l1.publicClient.waitForTransactionReceipt({ hash: depositTx });

    const senders = devAccounts().map((x) => x.privateKey as Hex);
    const targets = newKeys(1000).map(addr);
    // the deposit bumps its sender's L2 nonce: take the nonces once it is in
    await waitFor('the deposit on L2', async () => (await balanceOf(seq.url, recipient)) === parseEther('1'), 60_000);
    const base = await Promise.all(senders.map((k) => nonceOf(seq.url, addr(k), 'pending')));
    const txs: { raw: Hex; hash: Hex }[] = [];
    for (let i = 0; i < 1000; i++) {
      const raw = await sign(senders[i % 10]!, { nonce: base[i % 10]! + Math.floor(i / 10), to: targets[i]!, value: BigInt(i + 1) });
      txs.push({ raw, hash: keccak256(raw) });
    }
    const sent = await sendLoad(seq.url, txs);
    expect(sent.refused).toEqual([]);
    expect(sent.accepted.size).toBe(1000);
    await waitFor(
      'all 1,000 included',
      async () => {
        for (const [i, k] of senders.entries()) if ((await nonceOf(seq.url, addr(k))) < base[i]! + 100) return false;
        return true;
      },
      180_000,
      250,
    );

    const target = await blockNumber(seq.url);
    const want = await chainOf(seq.url, target);
    expect(await chainAt(a, target, 'replica A')).toEqual(want);
    expect(await chainAt(b, target, 'replica B')).toEqual(want);
    for (const node of [a, b]) {
      expect(await balanceOf(node.url, recipient)).toBe(parseEther('1'));
      expect(await balanceOf(node.url, targets[999]!)).toBe(1000n);
      const r = await must(node.url, 'eth_getTransactionReceipt', [txs[500]!.hash]);
      expect(r.status).toBe('0x1');
    }
    expect(await must(a.url, 'rollup_getInfo')).toEqual(await must(seq.url, 'rollup_getInfo'));
    // replicas build the address index as they import: a sender's history and the deposit's recipient answer as on the sequencer
    for (const who of [addr(senders[3]!), recipient]) {
      const want = await must(seq.url, 'ots_searchTransactionsBefore', [who, 0, 10]);
      expect(want.txs.length).toBeGreaterThan(0);
      for (const node of [a, b]) expect(await must(node.url, 'ots_searchTransactionsBefore', [who, 0, 10])).toEqual(want);
    }
  }, 600_000);

  it('forwards eth_sendRawTransaction (and pending nonces) to --sequencer-rpc; a replica without it refuses with -32000', async () => {
    const key = DEV_KEYS[1];
    const nonce = Number(await must(a.url, 'eth_getTransactionCount', [addr(key), 'pending']));
    expect(nonce).toBe(await nonceOf(seq.url, addr(key), 'pending'));
    const raw = await sign(key, { nonce, to: addr(generatePrivateKey()), value: 7n });
    const hash = await must(a.url, 'eth_sendRawTransaction', [raw]);
    expect(hash).toBe(keccak256(raw));
    const onSeq = await waitReceipt(seq.url, hash);
    const onA = await waitFor('the receipt on replica A', async () => (await call(a.url, 'eth_getTransactionReceipt', [hash])).result ?? undefined, 60_000);
    expect(onA.blockHash).toBe(onSeq.blockHash);

    // the sequencer's own error comes back as it is
    const again = await call(a.url, 'eth_sendRawTransaction', [raw]);
    expect(again.error?.code).toBe(-32000);
    expect(again.error?.message).toMatch(/^nonce too low: address /);
    const refused = await call(b.url, 'eth_sendRawTransaction', [await sign(key, { nonce: nonce + 1, value: 1n })]);
    expect(refused.error?.code).toBe(-32000);
    expect(refused.error?.message).toContain('--sequencer-rpc');
  }, 180_000);

  it('a replica started late catches up over blocks-by-range from another replica', async () => {
    const target = await blockNumber(seq.url);
    const c = await startReplica([a.p2p[0]!], replicaArgs(false));
    late.push(c);
    expect(await chainAt(c, target, 'late replica C')).toEqual(await chainOf(seq.url, target));
  }, 300_000);

  it('a replica killed with -9 restarts at its head and catches up', async () => {
    const before = await blockNumber(b.url);
    const hashBefore = (await must(b.url, 'eth_getBlockByNumber', [`0x${before.toString(16)}`, false])).hash;
    await b.kill9();
    // blocks with transactions arrive while it is down
    const key = DEV_KEYS[2];
    const nonce = await nonceOf(seq.url, addr(key), 'pending');
    const raws = await Promise.all(Array.from({ length: 20 }, (_, i) => sign(key, { nonce: nonce + i, value: 1n })));
    const sent = await sendLoad(
      seq.url,
      raws.map((raw) => ({ raw, hash: keccak256(raw) })),
    );
    expect(sent.refused).toEqual([]);
    await waitFor('the 20 transactions included', async () => (await nonceOf(seq.url, addr(key))) === nonce + 20, 60_000);

    b = await startB(b.datadir);
    const resumed = await blockNumber(b.url);
    expect(resumed).toBeGreaterThanOrEqual(before);
    expect((await must(b.url, 'eth_getBlockByNumber', [`0x${before.toString(16)}`, false])).hash).toBe(hashBefore);
    const target = await blockNumber(seq.url);
    expect(await chainAt(b, target, 'restarted replica B')).toEqual(await chainOf(seq.url, target));
  }, 300_000);

  it('rejects signed blocks with a wrong state root and blocks with a bad signature: not imported, not relayed, their senders scored down', async () => {
    const [wrongRootSender, badSigSender, u] = [await blocksPeer(CHAIN_ID), await blocksPeer(CHAIN_ID), await blocksPeer(CHAIN_ID)];
    peers.push(wrongRootSender, badSigSender, u);
    for (const p of [wrongRootSender, badSigSender, u]) await joinBlocks(p, a); // u sees only what A relays
    await waitFor('a block relayed by A', () => u.payloads.length > 0, 60_000);

    // a still chain head, so the bad blocks are children of A's head when A executes them
    expect(await seq.stop()).toBe(0);
    const head = await waitFor(
      'A, B and the peers on one head',
      async () => {
        const [ha, hb] = [await blockNumber(a.url), await blockNumber(b.url)];
        const last = u.blocks().at(-1)!;
        return ha === hb && last.header.number === ha ? last : undefined;
      },
      60_000,
    );
    const headHash = bytesToHex(head.hash());

    // signed with the sequencer's key, executing to another state root
    const wrongRoots = await Promise.all(Array.from({ length: 6 }, () => signedChild(head, u.common, SEQ_KEY, randomBytes(32))));
    // these would execute fine: only the signature is wrong (another key; one not even a signature)
    const badSigs = await Promise.all(Array.from({ length: 6 }, () => signedChild(head, u.common, generatePrivateKey(), head.header.stateRoot)));
    badSigs[0]!.payload.set(randomBytes(65), 0);
    for (const m of wrongRoots) await wrongRootSender.p2p.gossip.publish(TopicKind.Blocks, m.payload);
    for (const m of badSigs) await badSigSender.p2p.gossip.publish(TopicKind.Blocks, m.payload);

    // only rejects cost score (an ignored message costs nothing): both fall below the disconnect threshold
    const aId = peerIdOf(a.p2p[0]!);
    await waitFor('A to cut off both senders', () => !wrongRootSender.p2p.isConnected(aId) && !badSigSender.p2p.isConnected(aId), 60_000);
    expect(u.p2p.isConnected(aId)).toBe(true);
    const bad = [...wrongRoots, ...badSigs];
    for (const node of [a, b]) {
      expect(await blockNumber(node.url)).toBe(head.header.number);
      for (const m of bad) expect((await call(node.url, 'eth_getBlockByHash', [bytesToHex(m.block.hash()), false])).result).toBeNull();
    }

    // the chain goes on from the real sequencer; A relays its blocks, never the bad ones
    seq = await startSequencer(seq.datadir);
    await waitFor('U to get a new block through A', () => u.blocks().some((blk) => blk.header.number > head.header.number), 120_000);
    const badHashes = new Set(bad.map((m) => bytesToHex(m.block.hash())));
    expect(u.blocks().filter((blk) => badHashes.has(bytesToHex(blk.hash())))).toEqual([]);
    const next = await must(a.url, 'eth_getBlockByNumber', [`0x${(head.header.number + 1n).toString(16)}`, false]);
    expect(next.parentHash).toBe(headHash);
    expect(badHashes.has(next.hash)).toBe(false);
    const target = await blockNumber(seq.url);
    const want = await chainOf(seq.url, target);
    expect(await chainAt(a, target, 'replica A')).toEqual(want);
    expect(await chainAt(b, target, 'replica B')).toEqual(want);
  }, 300_000);
});
