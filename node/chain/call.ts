import { createBlock } from '@ethereumjs/block';
import type { Block } from '@ethereumjs/block';
import type { EVMInterface } from '@ethereumjs/evm';
import { createFeeMarket1559Tx, createLegacyTx } from '@ethereumjs/tx';
import type { TypedTransaction } from '@ethereumjs/tx';
import {
  Account,
  type Address,
  type EOACode7702AuthorizationListBytesItem,
  KECCAK256_NULL,
  bytesToHex,
  createContractAddress,
  createZeroAddress,
  equalsBytes,
} from '@ethereumjs/util';
import { runTx } from '@ethereumjs/vm';
import type { VM } from '@ethereumjs/vm';
import { decodeErrorResult, getAddress } from 'viem';
import type { Hex } from 'viem';
import type { Chain } from './chain.ts';
import { type ExecutionBudget, ExecutionTimeoutError, attachBudget } from './execution-budget.ts';
import { stateDepth, unwindState } from './state-layer.ts';
import type { L2StateManager } from './state-manager.ts';
import { CodedError } from '../../precompiles/errors.ts';

/** A call as eth_call / eth_estimateGas describe it, already decoded. */
export interface CallRequest {
  from?: Address;
  to?: Address;
  gas?: bigint;
  gasPrice?: bigint;
  maxFeePerGas?: bigint;
  maxPriorityFeePerGas?: bigint;
  value?: bigint;
  data?: Uint8Array;
  /** EIP-2930 access list; the call then runs as a 1559 transaction carrying it. */
  accessList?: AccessListEntry[];
}

export interface AccessListEntry {
  address: Hex;
  storageKeys: Hex[];
}

/** eth_createAccessList's answer: the list, the gas the call uses with it, and why it failed if it did. */
export interface AccessListResult {
  accessList: AccessListEntry[];
  gasUsed: bigint;
  error?: string;
}

export interface AccountOverride {
  balance?: bigint;
  nonce?: bigint;
  code?: Uint8Array;
  /** Replaces the whole storage. */
  state?: Map<Uint8Array, Uint8Array>;
  /** Changes only the given slots. */
  stateDiff?: Map<Uint8Array, Uint8Array>;
}
export type StateOverrides = Map<Address, AccountOverride>;

/** A transaction about to run, as a tracer sees it before the transaction changes any state. */
export interface TxStart {
  from: Address;
  /** undefined for a contract creation */
  to: Address | undefined;
  coinbase: Address;
  /** A set-code transaction's authorizations (EIP-7702), as signed. */
  authorizations?: readonly EOACode7702AuthorizationListBytesItem[];
}

/**
 * A tracer's hooks around one transaction or call: its EVM event listeners, and the two moments
 * a tracer of state needs, before the sender's nonce and gas payment and after the fees and
 * self-destructs, while the changes are still in the state (a trace unwinds them afterwards).
 */
export interface TxObserver {
  attach(evm: EVMInterface): void;
  detach(evm: EVMInterface): void;
  start?(tx: TxStart): Promise<void>;
  end?(): Promise<void>;
}

/** A call that did not succeed; `reverted` carries the contract's revert data. */
export class ExecutionError extends CodedError {
  override readonly code = 'EXECUTION_ERROR';

  constructor(
    message: string,
    readonly reverted: boolean,
    readonly data?: Hex,
  ) {
    super(message);
    this.name = 'ExecutionError';
  }
}

interface Outcome {
  ok: boolean;
  gasUsed: bigint;
  refund: bigint;
  returnValue: Uint8Array;
  error?: string;
  /** The VM refused the transaction itself (fees, nonce...), rather than the EVM failing. */
  invalid?: boolean;
  /** Addresses and slots the run touched (reportAccessList runs of a transaction only). */
  accessList?: AccessListEntry[];
}

/** geth iterates until the list is stable; a list that keeps changing this often is refused. */
const ACCESS_LIST_ROUNDS = 16;

/** geth's estimateGas tolerance: stop searching once within 1.5% of the answer. */
const ESTIMATE_ERROR_RATIO = 0.015;
const CALL_STIPEND = 2300n;
const TX_GAS = 21_000n;

/** Runs calls and gas estimates against any block's state, never touching the chain. */
export class CallExecutor {
  constructor(
    private readonly chain: Chain,
    private readonly gasCap: bigint,
  ) {}

  /** `budget` bounds the wall time (geth's --rpc.evmtimeout); without one the call is unbounded (in-process callers only). */
  async call(req: CallRequest, block: Block, overrides?: StateOverrides, budget?: ExecutionBudget): Promise<Uint8Array> {
    const vm = await this.prepare(block, overrides, budget);
    const out = await this.run(vm, req, block, this.gasFor(req, block));
    if (!out.ok) throw failure(out);
    return out.returnValue;
  }

  /**
   * debug_traceCall: the call run as eth_call runs it, with `observer` attached to its EVM for the
   * run. Answers the gas the call had and used, whether or not it succeeded; a transaction the VM
   * refuses outright throws.
   */
  async traceCall(
    req: CallRequest,
    block: Block,
    observer: TxObserver,
    overrides?: StateOverrides,
    budget?: ExecutionBudget,
  ): Promise<{ gas: bigint; gasUsed: bigint; failed: boolean; returnValue: Uint8Array }> {
    const vm = await this.prepare(block, overrides, budget);
    const gas = this.gasFor(req, block);
    observer.attach(vm.evm);
    try {
      const out = await this.run(vm, req, block, gas, false, observer);
      if (out.invalid === true) throw failure(out);
      return { gas, gasUsed: out.gasUsed, failed: !out.ok, returnValue: out.returnValue };
    } finally {
      observer.detach(vm.evm);
    }
  }

  async estimateGas(req: CallRequest, block: Block, overrides?: StateOverrides, budget?: ExecutionBudget): Promise<bigint> {
    const vm = await this.prepare(block, overrides, budget);
    let hi = this.gasFor(req, block);
    // like geth, a priced estimate is capped by what the sender's balance can pay for
    const feeCap = req.gasPrice ?? req.maxFeePerGas ?? 0n;
    if (feeCap > 0n) {
      const available = (await vm.stateManager.getAccount(req.from ?? createZeroAddress()))?.balance ?? 0n;
      const value = req.value ?? 0n;
      if (value >= available) throw new ExecutionError('insufficient funds for transfer', false);
      const allowance = (available - value) / feeCap;
      if (hi > allowance) hi = allowance;
      if (hi < TX_GAS) throw new ExecutionError(`gas required exceeds allowance (${hi})`, false);
    }
    // geth's shortcut: a plain value transfer costs exactly the intrinsic 21000 when that suffices
    if ((req.data === undefined || req.data.length === 0) && req.to !== undefined && hi >= TX_GAS) {
      const code = await vm.stateManager.getCode(req.to);
      if (code.length === 0 && (await this.run(vm, req, block, TX_GAS)).ok) return TX_GAS;
    }
    const first = await this.run(vm, req, block, hi);
    if (!first.ok) {
      if (first.error === 'revert' || first.invalid === true) throw failure(first);
      throw new ExecutionError(`gas required exceeds allowance (${hi})`, false);
    }
    let lo = first.gasUsed - 1n;
    const optimistic = ((first.gasUsed + first.refund + CALL_STIPEND) * 64n) / 63n;
    if (optimistic < hi) {
      const o = await this.run(vm, req, block, optimistic);
      if (o.ok) hi = optimistic;
      else lo = optimistic;
    }
    while (lo + 1n < hi) {
      if (Number(hi - lo) / Number(hi) < ESTIMATE_ERROR_RATIO) break;
      let mid = (hi + lo) / 2n;
      if (mid > lo * 2n) mid = lo * 2n; // most calls need little gas: probe low first
      const o = await this.run(vm, req, block, mid);
      if (o.ok) hi = mid;
      else lo = mid;
    }
    return hi;
  }

  /**
   * eth_createAccessList, as geth computes it: run the call with the list so far, record every
   * address and slot it touches, and run again with that list until it stops changing (touching a
   * slot can change the code path, through gas). The sender, the recipient (or the created
   * contract) and the precompiles are left out unless storage keys of theirs were touched.
   */
  async createAccessList(req: CallRequest, block: Block, overrides?: StateOverrides, budget?: ExecutionBudget): Promise<AccessListResult> {
    const vm = await this.prepare(block, overrides, budget);
    const gas = this.gasFor(req, block);
    const from = req.from ?? createZeroAddress();
    const nonce = (await vm.stateManager.getAccount(from))?.nonce ?? 0n;
    const target = req.to ?? createContractAddress(from, nonce);
    const excluded = new Set([from.toString(), target.toString(), ...[...vm.evm.precompiles.keys()].map((k) => `0x${k.replace(/^0x/, '')}`)].map((a) => a.toLowerCase()));
    const keep = (list: readonly AccessListEntry[]) => list.filter((e) => e.storageKeys.length > 0 || !excluded.has(e.address.toLowerCase()));
    let list = keep(req.accessList ?? []);
    for (let round = 0; round < ACCESS_LIST_ROUNDS; round++) {
      budget?.check();
      const out = await this.run(vm, { ...req, accessList: list }, block, gas, true);
      if (out.invalid === true) throw failure(out);
      const next = keep(out.accessList ?? []);
      if (sameAccessList(next, list)) return { accessList: list, gasUsed: out.gasUsed, ...(out.ok ? {} : { error: failure(out).message }) };
      list = next;
    }
    throw new ExecutionError(`access list did not settle in ${ACCESS_LIST_ROUNDS} rounds`, false);
  }

  private gasFor(req: CallRequest, block: Block): bigint {
    const limit = req.gas ?? block.header.gasLimit;
    return limit > this.gasCap ? this.gasCap : limit;
  }

  private async prepare(block: Block, overrides?: StateOverrides, budget?: ExecutionBudget): Promise<VM> {
    budget?.check();
    // cached, and the overrides in a checkpoint that is never committed: an override is then a map
    // write, where a state manager at depth 0 would write every slot through the trie at each revert
    const vm = await this.chain.vmAt(block.header.stateRoot, true);
    if (overrides !== undefined) {
      await vm.stateManager.checkpoint();
      await applyOverrides(vm.stateManager as L2StateManager, overrides, budget);
    }
    if (budget !== undefined) attachBudget(vm, budget);
    return vm;
  }

  /** One execution in a checkpoint that is always reverted, so runs do not see each other. */
  private async run(vm: VM, req: CallRequest, block: Block, gas: bigint, reportAccessList = false, observer?: TxObserver): Promise<Outcome> {
    const from = req.from ?? createZeroAddress();
    const priced = req.gasPrice !== undefined || req.maxFeePerGas !== undefined;
    // Unpriced calls run with base fee 0, as geth does, so an empty account can call.
    const ctx = priced ? block : zeroBaseFee(block, this.chain);
    const depth = stateDepth(vm);
    await vm.stateManager.checkpoint();
    try {
      const acct = (await vm.stateManager.getAccount(from)) ?? new Account();
      // geth's buyGas check: gas * fee cap + value (only the value for unpriced calls)
      const want = gas * (req.gasPrice ?? req.maxFeePerGas ?? 0n) + (req.value ?? 0n);
      if (acct.balance < want) {
        const error = `insufficient funds for gas * price + value: address ${getAddress(from.toString())} have ${acct.balance} want ${want}`;
        return { ok: false, gasUsed: gas, refund: 0n, returnValue: new Uint8Array(), error, invalid: true };
      }
      await observer?.start?.({ from, to: req.to, coinbase: ctx.header.coinbase });
      const out = equalsBytes(acct.codeHash, KECCAK256_NULL)
        ? await this.runAsTx(vm, req, from, acct.nonce, ctx, gas, reportAccessList)
        : await this.runAsCall(vm, req, from, ctx, gas);
      await observer?.end?.();
      return out;
    } catch (err) {
      if (err instanceof ExecutionTimeoutError) throw err;
      return { ok: false, gasUsed: gas, refund: 0n, returnValue: new Uint8Array(), error: vmErrorMessage(err), invalid: true };
    } finally {
      // a throw from inside the EVM leaves frames open: the next run of an estimate must start clean
      await unwindState(vm, depth);
    }
  }

  private async runAsTx(vm: VM, req: CallRequest, from: Address, nonce: bigint, block: Block, gas: bigint, reportAccessList: boolean): Promise<Outcome> {
    const tx = buildTx(req, nonce, gas, this.chain);
    (tx as { getSenderAddress: () => Address }).getSenderAddress = () => from;
    const r = await runTx(vm, { tx, block, skipBalance: true, skipBlockGasLimitValidation: true, skipHardForkValidation: true, reportAccessList });
    const err = r.execResult.exceptionError?.error;
    const accessList = r.accessList?.map((e) => ({ address: e.address as Hex, storageKeys: e.storageKeys as Hex[] }));
    return { ok: err === undefined, gasUsed: r.totalGasSpent, refund: r.gasRefund, returnValue: r.execResult.returnValue, error: err, accessList };
  }

  /** Contracts cannot send transactions (EIP-3607), but eth_call from one is legitimate. */
  private async runAsCall(vm: VM, req: CallRequest, from: Address, block: Block, gas: bigint): Promise<Outcome> {
    const r = await vm.evm.runCall({ caller: from, origin: from, to: req.to, gasLimit: gas, value: req.value, data: req.data, block });
    const err = r.execResult.exceptionError?.error;
    return { ok: err === undefined, gasUsed: r.execResult.executionGasUsed, refund: 0n, returnValue: r.execResult.returnValue, error: err };
  }
}

function buildTx(req: CallRequest, nonce: bigint, gas: bigint, chain: Chain): TypedTransaction {
  const common = chain.common;
  const base = { nonce, gasLimit: gas, to: req.to, value: req.value ?? 0n, data: req.data ?? new Uint8Array() };
  if (req.gasPrice !== undefined && req.accessList === undefined) return createLegacyTx({ ...base, gasPrice: req.gasPrice }, { common, freeze: false });
  // a legacy price with an access list: the same price as both 1559 fees
  const maxFeePerGas = req.maxFeePerGas ?? req.gasPrice ?? 0n;
  const maxPriorityFeePerGas = req.maxPriorityFeePerGas ?? (maxFeePerGas === 0n ? 0n : maxFeePerGas);
  return createFeeMarket1559Tx({ ...base, maxFeePerGas, maxPriorityFeePerGas, accessList: req.accessList ?? [] }, { common, freeze: false });
}

function sameAccessList(a: readonly AccessListEntry[], b: readonly AccessListEntry[]): boolean {
  const key = (l: readonly AccessListEntry[]) =>
    l
      .map(
        (e) =>
          `${e.address.toLowerCase()}:${[...e.storageKeys]
            .map((k) => k.toLowerCase())
            .sort()
            .join(',')}`,
      )
      .sort()
      .join(';');
  return key(a) === key(b);
}

function zeroBaseFee(block: Block, chain: Chain): Block {
  const h = block.header;
  return createBlock(
    {
      header: {
        parentHash: h.parentHash,
        number: h.number,
        timestamp: h.timestamp,
        gasLimit: h.gasLimit,
        coinbase: h.coinbase,
        mixHash: h.mixHash,
        baseFeePerGas: 0n,
      },
    },
    { common: chain.common, setHardfork: false },
  );
}

/** ethereumjs appends block and tx dumps after " -> "; the first clause is the reason. */
function vmErrorMessage(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.replace(/\s\([^()]*->[^()]*\)$/, '').trim();
}

function failure(out: Outcome): ExecutionError {
  if (out.error !== 'revert') return new ExecutionError(out.error ?? 'execution failed', false);
  const data = bytesToHex(out.returnValue);
  return new ExecutionError(revertMessage(data), true, data);
}

/** geth's wording of Solidity panic codes (accounts/abi, copied from ethers). */
const PANIC_REASONS: Record<string, string> = {
  '0': 'generic panic',
  '1': 'assert(false)',
  '17': 'arithmetic underflow or overflow',
  '18': 'division or modulo by zero',
  '33': 'enum overflow',
  '34': 'invalid encoded storage byte array accessed',
  '49': 'out-of-bounds array access; popping on an empty array',
  '50': 'out-of-bounds access of an array or bytesN',
  '65': 'out of memory',
  '81': 'uninitialized function',
};

function panicReason(code: bigint): string {
  return PANIC_REASONS[code.toString()] ?? `unknown panic code: 0x${code.toString(16)}`;
}

/** "execution reverted" plus the reason of Error(string) or Panic(uint256), as geth words it. */
export function revertMessage(data: Hex): string {
  if (data.length <= 2) return 'execution reverted';
  try {
    const decoded = decodeErrorResult({ data });
    if (decoded.errorName === 'Error') return `execution reverted: ${String(decoded.args?.[0])}`;
    if (decoded.errorName === 'Panic') return `execution reverted: ${panicReason(decoded.args?.[0] as bigint)}`;
  } catch {
    // custom error: the caller decodes it from the data with its ABI
  }
  return 'execution reverted';
}

async function applyOverrides(sm: L2StateManager, overrides: StateOverrides, budget?: ExecutionBudget): Promise<void> {
  sm.foreignWrites = true;
  for (const [addr, o] of overrides) {
    budget?.check();
    const acct = (await sm.getAccount(addr)) ?? new Account();
    if (o.balance !== undefined) acct.balance = o.balance;
    if (o.nonce !== undefined) acct.nonce = o.nonce;
    await sm.putAccount(addr, acct);
    if (o.code !== undefined) await sm.putCode(addr, o.code);
    if (o.state !== undefined) {
      await sm.clearStorage(addr);
      for (const [k, v] of o.state) await sm.putStorage(addr, k, v);
    }
    if (o.stateDiff !== undefined) for (const [k, v] of o.stateDiff) await sm.putStorage(addr, k, v);
  }
}
