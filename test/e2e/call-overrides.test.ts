/**
 * eth_call state overrides are the caller's private what-if: nothing computed under them may reach
 * anyone else or the disk.
 *
 * Attacks, as a stranger with RPC access:
 * - an eth_call whose stateDiff rewrites the registry's stored weights of a model: before the fix
 *   the model-execution precompile cached the attacker's decoded model under the genuine id, so
 *   later honest calls and real transactions ran it, and a replica (clean cache) computed another
 *   state root than the sequencer;
 * - eth_calls with large stateDiffs: before the fix their trie writes went into the buffer that
 *   the next block commit writes to LevelDB, and a datadir grew by what callers sent.
 */
import { mkdtemp, readdir, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeFunctionResult, encodeFunctionData, keccak256, toHex } from 'viem';
import type { Hex } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { compileContracts } from '../../contracts/compile.ts';
import { MODEL_REGISTRY_ADDRESS } from '../../contracts/predeploys.ts';
import { devGenesis, withPredeploys } from '../../node/chain/genesis.ts';
import { serializeModel } from '../../precompiles/model/codec.ts';
import { runModel } from '../../precompiles/model/executor.ts';
import type { Model } from '../../precompiles/model/format.ts';
import { mulberry32, randomDense } from '../../precompiles/model/random.ts';
import { weightsSlot } from '../../precompiles/registry-layout.ts';
import { clients, removeDir, startDevNode } from '../helpers/dev-node.ts';
import type { DevNode } from '../helpers/dev-node.ts';
import { deploy } from '../helpers/contracts.ts';
import { bytesStorage, modelStorage } from '../helpers/registry-storage.ts';
import { startReplica } from '../helpers/replica.ts';
import { blockNumber, call, must, waitBlocks } from '../helpers/txs.ts';
import { waitFor } from '../helpers/wait.ts';

const SEQ_KEY = generatePrivateKey();
const INPUT = Uint8Array.from([200, 10, 30, 250, 0, 77, 128, 5]);

/** Two models of the same shape (so their encodings have the same length) that disagree on INPUT. */
function twoModels(): { honest: Model; forged: Model } {
  for (let seed = 1; ; seed++) {
    const rng = mulberry32(seed);
    const honest: Model = { inputShape: [8], layers: [randomDense(rng, 8, 4, 'none')] };
    const forged: Model = { inputShape: [8], layers: [randomDense(rng, 8, 4, 'none')] };
    const a = runModel(honest, INPUT).output;
    const b = runModel(forged, INPUT).output;
    const argmax = (o: number[]) => o.indexOf(Math.max(...o));
    if (serializeModel(honest).length === serializeModel(forged).length && argmax(a) !== argmax(b)) return { honest, forged };
  }
}

async function dirBytes(dir: string): Promise<number> {
  let total = 0;
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    total += e.isDirectory() ? await dirBytes(p) : (await stat(p)).size;
  }
  return total;
}

const classifierAbi = [
  { type: 'function', name: 'peek', stateMutability: 'view', inputs: [{ name: 'input', type: 'bytes' }], outputs: [{ type: 'int256[]' }] },
  { type: 'function', name: 'classify', stateMutability: 'nonpayable', inputs: [{ name: 'input', type: 'bytes' }], outputs: [{ type: 'uint256' }] },
  { type: 'function', name: 'lastLabel', stateMutability: 'view', inputs: [{ type: 'address' }], outputs: [{ type: 'uint256' }] },
] as const;

describe('eth_call state overrides stay with the caller', () => {
  let seq: DevNode;
  let replica: DevNode;
  let work: string;
  let genesisFile: string;
  let modelId: Hex;
  let honest: Model;
  let forged: Model;
  let classifier: Hex;

  beforeAll(async () => {
    ({ honest, forged } = twoModels());
    const owner = privateKeyToAccount(generatePrivateKey()).address;
    const m = modelStorage(owner, serializeModel(honest));
    modelId = m.id;
    const { spec } = withPredeploys(devGenesis(1337n, 30_000_000n));
    spec.alloc[MODEL_REGISTRY_ADDRESS] = { ...spec.alloc[MODEL_REGISTRY_ADDRESS]!, storage: m.storage };
    // the same genesis file for the sequencer and the replica
    work = await mkdtemp(join(tmpdir(), 'call-overrides-'));
    genesisFile = join(work, 'genesis.json');
    await writeFile(genesisFile, JSON.stringify(spec));
    seq = await startDevNode({ blockTime: 1, args: ['--genesis', genesisFile, '--sequencer-key', SEQ_KEY, '--p2p.listen', '/ip4/127.0.0.1/tcp/0'] });
    replica = await startReplica(seq.p2p, ['--genesis', genesisFile, '--sequencer-address', privateKeyToAccount(SEQ_KEY).address]);
    const compiled = (await compileContracts(['examples/OnChainClassifier.sol']))['OnChainClassifier']!;
    const { publicClient, walletClient } = clients(seq);
    classifier = (await deploy(walletClient, publicClient, compiled, [modelId])).address;
  }, 120_000);

  afterAll(async () => {
    for (const n of [replica, seq]) await n?.stop();
    for (const n of [replica, seq]) if (n !== undefined) await removeDir(n.datadir);
    if (work !== undefined) await removeDir(work);
  }, 60_000);

  const peek = (overrides?: unknown) =>
    call(seq.url, 'eth_call', [
      { to: classifier, data: encodeFunctionData({ abi: classifierAbi, functionName: 'peek', args: [toHex(INPUT)] }) },
      'latest',
      ...(overrides === undefined ? [] : [overrides]),
    ]);

  it("a stateDiff that rewrites a model's weights is refused, and does not change what the model says to anyone else", async () => {
    const forgedWeights = bytesStorage(weightsSlot(Buffer.from(modelId.slice(2), 'hex')), serializeModel(forged));
    // the attack comes first, while no node has the model decoded yet
    const attack = await peek({ [MODEL_REGISTRY_ADDRESS]: { stateDiff: forgedWeights } });
    expect(attack.error?.message).toMatch(/execution reverted/);
    expect(attack.error?.data).toMatch(/^0x/); // NoWeights(modelId): the bytes are not the model's

    const honestOut = runModel(honest, INPUT).output;
    const seen = await peek();
    expect(seen.error).toBeUndefined();
    const decoded = decodeFunctionResult({ abi: classifierAbi, functionName: 'peek', data: seen.result as Hex }) as readonly bigint[];
    expect(decoded.map(Number)).toEqual(honestOut);

    // a real transaction runs the genuine model, and the replica re-executes it to the same root
    const { publicClient, walletClient, account } = clients(seq);
    const hash = await walletClient.writeContract({ address: classifier, abi: classifierAbi, functionName: 'classify', args: [toHex(INPUT)], chain: seq.chain, account });
    const rcpt = await publicClient.waitForTransactionReceipt({ hash });
    expect(rcpt.status).toBe('success');
    const label = await publicClient.readContract({ address: classifier, abi: classifierAbi, functionName: 'lastLabel', args: [account.address] });
    expect(Number(label)).toBe(honestOut.indexOf(Math.max(...honestOut)));
    await waitFor('the replica at the classify block', async () => (await blockNumber(replica.url)) >= rcpt.blockNumber, 60_000, 200);
    const at = toHex(rcpt.blockNumber);
    const [ours, theirs] = await Promise.all([must(seq.url, 'eth_getBlockByNumber', [at, false]), must(replica.url, 'eth_getBlockByNumber', [at, false])]);
    expect(theirs.stateRoot).toBe(ours.stateRoot);
  }, 120_000);

  it('overrides never reach the disk: large stateDiffs leave the datadir as blocks alone do', async () => {
    const chaindata = join(seq.datadir, 'chaindata');
    const target = privateKeyToAccount(generatePrivateKey()).address;
    const diff = (salt: number): Record<Hex, Hex> => {
      const out: Record<Hex, Hex> = {};
      for (let i = 0; i < 1_000; i++) out[keccak256(toHex(`${salt}:${i}`))] = keccak256(toHex(`v${salt}:${i}`));
      return out;
    };
    // a quiet stretch first, to see what blocks alone write
    await waitBlocks(seq.url, 1);
    const base0 = await dirBytes(chaindata);
    await waitBlocks(seq.url, 3);
    const idle = (await dirBytes(chaindata)) - base0;

    const before = await dirBytes(chaindata);
    for (let k = 0; k < 6; k++) {
      const overrides = { [target]: { balance: '0x1', stateDiff: diff(k) }, [MODEL_REGISTRY_ADDRESS]: { state: diff(100 + k) } };
      const r = await call(seq.url, 'eth_call', [{ to: target, data: '0x' }, 'latest', overrides]);
      expect(r.error).toBeUndefined();
      const g = await call(seq.url, 'eth_estimateGas', [{ to: target, data: '0x' }, 'latest', overrides]);
      expect(g.error).toBeUndefined();
    }
    await waitBlocks(seq.url, 3);
    const grown = (await dirBytes(chaindata)) - before;
    // 12,000 overridden slots were ~40,000 trie leaves and their branches: megabytes when they leaked
    expect(grown).toBeLessThan(Math.max(4 * idle, 256 * 1024));
    // and the overridden slots read as they are on the chain
    expect(await must(seq.url, 'eth_getBalance', [target, 'latest'])).toBe('0x0');
  }, 120_000);
});
