/**
 * geth's built-in `callTracer`, from the EVM's message events: one frame per call (CALL,
 * STATICCALL, DELEGATECALL, CALLCODE, CREATE, CREATE2), precompile calls included, so a call into
 * the AI precompiles shows as a call to its address with input, output, gas and revert reason.
 * Options as geth's: `onlyTopCall` (no subcalls), `withLog` (each frame's own logs, with their
 * position among its subcalls; logs of frames that failed are dropped, as their effects are).
 */
import type { EVMInterface, EVMResult, Message } from '@ethereumjs/evm';
import { bytesToHex } from '@ethereumjs/util';
import type { Hex } from 'viem';
import { revertMessage } from '../chain/call.ts';

export interface CallLog {
  address: string;
  topics: Hex[];
  data: Hex;
  /** The log's index in the transaction (as its receipt numbers it). */
  index?: Hex;
  position: Hex;
}

export interface CallFrame {
  type: 'CALL' | 'STATICCALL' | 'DELEGATECALL' | 'CALLCODE' | 'CREATE' | 'CREATE2';
  from: string;
  to?: string;
  value?: Hex;
  gas: Hex;
  gasUsed: Hex;
  input: Hex;
  output?: Hex;
  error?: string;
  revertReason?: string;
  calls?: CallFrame[];
  logs?: CallLog[];
}

export interface CallTracerConfig {
  onlyTopCall?: boolean;
  withLog?: boolean;
}

const q = (n: bigint) => `0x${n.toString(16)}` as Hex;
const address = (a: { toString(): string }) => a.toString().toLowerCase();

/** geth's words for the EVM's failures (core/vm/errors.go). */
function gethError(err: string): string {
  switch (err) {
    case 'revert':
      return 'execution reverted';
    case 'out of gas':
      return 'out of gas';
    case 'stack underflow':
      return 'stack underflow';
    case 'stack overflow':
      return 'stack limit reached 1024 (1023)';
    case 'invalid JUMP':
      return 'invalid jump destination';
    case 'static state change':
      return 'write protection';
    case 'value overflow':
    case 'insufficient balance':
      return 'insufficient balance for transfer';
    case 'create collision':
      return 'contract address collision';
    case 'code size to deposit exceeds maximum code size':
      return 'max code size exceeded';
    default:
      return err;
  }
}

function typeOf(m: Message): CallFrame['type'] {
  if (m.to === undefined) return m.salt === undefined ? 'CREATE' : 'CREATE2';
  if (m.delegatecall) return 'DELEGATECALL';
  if (m.isStatic) return 'STATICCALL';
  const code = (m as unknown as { _codeAddress?: { toString(): string } })._codeAddress;
  if (code !== undefined && address(code) !== address(m.to)) return 'CALLCODE';
  return 'CALL';
}

export class CallTracer {
  private readonly stack: CallFrame[] = [];
  /** Per open frame, whether it was STATICCALL inherited (ethereumjs marks every call under a static one static). */
  private root: CallFrame | undefined;
  private readonly onBefore = (m: Message, resolve?: (r?: unknown) => void) => {
    this.enter(m);
    resolve?.();
  };
  private readonly onAfter = (r: EVMResult, resolve?: (r?: unknown) => void) => {
    this.exit(r);
    resolve?.();
  };
  private readonly onStep = (s: { opcode: { name: string }; stack: bigint[]; memory: Uint8Array; address: { toString(): string } }, resolve?: (r?: unknown) => void) => {
    if (s.opcode.name.startsWith('LOG')) this.log(s);
    resolve?.();
  };

  constructor(private readonly config: CallTracerConfig = {}) {}

  attach(evm: EVMInterface): void {
    evm.events!.on('beforeMessage', this.onBefore);
    evm.events!.on('afterMessage', this.onAfter);
    if (this.config.withLog === true) evm.events!.on('step', this.onStep as never);
  }

  detach(evm: EVMInterface): void {
    evm.events!.off('beforeMessage', this.onBefore);
    evm.events!.off('afterMessage', this.onAfter);
    evm.events!.off('step', this.onStep as never);
  }

  private enter(m: Message): void {
    const type = typeOf(m);
    const frame: CallFrame = {
      type,
      // a DELEGATECALL keeps msg.sender; the frame is from the contract that made it
      from: address(type === 'DELEGATECALL' ? m.to! : m.caller),
      gas: q(m.gasLimit),
      gasUsed: '0x0',
      input: bytesToHex(m.to === undefined ? ((m.code as Uint8Array | undefined) ?? m.data) : m.data) as Hex,
    };
    if (m.to !== undefined) frame.to = address(type === 'DELEGATECALL' || type === 'CALLCODE' ? m.codeAddress : m.to);
    if (type !== 'STATICCALL') frame.value = q(m.value); // a DELEGATECALL carries its parent's
    this.stack.push(frame);
  }

  private exit(r: EVMResult): void {
    const frame = this.stack.pop();
    if (frame === undefined) return;
    const res = r.execResult;
    frame.gasUsed = q(res.executionGasUsed);
    if (r.createdAddress !== undefined) frame.to = address(r.createdAddress);
    const out = res.returnValue;
    const err = res.exceptionError?.error;
    if (err !== undefined) {
      frame.error = gethError(err);
      if (err === 'revert') {
        frame.output = bytesToHex(out) as Hex;
        const reason = revertMessage(frame.output);
        if (reason.startsWith('execution reverted: ')) frame.revertReason = reason.slice('execution reverted: '.length);
      }
      if (frame.type === 'CREATE' || frame.type === 'CREATE2') delete frame.to;
      dropLogs(frame);
    } else if (out.length > 0 && frame.type !== 'CREATE' && frame.type !== 'CREATE2') {
      frame.output = bytesToHex(out) as Hex;
    } else if (frame.type === 'CREATE' || frame.type === 'CREATE2') {
      frame.output = bytesToHex(out) as Hex;
    }
    const parent = this.stack[this.stack.length - 1];
    if (parent === undefined) this.root = frame;
    else if (this.config.onlyTopCall !== true) (parent.calls ??= []).push(frame);
  }

  private log(s: { opcode: { name: string }; stack: bigint[]; memory: Uint8Array; address: { toString(): string } }): void {
    const frame = this.stack[this.stack.length - 1];
    if (frame === undefined || (this.config.onlyTopCall === true && this.stack.length > 1)) return;
    const n = Number(s.opcode.name.slice(3));
    const st = s.stack;
    const offset = Number(st[st.length - 1]);
    const size = Number(st[st.length - 2]);
    const topics = Array.from({ length: n }, (_, i) => `0x${st[st.length - 3 - i]!.toString(16).padStart(64, '0')}` as Hex);
    const data = new Uint8Array(size);
    data.set(s.memory.subarray(offset, offset + size));
    (frame.logs ??= []).push({ address: address(s.address), topics, data: bytesToHex(data) as Hex, position: q(BigInt(frame.calls?.length ?? 0)) });
  }

  /** The top frame; its gasUsed is the whole transaction's (geth's), its gas what was left after the intrinsic gas. */
  result({ gasUsed }: { gasUsed: bigint }): CallFrame {
    if (this.root === undefined) throw new Error('no call was traced');
    if (this.config.withLog === true) numberLogs(this.root, { next: 0n });
    return { ...this.root, gasUsed: q(gasUsed) };
  }
}

/** Numbers the surviving logs in execution order: a frame's logs at position p come after its p-th call's. */
function numberLogs(frame: CallFrame, counter: { next: bigint }): void {
  const calls = frame.calls ?? [];
  const logs = frame.logs ?? [];
  for (let p = 0; p <= calls.length; p++) {
    for (const l of logs) if (BigInt(l.position) === BigInt(p)) l.index = q(counter.next++);
    if (p < calls.length) numberLogs(calls[p]!, counter);
  }
}

function dropLogs(frame: CallFrame): void {
  delete frame.logs;
  for (const c of frame.calls ?? []) dropLogs(c);
}
