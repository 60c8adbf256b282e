/**
 * geth's raw debug methods, on every node: the consensus encodings of a header, a block, a
 * block's receipts (EIP-2718 typed, as the receipts root commits to them) and a transaction.
 */
import { bytesToHex, hexToBytes } from '@ethereumjs/util';
import { Bloom, encodeReceipt } from '@ethereumjs/vm';
import { method } from '../method.ts';
import { zBlockRef, zHash } from '../schemas.ts';

export const debugRawMethods = {
  debug_getRawHeader: method([zBlockRef], async ([ref], b) => bytesToHex((await b.blockByRef(ref)).header.serialize())),

  debug_getRawBlock: method([zBlockRef], async ([ref], b) => bytesToHex((await b.blockByRef(ref)).serialize())),

  debug_getRawReceipts: method([zBlockRef], async ([ref], b) => {
    const { block, receipts } = await b.blockData(await b.blockByRef(ref));
    return receipts.map((r, i) => {
      const bloom = new Bloom();
      for (const [address, topics] of r.logs) {
        bloom.add(address);
        for (const t of topics) bloom.add(t);
      }
      // a deposit's receipt is committed without its depositNonce (block-assembler.ts encodes it the same way)
      const receipt = { status: r.status, cumulativeBlockGasUsed: r.cumulativeGasUsed, bitvector: bloom.bitvector, logs: r.logs };
      return bytesToHex(encodeReceipt(receipt, block.transactions[i]!.type));
    });
  }),

  debug_getRawTransaction: method([zHash], async ([hash], b) => {
    const loc = await b.chain.store.getTxLocation(hexToBytes(hash));
    if (loc !== undefined) {
      const block = await b.chain.store.getBlockByHash(loc.blockHash);
      const tx = block?.transactions[loc.index];
      if (tx !== undefined) return bytesToHex(tx.serialize());
    }
    const pending = b.pool.get(hash);
    return pending === undefined ? null : bytesToHex(pending.tx.serialize());
  }),
};
