import type { VM } from '@ethereumjs/vm';
import { CodedError } from '../../precompiles/errors.ts';

/**
 * Checkpoint bookkeeping for a VM whose writes must either land whole or not at all.
 *
 * The EVM opens one state checkpoint per call frame and closes it when the frame returns. An
 * exception thrown inside a frame (a precompile or library failing, rather than the EVM halting)
 * unwinds past those closes, and runTx's own handler reverts only the levels it opened: the frames
 * in between stay open. Left so, the next commit closes the wrong level, the state manager never
 * reaches depth 0, its trie checkpoint is never flushed, and the block is sealed over a state root
 * whose nodes were never written. The depth is the state manager's `_checkpointCount` (private in
 * @ethereumjs/statemanager v10, and the one counter every layer's checkpoint goes through).
 */
export function stateDepth(vm: VM): number {
  const depth = (vm.stateManager as unknown as { _checkpointCount?: unknown })._checkpointCount;
  if (typeof depth !== 'number') throw new Error('state manager does not expose its checkpoint depth');
  return depth;
}

/**
 * Reverts every checkpoint above `depth` and clears what a frame that never returned left behind
 * (transient storage, the journal's warm sets). Returns how many levels it reverted: 0 means the
 * execution had closed its frames itself.
 */
export async function unwindState(vm: VM, depth: number): Promise<number> {
  let reverted = 0;
  while (stateDepth(vm) > depth) {
    await vm.stateManager.revert();
    reverted++;
  }
  // what EVM.postMessageCleanup (private) does after a frame at depth 0 returns: EIP-1153 values end with the transaction
  (vm.evm as { transientStorage?: { clear?(): void } }).transientStorage?.clear?.();
  vm.evm.journal.cleanJournal();
  return reverted;
}

/** A transaction's execution threw instead of ending in a result: its state changes were discarded. */
export class InternalExecutionError extends CodedError {
  override readonly code = 'INTERNAL_EXECUTION_ERROR';

  constructor(
    readonly reason: string,
    readonly levels: number,
  ) {
    super(`internal error during execution: ${reason}`);
    this.name = 'InternalExecutionError';
  }
}
