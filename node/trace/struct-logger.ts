/**
 * geth's default tracer, the struct logger: one entry per executed opcode with the program
 * counter, op name, gas left, gas cost, call depth, and optionally the stack, memory, storage
 * and return data (options `disableStack`, `disableStorage`, `enableMemory`, `enableReturnData`,
 * `limit`). Built from the EVM's `step` events; the entry count is capped (MAX_STRUCT_LOGS, or a
 * lower `limit`) so a caller cannot make the node hold an unbounded trace.
 */
import type { EVMInterface, EVMResult, Message } from '@ethereumjs/evm';
import { bigIntToBytes, bytesToHex, setLengthLeft } from '@ethereumjs/util';

export interface StructLoggerConfig {
  disableStack?: boolean;
  disableStorage?: boolean;
  enableMemory?: boolean;
  enableReturnData?: boolean;
  limit?: number;
}

export interface StructLog {
  pc: number;
  op: string;
  gas: number;
  gasCost: number;
  depth: number;
  stack?: string[];
  memory?: string[];
  storage?: Record<string, string>;
  returnData?: string;
  refund?: number;
  error?: string;
}

/** Most entries one trace holds, whatever `limit` asks: with stacks, ~100k entries are tens of MB of JSON. */
export const MAX_STRUCT_LOGS = 100_000;

interface Step {
  pc: number;
  gasLeft: bigint;
  gasRefund: bigint;
  opcode: { name: string; fee: number; dynamicFee?: bigint; code: number };
  stack: bigint[];
  memory: Uint8Array;
  depth: number;
  address: { toString(): string };
  stateManager: { getStorage(a: unknown, k: Uint8Array): Promise<Uint8Array> };
}

const CALLS = new Set([0xf1, 0xf2, 0xf4, 0xfa]);
const word = (n: bigint) => `0x${n.toString(16).padStart(64, '0')}`;

export class StructLogger {
  readonly logs: StructLog[] = [];
  /** Accumulated storage seen per contract, as geth shows it on SLOAD/SSTORE. */
  private readonly storage = new Map<string, Record<string, string>>();
  private returnData: Uint8Array = new Uint8Array();
  private readonly cap: number;

  private readonly onStep = async (s: Step, resolve?: (r?: unknown) => void) => {
    try {
      await this.step(s);
    } finally {
      resolve?.();
    }
  };
  private readonly onAfter = (r: EVMResult, resolve?: (r?: unknown) => void) => {
    // the caller's return-data buffer: a call's output, but nothing after a creation that succeeded
    const created = r.createdAddress !== undefined && r.execResult.exceptionError === undefined;
    this.returnData = created ? new Uint8Array() : r.execResult.returnValue;
    resolve?.();
  };
  private readonly onBefore = (_m: Message, resolve?: (r?: unknown) => void) => {
    this.returnData = new Uint8Array();
    resolve?.();
  };

  constructor(private readonly config: StructLoggerConfig = {}) {
    const limit = config.limit ?? 0;
    this.cap = limit > 0 && limit < MAX_STRUCT_LOGS ? limit : MAX_STRUCT_LOGS;
  }

  private evm: EVMInterface | undefined;

  attach(evm: EVMInterface): void {
    this.evm = evm;
    evm.events!.on('step', this.onStep as never);
    evm.events!.on('beforeMessage', this.onBefore);
    evm.events!.on('afterMessage', this.onAfter);
  }

  detach(evm: EVMInterface): void {
    evm.events!.off('step', this.onStep as never);
    evm.events!.off('beforeMessage', this.onBefore);
    evm.events!.off('afterMessage', this.onAfter);
  }

  private async step(s: Step): Promise<void> {
    if (this.logs.length >= this.cap) {
      // nothing more to record: the rest of the transaction runs without the per-opcode hook
      if (this.evm?.events !== undefined) this.evm.events.off('step', this.onStep as never);
      return;
    }
    const op = s.opcode;
    // ethereumjs hands the step its whole cost (static and dynamic) as dynamicFee
    let cost = op.dynamicFee ?? BigInt(op.fee);
    if (CALLS.has(op.code)) {
      // geth counts the gas a call forwards (EIP-150: all but 1/64 of what is left, at most what it asks)
      const available = s.gasLeft - cost;
      const cap = available - available / 64n;
      const asked = s.stack[s.stack.length - 1]!;
      cost += asked < cap ? asked : cap;
    } else if (op.code === 0xf0 || op.code === 0xf5) {
      // and the gas a creation forwards: all but 1/64 of what is left
      const available = s.gasLeft - cost;
      cost += available - available / 64n;
    }
    const entry: StructLog = { pc: s.pc, op: op.name, gas: Number(s.gasLeft), gasCost: Number(cost), depth: s.depth + 1 };
    if (this.config.disableStack !== true) entry.stack = s.stack.map((v) => `0x${v.toString(16)}`);
    if (this.config.enableMemory === true) {
      entry.memory = [];
      for (let i = 0; i < s.memory.length; i += 32) entry.memory.push(bytesToHex(s.memory.subarray(i, i + 32)));
    }
    if (this.config.enableReturnData === true) entry.returnData = bytesToHex(this.returnData);
    entry.refund = Number(s.gasRefund);
    if (this.config.disableStorage !== true && (op.name === 'SLOAD' || op.name === 'SSTORE') && s.stack.length >= (op.name === 'SLOAD' ? 1 : 2)) {
      const key = s.stack[s.stack.length - 1]!;
      const contract = s.address.toString().toLowerCase();
      const seen = this.storage.get(contract) ?? {};
      this.storage.set(contract, seen);
      if (op.name === 'SLOAD') {
        const value = await s.stateManager.getStorage(s.address, setLengthLeft(bigIntToBytes(key), 32));
        seen[word(key)] = bytesToHex(setLengthLeft(value, 32));
      } else {
        seen[word(key)] = word(s.stack[s.stack.length - 2]!);
      }
      entry.storage = { ...seen };
    }
    this.logs.push(entry);
  }
}

/** geth's answer: the transaction's gas, whether it failed, its return data and the entries. */
export interface StructLoggerResult {
  gas: number;
  failed: boolean;
  returnValue: string;
  structLogs: StructLog[];
}

export function structResult(logger: StructLogger, o: { gasUsed: bigint; failed: boolean; returnValue: Uint8Array }): StructLoggerResult {
  return { gas: Number(o.gasUsed), failed: o.failed, returnValue: bytesToHex(o.returnValue), structLogs: logger.logs };
}
