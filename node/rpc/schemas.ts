import { Address, hexToBytes } from '@ethereumjs/util';
import type { PrefixedHexString } from '@ethereumjs/util';
import { z } from 'zod';

/** Parameter schemas shared by the methods; messages follow geth's wording where it has one. */
const hexString = z.string().regex(/^0x/i, 'hex string without 0x prefix');

export const zQuantity = hexString
  .regex(/^0x[0-9a-fA-F]+$/, 'hex string of odd length or invalid hex digits')
  .regex(/^0x(0|[1-9a-fA-F][0-9a-fA-F]*)$/, 'hex number with leading zero digits')
  .refine((s) => s.length <= 66, 'hex number > 256 bits')
  .transform((s) => BigInt(s));

/** A request id: a quantity, or (the ids are small) a plain JSON integer. */
export const zRequestId = z.union([zQuantity, z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER).transform(BigInt)]);

export const zUint = zQuantity.refine((n) => n <= BigInt(Number.MAX_SAFE_INTEGER), 'number too large').transform(Number);

export const zData = hexString.regex(/^0x([0-9a-fA-F]{2})*$/, 'hex string of odd length or invalid hex digits').transform((s) => hexToBytes(s as PrefixedHexString));

export const zHash = hexString.regex(/^0x[0-9a-fA-F]{64}$/, 'hex string has length != 64, want 32 bytes').transform((s) => s.toLowerCase() as PrefixedHexString);

export const zAddress = hexString
  .regex(/^0x[0-9a-fA-F]{40}$/, 'hex string has wrong length, want 20 bytes for an address')
  .transform((s) => new Address(hexToBytes(s as PrefixedHexString)));

export const zBlockTag = z.union([z.enum(['latest', 'earliest', 'pending', 'safe', 'finalized']), zQuantity]);
export type BlockTag = z.output<typeof zBlockTag>;

/** A block number, tag or EIP-1898 object; like geth, a bare 32-byte hash string means that block. */
export const zBlockRef = z.union([
  zHash.transform((blockHash) => ({ blockHash, requireCanonical: false })),
  zBlockTag,
  z.object({ blockHash: zHash, requireCanonical: z.boolean().optional() }).strict(),
  z.object({ blockNumber: zBlockTag }).strict(),
]);
export type BlockRef = z.output<typeof zBlockRef>;

export const zCallRequest = z
  .object({
    from: zAddress.optional(),
    to: zAddress.nullish(),
    gas: zQuantity.optional(),
    gasPrice: zQuantity.optional(),
    maxFeePerGas: zQuantity.optional(),
    maxPriorityFeePerGas: zQuantity.optional(),
    value: zQuantity.optional(),
    data: zData.optional(),
    input: zData.optional(),
    nonce: zQuantity.optional(),
    accessList: z
      .array(
        z.object({
          address: hexString.regex(/^0x[0-9a-fA-F]{40}$/, 'hex string has wrong length, want 20 bytes for an address').transform((s) => s.toLowerCase() as `0x${string}`),
          storageKeys: z.array(hexString.regex(/^0x[0-9a-fA-F]{64}$/, 'hex string has length != 64, want 32 bytes').transform((s) => s.toLowerCase() as `0x${string}`)).max(10_000),
        }),
      )
      .max(10_000)
      .optional(),
  })
  .passthrough()
  .refine((r) => r.data === undefined || r.input === undefined || Buffer.compare(r.data, r.input) === 0, {
    message: 'both "data" and "input" are set and not equal. Please use "input" to pass transaction call data',
  });
export type CallRequestParam = z.output<typeof zCallRequest>;

const zSlotMap = z.record(zHash, zHash);
export const zStateOverrides = z.record(
  z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'invalid address in state override'),
  z
    .object({
      balance: zQuantity.optional(),
      nonce: zQuantity.optional(),
      code: zData.optional(),
      state: zSlotMap.optional(),
      stateDiff: zSlotMap.optional(),
    })
    .strict()
    .refine((o) => o.state === undefined || o.stateDiff === undefined, 'has both "state" and "stateDiff"'),
);

const zTopic = z.union([z.null(), zHash, z.array(z.union([zHash, z.null()]))]);
export const zFilter = z
  .object({
    fromBlock: zBlockTag.optional(),
    toBlock: zBlockTag.optional(),
    blockHash: zHash.optional(),
    address: z.union([zAddress, z.array(zAddress)]).nullish(),
    topics: z.array(zTopic).max(4, 'too many topics, max 4').nullish(),
  })
  .refine((f) => f.blockHash === undefined || (f.fromBlock === undefined && f.toBlock === undefined), {
    message: 'cannot specify both BlockHash and FromBlock/ToBlock, choose one or the other',
  });
export type FilterParam = z.output<typeof zFilter>;
