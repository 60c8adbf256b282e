import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BaseError, ContractFunctionRevertedError, concat, getAddress, encodeAbiParameters, keccak256, numberToHex, pad, parseEventLogs, toHex, zeroHash } from 'viem';
import type { Address, Hex } from 'viem';
import { compileContracts } from '../../contracts/compile.ts';
import { MODEL_REGISTRY_ADDRESS, loadArtifact } from '../../contracts/predeploys.ts';
import { DEV_KEYS, clients, removeDir, startDevNode } from '../helpers/dev-node.ts';
import type { DevNode } from '../helpers/dev-node.ts';
import { deploy } from '../helpers/contracts.ts';
import { decodeStorageValue, verifyProof } from '../helpers/proof.ts';
import { must } from '../helpers/txs.ts';

const abi = loadArtifact('ModelRegistry').abi;
const registry = MODEL_REGISTRY_ADDRESS;

/** A key of the right shape for n public inputs (the registry checks the shape only). */
function fakeVk(n: number, seed = 1): Hex {
  const words: Hex[] = [];
  for (let i = 0; i < 14; i++) words.push(pad(numberToHex(seed * 1000 + i)));
  words.push(pad(numberToHex(n)));
  for (let i = 0; i < 2 * (n + 1); i++) words.push(pad(numberToHex(seed * 1000 + 100 + i)));
  return concat(words);
}
const id = (s: string): Hex => keccak256(toHex(s));

async function revertName(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    const r = (err as BaseError).walk?.((e) => e instanceof ContractFunctionRevertedError) as ContractFunctionRevertedError | undefined;
    if (r?.data?.errorName !== undefined) return r.data.errorName;
    throw err;
  }
  throw new Error('expected a revert');
}

describe('ModelRegistry predeploy (ownership by msg.sender, reverts leave no trace)', () => {
  let node: DevNode;
  let owner: ReturnType<typeof clients>;
  let other: ReturnType<typeof clients>;

  beforeAll(async () => {
    node = await startDevNode({ blockTime: 0 });
    owner = clients(node, DEV_KEYS[0]);
    other = clients(node, DEV_KEYS[1]);
  });
  afterAll(async () => {
    await node.stop();
    await removeDir(node.datadir);
  });

  async function write(c: ReturnType<typeof clients>, functionName: string, args: unknown[]) {
    const { request } = await c.publicClient.simulateContract({ account: c.account, address: registry, abi, functionName, args });
    const hash = await c.walletClient.writeContract(request);
    return c.publicClient.waitForTransactionReceipt({ hash });
  }
  const read = (functionName: string, args: unknown[] = []) => owner.publicClient.readContract({ address: registry, abi, functionName, args }) as Promise<any>;

  it('is in genesis with the committed code', async () => {
    const code = await owner.publicClient.getCode({ address: registry });
    expect(code).toBe(loadArtifact('ModelRegistry').deployedBytecode);
  });

  it('registers, logs, reads back through eth_call and ai_getModel, and refuses a second registration', async () => {
    const m = id('model-a');
    const rcpt = await write(owner, 'register', [m, fakeVk(5), 'ipfs://a']);
    const [ev] = parseEventLogs({ abi, logs: rcpt.logs, eventName: 'ModelRegistered' }) as any[];
    expect(ev.args).toMatchObject({ modelId: m, owner: owner.account.address, parent: zeroHash, version: 1, metadataURI: 'ipfs://a' });
    const got = await read('getModel', [m]);
    expect(got).toMatchObject({ owner: owner.account.address, version: 1, deprecated: false, hasWeights: false, parent: zeroHash, latest: m, verifyingKey: fakeVk(5) });
    expect(got.registeredAt).toBe(rcpt.blockNumber);

    const viaRpc = await must(node.url, 'ai_getModel', [m]);
    expect(viaRpc).toMatchObject({ modelId: m, owner: owner.account.address, version: '0x1', publicInputs: '0x5', metadataURI: 'ipfs://a', verifyingKeyHash: keccak256(fakeVk(5)) });
    expect(await must(node.url, 'ai_getModel', [id('nope')])).toBeNull();

    expect(await revertName(write(other, 'register', [m, fakeVk(5), '']))).toBe('ModelExists');
    expect(await revertName(write(owner, 'register', [id('bad-vk'), '0x1234', '']))).toBe('InvalidVerifyingKey');
    // a key whose n word disagrees with its length
    expect(await revertName(write(owner, 'register', [id('bad-vk'), concat([fakeVk(2), pad('0x01')]), '']))).toBe('InvalidVerifyingKey');
  });

  it('only the owner deprecates, publishes versions and weights, or transfers; ownership moves', async () => {
    const m = id('model-b');
    await write(owner, 'register', [m, fakeVk(3), '']);
    expect(await revertName(write(other, 'deprecate', [m]))).toBe('NotOwner');
    expect(await revertName(write(other, 'publishVersion', [m, id('b2'), fakeVk(3), '']))).toBe('NotOwner');
    expect(await revertName(write(other, 'transferOwnership', [m, other.account.address]))).toBe('NotOwner');
    expect(await revertName(write(owner, 'deprecate', [id('unknown')]))).toBe('UnknownModel');

    // version 2 and 3: lineage and `latest` on every ancestor
    await write(owner, 'publishVersion', [m, id('b2'), fakeVk(3, 2), 'v2']);
    await write(owner, 'publishVersion', [id('b2'), id('b3'), fakeVk(3, 3), 'v3']);
    expect(await read('getModel', [id('b3')])).toMatchObject({ version: 3, parent: id('b2'), latest: id('b3') });
    expect((await read('getModel', [m])).latest).toBe(id('b3'));

    // weights must hash to the id
    expect(await revertName(write(owner, 'publishWeights', [m, '0xdeadbeef']))).toBe('WeightsMismatch');

    const t = await write(owner, 'transferOwnership', [m, other.account.address]);
    expect(parseEventLogs({ abi, logs: t.logs, eventName: 'OwnershipTransferred' })).toHaveLength(1);
    expect(await revertName(write(owner, 'deprecate', [m]))).toBe('NotOwner');
    const d = await write(other, 'deprecate', [m]);
    expect(parseEventLogs({ abi, logs: d.logs, eventName: 'ModelDeprecated' })).toHaveLength(1);
    expect((await read('getModel', [m])).deprecated).toBe(true);
    expect(await revertName(write(other, 'deprecate', [m]))).toBe('AlreadyDeprecated');
    expect(await revertName(write(other, 'publishVersion', [m, id('b4'), fakeVk(3), '']))).toBe('AlreadyDeprecated');
  });

  it('publishes weights whose keccak is the model id, once', async () => {
    const encoding: Hex = '0x41494d460001020304';
    const m = keccak256(encoding);
    await write(owner, 'register', [m, fakeVk(1), '']);
    const r = await write(owner, 'publishWeights', [m, encoding]);
    expect(parseEventLogs({ abi, logs: r.logs, eventName: 'WeightsPublished' })).toHaveLength(1);
    expect(await read('weights', [m])).toBe(encoding);
    expect((await read('getModel', [m])).hasWeights).toBe(true);
    expect(await revertName(write(owner, 'publishWeights', [m, encoding]))).toBe('WeightsExist');
  });

  describe('from a contract', () => {
    let probe: Address;
    let probeAbi: any;
    beforeAll(async () => {
      const { RegistryProbe } = await compileContracts(['examples/RegistryProbe.sol']);
      probeAbi = RegistryProbe!.abi;
      ({ address: probe } = await deploy(owner.walletClient, owner.publicClient, RegistryProbe!));
    });

    it('ownership follows msg.sender (the contract), never tx.origin', async () => {
      const m = id('probe-owned');
      const hash = await owner.walletClient.writeContract({ address: probe, abi: probeAbi, functionName: 'register', args: [m, fakeVk(1), ''] });
      expect((await owner.publicClient.waitForTransactionReceipt({ hash })).status).toBe('success');
      expect((await read("getModel", [m])).owner).toBe(getAddress(probe));
      // the EOA that sent the transaction is tx.origin but not the owner
      expect(await revertName(write(owner, 'deprecate', [m]))).toBe('NotOwner');
      const h2 = await owner.walletClient.writeContract({ address: probe, abi: probeAbi, functionName: 'deprecate', args: [m] });
      expect((await owner.publicClient.waitForTransactionReceipt({ hash: h2 })).status).toBe('success');
      expect((await read('getModel', [m])).deprecated).toBe(true);
    });

    it('a STATICCALL cannot register', async () => {
      const m = id('static');
      const ok = await owner.publicClient.readContract({ address: probe, abi: probeAbi, functionName: 'staticRegister', args: [m, fakeVk(1)] });
      expect(ok).toBe(false);
      expect(await read('exists', [m])).toBe(false);
    });

    it('a reverted transaction leaves no model, no log, no count', async () => {
      const m = id('rolled-back');
      const before = (await read('modelCount')) as bigint;
      const hash = await owner.walletClient.writeContract({ address: probe, abi: probeAbi, functionName: 'registerThenRevert', args: [m, fakeVk(1)], gas: 1_000_000n });
      const r = await owner.publicClient.waitForTransactionReceipt({ hash });
      expect(r.status).toBe('reverted');
      expect(r.logs).toHaveLength(0);
      expect(await read('exists', [m])).toBe(false);
      expect(await read('modelCount')).toBe(before);
    });
  });

  it('ai_listModels pages in registration order; storage is provable with eth_getProof', async () => {
    const total = (await read('modelCount')) as bigint;
    const all: Hex[] = [];
    let offset: string | null = '0x0';
    while (offset !== null) {
      const page: any = await must(node.url, 'ai_listModels', [offset, '0x2']);
      expect(page.total).toBe(numberToHex(total));
      expect(page.models.length).toBeLessThanOrEqual(2);
      all.push(...page.models.map((m: any) => m.modelId));
      offset = page.nextOffset;
    }
    expect(all).toEqual(await read('listModels', [0n, 1000n]));
    expect(all.length).toBe(Number(total));
    const bad = await fetch(node.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ai_listModels', params: ['0x0', '0x1000'] }) }).then((r) => r.json());
    expect(bad.error.code).toBe(-32602);

    // word 0 of records[model-a]: owner | version << 160 (layout in ModelRegistry.sol)
    const slot = keccak256(encodeAbiParameters([{ type: 'bytes32' }, { type: 'uint256' }], [id('model-a'), 0n]));
    const block = await owner.publicClient.getBlock();
    const proof = await owner.publicClient.getProof({ address: registry, storageKeys: [slot], blockNumber: block.number });
    const account = await verifyProof(block.stateRoot, registry, proof.accountProof);
    expect(account).not.toBeNull();
    const leaf = await verifyProof(proof.storageHash, slot, proof.storageProof[0]!.proof);
    const word = decodeStorageValue(leaf!);
    expect(`0x${(word & ((1n << 160n) - 1n)).toString(16).padStart(40, '0')}`).toBe(owner.account.address.toLowerCase());
    expect((word >> 160n) & 0xffffffffn).toBe(1n);
  });
});
