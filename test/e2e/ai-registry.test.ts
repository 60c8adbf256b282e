import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bytesToHex,
  concat,
  encodeAbiParameters,
  encodeFunctionData,
  getAddress,
  hexToBytes,
  keccak256,
  numberToHex,
  pad,
  parseEventLogs,
  parseTransaction,
  toHex,
  zeroHash,
} from 'viem';
import type { Address, Hex } from 'viem';
import { compileContracts } from '../../contracts/compile.ts';
import { MODEL_REGISTRY_ADDRESS, loadArtifact } from '../../contracts/predeploys.ts';
import { registrationCommitment, revealableIn } from '../../node/cli/model-register.ts';
import { initMcl } from '../../precompiles/groth16/verify.ts';
import { verifyingKeySlot } from '../../precompiles/registry-layout.ts';
import { VERIFIER, registerModelTx, verifierAbi } from '../helpers/ai.ts';
import { DEV_KEYS, clients, removeDir, startDevNode } from '../helpers/dev-node.ts';
import type { DevNode } from '../helpers/dev-node.ts';
import { deploy } from '../helpers/contracts.ts';
import { degenerateKeys, forgeGammaIsDelta, keyBytes, keyHex, randomKey } from '../helpers/keys.ts';
import { revertName } from '../helpers/market.ts';
import { decodeStorageValue, verifyProof } from '../helpers/proof.ts';
import { must } from '../helpers/txs.ts';

const abi = loadArtifact('ModelRegistry').abi;
const registry = MODEL_REGISTRY_ADDRESS;

/** A sound key (independent random points) for n public inputs. */
const vkOf = (n: number, seed = 1): Hex => keyHex(randomKey(n, `registry-${seed}`));
const id = (s: string): Hex => keccak256(toHex(s));
const errorName = async (p: Promise<unknown>): Promise<string> => (await revertName(p)).name;

describe('ModelRegistry predeploy (ownership by msg.sender, reverts leave no trace)', () => {
  let node: DevNode;
  let owner: ReturnType<typeof clients>;
  let other: ReturnType<typeof clients>;

  beforeAll(async () => {
    await initMcl();
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
    const rcpt = await registerModelTx(owner, m, vkOf(5), 'ipfs://a');
    const [ev] = parseEventLogs({ abi, logs: rcpt.logs, eventName: 'ModelRegistered' }) as any[];
    expect(ev.args).toMatchObject({ modelId: m, owner: owner.account.address, parent: zeroHash, version: 1, metadataURI: 'ipfs://a' });
    const got = await read('getModel', [m]);
    expect(got).toMatchObject({ owner: owner.account.address, version: 1, deprecated: false, hasWeights: false, parent: zeroHash, latest: m, verifyingKey: vkOf(5) });
    expect(got.registeredAt).toBe(rcpt.blockNumber);

    const viaRpc = await must(node.url, 'ai_getModel', [m]);
    expect(viaRpc).toMatchObject({ modelId: m, owner: owner.account.address, version: '0x1', publicInputs: '0x5', metadataURI: 'ipfs://a', verifyingKeyHash: keccak256(vkOf(5)) });
    expect(await must(node.url, 'ai_getModel', [id('nope')])).toBeNull();

    expect(await errorName(registerModelTx(other, m, vkOf(5)))).toBe('ModelExists');
    expect(await errorName(registerModelTx(owner, id('bad-vk'), '0x1234'))).toBe('InvalidVerifyingKey');
    // a key whose n word disagrees with its length
    expect(await errorName(registerModelTx(owner, id('bad-vk'), concat([vkOf(2), pad('0x01')])))).toBe('InvalidVerifyingKey');
  });

  it('only the owner deprecates, publishes versions and weights, or transfers; ownership moves', async () => {
    const m = id('model-b');
    await registerModelTx(owner, m, vkOf(3));
    expect(await errorName(write(other, 'deprecate', [m]))).toBe('NotOwner');
    expect(await errorName(write(other, 'publishVersion', [m, id('b2'), vkOf(3), '']))).toBe('NotOwner');
    expect(await errorName(write(other, 'transferOwnership', [m, other.account.address]))).toBe('NotOwner');
    expect(await errorName(write(owner, 'deprecate', [id('unknown')]))).toBe('UnknownModel');

    // version 2 and 3: lineage and `latest` on every ancestor
    await write(owner, 'publishVersion', [m, id('b2'), vkOf(3, 2), 'v2']);
    await write(owner, 'publishVersion', [id('b2'), id('b3'), vkOf(3, 3), 'v3']);
    expect(await read('getModel', [id('b3')])).toMatchObject({ version: 3, parent: id('b2'), latest: id('b3') });
    expect((await read('getModel', [m])).latest).toBe(id('b3'));

    // weights must hash to the id
    expect(await errorName(write(owner, 'publishWeights', [m, '0xdeadbeef']))).toBe('WeightsMismatch');

    const t = await write(owner, 'transferOwnership', [m, other.account.address]);
    expect(parseEventLogs({ abi, logs: t.logs, eventName: 'OwnershipTransferred' })).toHaveLength(1);
    expect(await errorName(write(owner, 'deprecate', [m]))).toBe('NotOwner');
    const d = await write(other, 'deprecate', [m]);
    expect(parseEventLogs({ abi, logs: d.logs, eventName: 'ModelDeprecated' })).toHaveLength(1);
    expect((await read('getModel', [m])).deprecated).toBe(true);
    expect(await errorName(write(other, 'deprecate', [m]))).toBe('AlreadyDeprecated');
    expect(await errorName(write(other, 'publishVersion', [m, id('b4'), vkOf(3), '']))).toBe('AlreadyDeprecated');
  });

  it('publishes weights whose keccak is the model id, once', async () => {
    const encoding: Hex = '0x41494d460001020304';
    const m = keccak256(encoding);
    await registerModelTx(owner, m, vkOf(1));
    const r = await write(owner, 'publishWeights', [m, encoding]);
    expect(parseEventLogs({ abi, logs: r.logs, eventName: 'WeightsPublished' })).toHaveLength(1);
    expect(await read('weights', [m])).toBe(encoding);
    expect((await read('getModel', [m])).hasWeights).toBe(true);
    expect(await errorName(write(owner, 'publishWeights', [m, encoding]))).toBe('WeightsExist');
  });

  describe('from a contract', () => {
    let probe: Address;
    let probeAbi: any;
    const salt = id('probe-salt');
    beforeAll(async () => {
      const { RegistryProbe } = await compileContracts(['examples/RegistryProbe.sol']);
      probeAbi = RegistryProbe!.abi;
      ({ address: probe } = await deploy(owner.walletClient, owner.publicClient, RegistryProbe!));
    });
    const probeTx = async (functionName: string, args: unknown[]) => {
      // explicit gas: a reveal estimated in its commit's block would fail CommitmentTooRecent
      const hash = await owner.walletClient.writeContract({ address: probe, abi: probeAbi, functionName, args, gas: 3_000_000n });
      return owner.publicClient.waitForTransactionReceipt({ hash });
    };
    /** The probe commits (it is the registrant); returns the commitment. */
    const probeCommit = async (m: Hex, vk: Hex, uri = '') => {
      const c = registrationCommitment(probe, m, vk, uri, salt);
      expect((await probeTx('commit', [c])).status).toBe('success');
      return c;
    };

    it('ownership follows msg.sender (the contract), never tx.origin', async () => {
      const m = id('probe-owned');
      await probeCommit(m, vkOf(1));
      expect((await probeTx('register', [m, vkOf(1), '', salt])).status).toBe('success');
      expect((await read('getModel', [m])).owner).toBe(getAddress(probe));
      // the EOA that sent the transaction is tx.origin but not the owner
      expect(await errorName(write(owner, 'deprecate', [m]))).toBe('NotOwner');
      expect((await probeTx('deprecate', [m])).status).toBe('success');
      expect((await read('getModel', [m])).deprecated).toBe(true);
    });

    it('a STATICCALL cannot register, even with a live commitment', async () => {
      const m = id('static');
      const c = await probeCommit(m, vkOf(1));
      const latest = await owner.publicClient.getBlockNumber();
      // revealable in the latest block, so only the STATICCALL stands in the way
      const stateOverride = revealableIn(c, latest);
      const call = { address: probe, abi: probeAbi, stateOverride } as const;
      expect(await owner.publicClient.readContract({ ...call, functionName: 'staticRegister', args: [m, vkOf(1), salt] })).toBe(false);
      await owner.publicClient.simulateContract({ ...call, account: owner.account, functionName: 'register', args: [m, vkOf(1), '', salt] });
      expect(await read('exists', [m])).toBe(false);
    });

    it('a reverted transaction leaves no model, no log, no count, and its commitment still usable', async () => {
      const m = id('rolled-back');
      await probeCommit(m, vkOf(1));
      const before = (await read('modelCount')) as bigint;
      const r = await probeTx('registerThenRevert', [m, vkOf(1), salt]);
      expect(r.status).toBe('reverted');
      expect(r.logs).toHaveLength(0);
      expect(await read('exists', [m])).toBe(false);
      expect(await read('modelCount')).toBe(before);
      expect((await probeTx('register', [m, vkOf(1), '', salt])).status).toBe('success');
    });
  });

  describe('attacks', () => {
    it('a reveal copied from the pool is refused (UnknownCommitment); the owner then registers and the id is hers', async () => {
      const [m, vk, uri, salt] = [id('front-run'), vkOf(2, 7), 'ipfs://mine', id('front-run-salt')];
      const commit = await owner.walletClient.writeContract({
        address: registry,
        abi,
        functionName: 'commitRegistration',
        args: [registrationCommitment(owner.account.address, m, vk, uri, salt)],
      });
      expect((await owner.publicClient.waitForTransactionReceipt({ hash: commit })).status).toBe('success');
      // the owner's reveal, signed, as it would sit in the pool
      const data = encodeFunctionData({ abi, functionName: 'register', args: [m, vk, uri, salt] });
      const request = await owner.walletClient.prepareTransactionRequest({ to: registry, data, gas: 3_000_000n });
      const signed = await owner.walletClient.signTransaction(request);
      // a stranger copies its calldata and outbids it: his copy is mined first
      const seen = parseTransaction(signed);
      const tip = seen.maxPriorityFeePerGas! * 2n + 1n;
      const theft = await other.walletClient.sendTransaction({ to: seen.to!, data: seen.data!, gas: seen.gas!, maxPriorityFeePerGas: tip, maxFeePerGas: seen.maxFeePerGas! + tip });
      expect((await other.publicClient.waitForTransactionReceipt({ hash: theft })).status).toBe('reverted');
      const why = await revertName(other.publicClient.simulateContract({ account: other.account, address: registry, abi, functionName: 'register', args: [m, vk, uri, salt] }));
      expect(why).toEqual({ name: 'UnknownCommitment', args: [registrationCommitment(other.account.address, m, vk, uri, salt)] });
      expect(await read('exists', [m])).toBe(false);

      const mine = await owner.publicClient.sendRawTransaction({ serializedTransaction: signed });
      expect((await owner.publicClient.waitForTransactionReceipt({ hash: mine })).status).toBe('success');
      expect(await read('getModel', [m])).toMatchObject({ owner: owner.account.address, metadataURI: uri, verifyingKey: vk });
      // committing to the id after seeing it comes too late once the owner's reveal is in
      expect(await errorName(registerModelTx(other, m, vkOf(2, 8)))).toBe('ModelExists');
    });

    it('refuses a fresh id with each forgeable key class (KeyRefused with its code), mined or simulated', async () => {
      const classes = degenerateKeys(randomKey(3, 'e2e-classes'));
      for (const { name, code, key } of classes) {
        expect(await revertName(registerModelTx(other, id(name), keyHex(key))), name).toEqual({ name: 'KeyRefused', args: [code] });
      }
      // one as a mined transaction with no simulation in front: it reverts and leaves nothing
      const { key } = classes.find((k) => k.name === 'gamma = delta')!;
      const [m, salt] = [id('mined-bad-key'), id('mined-bad-key-salt')];
      const c = registrationCommitment(other.account.address, m, keyHex(key), '', salt);
      await other.publicClient.waitForTransactionReceipt({
        hash: await other.walletClient.writeContract({ address: registry, abi, functionName: 'commitRegistration', args: [c] }),
      });
      const hash = await other.walletClient.writeContract({ address: registry, abi, functionName: 'register', args: [m, keyHex(key), '', salt], gas: 3_000_000n });
      expect((await other.publicClient.waitForTransactionReceipt({ hash })).status).toBe('reverted');
      expect(await read('exists', [m])).toBe(false);
      // why: replayed now (a later block, the commitment untouched by the revert)
      const replay = other.publicClient.simulateContract({ account: other.account, address: registry, abi, functionName: 'register', args: [m, keyHex(key), '', salt] });
      expect(await revertName(replay)).toEqual({ name: 'KeyRefused', args: [6] });
    });

    it('a forgeable key already in state does not verify: a forged proof gets InvalidVerifyingKey, never true', async () => {
      const sound = randomKey(3, 'e2e-stored');
      const m = id('stored-key');
      await registerModelTx(owner, m, keyHex(sound));
      const bad = { ...sound, delta: sound.gamma };
      const inputs = [11n, 22n, 33n];
      const proof = forgeGammaIsDelta(bad, inputs) as unknown as readonly [bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint];
      // the registry's stored key replaced by the forgeable one, as if registered before the checks
      const bytes = keyBytes(bad);
      const body = BigInt(keccak256(pad(numberToHex(verifyingKeySlot(hexToBytes(m))), { size: 32 })));
      const stateDiff = Array.from({ length: bytes.length / 32 }, (_, i) => ({
        slot: pad(numberToHex(body + BigInt(i)), { size: 32 }),
        value: bytesToHex(bytes.subarray(i * 32, i * 32 + 32)),
      }));
      const verify = { address: VERIFIER, abi: verifierAbi, functionName: 'verify', args: [m, inputs, proof] } as const;
      expect(await revertName(owner.publicClient.readContract({ ...verify, stateOverride: [{ address: registry, stateDiff }] }))).toEqual({
        name: 'InvalidVerifyingKey',
        args: [m],
      });
      // against the sound key it is just a wrong proof
      expect(await owner.publicClient.readContract(verify)).toBe(false);
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
    const bad = await fetch(node.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ai_listModels', params: ['0x0', '0x1000'] }),
    }).then((r) => r.json());
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
