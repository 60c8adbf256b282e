/**
 * Inputs of private-input requests. The chain holds only their Poseidon hash, so a requester
 * hands the input to the node (`ai_submitJobInput`) and the node's job announcements carry it.
 * Memory only, bounded in entries and bytes: an input is worth keeping while its request is
 * open, and a requester whose input was lost in a restart submits it again.
 *
 * A fulfilled request's input is worth keeping a little longer: the inference poster proves k
 * inferences per L1 proof from their inputs (sequencer/inference-poster.ts), so `close` moves the
 * input to a second, separately bounded area where it stays until the poster has posted its
 * batch (`release`). That area evicts its oldest entries instead of refusing: losing one only
 * means its inference goes to L1 with its own L2 proof, as everything does after a restart (the
 * store is not persisted, so batches fulfilled before a restart fall back to single proofs).
 */
import { CodedError } from '../../precompiles/errors.ts';

/** Why an input was refused; the JSON-RPC method maps `FULL` to -32005, the rest to -32000. */
export type JobInputErrorCode = 'UNKNOWN_REQUEST' | 'NOT_OPEN' | 'EXPIRED' | 'INPUT_MISMATCH' | 'FULL';

export class JobInputError extends CodedError {
  override name = 'JobInputError';
  constructor(
    override readonly code: JobInputErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface JobInputLimits {
  maxEntries: number;
  /** Sum of the stored inputs' lengths (one byte per value). */
  maxBytes: number;
  /** Inputs of fulfilled requests kept for the inference poster; the oldest go first. */
  maxRetainedEntries: number;
  maxRetainedBytes: number;
}

/** 4,096 retained inputs cover 4 full oracle submissions (1,024 proofs each) still being posted. */
export const defaultJobInputLimits: JobInputLimits = { maxEntries: 10_000, maxBytes: 64 * 1024 * 1024, maxRetainedEntries: 4_096, maxRetainedBytes: 16 * 1024 * 1024 };

/** A Map with a byte count, oldest entries first. */
class Area {
  readonly map = new Map<bigint, Uint8Array>();
  bytes = 0;

  set(id: bigint, input: Uint8Array): void {
    this.delete(id);
    this.map.set(id, input);
    this.bytes += input.length;
  }

  delete(id: bigint): Uint8Array | undefined {
    const input = this.map.get(id);
    if (input !== undefined) {
      this.map.delete(id);
      this.bytes -= input.length;
    }
    return input;
  }
}

export class JobInputs {
  private readonly open = new Area();
  private readonly retained = new Area();

  constructor(private readonly limits: JobInputLimits = defaultJobInputLimits) {}

  /** Inputs of open requests (what the limits of `put` count). */
  get size(): number {
    return this.open.map.size;
  }

  get retainedSize(): number {
    return this.retained.map.size;
  }

  /** The input of request `id`, open or retained after its fulfilment. */
  get(id: bigint): number[] | undefined {
    const input = this.open.map.get(id) ?? this.retained.map.get(id);
    return input === undefined ? undefined : Array.from(input);
  }

  /**
   * Stores (or replaces) the input of request `id`; false when the store is full. A full store
   * refuses rather than evicts: evicting would silently drop an input someone was told we hold.
   */
  put(id: bigint, input: readonly number[]): boolean {
    const previous = this.open.map.get(id)?.length ?? 0;
    const grows = !this.open.map.has(id);
    if ((grows && this.open.map.size >= this.limits.maxEntries) || this.open.bytes - previous + input.length > this.limits.maxBytes) return false;
    this.open.set(id, Uint8Array.from(input));
    return true;
  }

  /** Request `id` was fulfilled: keep its input, outside the open limits, until `release`. */
  close(id: bigint): void {
    const input = this.open.delete(id);
    if (input === undefined) return;
    if (input.length > this.limits.maxRetainedBytes || this.limits.maxRetainedEntries === 0) return;
    this.retained.set(id, input);
    while (this.retained.map.size > this.limits.maxRetainedEntries || this.retained.bytes > this.limits.maxRetainedBytes) {
      this.retained.delete(this.retained.map.keys().next().value!);
    }
  }

  /** The inference poster is done with these requests (their batch is on L1). */
  release(ids: Iterable<bigint>): void {
    for (const id of ids) this.retained.delete(id);
  }

  /** Forgets the input of request `id` wherever it is (refunded, expired, no longer tracked). */
  delete(id: bigint): void {
    this.open.delete(id);
    this.retained.delete(id);
  }
}
