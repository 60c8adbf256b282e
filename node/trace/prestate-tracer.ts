/**
 * geth's built-in `prestateTracer` (eth/tracers/native/prestate.go): every account a transaction
 * touches, as it was before the transaction: balance, nonce, code, code hash and the storage slots
 * it read or wrote. With `diffMode`, `{ pre, post }`: only the accounts it changed, `post` with
 * only the changed fields. Options as geth's: `diffMode`, `disableCode`, `disableStorage`,
 * `includeEmpty` (not with `diffMode`).
 *
 * Touched, as geth counts it: the sender, the recipient (or the created contract) and the coinbase
 * when the transaction starts, then, before each opcode runs, the accounts of BALANCE,
 * EXTCODESIZE/COPY/HASH, SELFDESTRUCT and the CALLs, the delegation target of an EIP-7702
 * account called, the addresses CREATE and CREATE2 will use, and the slots of SLOAD and SSTORE.
 * An opcode that fails before it runs (out of gas, stack underflow, initcode too large) touches
 * nothing. A value is read when first touched, which is before the transaction can have changed
 * it: every change goes through a touch (a transfer is a CALL or the transaction itself, storage an
 * SSTORE, a creation a CREATE).
 *
 * The answer is bounded by the gas (an account costs at least 2400, a slot 1900), except code: a
 * few thousand touched accounts can each carry 24 kB of it, so past MAX_PRESTATE_CODE_BYTES the
 * trace is refused and the caller told to ask again with `disableCode`.
 */
import type { EVMInterface } from '@ethereumjs/evm';
import {
  Address,
  KECCAK256_NULL,
  bigIntToBytes,
  bytesToHex,
  createContractAddress,
  createContractAddress2,
  eoaCode7702RecoverAuthority,
  equalsBytes,
  setLengthLeft,
} from '@ethereumjs/util';
import type { Hex } from 'viem';
import type { TxStart } from '../chain/call.ts';
import { CodedError } from '../../precompiles/errors.ts';
import type { Tracer } from './replay.ts';

export interface PrestateTracerConfig {
  diffMode?: boolean;
  disableCode?: boolean;
  disableStorage?: boolean;
  includeEmpty?: boolean;
}

/** One account as geth prints it: zero nonces, empty code and empty storage left out. */
export interface PrestateAccount {
  balance?: Hex;
  code?: Hex;
  codeHash?: Hex;
  nonce?: number;
  storage?: Record<string, Hex>;
}

export type PrestateMap = Record<string, PrestateAccount>;
export type PrestateResult = PrestateMap | { post: PrestateMap; pre: PrestateMap };

/** Most contract code one trace returns: the JSON is twice as large. */
export const MAX_PRESTATE_CODE_BYTES = 16 * 1024 * 1024;

/** The trace would hold more code than MAX_PRESTATE_CODE_BYTES. */
export class TraceTooLargeError extends CodedError {
  override readonly code = 'TRACE_TOO_LARGE';

  constructor(message: string) {
    super(message);
    this.name = 'TraceTooLargeError';
  }
}

interface Snapshot {
  address: Address;
  balance: bigint;
  nonce: bigint;
  code: Uint8Array | undefined;
  codeHash: Uint8Array | undefined;
  /** Slot (0x + 64 hex digits) to its 32-byte value. */
  storage: Map<string, Uint8Array>;
  /** No balance, nonce or code when first touched: geth leaves such accounts out of `pre`. */
  empty: boolean;
}

interface Step {
  opcode: { code: number; fee: number; dynamicFee?: bigint };
  gasLeft: bigint;
  stack: bigint[];
  memory: Uint8Array;
  address: Address;
}

const OP = { SLOAD: 0x54, SSTORE: 0x55, CREATE: 0xf0, CREATE2: 0xf5, SELFDESTRUCT: 0xff } as const;
/** Opcodes that touch the account named by their top stack item. */
const ACCOUNT_OPS = new Set([0x31, 0x3b, 0x3c, 0x3f, OP.SELFDESTRUCT]);
/** Stack items each watched opcode needs: with fewer it fails before it runs, touching nothing. */
const MIN_STACK = new Map<number, number>([
  [OP.SLOAD, 1],
  [OP.SSTORE, 2],
  [0x31, 1],
  [0x3b, 1],
  [0x3c, 4],
  [0x3f, 1],
  [OP.SELFDESTRUCT, 1],
  [0xf1, 7],
  [0xf2, 7],
  [0xf4, 6],
  [0xfa, 6],
  [OP.CREATE, 3],
  [OP.CREATE2, 4],
]);
/** EIP-2200: an SSTORE with this much gas left or less fails before it runs. */
const SSTORE_SENTRY = 2300n;
/** EIP-3860: a longer initcode fails the creation before it runs. */
const MAX_INITCODE = 49_152n;
const ADDRESS_MASK = (1n << 160n) - 1n;
const EMPTY = new Uint8Array();
const ZERO_WORD = new Uint8Array(32);

const q = (n: bigint) => `0x${n.toString(16)}` as Hex;
const word = (n: bigint) => `0x${n.toString(16).padStart(64, '0')}`;
const key = (a: Address) => a.toString().toLowerCase();
const stackAddress = (v: bigint) => new Address(setLengthLeft(bigIntToBytes(v & ADDRESS_MASK), 20));

/** The account an EIP-7702 delegation designator (0xef0100 || address) points to. */
function delegationTarget(code: Uint8Array): Address | undefined {
  if (code.length !== 23 || code[0] !== 0xef || code[1] !== 0x01 || code[2] !== 0x00) return undefined;
  return new Address(code.subarray(3));
}

export class PrestateTracer implements Tracer<PrestateResult> {
  private state: EVMInterface['stateManager'] | undefined;
  private readonly pre = new Map<string, Snapshot>();
  private post: Map<string, PrestateAccount> | undefined;
  private readonly created = new Set<string>();
  private readonly deleted = new Set<string>();
  private codeBytes = 0;
  /** A state read failed inside an EVM event, where throwing would not reach the caller. */
  private failure: unknown;

  private readonly onStep = (s: Step, resolve?: (r?: unknown) => void): void => {
    if (!MIN_STACK.has(s.opcode.code)) {
      resolve?.();
      return;
    }
    this.step(s)
      .catch((err: unknown) => {
        this.failure ??= err;
      })
      .finally(() => resolve?.());
  };

  constructor(
    private readonly config: PrestateTracerConfig = {},
    private readonly maxCodeBytes = MAX_PRESTATE_CODE_BYTES,
  ) {}

  attach(evm: EVMInterface): void {
    this.state = evm.stateManager;
    evm.events!.on('step', this.onStep as never);
  }

  detach(evm: EVMInterface): void {
    evm.events!.off('step', this.onStep as never);
  }

  async start(tx: TxStart): Promise<void> {
    let to = tx.to;
    if (to === undefined) {
      to = createContractAddress(tx.from, (await this.sm().getAccount(tx.from))?.nonce ?? 0n);
      this.created.add(key(to));
    } else {
      await this.lookupDelegation(to);
    }
    await this.lookup(tx.from);
    await this.lookup(to);
    await this.lookup(tx.coinbase);
    for (const auth of tx.authorizations ?? []) {
      let authority: Address;
      try {
        authority = eoaCode7702RecoverAuthority(auth);
      } catch {
        continue; // an invalid authorization is skipped by the transaction too
      }
      await this.lookup(authority);
    }
  }

  async end(): Promise<void> {
    if (this.config.diffMode === true) this.post = await this.diff();
  }

  result(): PrestateResult {
    if (this.failure !== undefined) throw this.failure;
    if (this.codeBytes > this.maxCodeBytes) {
      throw new TraceTooLargeError(`prestate trace holds more than ${this.maxCodeBytes} bytes of code: trace with tracerConfig.disableCode`);
    }
    const pre: PrestateMap = {};
    for (const k of [...this.pre.keys()].sort()) {
      const s = this.pre.get(k)!;
      if (!s.empty || this.config.includeEmpty === true) pre[k] = this.print(s);
    }
    if (this.config.diffMode !== true) return pre;
    if (this.post === undefined) throw new Error('prestate diff asked before the transaction ended');
    const post: PrestateMap = {};
    for (const k of [...this.post.keys()].sort()) post[k] = this.post.get(k)!;
    return { post, pre };
  }

  private sm(): EVMInterface['stateManager'] {
    if (this.state === undefined) throw new Error('prestate tracer is not attached');
    return this.state;
  }

  private async step(s: Step): Promise<void> {
    const op = s.opcode.code;
    const st = s.stack;
    const top = (i: number) => st[st.length - 1 - i]!;
    if (st.length < MIN_STACK.get(op)! || s.gasLeft < (s.opcode.dynamicFee ?? BigInt(s.opcode.fee))) return;
    if (op === OP.SLOAD || op === OP.SSTORE) {
      if (op === OP.SSTORE && s.gasLeft <= SSTORE_SENTRY) return;
      await this.lookupStorage(s.address, top(0));
    } else if (ACCOUNT_OPS.has(op)) {
      await this.lookup(stackAddress(top(0)));
      // EIP-6780: only a contract created by this same transaction is deleted
      if (op === OP.SELFDESTRUCT && this.created.has(key(s.address))) this.deleted.add(key(s.address));
    } else if (op === OP.CREATE || op === OP.CREATE2) {
      if (top(2) > MAX_INITCODE) return;
      const address =
        op === OP.CREATE
          ? createContractAddress(s.address, (await this.sm().getAccount(s.address))?.nonce ?? 0n)
          : createContractAddress2(s.address, setLengthLeft(bigIntToBytes(top(3)), 32), memorySlice(s.memory, top(1), top(2)));
      await this.lookup(address);
      this.created.add(key(address));
    } else {
      const target = stackAddress(top(1));
      await this.lookup(target);
      await this.lookupDelegation(target);
    }
  }

  /** Records the account as it is now, if not yet recorded. */
  private async lookup(address: Address): Promise<Snapshot> {
    const k = key(address);
    const seen = this.pre.get(k);
    if (seen !== undefined) return seen;
    const account = await this.sm().getAccount(address);
    const balance = account?.balance ?? 0n;
    const nonce = account?.nonce ?? 0n;
    const hasCode = account !== undefined && !equalsBytes(account.codeHash, KECCAK256_NULL);
    const snapshot: Snapshot = {
      address,
      balance,
      nonce,
      code: hasCode && this.config.disableCode !== true ? this.keepCode(await this.sm().getCode(address)) : undefined,
      codeHash: hasCode ? account.codeHash.slice() : undefined,
      storage: new Map(),
      empty: balance === 0n && nonce === 0n && !hasCode,
    };
    this.pre.set(k, snapshot);
    return snapshot;
  }

  /** An EIP-7702 account's code runs from its delegate, which the call therefore touches too. */
  private async lookupDelegation(address: Address): Promise<void> {
    const target = delegationTarget(await this.sm().getCode(address));
    if (target !== undefined) await this.lookup(target);
  }

  private async lookupStorage(address: Address, slot: bigint): Promise<void> {
    if (this.config.disableStorage === true) return;
    const account = await this.lookup(address);
    const k = word(slot);
    if (account.storage.has(k)) return;
    account.storage.set(k, setLengthLeft(await this.sm().getStorage(address, setLengthLeft(bigIntToBytes(slot), 32)), 32));
  }

  /** Counts the code the answer will carry; past the cap, keeps none (result() refuses the trace). */
  private keepCode(code: Uint8Array): Uint8Array | undefined {
    this.codeBytes += code.length;
    return this.codeBytes > this.maxCodeBytes ? undefined : code;
  }

  /**
   * geth's processDiffState: `post` gets the fields that changed, `pre` loses the accounts that did
   * not change and the slots that did not change or were zero; a deleted account stays in `pre`
   * only. One deviation: geth 1.17.3+ reads a code hash of zero for an account that does not
   * exist after the transaction and reports it as changed, though it did not exist before either
   * (a precompile called, a creation that failed); that non-change is left out here, as anvil and
   * reth leave it out.
   */
  private async diff(): Promise<Map<string, PrestateAccount>> {
    const post = new Map<string, PrestateAccount>();
    for (const [k, before] of this.pre) {
      if (this.deleted.has(k)) continue;
      const after = await this.accountChanges(before);
      const storage = await this.storageChanges(before);
      if (storage.values !== undefined) after.storage = storage.values;
      // a slot cleared to zero is a change that shows in `post` only as the account
      if (Object.keys(after).length > 0 || storage.changed) post.set(k, after);
      else this.pre.delete(k);
    }
    return post;
  }

  private async accountChanges(before: Snapshot): Promise<PrestateAccount> {
    const now = await this.sm().getAccount(before.address);
    const out: PrestateAccount = {};
    const balance = now?.balance ?? 0n;
    const nonce = now?.nonce ?? 0n;
    const codeHash = now?.codeHash ?? KECCAK256_NULL;
    if (balance !== before.balance) out.balance = q(balance);
    if (this.config.disableCode !== true) {
      const code = now === undefined ? EMPTY : await this.sm().getCode(before.address);
      if (!equalsBytes(code, before.code ?? EMPTY)) out.code = bytesToHex(this.keepCode(code) ?? EMPTY) as Hex;
    }
    if (!equalsBytes(codeHash, before.codeHash ?? KECCAK256_NULL)) out.codeHash = bytesToHex(codeHash) as Hex;
    if (nonce !== before.nonce) out.nonce = Number(nonce);
    return out;
  }

  /** Whether a slot changed, and the changed slots' new values but zeros; prunes `pre` to the changed, non-zero slots. */
  private async storageChanges(before: Snapshot): Promise<{ changed: boolean; values?: Record<string, Hex> }> {
    let changed = false;
    const values: [string, Hex][] = [];
    for (const [slot, value] of before.storage) {
      const now = setLengthLeft(await this.sm().getStorage(before.address, setLengthLeft(bigIntToBytes(BigInt(slot)), 32)), 32);
      if (equalsBytes(value, ZERO_WORD) || equalsBytes(value, now)) before.storage.delete(slot);
      if (equalsBytes(value, now)) continue;
      changed = true;
      if (!equalsBytes(now, ZERO_WORD)) values.push([slot, bytesToHex(now) as Hex]);
    }
    return { changed, values: values.length > 0 ? Object.fromEntries(values.sort(([a], [b]) => (a < b ? -1 : 1))) : undefined };
  }

  private print(s: Snapshot): PrestateAccount {
    const out: PrestateAccount = { balance: q(s.balance) };
    if (s.code !== undefined) out.code = bytesToHex(s.code) as Hex;
    if (s.codeHash !== undefined) out.codeHash = bytesToHex(s.codeHash) as Hex;
    // a JSON number, as geth's; a nonce is below 2^64 and in practice far below 2^53
    if (s.nonce !== 0n) out.nonce = Number(s.nonce);
    if (s.storage.size > 0) out.storage = Object.fromEntries([...s.storage.keys()].sort().map((slot) => [slot, bytesToHex(s.storage.get(slot)!)]));
    return out;
  }
}

/** memory[offset, offset + size), zero-padded past its end (memory not yet expanded reads as zeros). */
function memorySlice(memory: Uint8Array, offset: bigint, size: bigint): Uint8Array {
  const out = new Uint8Array(Number(size));
  if (offset < BigInt(memory.length)) out.set(memory.subarray(Number(offset), Number(offset + size)));
  return out;
}
