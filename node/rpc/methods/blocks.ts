import type { Block } from '@ethereumjs/block';
import { hexToBytes } from '@ethereumjs/util';
import { z } from 'zod';
import type { RpcBackend } from '../backend.ts';
import { formatBlock, formatReceipt, formatReceipts, formatTx, q } from '../format.ts';
import { method } from '../method.ts';
import { zBlockRef, zBlockTag, zData, zHash, zUint } from '../schemas.ts';

const byHash = (b: RpcBackend, hash: string) => b.chain.store.getBlockByHash(hexToBytes(hash as `0x${string}`));

async function blockJson(b: RpcBackend, block: Block | undefined, full: boolean) {
  if (block === undefined) return null;
  const senders = full ? await b.chain.store.getSenders(block.hash()) : [];
  return formatBlock(block, senders, full);
}

async function txAt(b: RpcBackend, block: Block | undefined, index: number) {
  const tx = block?.transactions[index];
  if (block === undefined || tx === undefined) return null;
  const senders = await b.chain.store.getSenders(block.hash());
  return formatTx(tx, { block, index, sender: senders[index]! });
}

export const blockMethods = {
  eth_getBlockByNumber: method([zBlockTag, z.boolean()], async ([tag, full], b) => blockJson(b, await b.blockByTag(tag), full)),
  eth_getBlockByHash: method([zHash, z.boolean()], async ([hash, full], b) => blockJson(b, await byHash(b, hash), full)),

  eth_getBlockTransactionCountByNumber: method([zBlockTag], async ([tag], b) => {
    const block = await b.blockByTag(tag);
    return block === undefined ? null : q(block.transactions.length);
  }),
  eth_getBlockTransactionCountByHash: method([zHash], async ([hash], b) => {
    const block = await byHash(b, hash);
    return block === undefined ? null : q(block.transactions.length);
  }),
  eth_getUncleCountByBlockNumber: method([zBlockTag], () => '0x0'),
  eth_getUncleCountByBlockHash: method([zHash], () => '0x0'),

  eth_getTransactionByBlockNumberAndIndex: method([zBlockTag, zUint], async ([tag, i], b) => txAt(b, await b.blockByTag(tag), i)),
  eth_getTransactionByBlockHashAndIndex: method([zHash, zUint], async ([hash, i], b) => txAt(b, await byHash(b, hash), i)),

  eth_getTransactionByHash: method([zHash], async ([hash], b) => {
    const loc = await b.chain.store.getTxLocation(hexToBytes(hash));
    if (loc !== undefined) return txAt(b, await b.chain.store.getBlockByHash(loc.blockHash), loc.index);
    const pending = b.pool.get(hash);
    return pending === undefined ? null : formatTx(pending.tx, { sender: pending.sender });
  }),

  eth_getTransactionReceipt: method([zHash], async ([hash], b) => {
    const loc = await b.chain.store.getTxLocation(hexToBytes(hash));
    if (loc === undefined) return null;
    const block = await b.chain.store.getBlockByHash(loc.blockHash);
    if (block === undefined) return null;
    const d = await b.blockData(block);
    return formatReceipt(d.block, d.senders, d.receipts, loc.index);
  }),

  eth_getBlockReceipts: method([zBlockRef], async ([ref], b) => {
    let block: Block | undefined;
    try {
      block = await b.blockByRef(ref);
    } catch {
      return null;
    }
    const d = await b.blockData(block);
    return formatReceipts(d.block, d.senders, d.receipts);
  }),

  eth_sendRawTransaction: method([zData], async ([raw], b) => (await b.pool.addRaw(raw)).hash),
};
