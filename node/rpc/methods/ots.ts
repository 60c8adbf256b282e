/**
 * Otterscan's `ots_` namespace at API level 8 (the level Otterscan 2 requires), on every node, so
 * operators can point the explorer their users know at this chain. Results as anvil's and
 * Erigon's (docs/dapps/json-rpc.md says where they differ). Address history reads the address
 * index (node/chain/address-index.ts), never a scan of the chain; the trace-based methods
 * re-execute the transaction's block under the same call gate and deadline as debug_trace*.
 */
import type { Block } from '@ethereumjs/block';
import { hexToBytes } from '@ethereumjs/util';
import { z } from 'zod';
import type { IndexedTx } from '../../chain/address-index.ts';
import { type CallFrame, CallTracer } from '../../trace/call-tracer.ts';
import { traceBlock } from '../../trace/replay.ts';
import type { RpcBackend } from '../backend.ts';
import { RpcCode, RpcError, invalidParams } from '../errors.ts';
import { formatBlock, formatReceipts, formatTx, q } from '../format.ts';
import { method } from '../method.ts';
import type { RequestScope } from '../request-scope.ts';
import { zAddress, zBlockTag, zHash, zUint } from '../schemas.ts';

/** Otterscan sends block numbers and page sizes as JSON numbers; other tools as hex. */
const zCount = z.union([zUint, z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER)]);
/** Most transactions one search page returns beyond whole blocks: a page is bounded whatever the caller asks. */
const MAX_PAGE = 100;
const blockNotFound = () => new RpcError(RpcCode.Server, 'block not found');

async function canonicalBlock(b: RpcBackend, n: number | bigint): Promise<Block> {
  const block = await b.chain.store.getBlockByNumber(BigInt(n));
  if (block === undefined) throw blockNotFound();
  return block;
}

/** A block without its transactions (and logs bloom, as Erigon sends it), with their count and the fees they paid. */
async function blockDetails(b: RpcBackend, block: Block) {
  const d = await b.blockData(block);
  const { transactions, logsBloom: _, ...rest } = formatBlock(block, d.senders, false);
  let totalFees = 0n;
  for (const r of formatReceipts(block, d.senders, d.receipts)) totalFees += BigInt(r.gasUsed as string) * BigInt(r.effectiveGasPrice as string);
  return {
    block: { ...rest, logsBloom: null, transactionCount: (transactions as unknown[]).length },
    issuance: { blockReward: '0x0', uncleReward: '0x0', issuance: '0x0' },
    totalFees: q(totalFees),
  };
}

/** A receipt with its block's timestamp, as Otterscan's pages list them (`slim`: without logs or bloom, for a block's page). */
function otsReceipt(r: Record<string, unknown>, timestamp: bigint, slim = false) {
  return slim ? { ...r, logs: null, logsBloom: null, timestamp: q(timestamp) } : { ...r, timestamp: q(timestamp) };
}

/** The transactions and receipts of index hits, grouped per block. */
async function txsWithReceipts(b: RpcBackend, hits: IndexedTx[]) {
  const txs: unknown[] = [];
  const receipts: unknown[] = [];
  for (const h of hits) {
    const block = await canonicalBlock(b, h.number);
    const d = await b.blockData(block);
    txs.push(formatTx(block.transactions[h.index]!, { block, index: h.index, sender: d.senders[h.index]! }));
    receipts.push(otsReceipt(formatReceipts(block, d.senders, d.receipts)[h.index]!, block.header.timestamp));
  }
  return { txs, receipts };
}

/**
 * Hits of `address` from the index, a block at a time, until at least `pageSize` (whole blocks,
 * as Erigon pages), and whether any hit lies beyond the page.
 */
async function page(gen: AsyncGenerator<IndexedTx>, pageSize: number): Promise<{ hits: IndexedTx[]; more: boolean }> {
  const hits: IndexedTx[] = [];
  let last: bigint | undefined;
  // a block's transactions are bounded by its gas limit, so whole blocks keep a page bounded
  for await (const t of gen) {
    if (hits.length >= pageSize && t.number !== last) return { hits, more: true };
    hits.push(t);
    last = t.number;
  }
  return { hits, more: false };
}

/** Flattens a callTracer tree into Otterscan's trace entries, depth first (a call without value has 0, as anvil's). */
function traceEntries(frame: CallFrame, depth: number, out: unknown[]): unknown[] {
  out.push({ type: frame.type, depth, from: frame.from, to: frame.to ?? null, value: frame.value ?? '0x0', input: frame.input, output: frame.output ?? '0x' });
  for (const c of frame.calls ?? []) traceEntries(c, depth + 1, out);
  return out;
}

/** Otterscan's internal operations: value transfers, creations (2 CREATE, 3 CREATE2). */
function internalOps(frame: CallFrame, out: unknown[]): unknown[] {
  const value = BigInt(frame.value ?? '0x0');
  if (frame.type === 'CALL' && value !== 0n) out.push({ type: 0, from: frame.from, to: frame.to, value: q(value) });
  if (frame.type === 'CREATE' || frame.type === 'CREATE2') out.push({ type: frame.type === 'CREATE' ? 2 : 3, from: frame.from, to: frame.to, value: q(value) });
  for (const c of frame.calls ?? []) internalOps(c, out);
  return out;
}

/** The transaction's call tree, re-executed. */
async function callTree(b: RpcBackend, s: RequestScope, hash: string): Promise<CallFrame> {
  const loc = await b.chain.store.getTxLocation(hexToBytes(hash as `0x${string}`));
  const block = loc === undefined ? undefined : await b.chain.store.getBlockByHash(loc.blockHash);
  if (loc === undefined || block === undefined) throw new RpcError(RpcCode.Server, 'transaction not found');
  const traced = await b.callGate.run(s.client, s.deadline, (budget) => traceBlock(b.chain, block, () => new CallTracer({}), budget, new Set([loc.index])));
  return traced[0]!.result;
}

export const otsMethods = {
  ots_getApiLevel: method([], () => 8),

  ots_hasCode: method([zAddress, zBlockTag.optional().default('latest')], async ([address, tag], b) => {
    const block = await b.blockByTag(tag);
    if (block === undefined) throw blockNotFound();
    const state = await b.chain.stateAt(block.header.stateRoot);
    return (await state.getCode(address)).length > 0;
  }),

  ots_getBlockDetails: method([zCount], async ([n], b) => blockDetails(b, await canonicalBlock(b, n))),
  ots_getBlockDetailsByHash: method([zHash], async ([hash], b) => {
    const block = await b.chain.store.getBlockByHash(hexToBytes(hash));
    if (block === undefined) throw blockNotFound();
    return blockDetails(b, block);
  }),

  // Otterscan 2 reads headers with this; Erigon's older name is kept for older Otterscans
  ots_getHeaderByNumber: method([zCount], async ([n], b) => {
    const block = await b.chain.store.getBlockByNumber(BigInt(n));
    return block === undefined ? null : formatBlock(block, [], false);
  }),
  erigon_getHeaderByNumber: method([zCount], async ([n], b) => {
    const block = await b.chain.store.getBlockByNumber(BigInt(n));
    return block === undefined ? null : formatBlock(block, [], false);
  }),

  ots_getBlockTransactions: method([zCount, zCount, zCount], async ([n, pageNumber, pageSize], b) => {
    if (pageSize > MAX_PAGE * 10) throw invalidParams(`page size above ${MAX_PAGE * 10}`);
    const block = await canonicalBlock(b, n);
    const d = await b.blockData(block);
    const full = formatBlock(block, d.senders, true);
    const all = full.transactions as Record<string, unknown>[];
    const from = pageNumber * pageSize;
    const receipts = formatReceipts(block, d.senders, d.receipts).slice(from, from + pageSize);
    return {
      fullblock: { ...full, transactions: all.slice(from, from + pageSize), transactionCount: all.length },
      receipts: receipts.map((r) => otsReceipt(r, block.header.timestamp, true)),
    };
  }),

  ots_searchTransactionsBefore: method([zAddress, zCount, zCount], async ([address, n, pageSize], b) => {
    const head = b.chain.head.header.number;
    const from = n === 0 || BigInt(n) > head ? head : BigInt(n) - 1n;
    const { hits, more } = await page(b.chain.store.addresses.transactions(address.bytes, 1n, from), Math.max(1, Math.min(pageSize, MAX_PAGE)));
    return { ...(await txsWithReceipts(b, hits)), firstPage: from >= head, lastPage: !more };
  }),

  ots_searchTransactionsAfter: method([zAddress, zCount, zCount], async ([address, n, pageSize], b) => {
    const head = b.chain.head.header.number;
    const from = BigInt(n) + 1n;
    const { hits, more } = await page(b.chain.store.addresses.transactions(address.bytes, from, head, true), Math.max(1, Math.min(pageSize, MAX_PAGE)));
    // anything at or before block n makes this not the oldest page
    const older = n === 0 ? false : (await b.chain.store.addresses.transactions(address.bytes, 1n, BigInt(n)).next()).done !== true;
    hits.reverse(); // newest first, as every Otterscan page
    return { ...(await txsWithReceipts(b, hits)), firstPage: !more, lastPage: !older };
  }),

  ots_getTransactionBySenderAndNonce: method(
    [zAddress, zCount],
    async ([address, nonce], b) => (await b.chain.store.addresses.bySenderAndNonce(address.bytes, BigInt(nonce))) ?? null,
  ),

  ots_getContractCreator: method([zAddress], async ([address], b) => {
    const c = await b.chain.store.addresses.creator(address.bytes);
    return c === undefined ? null : { hash: c.hash, creator: c.creator };
  }),

  ots_traceTransaction: method([zHash], async ([hash], b, s) => traceEntries(await callTree(b, s, hash), 0, [])),

  ots_getInternalOperations: method([zHash], async ([hash], b, s) => internalOps(await callTree(b, s, hash), [])),

  ots_getTransactionError: method([zHash], async ([hash], b, s) => {
    const loc = await b.chain.store.getTxLocation(hexToBytes(hash));
    if (loc === undefined) throw new RpcError(RpcCode.Server, 'transaction not found');
    const receipts = await b.chain.store.getReceipts(loc.blockHash);
    if (receipts?.[loc.index]?.status !== 0) return '0x';
    return (await callTree(b, s, hash)).output ?? '0x';
  }),
};
