import { devAccounts } from '../../node/chain/genesis.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeFunctionData, keccak256, pad, parseEventLogs, parseGwei, toHex, zeroAddress } from 'viem';
import type { Address, Hash, Hex, StateOverride, TransactionReceipt } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { DEV_KEYS, clients, removeDir, rpc, startDevNode } from '../helpers/dev-node.ts';
import type { DevNode } from '../helpers/dev-node.ts';
import { TOKEN_SLOTS, deploy, loadTestContracts, mappingSlot, tokenAbi } from '../helpers/contracts.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const min = (a: bigint, b: bigint) => (a < b ? a : b);
const fresh = (label: string): Address => privateKeyToAccount(keccak256(toHex(label))).address;

describe('transactions, blocks, receipts and chain info', () => {
  let node: DevNode;
  let c: ReturnType<typeof clients>;

  beforeAll(async () => {
    node = await startDevNode({ blockTime: 1 });
    c = clients(node);
  });
  afterAll(async () => {
    await node.stop();
    await removeDir(node.datadir);
  });

  async function call<T = unknown>(method: string, params: unknown[] = []): Promise<T> {
    const { json } = await rpc(node.url, { jsonrpc: '2.0', id: 1, method, params });
    if (json.error !== undefined) throw Object.assign(new Error(json.error.message), { rpc: json.error });
    return json.result as T;
  }

  it('identifies itself: client version, network, chain id, its dev accounts (--dev), not syncing', async () => {
    expect(await call('web3_clientVersion')).toMatch(/^ai-rollup\/v\d+\.\d+\.\d+\/\S+\/node\d+/);
    expect(await call('net_version')).toBe('1337');
    expect(await call('net_listening')).toBe(true);
    expect(await call('eth_syncing')).toBe(false);
    expect(((await call('eth_accounts')) as string[]).map((a) => a.toLowerCase())).toEqual(devAccounts().map((a) => a.address.toLowerCase()));
    expect(await call('eth_chainId')).toBe('0x539');
    expect(await c.publicClient.getChainId()).toBe(1337);
  });

  it('seals a new block about every second: eth_blockNumber increases and blocks chain up', async () => {
    const start = await c.publicClient.getBlockNumber();
    let now = start;
    while (now < start + 2n) {
      await sleep(250);
      const next = await c.publicClient.getBlockNumber();
      expect(next).toBeGreaterThanOrEqual(now);
      now = next;
    }
    const [a, b] = await Promise.all([c.publicClient.getBlock({ blockNumber: start + 1n }), c.publicClient.getBlock({ blockNumber: start + 2n })]);
    expect(b.parentHash).toBe(a.hash);
    expect(b.timestamp).toBeGreaterThan(a.timestamp);
  });

  it('accepts raw signed legacy, EIP-2930 and EIP-1559 transactions', async () => {
    const to = fresh('rpc-tx raw');
    const slot = pad('0x07');
    const gasPrice = (await c.publicClient.getGasPrice()) * 2n;
    const nonce = await c.publicClient.getTransactionCount({ address: c.account.address });
    const base = { account: c.account, chain: node.chain, to } as const;
    const signed = [
      await c.walletClient.signTransaction({ ...base, type: 'legacy', nonce, value: 1n, gas: 21000n, gasPrice }),
      await c.walletClient.signTransaction({ ...base, type: 'eip2930', nonce: nonce + 1, value: 2n, gas: 30000n, gasPrice, accessList: [{ address: to, storageKeys: [slot] }] }),
      await c.walletClient.signTransaction({
        ...base,
        type: 'eip1559',
        nonce: nonce + 2,
        value: 3n,
        gas: 21000n,
        maxFeePerGas: gasPrice,
        maxPriorityFeePerGas: parseGwei('0.002'),
      }),
    ];
    const hashes: Hash[] = [];
    for (const serializedTransaction of signed) {
      const hash = await c.publicClient.sendRawTransaction({ serializedTransaction });
      expect(hash).toBe(keccak256(serializedTransaction));
      hashes.push(hash);
    }
    const receipts: TransactionReceipt[] = [];
    for (const hash of hashes) receipts.push(await c.publicClient.waitForTransactionReceipt({ hash }));
    expect(receipts.map((r) => [r.type, r.status])).toEqual([
      ['legacy', 'success'],
      ['eip2930', 'success'],
      ['eip1559', 'success'],
    ]);
    // 21000 plus 2400 per access-list address and 1900 per storage key
    expect(receipts.map((r) => r.gasUsed)).toEqual([21000n, 25300n, 21000n]);
    expect(await c.publicClient.getBalance({ address: to })).toBe(6n);

    const txs = await Promise.all(hashes.map((hash) => c.publicClient.getTransaction({ hash })));
    expect(txs.map((t) => [t.type, t.from.toLowerCase(), t.to?.toLowerCase(), t.value, t.nonce])).toEqual([
      ['legacy', c.account.address.toLowerCase(), to.toLowerCase(), 1n, nonce],
      ['eip2930', c.account.address.toLowerCase(), to.toLowerCase(), 2n, nonce + 1],
      ['eip1559', c.account.address.toLowerCase(), to.toLowerCase(), 3n, nonce + 2],
    ]);
    expect(txs[0]!.v === 1337n * 2n + 35n || txs[0]!.v === 1337n * 2n + 36n).toBe(true); // EIP-155
    expect(txs[1]!.accessList).toEqual([{ address: to.toLowerCase(), storageKeys: [slot] }]);
    expect(txs[2]!.maxPriorityFeePerGas).toBe(parseGwei('0.002'));
    expect(txs[2]!.maxFeePerGas).toBe(gasPrice);
    for (const [i, t] of txs.entries()) {
      expect(t.hash).toBe(hashes[i]);
      expect(t.blockHash).toBe(receipts[i]!.blockHash);
      expect(t.blockNumber).toBe(receipts[i]!.blockNumber);
      expect(t.transactionIndex).toBe(receipts[i]!.transactionIndex);
      expect(t.chainId).toBe(1337);
    }
    // a 1559 transaction's effective price: base fee plus the tip, capped by the fee cap
    const blk = await c.publicClient.getBlock({ blockNumber: receipts[2]!.blockNumber });
    const want = blk.baseFeePerGas! + parseGwei('0.002') < gasPrice ? blk.baseFeePerGas! + parseGwei('0.002') : gasPrice;
    expect(receipts[2]!.effectiveGasPrice).toBe(want);
    expect(txs[2]!.gasPrice).toBe(want);
    expect(receipts[0]!.effectiveGasPrice).toBe(gasPrice);
  });

  it('estimates exactly 21000 gas for a plain transfer', async () => {
    expect(await c.publicClient.estimateGas({ account: c.account, to: fresh('estimate'), value: 1n })).toBe(21000n);
    const raw = await call<Hex>('eth_estimateGas', [{ from: c.account.address, to: fresh('estimate'), value: '0x1' }]);
    expect(raw).toBe('0x5208');
  });

  it('serves blocks by number and hash, full and hashes-only, with every transaction, receipt and index lookup', async () => {
    const others = [clients(node, DEV_KEYS[1]), clients(node, DEV_KEYS[2])];
    const hashes = await Promise.all(
      [c, ...others].map((k, i) => k.walletClient.sendTransaction({ account: k.account, chain: node.chain, to: fresh(`blocks ${i}`), value: BigInt(i + 1) })),
    );
    const receipts = await Promise.all(hashes.map((hash) => c.publicClient.waitForTransactionReceipt({ hash })));
    for (const number of new Set(receipts.map((r) => r.blockNumber))) {
      const full = await c.publicClient.getBlock({ blockNumber: number, includeTransactions: true });
      const lean = await c.publicClient.getBlock({ blockHash: full.hash, includeTransactions: false });
      const mine = receipts.filter((r) => r.blockNumber === number).map((r) => r.transactionHash);
      expect(lean.hash).toBe(full.hash);
      expect(lean.number).toBe(number);
      expect(lean.transactions).toEqual(full.transactions.map((t) => t.hash));
      expect(lean.transactions).toEqual(expect.arrayContaining(mine));
      expect(await c.publicClient.getBlockTransactionCount({ blockNumber: number })).toBe(full.transactions.length);
      expect(await c.publicClient.getBlockTransactionCount({ blockHash: full.hash })).toBe(full.transactions.length);

      const blockReceipts = await c.publicClient.request({ method: 'eth_getBlockReceipts', params: [toHex(number)] });
      expect(blockReceipts!.map((r) => r.transactionHash)).toEqual(lean.transactions);
      expect(await c.publicClient.request({ method: 'eth_getBlockReceipts', params: [full.hash] })).toEqual(blockReceipts);
      expect(BigInt(blockReceipts!.at(-1)!.cumulativeGasUsed)).toBe(full.gasUsed);
      expect(blockReceipts!.reduce((sum, r) => sum + BigInt(r.gasUsed), 0n)).toBe(full.gasUsed);

      for (const [i, tx] of full.transactions.entries()) {
        expect(tx.blockHash).toBe(full.hash);
        expect(tx.transactionIndex).toBe(i);
        const byHash = await c.publicClient.getTransaction({ hash: tx.hash });
        expect(await c.publicClient.getTransaction({ blockHash: full.hash, index: i })).toEqual(byHash);
        expect(await c.publicClient.getTransaction({ blockNumber: number, index: i })).toEqual(byHash);
        expect(byHash).toEqual(tx);
        const receipt = await c.publicClient.getTransactionReceipt({ hash: tx.hash });
        expect(receipt.transactionIndex).toBe(i);
        expect(receipt.from).toBe(tx.from);
        expect(blockReceipts![i]!.transactionIndex).toBe(toHex(i));
      }
      expect(await call('eth_getTransactionByBlockHashAndIndex', [full.hash, toHex(full.transactions.length)])).toBeNull();
      expect(await call('eth_getTransactionByBlockNumberAndIndex', [toHex(number), toHex(full.transactions.length)])).toBeNull();
    }
    const unknown = keccak256(toHex('unknown block'));
    expect(await call('eth_getBlockByHash', [unknown, false])).toBeNull();
    expect(await call('eth_getBlockByNumber', [toHex(10n ** 9n), false])).toBeNull();
    expect(await call('eth_getBlockTransactionCountByHash', [unknown])).toBeNull();
    expect(await call('eth_getBlockReceipts', [unknown])).toBeNull();
    expect(await call('eth_getTransactionByHash', [unknown])).toBeNull();
    expect(await call('eth_getTransactionReceipt', [unknown])).toBeNull();
  });

  it('reports fee history with base fees, gas used ratios and reward percentiles', async () => {
    const tip = parseGwei('0.005');
    const latest = await c.publicClient.getBlock();
    const hash = await c.walletClient.sendTransaction({
      account: c.account,
      chain: node.chain,
      to: fresh('fees'),
      value: 1n,
      maxPriorityFeePerGas: tip,
      maxFeePerGas: latest.baseFeePerGas! * 2n + tip,
    });
    const r = await c.publicClient.waitForTransactionReceipt({ hash });
    while ((await c.publicClient.getBlockNumber()) <= r.blockNumber) await sleep(200);

    const h = await c.publicClient.getFeeHistory({ blockCount: 3, blockNumber: r.blockNumber, rewardPercentiles: [10, 50, 90] });
    expect(h.oldestBlock).toBe(r.blockNumber - 2n);
    expect(h.baseFeePerGas).toHaveLength(4);
    expect(h.gasUsedRatio).toHaveLength(3);
    expect(h.reward).toHaveLength(3);
    const blocks = await Promise.all([0n, 1n, 2n, 3n].map((i) => c.publicClient.getBlock({ blockNumber: h.oldestBlock + i })));
    // the extra entry is the next block's base fee
    expect(h.baseFeePerGas).toEqual(blocks.map((b) => b.baseFeePerGas));
    expect(h.gasUsedRatio).toEqual(blocks.slice(0, 3).map((b) => Number(b.gasUsed) / Number(b.gasLimit)));
    const block = blocks[2]!;
    expect(block.transactions).toEqual([hash]);
    expect(h.reward![2]).toEqual([tip, tip, tip]);
    for (const [i, b] of blocks.slice(0, 2).entries()) if (b.transactions.length === 0) expect(h.reward![i]).toEqual([0n, 0n, 0n]);

    // without percentiles (omitted, null as viem sends it, or empty) there is no reward field
    for (const params of [
      ['0x2', 'latest'],
      ['0x2', 'latest', null],
      ['0x2', 'latest', []],
    ]) {
      const res = await call<Record<string, unknown>>('eth_feeHistory', params);
      expect(res.baseFeePerGas).toHaveLength(3);
      expect(res).not.toHaveProperty('reward');
    }
    // percentiles must ascend, like geth
    const bad = await rpc(node.url, { jsonrpc: '2.0', id: 1, method: 'eth_feeHistory', params: ['0x2', 'latest', [50, 10]] });
    expect(bad.json.error.code).toBe(-32602);
  });

  it('suggests a tip from recent blocks and a gas price of base fee plus that tip', async () => {
    const tip = parseGwei('0.003');
    const hash = await c.walletClient.sendTransaction({
      account: c.account,
      chain: node.chain,
      to: fresh('tips'),
      value: 1n,
      maxPriorityFeePerGas: tip,
      maxFeePerGas: parseGwei('10'),
    });
    await c.publicClient.waitForTransactionReceipt({ hash });
    // recompute what the node should say from the last 20 blocks; retry if a block lands in between
    for (;;) {
      const head = await c.publicClient.getBlock();
      const [suggested, gasPrice, history] = await Promise.all([
        c.publicClient.estimateMaxPriorityFeePerGas(),
        c.publicClient.getGasPrice(),
        c.publicClient.getFeeHistory({ blockCount: 1, blockTag: 'latest', rewardPercentiles: [] }),
      ]);
      const blocks = await Promise.all(
        Array.from({ length: 20 }, (_, i) => head.number - BigInt(i))
          .filter((n) => n >= 0n)
          .map((blockNumber) => c.publicClient.getBlock({ blockNumber, includeTransactions: true })),
      );
      if ((await c.publicClient.getBlockNumber()) !== head.number) continue;
      const tips = blocks
        .flatMap((b) =>
          b.transactions.map((t) =>
            t.type === 'legacy' || t.type === 'eip2930' ? t.gasPrice! - b.baseFeePerGas! : min(t.maxPriorityFeePerGas!, t.maxFeePerGas! - b.baseFeePerGas!),
          ),
        )
        .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      expect(tips).toContain(tip);
      const pick = tips[Math.floor(((tips.length - 1) * 60) / 100)]!;
      const want = pick > 1_000_000n ? pick : 1_000_000n;
      expect(suggested).toBe(want);
      const next = history.baseFeePerGas[1]!;
      expect(gasPrice).toBe((head.baseFeePerGas! > next ? head.baseFeePerGas! : next) + want);
      break;
    }
  });

  it('eth_call applies balance and code overrides, at the latest and at earlier blocks', async () => {
    // SELFBALANCE PUSH1 0 MSTORE PUSH1 32 PUSH1 0 RETURN: returns the callee's balance
    const selfBalance: Hex = '0x4760005260206000f3';
    const target = fresh('override target');
    const r = await c.publicClient.waitForTransactionReceipt({
      hash: await c.walletClient.sendTransaction({ account: c.account, chain: node.chain, to: target, value: 777n }),
    });
    const ask = (block: string, override: Record<string, unknown>) => call<Hex>('eth_call', [{ to: target }, block, { [target]: override }]);
    expect(BigInt(await ask('latest', { code: selfBalance }))).toBe(777n);
    expect(BigInt(await ask(toHex(r.blockNumber - 1n), { code: selfBalance }))).toBe(0n);
    expect(BigInt(await ask(toHex(r.blockNumber), { code: selfBalance }))).toBe(777n);
    expect(BigInt(await ask('latest', { code: selfBalance, balance: '0x1234' }))).toBe(0x1234n);
    // without a code override the account has none: the call returns nothing
    expect(await call('eth_call', [{ to: target }, 'latest'])).toBe('0x');
    // viem's stateOverride parameter sends the same thing
    const viaViem = await c.publicClient.call({ to: target, stateOverride: [{ address: target, code: selfBalance, balance: 5n }] });
    expect(BigInt(viaViem.data!)).toBe(5n);
    // the override never reaches the chain
    expect(await c.publicClient.getCode({ address: target })).toBeUndefined();
    expect(await c.publicClient.getBalance({ address: target })).toBe(777n);
  });

  describe('a deployed TestToken', () => {
    let token: Address;
    let deployed: TransactionReceipt;
    const alice = fresh('token alice');

    beforeAll(async () => {
      const { TestToken } = await loadTestContracts();
      ({ address: token, receipt: deployed } = await deploy(c.walletClient, c.publicClient, TestToken, ['Test Token', 'TST', 10n ** 21n]));
    });

    const write = async (functionName: 'mint' | 'transfer', args: readonly [Address, bigint], gas?: bigint) => {
      const hash = await c.walletClient.writeContract({ address: token, abi: tokenAbi, functionName, args, gas, chain: node.chain, account: c.account });
      return c.publicClient.waitForTransactionReceipt({ hash });
    };

    it('deploys: the receipt names the contract address and the constructor Transfer log', async () => {
      expect(deployed.to).toBeNull();
      expect(deployed.contractAddress).toBe(token);
      const logs = parseEventLogs({ abi: tokenAbi, logs: deployed.logs });
      expect(logs.map((l) => [l.eventName, l.address, l.args])).toEqual([['Transfer', token, { from: zeroAddress, to: c.account.address, value: 10n ** 21n }]]);
      const tx = await c.publicClient.getTransaction({ hash: deployed.transactionHash });
      expect(tx.to).toBeNull();
    });

    it('reads through eth_call (readContract), at the latest and at earlier blocks', async () => {
      const read = <F extends 'name' | 'symbol' | 'decimals' | 'totalSupply'>(functionName: F) => c.publicClient.readContract({ address: token, abi: tokenAbi, functionName });
      expect(await read('name')).toBe('Test Token');
      expect(await read('symbol')).toBe('TST');
      expect(await read('decimals')).toBe(18);
      const r = await write('mint', [alice, 123n]);
      const balanceAt = (blockNumber?: bigint) => c.publicClient.readContract({ address: token, abi: tokenAbi, functionName: 'balanceOf', args: [alice], blockNumber });
      expect(await balanceAt()).toBe(123n);
      expect(await balanceAt(r.blockNumber)).toBe(123n);
      expect(await balanceAt(r.blockNumber - 1n)).toBe(0n);
      expect(await c.publicClient.readContract({ address: token, abi: tokenAbi, functionName: 'totalSupply', blockNumber: r.blockNumber - 1n })).toBe(10n ** 21n);
      // by EIP-1898 block hash, raw
      const data = encodeFunctionData({ abi: tokenAbi, functionName: 'balanceOf', args: [alice] });
      expect(BigInt(await call<Hex>('eth_call', [{ to: token, data }, { blockHash: r.blockHash }]))).toBe(123n);
      // before the deployment there is no code: the call returns nothing
      expect(await call('eth_call', [{ to: token, data }, toHex(deployed.blockNumber - 1n)])).toBe('0x');
    });

    it('eth_call with a stateDiff or state override sees the overridden storage only', async () => {
      const bob = fresh('token bob');
      const slot = mappingSlot(bob, TOKEN_SLOTS.balanceOf);
      const balanceOf = (stateOverride?: StateOverride) => c.publicClient.readContract({ address: token, abi: tokenAbi, functionName: 'balanceOf', args: [bob], stateOverride });
      const supply = (stateOverride?: StateOverride) => c.publicClient.readContract({ address: token, abi: tokenAbi, functionName: 'totalSupply', stateOverride });
      const realSupply = await supply();
      const diff: StateOverride = [{ address: token, stateDiff: [{ slot, value: toHex(4242n, { size: 32 }) }] }];
      expect(await balanceOf(diff)).toBe(4242n);
      expect(await supply(diff)).toBe(realSupply); // other slots untouched
      const full: StateOverride = [{ address: token, state: [{ slot, value: toHex(7n, { size: 32 }) }] }];
      expect(await balanceOf(full)).toBe(7n);
      expect(await supply(full)).toBe(0n); // "state" replaces the whole storage
      expect(await balanceOf()).toBe(0n);
    });

    it('estimates contract calls with enough gas: sending with exactly the estimate succeeds', async () => {
      await write('mint', [c.account.address, 1000n]);
      for (const [to, amount] of [
        [fresh('estimate new holder'), 10n],
        [alice, 5n],
      ] as const) {
        const gas = await c.publicClient.estimateContractGas({ address: token, abi: tokenAbi, functionName: 'transfer', args: [to, amount], account: c.account });
        expect(gas).toBeGreaterThan(21000n);
        const r = await write('transfer', [to, amount], gas);
        expect(r.status).toBe('success');
        expect(r.gasUsed).toBeLessThanOrEqual(gas);
        const [log] = parseEventLogs({ abi: tokenAbi, logs: r.logs, eventName: 'Transfer' });
        expect(log!.args).toEqual({ from: c.account.address, to, value: amount });
        expect(log!.address).toBe(token);
        expect(log!.transactionHash).toBe(r.transactionHash);
        expect(log!.blockHash).toBe(r.blockHash);
        expect(log!.logIndex).toBe(0);
      }
      // a refund-heavy call: moving alice's whole balance away clears her slot
      const aliceKey = keccak256(toHex('token alice'));
      const aliceClient = clients(node, aliceKey);
      await c.publicClient.waitForTransactionReceipt({ hash: await c.walletClient.sendTransaction({ account: c.account, chain: node.chain, to: alice, value: 10n ** 17n }) });
      const all = await c.publicClient.readContract({ address: token, abi: tokenAbi, functionName: 'balanceOf', args: [alice] });
      const gas = await c.publicClient.estimateContractGas({
        address: token,
        abi: tokenAbi,
        functionName: 'transfer',
        args: [c.account.address, all],
        account: aliceClient.account,
      });
      const hash = await aliceClient.walletClient.writeContract({
        address: token,
        abi: tokenAbi,
        functionName: 'transfer',
        args: [c.account.address, all],
        gas,
        chain: node.chain,
        account: aliceClient.account,
      });
      expect((await c.publicClient.waitForTransactionReceipt({ hash })).status).toBe('success');
      expect(await c.publicClient.readContract({ address: token, abi: tokenAbi, functionName: 'balanceOf', args: [alice] })).toBe(0n);
    });
  });
});
