/**
 * Inputs of private-input requests. The chain holds only their Poseidon hash, so a requester
 * hands the input to the node (`ai_submitJobInput`) and the node's job announcements carry it.
 * Memory only, bounded in entries and bytes: an input is worth keeping only while its request is
 * open, and a requester whose input was lost in a restart submits it again.
 */

/** Why an input was refused; the JSON-RPC method maps `FULL` to -32005, the rest to -32000. */
export type JobInputErrorCode = 'UNKNOWN_REQUEST' | 'NOT_OPEN' | 'EXPIRED' | 'INPUT_MISMATCH' | 'FULL';

export class JobInputError extends Error {
  override name = 'JobInputError';
  constructor(
    readonly code: JobInputErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface JobInputLimits {
  maxEntries: number;
  /** Sum of the stored inputs' lengths (one byte per value). */
  maxBytes: number;
}

export const defaultJobInputLimits: JobInputLimits = { maxEntries: 10_000, maxBytes: 64 * 1024 * 1024 };

export class JobInputs {
  private readonly inputs = new Map<bigint, Uint8Array>();
  private bytes = 0;

  constructor(private readonly limits: JobInputLimits = defaultJobInputLimits) {}

  get size(): number {
    return this.inputs.size;
  }

  get(id: bigint): number[] | undefined {
    const input = this.inputs.get(id);
    return input === undefined ? undefined : Array.from(input);
  }

  /**
   * Stores (or replaces) the input of request `id`; false when the store is full. A full store
   * refuses rather than evicts: evicting would silently drop an input someone was told we hold.
   */
  put(id: bigint, input: readonly number[]): boolean {
    const previous = this.inputs.get(id)?.length ?? 0;
    const grows = !this.inputs.has(id);
    if ((grows && this.inputs.size >= this.limits.maxEntries) || this.bytes - previous + input.length > this.limits.maxBytes) return false;
    this.inputs.set(id, Uint8Array.from(input));
    this.bytes += input.length - previous;
    return true;
  }

  delete(id: bigint): void {
    const input = this.inputs.get(id);
    if (input === undefined) return;
    this.inputs.delete(id);
    this.bytes -= input.length;
  }
}
