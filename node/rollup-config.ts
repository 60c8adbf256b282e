import { readFile } from 'node:fs/promises';
import type { Hex } from 'viem';
import { z } from 'zod';
import { CodedError } from '../precompiles/errors.ts';

const hex = z.string().regex(/^0x[0-9a-fA-F]*$/, 'a 0x-prefixed hex string');
const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'a 20-byte 0x-prefixed address');
const uint = z.union([z.number().int().nonnegative(), z.string().regex(/^(0x[0-9a-fA-F]+|[0-9]+)$/)]).transform((v) => BigInt(v));

const schema = z.object({
  l2ChainId: uint,
  l1ChainId: uint,
  /** The L1 block of the Bridge's deployment: origin of the first L2 block, start of the deposit scan. */
  l1Start: z.object({ number: uint, hash: hex.length(66), timestamp: uint }),
  /** inferenceOracle: optional (configs written before it existed have none; no proofs are posted then). */
  contracts: z.object({ rollup: address, bridge: address, inferenceOracle: address.optional() }),
  /** L1 blocks the sequencer stays behind L1's head before taking an origin or its deposits. */
  l1Confirmations: z.number().int().nonnegative().default(0),
  challengeWindow: uint,
  inclusionWindow: uint,
  /**
   * The address whose signature replicas require on gossiped blocks (node/sync/block-gossip.ts):
   * the sequencer's `--sequencer-key`. Optional: configs written before it existed have none, and
   * replicas of such a chain cannot follow it by gossip (they say so at start).
   */
  unsafeBlockSigner: address.optional(),
});

export type RollupConfig = z.infer<typeof schema> & { l1Start: { hash: Hex }; contracts: { rollup: Hex; bridge: Hex; inferenceOracle?: Hex }; unsafeBlockSigner?: Hex };

export class RollupConfigError extends CodedError {
  override readonly code = 'ROLLUP_CONFIG_ERROR';

  override name = 'RollupConfigError';
}

export function parseRollupConfig(raw: unknown, source = 'rollup config'): RollupConfig {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw new RollupConfigError(`invalid ${source}: ${z.prettifyError(parsed.error)}`);
  return parsed.data as RollupConfig;
}

export async function readRollupConfig(path: string): Promise<RollupConfig> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    throw new RollupConfigError(`cannot read rollup config ${path}: ${(err as Error).message}`);
  }
  return parseRollupConfig(raw, `rollup config ${path}`);
}

/** JSON form (quantities as decimal strings), as `devnet` writes it. */
export function rollupConfigJson(c: RollupConfig): string {
  return JSON.stringify(c, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2);
}
