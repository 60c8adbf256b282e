import { readFile } from 'node:fs/promises';
import { createBlock } from '@ethereumjs/block';
import type { Block } from '@ethereumjs/block';
import type { Common } from '@ethereumjs/common';
import type { MerkleStateManager } from '@ethereumjs/statemanager';
import { Account, createAddressFromString, hexToBytes, setLengthLeft } from '@ethereumjs/util';
import type { PrefixedHexString } from '@ethereumjs/util';
import { privateKeyToAddress } from 'viem/accounts';
import { z } from 'zod';
import { predeploys } from '../../contracts/predeploys.ts';
import { mnemonicKeys } from './mnemonic.ts';

export const DEV_MNEMONIC = 'test test test test test test test test test test test junk';
export const DEV_ACCOUNT_COUNT = 10;
export const DEV_BALANCE = 10_000n * 10n ** 18n;
export const DEFAULT_GAS_LIMIT = 30_000_000n;
export const GENESIS_BASE_FEE = 1_000_000_000n;

const hex = z.string().regex(/^0x[0-9a-fA-F]*$/, 'expected 0x-prefixed hex');
const quantity = z.union([hex, z.number().int().nonnegative(), z.string().regex(/^[0-9]+$/)]);

const allocEntry = z.object({
  balance: quantity.optional(),
  nonce: quantity.optional(),
  code: hex.optional(),
  storage: z.record(z.string(), hex).optional(),
});

/** A geth-style genesis file; only the fields an L2 genesis needs. */
export const genesisSchema = z.object({
  config: z.object({ chainId: z.number().int().positive() }).passthrough(),
  timestamp: quantity.optional(),
  gasLimit: quantity.optional(),
  baseFeePerGas: quantity.optional(),
  extraData: hex.optional(),
  coinbase: hex.optional(),
  alloc: z.record(z.string(), allocEntry),
});
export type GenesisSpec = z.infer<typeof genesisSchema>;
export type GenesisAlloc = GenesisSpec['alloc'];

const devAddresses: PrefixedHexString[] = [];

/** The dev mnemonic's first accounts (anvil's and Hardhat's), derived once per process. */
export function devAccounts(count = DEV_ACCOUNT_COUNT): { address: PrefixedHexString; privateKey: PrefixedHexString }[] {
  const keys = mnemonicKeys(DEV_MNEMONIC, count);
  for (let i = devAddresses.length; i < count; i++) devAddresses.push(privateKeyToAddress(keys[i]!));
  return keys.map((privateKey, i) => ({ address: devAddresses[i]!, privateKey }));
}

export function devGenesis(chainId: bigint, gasLimit: bigint): GenesisSpec {
  const alloc: GenesisAlloc = {};
  for (const a of devAccounts()) alloc[a.address] = { balance: `0x${DEV_BALANCE.toString(16)}` };
  return {
    config: { chainId: Number(chainId) },
    timestamp: 0,
    gasLimit: `0x${gasLimit.toString(16)}`,
    baseFeePerGas: `0x${GENESIS_BASE_FEE.toString(16)}`,
    alloc,
  };
}

/**
 * Adds the protocol predeploys (model registry, ...) to a genesis allocation. A genesis file
 * that already places code at a predeploy address keeps its own: an operator who pins the code
 * in the file decides, and the node warns instead of rewriting the chain's genesis. An entry
 * without code configures the predeploy (its storage holds parameters, e.g. the inference
 * market's) and gets the protocol code.
 */
export function withPredeploys(spec: GenesisSpec): { spec: GenesisSpec; overridden: string[] } {
  const alloc: GenesisAlloc = { ...spec.alloc };
  const lower = new Map(Object.keys(alloc).map((k) => [k.toLowerCase().replace(/^(?!0x)/, '0x'), k]));
  const overridden: string[] = [];
  for (const p of predeploys()) {
    const existing = lower.get(p.address.toLowerCase());
    if (existing === undefined) alloc[p.address] = { balance: '0x0', nonce: '0x1', code: p.deployedBytecode };
    else if (alloc[existing]!.code === undefined) alloc[existing] = { nonce: '0x1', ...alloc[existing], code: p.deployedBytecode };
    else if ((alloc[existing]!.code ?? '0x').toLowerCase() !== p.deployedBytecode.toLowerCase()) overridden.push(p.name);
  }
  return { spec: { ...spec, alloc }, overridden };
}

export async function readGenesisFile(path: string): Promise<GenesisSpec> {
  const raw = JSON.parse(await readFile(path, 'utf8'));
  const parsed = genesisSchema.safeParse(raw);
  if (!parsed.success) throw new Error(`invalid genesis file ${path}: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

const big = (v: string | number | undefined, dflt: bigint): bigint => (v === undefined ? dflt : BigInt(v));

/** Writes the allocation into `state` (fresh, empty) and returns the genesis block on top of it. */
export async function buildGenesis(spec: GenesisSpec, state: MerkleStateManager, common: Common): Promise<Block> {
  await state.checkpoint();
  for (const [addr, entry] of Object.entries(spec.alloc)) {
    const address = createAddressFromString(addr.startsWith('0x') ? addr : `0x${addr}`);
    await state.putAccount(address, new Account(big(entry.nonce, 0n), big(entry.balance, 0n)));
    if (entry.code !== undefined && entry.code !== '0x') await state.putCode(address, hexToBytes(entry.code as PrefixedHexString));
    for (const [slot, value] of Object.entries(entry.storage ?? {})) {
      const k = setLengthLeft(hexToBytes(slot as PrefixedHexString), 32);
      await state.putStorage(address, k, hexToBytes(value as PrefixedHexString));
    }
  }
  await state.commit();
  await state.flush();
  const header = {
    number: 0n,
    timestamp: big(spec.timestamp, 0n),
    gasLimit: big(spec.gasLimit, DEFAULT_GAS_LIMIT),
    baseFeePerGas: big(spec.baseFeePerGas, GENESIS_BASE_FEE),
    extraData: spec.extraData === undefined ? new Uint8Array() : hexToBytes(spec.extraData as PrefixedHexString),
    coinbase: spec.coinbase === undefined ? undefined : createAddressFromString(spec.coinbase),
    stateRoot: await state.getStateRoot(),
  };
  return createBlock({ header, withdrawals: [] }, { common, setHardfork: false });
}
