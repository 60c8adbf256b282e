/**
 * Node-managed accounts of a `--dev` chain, as anvil and Hardhat serve them: `eth_accounts` lists
 * the funded dev accounts, and `eth_sendTransaction`, `eth_sign`, `personal_sign` and
 * `eth_signTypedData_v4` sign with their keys (Remix, Hardhat's remote accounts and
 * `cast send --unlocked` rely on this). The sequencer registers them only with `--dev`: every
 * other node answers these methods with -32601, so no production node signs for callers.
 *
 * eth_sendTransaction fills what the caller left out as geth does (nonce from the pool, gas by
 * eth_estimateGas, fees from the next base fee and the suggested tip), signs with viem, and admits
 * the result through eth_sendRawTransaction's path, so every pool rule applies to it.
 */
import { bytesToHex } from '@ethereumjs/util';
import type { Hex, TypedDataDefinition } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import type { PrivateKeyAccount } from 'viem/accounts';
import { z } from 'zod';
import type { RpcBackend } from '../backend.ts';
import { RpcCode, RpcError } from '../errors.ts';
import { q } from '../format.ts';
import { type MethodDef, method } from '../method.ts';
import { zAddress, zCallRequest, zData } from '../schemas.ts';
import { feeMethods } from './fees.ts';
import { stateMethods } from './state.ts';

/** EIP-712 typed data, as an object or (MetaMask's form) a JSON string of one. */
const zTypedData = z.union([
  z.string().transform((s, ctx) => {
    try {
      return JSON.parse(s) as unknown;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'typed data is not valid JSON' });
      return z.NEVER;
    }
  }),
  z.record(z.string(), z.unknown()),
]);

/** Runs another method with JSON-RPC params: the same parsing, limits and answers as from outside. */
async function call(def: MethodDef, params: unknown[], b: RpcBackend): Promise<string> {
  return (await def.run(def.parse(params), b)) as string;
}

export function devAccountMethods(privateKeys: readonly Hex[]): Record<string, MethodDef> {
  const accounts = new Map<string, PrivateKeyAccount>();
  for (const k of privateKeys) {
    const a = privateKeyToAccount(k);
    accounts.set(a.address.toLowerCase(), a);
  }
  const addresses = [...accounts.values()].map((a) => a.address);
  const accountOf = (address: { toString(): string }): PrivateKeyAccount => {
    const a = accounts.get(address.toString().toLowerCase());
    if (a === undefined) throw new RpcError(RpcCode.Server, 'unknown account');
    return a;
  };

  return {
    eth_accounts: method([], () => addresses),

    eth_sign: method([zAddress, zData], ([address, data]) => accountOf(address).signMessage({ message: { raw: data } })),
    personal_sign: method([zData, zAddress], ([data, address]) => accountOf(address).signMessage({ message: { raw: data } })),
    eth_signTypedData_v4: method([zAddress, zTypedData], async ([address, typed]) => {
      const account = accountOf(address);
      try {
        return await account.signTypedData(typed as unknown as TypedDataDefinition);
      } catch (err) {
        throw new RpcError(RpcCode.InvalidParams, `invalid typed data: ${(err as Error).message.split('\n')[0]}`);
      }
    }),

    eth_sendTransaction: method([zCallRequest], async ([req], b) => {
      if (req.from === undefined) throw new RpcError(RpcCode.Server, 'from: missing sender address');
      const account = accountOf(req.from);
      const from = account.address;
      const to = req.to ? (req.to.toString() as Hex) : undefined;
      const data = req.input ?? req.data;
      const value = req.value ?? 0n;
      const estimate: Record<string, unknown> = { from, value: q(value) };
      if (to !== undefined) estimate.to = to;
      if (data !== undefined) estimate.input = bytesToHex(data);
      const accessList = req.accessList?.map((e) => ({ address: e.address, storageKeys: e.storageKeys }));
      // the list's intrinsic gas and its warm slots are part of what the transaction needs
      if (accessList !== undefined) estimate.accessList = accessList;
      const nonce = req.nonce ?? BigInt(await call(stateMethods.eth_getTransactionCount!, [from, 'pending'], b));
      const gas = req.gas ?? BigInt(await call(stateMethods.eth_estimateGas!, [estimate], b));
      const tx = { to, value, data: data === undefined ? undefined : (bytesToHex(data) as Hex), nonce: Number(nonce), gas, chainId: Number(b.chain.common.chainId()) };
      let raw: Hex;
      if (req.gasPrice !== undefined && req.maxFeePerGas === undefined && req.maxPriorityFeePerGas === undefined) {
        raw =
          accessList === undefined
            ? await account.signTransaction({ ...tx, type: 'legacy', gasPrice: req.gasPrice })
            : await account.signTransaction({ ...tx, type: 'eip2930', gasPrice: req.gasPrice, accessList });
      } else {
        const suggested = req.maxPriorityFeePerGas ?? BigInt(await call(feeMethods.eth_maxPriorityFeePerGas!, [], b));
        const maxFeePerGas = req.maxFeePerGas ?? 2n * b.nextBaseFee() + suggested;
        const maxPriorityFeePerGas = suggested < maxFeePerGas ? suggested : maxFeePerGas;
        raw = await account.signTransaction({ ...tx, type: 'eip1559', maxFeePerGas, maxPriorityFeePerGas, ...(accessList === undefined ? {} : { accessList }) });
      }
      return (await b.pool.addRaw(Buffer.from(raw.slice(2), 'hex'))).hash;
    }),
  };
}
