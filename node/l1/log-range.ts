/**
 * eth_getLogs over a long L1 range in chunks: providers cap a request's block range (Alchemy
 * 2,000, Ankr and QuickNode 10,000) or its result count (Infura 10,000 logs), or time out on a
 * dense range. A refused chunk is halved down to one block, and after a few successes the chunk
 * grows back, so a dense stretch does not slow down the rest of the scan.
 * (viem's own `blockRange` halves on nearly any error and regrows after every page, which
 * against a fixed cap fails every other request; it also takes no AbortSignal.)
 */
import type { AbiEvent, Client, GetLogsReturnType, Hex } from 'viem';
import { getLogs } from 'viem/actions';
import { CodedError } from '../../precompiles/errors.ts';
import { isRangeRefusal, isTimeout } from './rpc-errors.ts';

export const DEFAULT_LOG_RANGE = 2_000n;
/** Successes in a row before a halved chunk doubles again. */
const GROW_AFTER = 4;

export class LogRangeError extends CodedError {
  override readonly code = 'LOG_RANGE_REFUSED';

  constructor(
    readonly fromBlock: bigint,
    readonly toBlock: bigint,
    options?: ErrorOptions,
  ) {
    super(`the L1 refuses eth_getLogs even for blocks ${fromBlock}..${toBlock} (the smallest range)`, options);
    this.name = 'LogRangeError';
  }
}

export interface LogRangeArgs<event extends AbiEvent | undefined, events extends readonly AbiEvent[] | undefined, strict extends boolean | undefined> {
  address: Hex | Hex[];
  event?: event;
  events?: events;
  /** Indexed-argument filter of `event` (viem's getLogs `args`). */
  args?: Record<string, unknown>;
  fromBlock: bigint;
  toBlock: bigint;
  strict?: strict;
}

export interface LogRangeOptions {
  /** Widest chunk (default 2,000 blocks: the tightest common provider cap). */
  maxRange?: bigint;
  /** Narrowest chunk before giving up with LogRangeError (default 1 block). */
  minRange?: bigint;
  signal?: AbortSignal;
}

/** Every log of [fromBlock, toBlock], oldest first, as viem's getLogs returns them. */
export async function getLogsInRanges<
  const event extends AbiEvent | undefined = undefined,
  const events extends readonly AbiEvent[] | undefined = undefined,
  strict extends boolean | undefined = undefined,
>(
  client: Client,
  args: LogRangeArgs<event, events, strict>,
  opts: LogRangeOptions = {},
): Promise<GetLogsReturnType<event, events extends readonly AbiEvent[] ? events : event extends AbiEvent ? [event] : undefined, strict>> {
  const maxRange = opts.maxRange ?? DEFAULT_LOG_RANGE;
  const minRange = opts.minRange ?? 1n;
  if (minRange < 1n || maxRange < minRange) throw new RangeError(`bad eth_getLogs chunk bounds ${minRange}..${maxRange}`);
  const out: unknown[] = [];
  let size = maxRange;
  let streak = 0;
  let from = args.fromBlock;
  while (from <= args.toBlock) {
    opts.signal?.throwIfAborted();
    const end = from + size - 1n;
    const to = end < args.toBlock ? end : args.toBlock;
    let logs: unknown[];
    try {
      logs = await getLogs(client, { ...args, fromBlock: from, toBlock: to } as never);
    } catch (err) {
      if (!isRangeRefusal(err) && !isTimeout(err)) throw err;
      const width = to - from + 1n;
      if (width <= minRange) throw new LogRangeError(from, to, { cause: err });
      size = width / 2n < minRange ? minRange : width / 2n;
      streak = 0;
      continue;
    }
    for (const log of logs) out.push(log);
    from = to + 1n;
    if (size < maxRange && ++streak >= GROW_AFTER) {
      size = size * 2n > maxRange ? maxRange : size * 2n;
      streak = 0;
    }
  }
  return out as never;
}
