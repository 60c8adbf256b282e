import type { VM } from '@ethereumjs/vm';
import { CodedError } from '../../precompiles/errors.ts';
import { interpreterPrototype } from './evm-interpreter.ts';

/**
 * A wall-clock budget for one EVM execution that is not a block's (eth_call, eth_estimateGas):
 * geth's --rpc.evmtimeout, and a node that keeps producing blocks while such calls run.
 *
 * The EVM runs its opcodes as one chain of promises, which never lets timers or sockets in: a
 * 50M-gas loop would hold the event loop for seconds. A VM given a budget is checked every
 * STEPS_PER_CHECK opcodes: past its deadline the execution ends with ExecutionTimeoutError, and
 * when it has run for YIELD_MS since it last let others in, it waits one macrotask, so block
 * production, other calls and I/O take their turn. VMs without a budget (the block producer's,
 * a replica's importer) pay one property read per opcode.
 */
export class ExecutionTimeoutError extends CodedError {
  override readonly code = 'EXECUTION_TIMEOUT_ERROR';

  constructor(readonly timeoutMs: number) {
    // geth's wording (internal/ethapi: "execution aborted (timeout = 5s)")
    super(`execution aborted (timeout = ${formatSeconds(timeoutMs)})`);
    this.name = 'ExecutionTimeoutError';
  }
}

const STEPS_PER_CHECK = 1024;
const YIELD_MS = 5;
const BUDGET = Symbol.for('ai-rollup.execution-budget');

export class ExecutionBudget {
  private countdown = STEPS_PER_CHECK;
  private lastYield = Date.now();

  /**
   * @param deadline epoch milliseconds at which the execution is aborted
   * @param timeoutMs the configured limit, for the error message
   * @param pause resolves when the execution may go on (the node holds calls while it builds a block)
   */
  constructor(
    readonly deadline: number,
    readonly timeoutMs: number,
    private readonly pause: () => Promise<void> | undefined = () => undefined,
  ) {}

  /** Throws once the deadline has passed (also called between the runs of an estimate). */
  check(): void {
    if (Date.now() > this.deadline) throw new ExecutionTimeoutError(this.timeoutMs);
  }

  /** Called per opcode; undefined on the fast path, a promise when the execution should wait. */
  step(): Promise<void> | undefined {
    if (--this.countdown > 0) return undefined;
    this.countdown = STEPS_PER_CHECK;
    this.check();
    const held = this.pause();
    if (held === undefined && Date.now() - this.lastYield < YIELD_MS) return undefined;
    return this.yieldNow(held);
  }

  private async yieldNow(held: Promise<void> | undefined): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (held !== undefined) await held;
    this.lastYield = Date.now();
    this.check();
  }
}

/** Gives `vm` a budget; every execution on it is then checked against it. */
export function attachBudget(vm: VM, budget: ExecutionBudget): void {
  (vm.evm as unknown as Record<symbol, ExecutionBudget>)[BUDGET] = budget;
}

interface InterpreterProto {
  runStep(this: { _evm: Record<symbol, ExecutionBudget | undefined> }, op: unknown): Promise<void>;
  [BUDGET]?: true;
}

/** The Interpreter's runStep is wrapped once; the check keeps a silent no-op from passing for a timeout. */
async function installBudgetHook(): Promise<void> {
  const proto = (await interpreterPrototype()) as unknown as InterpreterProto;
  if (typeof proto.runStep !== 'function') throw new Error('@ethereumjs/evm: Interpreter.prototype.runStep not found; the execution budget cannot be enforced');
  if (proto[BUDGET] === true) return;
  const original = proto.runStep;
  proto.runStep = function (op) {
    const wait = this._evm[BUDGET]?.step();
    return wait === undefined ? original.call(this, op) : wait.then(() => original.call(this, op));
  };
  proto[BUDGET] = true;
}

/** Go's time.Duration formatting, as geth prints the limit: 5s, 1.5s, 500ms. */
function formatSeconds(ms: number): string {
  return ms < 1000 ? `${ms}ms` : `${ms / 1000}s`;
}

// on import: whoever can attach a budget has the hook that enforces it
await installBudgetHook();
