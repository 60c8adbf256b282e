/**
 * Every precompile and system address, as a stranger with RPC access can reach them.
 *
 * The attack this guards against: a plain transfer to 0x0a (point evaluation, whose KZG library
 * was never set up) threw out of the EVM, the transaction was dropped but its call frames' state
 * checkpoints stayed open, and the block was committed over a state whose nodes never reached the
 * disk: every account then read as empty and the pool refused everything.
 *
 * Here one block carries value and data to 0x01-0x11, the AI precompiles and the predeploys. Every
 * transaction must get a receipt, balances must move by exactly what was paid, and a replica must
 * re-execute the block to the same state root. The precompile cases are also run on anvil
 * (started by the test, Prague, as this chain's EIPs are): the same eth_call answers, and the same
 * receipt status and gas for the same transactions.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Hex } from 'viem';
import { keccak256 } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { startAnvil } from '../../devnet/anvil.ts';
import type { Anvil } from '../../devnet/anvil.ts';
import { INFERENCE_MARKET_ADDRESS, L1_BLOCK_ADDRESS, MESSAGE_PASSER_ADDRESS, MODEL_REGISTRY_ADDRESS, DEPOSITOR_ADDRESS } from '../../contracts/predeploys.ts';
import { MODEL_EXEC_ADDRESS, VERIFIER_ADDRESS } from '../../precompiles/index.ts';
import { DEV_KEYS, removeDir, startDevNode } from '../helpers/dev-node.ts';
import type { DevNode } from '../helpers/dev-node.ts';
import { sendLoad } from '../helpers/load.ts';
import { precompileCases, seededBytes } from '../helpers/precompile-cases.ts';
import type { PrecompileCase } from '../helpers/precompile-cases.ts';
import { startReplica } from '../helpers/replica.ts';
import { addr, balanceOf, blockNumber, call, must, sign, waitReceipt } from '../helpers/txs.ts';
import type { TxFields } from '../helpers/txs.ts';
import { waitFor } from '../helpers/wait.ts';

const SEED = Number(process.env.SWEEP_SEED ?? Date.now() % 1_000_000);
const SEQ_KEY = generatePrivateKey();
const SENDER = DEV_KEYS[1];
const GAS = 160_000n;
const TYPES = ['legacy', 'eip2930', 'eip1559'] as const;

interface Sent extends PrecompileCase {
  value: bigint;
  type: (typeof TYPES)[number];
}

/** The AI precompiles and the predeploys: value alone, data alone, both. */
function systemCases(rnd: (n: number) => Hex): Sent[] {
  const out: Sent[] = [];
  const targets: [string, Hex][] = [
    ['inference verifier', VERIFIER_ADDRESS],
    ['model exec', MODEL_EXEC_ADDRESS],
    ['model registry', MODEL_REGISTRY_ADDRESS],
    ['L1Block', L1_BLOCK_ADDRESS],
    ['message passer', MESSAGE_PASSER_ADDRESS],
    ['inference market', INFERENCE_MARKET_ADDRESS],
    ['depositor account', DEPOSITOR_ADDRESS],
  ];
  for (const [name, to] of targets) {
    out.push({ name: `${name}: value`, to, data: '0x', value: 1n, type: 'eip1559' });
    out.push({ name: `${name}: data`, to, data: rnd(100), value: 0n, type: 'legacy' });
    out.push({ name: `${name}: value and data`, to, data: rnd(36), value: 3n, type: 'eip2930' });
  }
  return out;
}

async function signAll(cases: Sent[], chainId: number, firstNonce: number): Promise<{ raw: Hex; hash: Hex }[]> {
  return Promise.all(
    cases.map(async (c, i) => {
      const f: TxFields = { nonce: firstNonce + i, to: c.to, value: c.value, data: c.data, gas: GAS, type: c.type, chainId };
      const raw = await sign(SENDER, f);
      return { raw, hash: keccak256(raw) };
    }),
  );
}

/** eth_call's answer reduced to what two nodes must agree on: success and the returned bytes. */
async function callOutcome(url: string, c: PrecompileCase): Promise<string> {
  const r = await call(url, 'eth_call', [{ from: addr(SENDER), to: c.to, data: c.data, gas: '0xf4240' }, 'latest']);
  return r.error === undefined ? `ok ${String(r.result)}` : 'failed';
}

describe(`value and data to every precompile and system address (seed ${SEED})`, () => {
  let anvil: Anvil;
  let seq: DevNode;
  let replica: DevNode;
  let cases: Sent[];

  beforeAll(async () => {
    const rnd = seededBytes(SEED);
    cases = [...(await precompileCases(SEED)).map((c, i): Sent => ({ ...c, value: i % 2 === 0 ? 1n : 0n, type: TYPES[i % 3]! })), ...systemCases(rnd)];
    anvil = await startAnvil({ args: ['--hardfork', 'prague'] });
    // blocks 3 s apart, so the whole sweep lands in one
    seq = await startDevNode({ blockTime: 3, args: ['--sequencer-key', SEQ_KEY, '--p2p.listen', '/ip4/127.0.0.1/tcp/0'] });
    replica = await startReplica(seq.p2p, ['--sequencer-address', privateKeyToAccount(SEQ_KEY).address]);
  }, 120_000);

  afterAll(async () => {
    for (const n of [replica, seq]) await n?.stop();
    await anvil?.stop();
    for (const n of [replica, seq]) if (n !== undefined) await removeDir(n.datadir);
  }, 60_000);

  it('eth_call of every precompile case answers as anvil does', async () => {
    const precompiles = cases.filter((c) => BigInt(c.to) <= 0x11n);
    const differ: string[] = [];
    for (const c of precompiles) {
      const [ours, theirs] = await Promise.all([callOutcome(seq.url, c), callOutcome(anvil.url, c)]);
      if (ours !== theirs) differ.push(`${c.name}: ours ${ours}, anvil ${theirs}`);
    }
    expect(differ).toEqual([]);
  }, 120_000);

  it('one block of them: every transaction has a receipt, balances move by what was paid, a replica agrees, anvil charges the same', async () => {
    const from = addr(SENDER);
    const nonce = Number(await must(seq.url, 'eth_getTransactionCount', [from, 'latest']));
    const txs = await signAll(cases, 1337, nonce);
    // right after a block is sealed, so that all of them go into the next one
    const before = await blockNumber(seq.url);
    await waitFor('a new block', async () => (await blockNumber(seq.url)) > before, 20_000, 20);
    const sent = await sendLoad(seq.url, txs);
    expect(sent.refused).toEqual([]);
    const receipts = await Promise.all(txs.map((t) => waitReceipt(seq.url, t.hash)));
    const blocks = new Set(receipts.map((r) => r.blockNumber as string));
    expect([...blocks]).toHaveLength(1);
    const n = BigInt(receipts[0].blockNumber);
    const prev = `0x${(n - 1n).toString(16)}`;
    const at = `0x${n.toString(16)}`;

    // the sender pays gas and the value of what succeeded; each target gains that value
    let paid = 0n;
    const gained = new Map<string, bigint>();
    receipts.forEach((r, i) => {
      paid += BigInt(r.gasUsed) * BigInt(r.effectiveGasPrice);
      if (r.status === '0x1') {
        paid += cases[i]!.value;
        const to = cases[i]!.to.toLowerCase();
        gained.set(to, (gained.get(to) ?? 0n) + cases[i]!.value);
      }
    });
    expect((await balanceOf(seq.url, from, prev)) - (await balanceOf(seq.url, from, at))).toBe(paid);
    for (const to of new Set(cases.map((c) => c.to.toLowerCase()))) {
      const delta = (await balanceOf(seq.url, to, at)) - (await balanceOf(seq.url, to, prev));
      expect(delta, to).toBe(gained.get(to) ?? 0n);
    }
    // the state is whole: accounts still read, and the chain goes on
    expect(await balanceOf(seq.url, addr(DEV_KEYS[2]))).toBeGreaterThan(0n);
    const next = await sendLoad(seq.url, await signAll([{ name: 'after', to: addr(DEV_KEYS[3]), data: '0x', value: 1n, type: 'eip1559' }], 1337, nonce + txs.length));
    expect(next.refused).toEqual([]);
    expect((await waitReceipt(seq.url, [...next.accepted][0] as Hex)).status).toBe('0x1');

    // a replica re-executes the block to the same hash and state root
    await waitFor('the replica at the sweep block', async () => (await blockNumber(replica.url)) >= n, 60_000, 200);
    const [ours, theirs] = await Promise.all([must(seq.url, 'eth_getBlockByNumber', [at, false]), must(replica.url, 'eth_getBlockByNumber', [at, false])]);
    expect(theirs.hash).toBe(ours.hash);
    expect(theirs.stateRoot).toBe(ours.stateRoot);

    // anvil: the same precompile transactions, the same status and gas
    const precompileIdx = cases.map((c, i) => (BigInt(c.to) <= 0x11n ? i : -1)).filter((i) => i >= 0);
    const onAnvil = await signAll(
      precompileIdx.map((i) => cases[i]!),
      anvil.chainId,
      Number(await must(anvil.url, 'eth_getTransactionCount', [from, 'latest'])),
    );
    expect((await sendLoad(anvil.url, onAnvil)).refused).toEqual([]);
    const differ: string[] = [];
    for (const [j, i] of precompileIdx.entries()) {
      const a = await waitReceipt(anvil.url, onAnvil[j]!.hash);
      const r = receipts[i];
      if (a.status !== r.status || a.gasUsed !== r.gasUsed) differ.push(`${cases[i]!.name}: ours ${r.status}/${BigInt(r.gasUsed)}, anvil ${a.status}/${BigInt(a.gasUsed)}`);
    }
    expect(differ).toEqual([]);
  }, 180_000);
});
