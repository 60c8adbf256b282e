import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keccak256, pad, parseEther, toHex } from 'viem';
import type { Address, Hex, TransactionReceipt } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { DEV_KEYS, clients, removeDir, rpc, startDevNode } from '../helpers/dev-node.ts';
import type { DevNode } from '../helpers/dev-node.ts';
import { TOKEN_SLOTS, deploy, loadTestContracts, mappingSlot, tokenAbi } from '../helpers/contracts.ts';
import { EMPTY_CODE_HASH, EMPTY_TRIE_ROOT, decodeAccount, decodeStorageValue, verifyProof } from '../helpers/proof.ts';

describe('state methods (eth_getBalance, eth_getTransactionCount, eth_getCode, eth_getStorageAt, eth_getProof)', () => {
  let node: DevNode;
  let c: ReturnType<typeof clients>;

  beforeAll(async () => {
    node = await startDevNode({ blockTime: 0 });
    c = clients(node);
  });
  afterAll(async () => {
    await node.stop();
    await removeDir(node.datadir);
  });

  /** A raw call; throws with the error object when the node answers one. */
  async function call<T = unknown>(method: string, params: unknown[]): Promise<T> {
    const { json } = await rpc(node.url, { jsonrpc: '2.0', id: 1, method, params });
    if (json.error !== undefined) throw Object.assign(new Error(json.error.message), { rpc: json.error });
    return json.result as T;
  }

  async function send(to: Address, value: bigint) {
    const hash = await c.walletClient.sendTransaction({ to, value, chain: node.chain, account: c.account });
    return c.publicClient.waitForTransactionReceipt({ hash });
  }

  it('reports balance and nonce at latest, at earlier block numbers and by EIP-1898 block hash', async () => {
    const to = privateKeyToAccount(keccak256(toHex('rpc-state fresh 1'))).address;
    const before = await c.publicClient.getBlock();
    const senderBefore = await c.publicClient.getBalance({ address: c.account.address });
    const nonceBefore = await c.publicClient.getTransactionCount({ address: c.account.address });

    const r = await send(to, parseEther('1.5'));
    expect(r.status).toBe('success');
    expect(r.blockNumber).toBeGreaterThan(before.number);
    const prev = r.blockNumber - 1n;

    expect(await c.publicClient.getBalance({ address: to })).toBe(parseEther('1.5'));
    expect(await c.publicClient.getBalance({ address: to, blockNumber: r.blockNumber })).toBe(parseEther('1.5'));
    expect(await c.publicClient.getBalance({ address: to, blockNumber: prev })).toBe(0n);
    expect(await c.publicClient.getBalance({ address: to, blockTag: 'earliest' })).toBe(0n);

    const fee = r.gasUsed * r.effectiveGasPrice;
    expect(await c.publicClient.getBalance({ address: c.account.address, blockNumber: r.blockNumber })).toBe(senderBefore - parseEther('1.5') - fee);
    expect(await c.publicClient.getBalance({ address: c.account.address, blockNumber: prev })).toBe(senderBefore);

    expect(await c.publicClient.getTransactionCount({ address: c.account.address, blockNumber: prev })).toBe(nonceBefore);
    expect(await c.publicClient.getTransactionCount({ address: c.account.address, blockNumber: r.blockNumber })).toBe(nonceBefore + 1);
    expect(await c.publicClient.getTransactionCount({ address: c.account.address })).toBe(nonceBefore + 1);

    // EIP-1898: { blockHash } and { blockNumber } objects
    const prevBlock = await c.publicClient.getBlock({ blockNumber: prev });
    expect(BigInt(await call('eth_getBalance', [to, { blockHash: r.blockHash }]))).toBe(parseEther('1.5'));
    expect(BigInt(await call('eth_getBalance', [to, { blockHash: prevBlock.hash, requireCanonical: true }]))).toBe(0n);
    expect(BigInt(await call('eth_getBalance', [to, { blockNumber: toHex(prev) }]))).toBe(0n);
    expect(BigInt(await call('eth_getTransactionCount', [c.account.address, { blockHash: prevBlock.hash }]))).toBe(BigInt(nonceBefore));
    expect(BigInt(await call('eth_getTransactionCount', [c.account.address, { blockHash: r.blockHash }]))).toBe(BigInt(nonceBefore + 1));
  });

  it('answers "header not found" for a block after the head or an unknown block hash', async () => {
    const head = await c.publicClient.getBlockNumber();
    const addr = c.account.address;
    for (const ref of [toHex(head + 1000n), { blockHash: keccak256(toHex('no such block')) }]) {
      const { json } = await rpc(node.url, { jsonrpc: '2.0', id: 7, method: 'eth_getBalance', params: [addr, ref] });
      expect(json.id).toBe(7);
      expect(json.error).toMatchObject({ code: -32000, message: 'header not found' });
    }
  });

  it('counts pending pool transactions for "pending" but not queued ones behind a nonce gap', async () => {
    const key = DEV_KEYS[1];
    const own = clients(node, key);
    const from = own.account.address;
    const start = await own.publicClient.getTransactionCount({ address: from });
    const fees = await own.publicClient.estimateFeesPerGas();
    const sign = (nonce: number) =>
      own.walletClient.signTransaction({
        account: own.account,
        chain: node.chain,
        to: own.account.address,
        value: 1n,
        nonce,
        gas: 21000n,
        maxFeePerGas: fees.maxFeePerGas * 2n,
        maxPriorityFeePerGas: fees.maxPriorityFeePerGas,
      });
    // nonces start+1 and start+2 are queued behind the missing start
    const queued = [await sign(start + 1), await sign(start + 2)];
    const queuedHashes = await Promise.all(queued.map((serializedTransaction) => own.publicClient.sendRawTransaction({ serializedTransaction })));
    expect(await own.publicClient.getTransactionCount({ address: from, blockTag: 'pending' })).toBe(start);
    expect(await own.publicClient.getTransactionCount({ address: from })).toBe(start);
    expect((await call<{ queued: Hex }>('txpool_status', [])).queued).toBe('0x2');
    // a transaction in the pool is known, with no block yet
    const waiting = await own.publicClient.getTransaction({ hash: queuedHashes[0]! });
    expect(waiting).toMatchObject({ hash: queuedHashes[0], blockHash: null, blockNumber: null, transactionIndex: null, nonce: start + 1, from: from.toLowerCase() });
    expect(await call('eth_getTransactionReceipt', [queuedHashes[0]])).toBeNull();

    // filling the gap makes all three pending (mined or not, the pending nonce is past them)
    const first = await own.publicClient.sendRawTransaction({ serializedTransaction: await sign(start) });
    expect(await own.publicClient.getTransactionCount({ address: from, blockTag: 'pending' })).toBe(start + 3);
    for (const hash of [first, ...queuedHashes]) {
      expect((await own.publicClient.waitForTransactionReceipt({ hash })).status).toBe('success');
    }
    expect(await own.publicClient.getTransactionCount({ address: from })).toBe(start + 3);
    expect(await own.publicClient.getTransactionCount({ address: from, blockTag: 'pending' })).toBe(start + 3);
  });

  it('proves an externally owned account against the block stateRoot', async () => {
    const block = await c.publicClient.getBlock();
    const address = c.account.address;
    const proof = await c.publicClient.getProof({ address, storageKeys: [], blockNumber: block.number });
    expect(proof.address.toLowerCase()).toBe(address.toLowerCase());
    expect(proof.balance).toBe(await c.publicClient.getBalance({ address, blockNumber: block.number }));
    expect(proof.nonce).toBe(await c.publicClient.getTransactionCount({ address, blockNumber: block.number }));
    expect(proof.codeHash).toBe(EMPTY_CODE_HASH);
    expect(proof.storageHash).toBe(EMPTY_TRIE_ROOT);

    const leaf = await verifyProof(block.stateRoot, address, proof.accountProof);
    expect(leaf).not.toBeNull();
    expect(decodeAccount(leaf!)).toEqual({ nonce: BigInt(proof.nonce), balance: proof.balance, storageHash: proof.storageHash, codeHash: proof.codeHash });

    // a proof does not verify against another root
    const genesis = await c.publicClient.getBlock({ blockTag: 'earliest' });
    await expect(verifyProof(genesis.stateRoot, address, proof.accountProof)).rejects.toThrow();
  });

  it('proves an earlier state of an account against that block stateRoot', async () => {
    const address = c.account.address;
    const genesis = await c.publicClient.getBlock({ blockTag: 'earliest' });
    const proof = await c.publicClient.getProof({ address, storageKeys: [], blockNumber: 0n });
    expect(proof.nonce).toBe(0);
    expect(proof.balance).toBe(10_000n * 10n ** 18n);
    const leaf = await verifyProof(genesis.stateRoot, address, proof.accountProof);
    expect(decodeAccount(leaf!)).toMatchObject({ nonce: 0n, balance: 10_000n * 10n ** 18n });

    const byHash = await call<{ balance: Hex; accountProof: Hex[] }>('eth_getProof', [address, [], { blockHash: genesis.hash }]);
    expect(BigInt(byHash.balance)).toBe(10_000n * 10n ** 18n);
    expect(byHash.accountProof).toEqual(proof.accountProof);
  });

  it('proves the absence of an account that was never touched', async () => {
    const block = await c.publicClient.getBlock();
    const address = privateKeyToAccount(keccak256(toHex('never used'))).address;
    const slot = pad('0x01');
    const proof = await c.publicClient.getProof({ address, storageKeys: [slot], blockNumber: block.number });
    expect(proof.balance).toBe(0n);
    expect(proof.nonce).toBe(0);
    expect(proof.accountProof.length).toBeGreaterThan(0);
    expect(await verifyProof(block.stateRoot, address, proof.accountProof)).toBeNull();
    // like geth: one entry per requested key, value 0 and no nodes (there is no storage trie)
    expect(proof.storageProof).toEqual([{ key: slot, value: 0n, proof: [] }]);
  });

  describe('a contract (TestToken)', () => {
    let token: Address;
    let deployed: TransactionReceipt;
    let minted: TransactionReceipt;
    let runtime: Hex;
    const holder = privateKeyToAccount(keccak256(toHex('token holder'))).address;

    beforeAll(async () => {
      const { TestToken } = await loadTestContracts();
      runtime = TestToken.deployedBytecode;
      ({ address: token, receipt: deployed } = await deploy(c.walletClient, c.publicClient, TestToken, ['Test', 'TST', 1000n]));
      const hash = await c.walletClient.writeContract({ address: token, abi: tokenAbi, functionName: 'mint', args: [holder, 5n], chain: node.chain, account: c.account });
      minted = await c.publicClient.waitForTransactionReceipt({ hash });
      expect(minted.status).toBe('success');
    });

    it('serves its code at latest, at the deployment block and by hash, and none before', async () => {
      expect(await c.publicClient.getCode({ address: token })).toBe(runtime);
      expect(await c.publicClient.getCode({ address: token, blockNumber: deployed.blockNumber })).toBe(runtime);
      expect(await c.publicClient.getCode({ address: token, blockNumber: deployed.blockNumber - 1n })).toBeUndefined();
      expect(await call('eth_getCode', [token, { blockHash: deployed.blockHash }])).toBe(runtime);
      expect(await call('eth_getCode', [token, toHex(deployed.blockNumber - 1n)])).toBe('0x');
    });

    it('serves storage slots now and as they were at earlier blocks', async () => {
      const supply = toHex(TOKEN_SLOTS.totalSupply, { size: 32 });
      const bal = mappingSlot(holder, TOKEN_SLOTS.balanceOf);
      const at = async (slot: Hex, blockNumber?: bigint) => BigInt((await c.publicClient.getStorageAt({ address: token, slot, blockNumber }))!);
      expect(await at(supply)).toBe(1005n);
      expect(await at(supply, minted.blockNumber)).toBe(1005n);
      expect(await at(supply, minted.blockNumber - 1n)).toBe(1000n);
      expect(await at(supply, deployed.blockNumber - 1n)).toBe(0n);
      expect(await at(bal, minted.blockNumber)).toBe(5n);
      expect(await at(bal, minted.blockNumber - 1n)).toBe(0n);
      expect(await at(mappingSlot(c.account.address, TOKEN_SLOTS.balanceOf))).toBe(1000n);
      // every value is a 32-byte word; short keys are accepted; EIP-1898 by hash
      expect(await call('eth_getStorageAt', [token, '0x2', 'latest'])).toBe(toHex(1005n, { size: 32 }));
      expect(await call('eth_getStorageAt', [token, bal, { blockHash: minted.blockHash }])).toBe(toHex(5n, { size: 32 }));
      expect(await call('eth_getStorageAt', [token, '0x63', 'latest'])).toBe(toHex(0n, { size: 32 }));
    });

    it('proves the contract account and its storage slots against the stateRoot', async () => {
      const block = await c.publicClient.getBlock({ blockNumber: minted.blockNumber });
      const supply = toHex(TOKEN_SLOTS.totalSupply, { size: 32 });
      const bal = mappingSlot(holder, TOKEN_SLOTS.balanceOf);
      const unused = toHex(99n, { size: 32 });
      const proof = await c.publicClient.getProof({ address: token, storageKeys: [supply, bal, unused], blockNumber: block.number });
      expect(proof.nonce).toBe(1); // EIP-161: contracts start at nonce 1
      expect(proof.balance).toBe(0n);
      expect(proof.codeHash).toBe(keccak256(runtime));
      expect(proof.storageHash).not.toBe(EMPTY_TRIE_ROOT);

      const leaf = await verifyProof(block.stateRoot, token, proof.accountProof);
      expect(decodeAccount(leaf!)).toEqual({ nonce: 1n, balance: 0n, storageHash: proof.storageHash, codeHash: keccak256(runtime) });

      expect(proof.storageProof.map((p) => [p.key, p.value])).toEqual([
        [supply, 1005n],
        [bal, 5n],
        [unused, 0n],
      ]);
      const [supplyLeaf, balLeaf, unusedLeaf] = await Promise.all(proof.storageProof.map((p) => verifyProof(proof.storageHash, p.key, p.proof)));
      expect(decodeStorageValue(supplyLeaf!)).toBe(1005n);
      expect(decodeStorageValue(balLeaf!)).toBe(5n);
      expect(unusedLeaf).toBeNull();

      // one block earlier the holder's slot is absent and the supply was 1000
      const before = await c.publicClient.getBlock({ blockNumber: minted.blockNumber - 1n });
      const old = await c.publicClient.getProof({ address: token, storageKeys: [supply, bal], blockNumber: before.number });
      expect(decodeAccount((await verifyProof(before.stateRoot, token, old.accountProof))!).storageHash).toBe(old.storageHash);
      expect(decodeStorageValue((await verifyProof(old.storageHash, supply, old.storageProof[0]!.proof))!)).toBe(1000n);
      expect(await verifyProof(old.storageHash, bal, old.storageProof[1]!.proof)).toBeNull();
      expect(old.storageProof[1]!.value).toBe(0n);
    });
  });
});
