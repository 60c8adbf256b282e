/**
 * anvil's and Hardhat's test-control methods, on a `--dev` sequencer only (every other node answers
 * them with -32601): mining on demand (evm_mine, anvil_mine), time (evm_increaseTime,
 * evm_setNextBlockTimestamp), how blocks are sealed (evm_setAutomine, evm_setIntervalMining), the
 * pool (anvil_dropTransaction and its kin), state edits (anvil_setBalance, anvil_setCode,
 * anvil_setNonce, anvil_setStorageAt) and snapshots (evm_snapshot, evm_revert), with the hardhat_
 * aliases.
 * Params and results as anvil's, so viem's test client (mode 'anvil') drives them unchanged.
 *
 * How they fit a chain of committed blocks: a state edit is applied at the start of the next block,
 * which is sealed at once, so `latest` shows it (one block later, where anvil edits its head in
 * place; replicas cannot re-execute such a block: dev chains only). A revert rewinds the head in
 * one atomic write (Chain.rewind: a restart sees either chain), between two seals, and empties the
 * pool; log filters and subscriptions get the rewound logs as removed, as on a reorg.
 */
import { Account, type Address, setLengthLeft } from '@ethereumjs/util';
import type { VM } from '@ethereumjs/vm';
import { z } from 'zod';
import type { Chain } from '../node/chain/chain.ts';
import { RpcCode, RpcError, invalidParams } from '../node/rpc/errors.ts';
import { q } from '../node/rpc/format.ts';
import { type MethodDef, method } from '../node/rpc/method.ts';
import { zAddress, zData, zHash } from '../node/rpc/schemas.ts';
import type { BlockProducer, DevHooks } from './block-producer.ts';
import type { Mempool } from './mempool.ts';

/** A number as anvil takes it: a JSON integer, or hex up to 256 bits (leading zeros allowed: tools pad slots and values). */
const zNum = z.union([
  z
    .string()
    .regex(/^0x[0-9a-fA-F]{1,64}$/, 'expected a hex number of at most 256 bits')
    .transform((s) => BigInt(s)),
  z.number().int().nonnegative().transform(BigInt),
]);
/** evm_mine's optional argument: a timestamp, or { timestamp, blocks }. */
const zMineArg = z.union([zNum, z.object({ timestamp: zNum.optional(), blocks: zNum.optional() })]).optional();
/** Longest interval evm_setIntervalMining takes (a day): longer would overflow Node's timers. */
const MAX_INTERVAL = 86_400n;
/** Most blocks one call mines: a caller cannot make the node seal forever. */
const MAX_MINE = 10_000n;

export function devControlMethods(producer: BlockProducer, chain: Chain, pool: Mempool): Record<string, MethodDef> {
  const dev: DevHooks = { offset: 0n, edits: [] };
  producer.dev = dev;
  const snapshots = new Map<bigint, bigint>();
  let nextSnapshot = 1n;

  const mine = async (blocks: bigint, interval?: bigint, firstTimestamp?: bigint) => {
    if (blocks > MAX_MINE) throw invalidParams(`at most ${MAX_MINE} blocks per call`);
    let ts = firstTimestamp;
    for (let i = 0n; i < blocks; i++) {
      if (ts !== undefined) dev.nextTimestamp = ts;
      const b = await producer.mineOne();
      if (interval !== undefined && b !== undefined) ts = b.header.timestamp + interval;
    }
  };
  const edit = async (f: (vm: VM) => Promise<void>) => {
    dev.edits.push(f);
    await producer.mineOne();
  };
  const account = async (vm: VM, a: Address) => (await vm.stateManager.getAccount(a)) ?? new Account();

  const methods: Record<string, MethodDef> = {
    evm_mine: method([zMineArg], async ([arg]) => {
      const o = typeof arg === 'bigint' ? { timestamp: arg } : (arg ?? {});
      await mine(o.blocks ?? 1n, undefined, o.timestamp);
      return '0x0';
    }),
    anvil_mine: method([zNum.optional(), zNum.optional()], async ([blocks, interval]) => {
      // interval 0 (viem's default) means none: block timestamps must rise here
      await mine(blocks ?? 1n, interval === 0n ? undefined : interval);
      return null;
    }),
    evm_increaseTime: method([zNum], ([seconds]) => {
      dev.offset += seconds;
      return q(dev.offset);
    }),
    evm_setNextBlockTimestamp: method([zNum], ([ts]) => {
      if (ts <= chain.head.header.timestamp) throw new RpcError(RpcCode.Server, `timestamp ${ts} is not after the head's ${chain.head.header.timestamp}`);
      dev.nextTimestamp = ts;
      return null;
    }),
    anvil_setBalance: method([zAddress, zNum], async ([a, balance]) => {
      await edit(async (vm) => {
        const acct = await account(vm, a);
        acct.balance = balance;
        await vm.stateManager.putAccount(a, acct);
      });
      return null;
    }),
    anvil_setNonce: method([zAddress, zNum], async ([a, nonce]) => {
      await edit(async (vm) => {
        const acct = await account(vm, a);
        acct.nonce = nonce;
        await vm.stateManager.putAccount(a, acct);
      });
      return null;
    }),
    anvil_setCode: method([zAddress, zData], async ([a, code]) => {
      await edit(async (vm) => {
        await vm.stateManager.putAccount(a, await account(vm, a));
        await vm.stateManager.putCode(a, code);
      });
      return null;
    }),
    anvil_setStorageAt: method([zAddress, zNum, z.string().regex(/^0x[0-9a-fA-F]{1,64}$/, 'invalid storage value')], async ([a, slot, value]) => {
      await edit(async (vm) => {
        await vm.stateManager.putAccount(a, await account(vm, a));
        const v = setLengthLeft(Buffer.from(value.slice(2).padStart(64, '0'), 'hex'), 32);
        await vm.stateManager.putStorage(a, setLengthLeft(Buffer.from(slot.toString(16).padStart(64, '0'), 'hex'), 32), v);
      });
      return true;
    }),
    evm_setAutomine: method([z.boolean()], ([on]) => {
      // as anvil: turning automine off stops mining unless a timer runs, which it leaves alone
      if (on && producer.mining.kind !== 'auto') producer.setMining({ kind: 'auto' });
      if (!on && producer.mining.kind === 'auto') producer.setMining({ kind: 'none' });
      return null;
    }),
    anvil_getAutomine: method([], () => producer.mining.kind === 'auto'),
    evm_setIntervalMining: method([zNum], ([seconds]) => {
      if (seconds > MAX_INTERVAL) throw invalidParams(`at most ${MAX_INTERVAL} seconds`);
      producer.setMining(seconds === 0n ? { kind: 'none' } : { kind: 'interval', seconds: Number(seconds) });
      return null;
    }),
    anvil_getIntervalMining: method([], () => (producer.mining.kind === 'interval' ? producer.mining.seconds : null)),
    anvil_dropTransaction: method([zHash], ([hash]) => {
      const known = pool.get(hash) !== undefined;
      pool.remove(hash);
      return known ? hash : null;
    }),
    anvil_dropAllTransactions: method([], () => {
      pool.clear();
      return null;
    }),
    anvil_removePoolTransactions: method([zAddress], ([a]) => {
      pool.removeSender(a.toString());
      return null;
    }),
    evm_snapshot: method([], () => {
      const id = nextSnapshot++;
      snapshots.set(id, chain.head.header.number);
      return q(id);
    }),
    evm_revert: method([zNum], async ([id]) => {
      const at = snapshots.get(id);
      if (at === undefined) return false;
      // a snapshot is used once, and the ones taken after it go with it, as on anvil
      for (const k of [...snapshots.keys()]) if (k >= id) snapshots.delete(k);
      await producer.exclusive(async () => {
        await chain.rewind(at);
        pool.clear();
        dev.edits.length = 0;
        dev.nextTimestamp = undefined;
      });
      return true;
    }),
  };
  for (const m of ['mine', 'setBalance', 'setNonce', 'setCode', 'setStorageAt', 'getAutomine', 'dropTransaction']) methods[`hardhat_${m}`] = methods[`anvil_${m}`]!;
  return methods;
}
