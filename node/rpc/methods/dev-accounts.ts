/**
 * Node-managed accounts of a `--dev` chain, as anvil and Hardhat serve them: `eth_accounts` lists
 * the funded dev accounts, and `eth_sendTransaction`, `eth_sign`, `personal_sign` and
 * `eth_signTypedData_v4` sign with their keys (Remix, Hardhat's remote accounts and
 * `cast send --unlocked` rely on this). The sequencer registers them only with `--dev`: every
 * other node answers these methods with -32601, so no production node signs for callers.
 *
 * eth_sendTransaction fills what the caller left out as geth does (nonce from the pool, gas by
 * eth_estimateGas, fees from the next base fee and the suggested tip), signs with viem, and admits
 * the result through eth_sendRawTransaction's path, so every pool rule applies to it. It also sends
 * for accounts anvil_impersonateAccount unlocked (any account after anvil_autoImpersonateAccount),
 * unsigned (node/chain/impersonation.ts): every pool rule but the signature's applies.
 */
import type { TypedTransaction, TypedTxData } from '@ethereumjs/tx';
import { type Address, bytesToHex, hexToBytes } from '@ethereumjs/util';
import { type Hex, type TypedDataDefinition, getAddress } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import type { PrivateKeyAccount } from 'viem/accounts';
import { z } from 'zod';
import { impersonatedTx } from '../../chain/impersonation.ts';
import type { PoolTx } from '../../txpool/pool-tx.ts';
import type { RpcBackend } from '../backend.ts';
import { RpcCode, RpcError } from '../errors.ts';
import { q } from '../format.ts';
import { type MethodDef, method } from '../method.ts';
import { type CallRequestParam as CallRequest, zAddress, zCallRequest, zData } from '../schemas.ts';
import { feeMethods } from './fees.ts';
import { stateMethods } from './state.ts';
import type { RequestScope } from '../request-scope.ts';

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
async function call(def: MethodDef, params: unknown[], b: RpcBackend, s: RequestScope): Promise<string> {
  return (await def.run(def.parse(params), b, s)) as string;
}

/**
 * Admits a transaction the node sends for an impersonated account, with no signature (the
 * sequencer's pool, sequencer/mempool.ts addImpersonated; every pool rule but the signature's).
 */
export type AdmitImpersonated = (tx: TypedTransaction, sender: Address) => Promise<PoolTx>;

/** The fields of a transaction to send, in viem's words, everything the caller left out filled in. */
interface TxFields {
  type: 'legacy' | 'eip2930' | 'eip1559';
  chainId: number;
  nonce: number;
  gas: bigint;
  to?: Hex;
  value: bigint;
  data?: Hex;
  gasPrice?: bigint;
  maxFeePerGas?: bigint;
  maxPriorityFeePerGas?: bigint;
  accessList?: { address: Hex; storageKeys: Hex[] }[];
}

/** Fills what the caller left out as geth does: nonce from the pool, gas by estimate, fees from the next base fee. */
async function fill(req: CallRequest, b: RpcBackend, s: RequestScope): Promise<TxFields> {
  const from = getAddress(req.from!.toString());
  const to = req.to ? (req.to.toString() as Hex) : undefined;
  const data = req.input ?? req.data;
  const value = req.value ?? 0n;
  const estimate: Record<string, unknown> = { from, value: q(value) };
  if (to !== undefined) estimate.to = to;
  if (data !== undefined) estimate.input = bytesToHex(data);
  const accessList = req.accessList?.map((e) => ({ address: e.address as Hex, storageKeys: e.storageKeys as Hex[] }));
  // the list's intrinsic gas and its warm slots are part of what the transaction needs
  if (accessList !== undefined) estimate.accessList = accessList;
  const nonce = req.nonce ?? BigInt(await call(stateMethods.eth_getTransactionCount!, [from, 'pending'], b, s));
  const gas = req.gas ?? BigInt(await call(stateMethods.eth_estimateGas!, [estimate], b, s));
  const base = { to, value, data: data === undefined ? undefined : (bytesToHex(data) as Hex), nonce: Number(nonce), gas, chainId: Number(b.chain.common.chainId()) };
  if (req.gasPrice !== undefined && req.maxFeePerGas === undefined && req.maxPriorityFeePerGas === undefined) {
    return accessList === undefined ? { ...base, type: 'legacy', gasPrice: req.gasPrice } : { ...base, type: 'eip2930', gasPrice: req.gasPrice, accessList };
  }
  const suggested = req.maxPriorityFeePerGas ?? BigInt(await call(feeMethods.eth_maxPriorityFeePerGas!, [], b, s));
  const maxFeePerGas = req.maxFeePerGas ?? 2n * b.nextBaseFee() + suggested;
  const maxPriorityFeePerGas = suggested < maxFeePerGas ? suggested : maxFeePerGas;
  return { ...base, type: 'eip1559', maxFeePerGas, maxPriorityFeePerGas, ...(accessList === undefined ? {} : { accessList }) };
}

function toEthereumjs(f: TxFields): TypedTxData {
  const type = f.type === 'legacy' ? 0 : f.type === 'eip2930' ? 1 : 2;
  return {
    type,
    chainId: BigInt(f.chainId),
    nonce: BigInt(f.nonce),
    gasLimit: f.gas,
    to: f.to,
    value: f.value,
    data: f.data,
    gasPrice: f.gasPrice,
    maxFeePerGas: f.maxFeePerGas,
    maxPriorityFeePerGas: f.maxPriorityFeePerGas,
    accessList: f.accessList,
  } as TypedTxData;
}

export function devAccountMethods(privateKeys: readonly Hex[], admitImpersonated: AdmitImpersonated): Record<string, MethodDef> {
  const accounts = new Map<string, PrivateKeyAccount>();
  for (const k of privateKeys) {
    const a = privateKeyToAccount(k);
    accounts.set(a.address.toLowerCase(), a);
  }
  /** Accounts anvil_impersonateAccount unlocked, lowercase; all of them under anvil_autoImpersonateAccount. */
  const impersonated = new Set<string>();
  let autoImpersonate = false;
  const addresses = [...accounts.values()].map((a) => a.address);
  const accountOf = (address: { toString(): string }): PrivateKeyAccount => {
    const a = accounts.get(address.toString().toLowerCase());
    if (a === undefined) throw new RpcError(RpcCode.Server, 'unknown account');
    return a;
  };

  /** Sends `req` from a dev account (signed with its key) or an impersonated one (vouched for). */
  const send = async (req: CallRequest, b: RpcBackend, s: RequestScope): Promise<string> => {
    if (req.from === undefined) throw new RpcError(RpcCode.Server, 'from: missing sender address');
    const account = accounts.get(req.from.toString());
    if (account === undefined && !autoImpersonate && !impersonated.has(req.from.toString())) throw new RpcError(RpcCode.Server, 'unknown account');
    const fields = await fill(req, b, s);
    if (account !== undefined) return (await b.pool.addRaw(hexToBytes(await account.signTransaction(fields as never)))).hash;
    // ethereumjs enforces EIP-3607 for every transaction (anvil lifts it for impersonated ones):
    // refused here, where the caller hears why, rather than dropped silently at block building
    const code = await call(stateMethods.eth_getCode!, [req.from.toString(), 'latest'], b, s);
    const delegated = code.length === 48 && code.startsWith('0xef0100'); // an EIP-7702 EOA may send
    if (code !== '0x' && !delegated) {
      throw new RpcError(
        RpcCode.Server,
        `cannot send from ${getAddress(req.from.toString())}: the account has code (EIP-3607), which this node does not lift for impersonated accounts`,
      );
    }
    return (await admitImpersonated(impersonatedTx(toEthereumjs(fields), req.from, b.chain.common), req.from)).hash;
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

    eth_sendTransaction: method([zCallRequest], ([req], b, s) => send(req, b, s)),
    // what viem's sendUnsignedTransaction calls: the same, for an impersonated sender
    eth_sendUnsignedTransaction: method([zCallRequest], ([req], b, s) => send(req, b, s)),

    anvil_impersonateAccount: method([zAddress], ([a]) => {
      impersonated.add(a.toString());
      return null;
    }),
    anvil_stopImpersonatingAccount: method([zAddress], ([a]) => {
      impersonated.delete(a.toString());
      return null;
    }),
    anvil_autoImpersonateAccount: method([z.boolean()], ([on]) => {
      autoImpersonate = on;
      return null;
    }),
  };
}
