import { expect } from 'vitest';
import { BaseError, RpcRequestError, parseGwei } from 'viem';
import type { Hex, TransactionSerializable } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { getNodeError } from 'viem/utils';
import { DEV_KEYS, clients, rpc } from './dev-node.ts';
import type { DevNode } from './dev-node.ts';

export type Key = `0x${string}`;

export interface RpcReply {
  result?: any;
  error?: { code: number; message: string; data?: unknown };
}

/** One JSON-RPC call over raw HTTP; returns the response object (result or error). */
export async function call(url: string, method: string, params: unknown[] = []): Promise<RpcReply> {
  const { json } = await rpc(url, { jsonrpc: '2.0', id: 1, method, params });
  return json as RpcReply;
}

/** Like call() but fails the test on an error reply. */
export async function must(url: string, method: string, params: unknown[] = []): Promise<any> {
  const r = await call(url, method, params);
  if (r.error !== undefined) throw new Error(`${method} failed: ${r.error.code} ${r.error.message}`);
  return r.result;
}

/** A JSON-RPC batch; returns replies by position (ids are the positions). */
export async function batch(url: string, calls: { method: string; params: unknown[] }[]): Promise<RpcReply[]> {
  const { json } = await rpc(
    url,
    calls.map((c, id) => ({ jsonrpc: '2.0', id, ...c })),
  );
  if (!Array.isArray(json)) throw new Error(`batch answered with a non-array: ${JSON.stringify(json)}`);
  const out: RpcReply[] = [];
  for (const r of json as (RpcReply & { id: number })[]) out[r.id] = r;
  return out;
}

export const newKeys = (n: number): Key[] => Array.from({ length: n }, () => generatePrivateKey());
export const addr = (key: Key) => privateKeyToAccount(key).address;

export const GWEI = parseGwei('1');
/** Fees that every test node accepts and mines promptly. */
export const FEES = { maxFeePerGas: 100n * GWEI, maxPriorityFeePerGas: GWEI } as const;

export interface TxFields {
  nonce: number;
  to?: Hex | null;
  value?: bigint;
  gas?: bigint;
  data?: Hex;
  maxFeePerGas?: bigint;
  maxPriorityFeePerGas?: bigint;
  gasPrice?: bigint;
  type?: 'legacy' | 'eip2930' | 'eip1559';
  chainId?: number;
}

/** Signs with viem's account; EIP-1559 by default, 21,000 gas, to the sender itself. */
export async function sign(key: Key, f: TxFields): Promise<Hex> {
  const account = privateKeyToAccount(key);
  const common = { chainId: f.chainId ?? 1337, nonce: f.nonce, to: f.to === undefined ? account.address : f.to, value: f.value ?? 0n, gas: f.gas ?? 21_000n, data: f.data };
  const tx: TransactionSerializable =
    f.type === 'legacy'
      ? { ...common, type: 'legacy', gasPrice: f.gasPrice ?? FEES.maxFeePerGas }
      : f.type === 'eip2930'
        ? { ...common, type: 'eip2930', gasPrice: f.gasPrice ?? FEES.maxFeePerGas, accessList: [] }
        : { ...common, type: 'eip1559', maxFeePerGas: f.maxFeePerGas ?? FEES.maxFeePerGas, maxPriorityFeePerGas: f.maxPriorityFeePerGas ?? FEES.maxPriorityFeePerGas };
  return account.signTransaction(tx);
}

/** Sends through viem's sendRawTransaction; returns the hash. */
export async function sendRaw(node: DevNode, raw: Hex): Promise<Hex> {
  return clients(node).publicClient.sendRawTransaction({ serializedTransaction: raw });
}

export interface Rejection {
  /** The JSON-RPC error as the node sent it. */
  code: number;
  message: string;
  /** What viem's getNodeError makes of it (the class a viem user sees from sendTransaction). */
  viemName: string;
}

/** Sends a raw transaction that must be refused; returns the node's error and viem's class for it. */
export async function rejection(node: DevNode, raw: Hex): Promise<Rejection> {
  let caught: unknown;
  try {
    const hash = await sendRaw(node, raw);
    throw new Error(`transaction was accepted (${hash})`);
  } catch (err) {
    caught = err;
  }
  if (!(caught instanceof BaseError)) throw caught;
  const req = caught.walk((e) => e instanceof RpcRequestError);
  if (!(req instanceof RpcRequestError)) throw caught;
  return { code: req.code, message: req.details, viemName: getNodeError(caught, {}).name };
}

/** Asserts a refusal: code -32000, the message starts with `prefix`, and viem's class if it has one. */
export async function expectRejected(node: DevNode, raw: Hex, prefix: string, viemName?: string): Promise<Rejection> {
  const r = await rejection(node, raw);
  expect(r.code).toBe(-32000);
  expect(r.message.startsWith(prefix), `"${r.message}" should start with "${prefix}"`).toBe(true);
  if (viemName !== undefined) expect(r.viemName).toBe(viemName);
  return r;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until `cond` yields a value other than undefined/false; fails after `maxMs` (a liveness bound, not a timing assertion). */
export async function waitFor<T>(what: string, cond: () => Promise<T | undefined | false>, maxMs = 30_000): Promise<T> {
  const deadline = Date.now() + maxMs;
  for (;;) {
    const v = await cond();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

export async function blockNumber(url: string): Promise<bigint> {
  return BigInt(await must(url, 'eth_blockNumber'));
}

/** Waits until `n` more blocks than now have been sealed. */
export async function waitBlocks(url: string, n: number): Promise<bigint> {
  const start = await blockNumber(url);
  return waitFor(`${n} more blocks`, async () => {
    const b = await blockNumber(url);
    return b >= start + BigInt(n) ? b : undefined;
  });
}

export async function receipt(url: string, hash: Hex): Promise<any> {
  return must(url, 'eth_getTransactionReceipt', [hash]);
}

export async function waitReceipt(url: string, hash: Hex): Promise<any> {
  return waitFor(`receipt of ${hash}`, async () => (await receipt(url, hash)) ?? undefined);
}

export async function nonceOf(url: string, address: string, tag = 'latest'): Promise<number> {
  return Number(await must(url, 'eth_getTransactionCount', [address, tag]));
}

export async function balanceOf(url: string, address: string, tag: string = 'latest'): Promise<bigint> {
  return BigInt(await must(url, 'eth_getBalance', [address, tag]));
}

export async function poolStatus(url: string): Promise<{ pending: number; queued: number }> {
  const s = await must(url, 'txpool_status');
  return { pending: Number(s.pending), queued: Number(s.queued) };
}

/**
 * Funds fresh keys from a dev account, `chunk` transfers at a time (so a small
 * --txpool.max-per-sender still fits), and waits until all are mined.
 */
export async function fund(node: DevNode, keys: Key[], value: bigint, opts: { from?: Key; chunk?: number } = {}): Promise<void> {
  const from = opts.from ?? DEV_KEYS[0];
  const chunk = opts.chunk ?? 64;
  let nonce = await nonceOf(node.url, addr(from), 'pending');
  for (let i = 0; i < keys.length; i += chunk) {
    const raws = await Promise.all(keys.slice(i, i + chunk).map((k, j) => sign(from, { nonce: nonce + j, to: addr(k), value })));
    nonce += raws.length;
    const replies = await batch(
      node.url,
      raws.map((r) => ({ method: 'eth_sendRawTransaction', params: [r] })),
    );
    for (const r of replies) if (r.error !== undefined) throw new Error(`funding refused: ${r.error.message}`);
    await waitFor('funding mined', async () => (await nonceOf(node.url, addr(from))) >= nonce);
  }
}
