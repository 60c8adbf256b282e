import type { Block } from '@ethereumjs/block';
import { Capability } from '@ethereumjs/tx';
import type { TypedTransaction } from '@ethereumjs/tx';
import { type Address, bytesToHex, createContractAddress } from '@ethereumjs/util';
import type { PrefixedHexString } from '@ethereumjs/util';
import { Bloom } from '@ethereumjs/vm';
import { isDepositTx } from '../chain/deposit-tx.ts';
import type { DepositTx } from '../chain/deposit-tx.ts';
import type { StoredReceipt } from '../chain/receipts.ts';
import { type LogBlock, logBlockOf } from '../chain/block-codec.ts';
import { feeCaps } from '../txpool/pool-tx.ts';

/** JSON-RPC quantity encoding. */
export const q = (n: bigint | number): PrefixedHexString => `0x${n.toString(16)}`;

export interface TxContext {
  block?: Block;
  index?: number;
  sender: Address;
  /** Deposits: the sender's nonce before it, from the receipt. */
  depositNonce?: bigint;
}

export function formatTx(tx: TypedTransaction, ctx: TxContext): Record<string, unknown> {
  if (isDepositTx(tx)) return formatDeposit(tx, ctx);
  const json = tx.toJSON() as Record<string, unknown>;
  const { maxFee, maxTip } = feeCaps(tx);
  const baseFee = ctx.block?.header.baseFeePerGas;
  let gasPrice = maxFee;
  if (tx.supports(Capability.EIP1559FeeMarket) && baseFee !== undefined) {
    gasPrice = baseFee + (maxFee - baseFee < maxTip ? maxFee - baseFee : maxTip);
  }
  const out: Record<string, unknown> = {
    ...json,
    type: q(tx.type),
    hash: bytesToHex(tx.hash()),
    from: ctx.sender.toString(),
    to: tx.to?.toString() ?? null,
    input: bytesToHex(tx.data),
    gas: q(tx.gasLimit),
    gasPrice: q(gasPrice),
    nonce: q(tx.nonce),
    value: q(tx.value),
    blockHash: ctx.block ? bytesToHex(ctx.block.hash()) : null,
    blockNumber: ctx.block ? q(ctx.block.header.number) : null,
    ...(ctx.block ? { blockTimestamp: q(ctx.block.header.timestamp) } : {}),
    transactionIndex: ctx.index === undefined || ctx.block === undefined ? null : q(ctx.index),
  };
  delete out.data;
  delete out.gasLimit;
  if (tx.type !== 0) out.yParity = out.v;
  return out;
}

/** OP Stack's JSON for a deposit (op-geth's fields), so viem's op-stack chains decode it. */
function formatDeposit(tx: DepositTx, ctx: TxContext): Record<string, unknown> {
  return {
    type: q(tx.type),
    hash: bytesToHex(tx.hash()),
    sourceHash: bytesToHex(tx.sourceHash),
    from: tx.from.toString(),
    to: tx.to?.toString() ?? null,
    mint: q(tx.mint),
    value: q(tx.value),
    gas: q(tx.gasLimit),
    gasPrice: '0x0',
    isSystemTx: tx.isSystemTx,
    input: bytesToHex(tx.data),
    nonce: q(ctx.depositNonce ?? 0n),
    v: '0x0',
    r: '0x0',
    s: '0x0',
    blockHash: ctx.block ? bytesToHex(ctx.block.hash()) : null,
    blockNumber: ctx.block ? q(ctx.block.header.number) : null,
    ...(ctx.block ? { blockTimestamp: q(ctx.block.header.timestamp) } : {}),
    transactionIndex: ctx.index === undefined || ctx.block === undefined ? null : q(ctx.index),
  };
}

export function formatBlock(block: Block, senders: Address[], full: boolean): Record<string, unknown> {
  const h = block.header;
  const hash = bytesToHex(block.hash());
  return {
    number: q(h.number),
    hash,
    parentHash: bytesToHex(h.parentHash),
    nonce: bytesToHex(h.nonce),
    mixHash: bytesToHex(h.mixHash),
    sha3Uncles: bytesToHex(h.uncleHash),
    logsBloom: bytesToHex(h.logsBloom),
    transactionsRoot: bytesToHex(h.transactionsTrie),
    stateRoot: bytesToHex(h.stateRoot),
    receiptsRoot: bytesToHex(h.receiptTrie),
    miner: h.coinbase.toString(),
    difficulty: q(h.difficulty),
    totalDifficulty: '0x0',
    extraData: bytesToHex(h.extraData),
    size: q(block.serialize().length),
    gasLimit: q(h.gasLimit),
    gasUsed: q(h.gasUsed),
    timestamp: q(h.timestamp),
    baseFeePerGas: h.baseFeePerGas === undefined ? undefined : q(h.baseFeePerGas),
    withdrawalsRoot: h.withdrawalsRoot ? bytesToHex(h.withdrawalsRoot) : undefined,
    withdrawals: block.withdrawals ? [] : undefined,
    blobGasUsed: h.blobGasUsed === undefined ? undefined : q(h.blobGasUsed),
    excessBlobGas: h.excessBlobGas === undefined ? undefined : q(h.excessBlobGas),
    parentBeaconBlockRoot: h.parentBeaconBlockRoot ? bytesToHex(h.parentBeaconBlockRoot) : undefined,
    uncles: [],
    transactions: block.transactions.map((tx, i) => (full ? formatTx(tx, { block, index: i, sender: senders[i]! }) : bytesToHex(tx.hash()))),
  };
}

export interface LogContext {
  block: LogBlock;
  txIndex: number;
  logIndex: number;
  /** The block left the canonical chain (a reorg): geth's `removed: true`. */
  removed?: boolean;
}

export function formatLog(log: StoredReceipt['logs'][number], ctx: LogContext): Record<string, unknown> {
  return {
    address: bytesToHex(log[0]),
    topics: log[1].map((t) => bytesToHex(t)),
    data: bytesToHex(log[2]),
    blockNumber: q(ctx.block.number),
    blockHash: bytesToHex(ctx.block.hash),
    blockTimestamp: q(ctx.block.timestamp),
    transactionHash: bytesToHex(ctx.block.txHash(ctx.txIndex)),
    transactionIndex: q(ctx.txIndex),
    logIndex: q(ctx.logIndex),
    removed: ctx.removed === true,
  };
}

/** The block's logs that `keep` accepts, formatted (log indexes count every log of the block). */
export function formatBlockLogs(
  source: Block | LogBlock,
  receipts: StoredReceipt[],
  keep: (log: StoredReceipt['logs'][number]) => boolean,
  removed = false,
): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  const block = 'header' in source ? logBlockOf(source) : source;
  let logIndex = 0;
  receipts.forEach((r, txIndex) => {
    for (const log of r.logs) {
      if (keep(log)) out.push(formatLog(log, { block, txIndex, logIndex, removed }));
      logIndex++;
    }
  });
  return out;
}

/** The full receipts of a block, with per-tx gas, log indexes and contract addresses derived. */
export function formatReceipts(block: Block, senders: Address[], receipts: StoredReceipt[]): Record<string, unknown>[] {
  let firstLog = 0;
  return receipts.map((r, i) => {
    const out = receiptJson(block, senders[i]!, receipts, i, firstLog);
    firstLog += r.logs.length;
    return out;
  });
}

/** One receipt: only counts the logs before it, so a single lookup does not format the whole block. */
export function formatReceipt(block: Block, senders: Address[], receipts: StoredReceipt[], i: number): Record<string, unknown> | null {
  if (receipts[i] === undefined) return null;
  let firstLog = 0;
  for (let j = 0; j < i; j++) firstLog += receipts[j]!.logs.length;
  return receiptJson(block, senders[i]!, receipts, i, firstLog);
}

function receiptJson(block: Block, sender: Address, receipts: StoredReceipt[], i: number, firstLog: number): Record<string, unknown> {
  const r = receipts[i]!;
  const tx = block.transactions[i]!;
  const gasUsed = r.cumulativeGasUsed - (i === 0 ? 0n : receipts[i - 1]!.cumulativeGasUsed);
  const bloom = new Bloom(undefined, tx.common);
  for (const log of r.logs) {
    bloom.add(log[0]);
    for (const t of log[1]) bloom.add(t);
  }
  let logIndex = firstLog;
  const logBlock = logBlockOf(block);
  return {
    transactionHash: bytesToHex(tx.hash()),
    transactionIndex: q(i),
    blockHash: bytesToHex(block.hash()),
    blockNumber: q(block.header.number),
    blockTimestamp: q(block.header.timestamp),
    from: sender.toString(),
    to: tx.to?.toString() ?? null,
    cumulativeGasUsed: q(r.cumulativeGasUsed),
    gasUsed: q(gasUsed),
    effectiveGasPrice: formatTx(tx, { block, index: i, sender }).gasPrice,
    contractAddress: tx.to === undefined ? createContractAddress(sender, r.depositNonce ?? tx.nonce).toString() : null,
    logs: r.logs.map((log) => formatLog(log, { block: logBlock, txIndex: i, logIndex: logIndex++ })),
    logsBloom: bytesToHex(bloom.bitvector),
    // the blob base fee of the block (Cancun receipts carry it; this chain's blocks hold no blobs)
    blobGasPrice: q(blobGasPrice(block)),
    type: q(tx.type),
    status: q(r.status),
    ...(r.depositNonce === undefined ? {} : { depositNonce: q(r.depositNonce) }),
  };
}

function blobGasPrice(block: Block): bigint {
  try {
    return block.header.getBlobGasPrice();
  } catch {
    return 1n; // a header without excessBlobGas: the minimum blob base fee
  }
}
