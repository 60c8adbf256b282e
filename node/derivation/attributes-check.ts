/**
 * Stage 2b: the L1 side of each batch, checked against L1 before any of its blocks is derived.
 * The Rollup contract checked only the batch header: that its depositCount/depositHash are the
 * Bridge's rolling hash after that many deposits. The blocks themselves are the sequencer's
 * word, so each block's system deposit (L1Block.setL1BlockValues) and user deposits must agree:
 *
 *   - the origin it records is a block of L1's chain (the block L1 has at its number carries its
 *     hash, timestamp and base fee), not newer than the L1 block that carries the batch, so on
 *     that block's chain, never older than the parent's origin, with the
 *     sequence number restarting at 0 on a new origin and counting up on the same one;
 *   - its deposits, in order, continue the rolling hash from the parent's (index, fields and
 *     keccak256(data) give each one's sourceHash, as IBridge computes it), to the count and hash
 *     its system deposit records;
 *   - after the batch's last block, that count and hash are the header's.
 *
 * The rolling hash is a hash chain ending at a value the Rollup checked against the Bridge, so a
 * deposit the Bridge never queued (free ETH, a message from nobody), a dropped or reordered one,
 * is a keccak256 collision away. A batch that fails is invalid: refused (batch-rule.ts).
 */
import type { Block } from '@ethereumjs/block';
import { bytesToHex } from '@ethereumjs/util';
import { zeroAddress } from 'viem';
import type { Hex, PublicClient } from 'viem';
import { DEPOSITOR_ADDRESS, L1_BLOCK_ADDRESS } from '../../contracts/predeploys.ts';
import { decodeL1InfoCall, nextDepositHash } from '../rollup/l1-attributes.ts';
import type { L1InfoValues as L1Info } from '../rollup/l1-attributes.ts';
import type { Chain } from '../chain/chain.ts';
import { isDepositTx } from '../chain/deposit-tx.ts';
import type { DepositTx } from '../chain/deposit-tx.ts';
import { readL1BlockInfo } from '../chain/l1-block-info.ts';
import type { DerivedBatch } from './batch-retrieval.ts';
import { DerivationError, DerivationErrorCode } from './errors.ts';

export interface L1Header {
  number: bigint;
  timestamp: bigint;
  baseFee: bigint;
}

/** L1 headers by hash, kept for the few origins a run of batches refers to; only blocks of L1's current chain. */
const ORIGIN_CACHE = 256;

const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

export class AttributesCheck {
  private readonly origins = new Map<Hex, L1Header>();

  constructor(private readonly deps: { chain: Chain; client: PublicClient }) {}

  /**
   * Forgets every L1 block (after an L1 reorg): one the reorg took away is no origin any more, and
   * a replica that saw it must answer as one that never did.
   */
  forget(): void {
    this.origins.clear();
  }

  /** An L1 block known first hand (the traversal read it): no request when a block names it as its origin. */
  remember(hash: Hex, header: L1Header): void {
    if (this.origins.has(hash)) return;
    this.origins.set(hash, header);
    if (this.origins.size > ORIGIN_CACHE) this.origins.delete(this.origins.keys().next().value!);
  }

  async check(batch: DerivedBatch): Promise<void> {
    const first = batch.blocks[0];
    if (first === undefined) return;
    let prev = await this.parentInfo(first);
    for (const block of batch.blocks) prev = await this.checkBlock(block, prev, batch.l1Block);
    const h = batch.header;
    if (prev.depositCount !== h.depositCount || !same(prev.depositHash, h.depositHash)) {
      throw bad(
        `batch ${h.index}: its blocks consume ${prev.depositCount} deposits (rolling hash ${prev.depositHash}), its header (checked by the Rollup against the Bridge) says ${h.depositCount} (${h.depositHash})`,
      );
    }
  }

  /** The parent's L1Block values, from its state (genesis: all zero). */
  private async parentInfo(block: Block): Promise<L1Info> {
    const parent = await this.deps.chain.store.getBlockByHash(block.header.parentHash);
    if (parent === undefined)
      throw new DerivationError(DerivationErrorCode.Discontinuous, `derived block ${block.header.number}: parent ${bytesToHex(block.header.parentHash)} not in the chain`);
    const i = await readL1BlockInfo(this.deps.chain.stateAt(parent.header.stateRoot));
    return { ...i, hash: bytesToHex(i.hash), depositHash: bytesToHex(i.depositHash) };
  }

  private async checkBlock(block: Block, prev: L1Info, carriedIn: bigint): Promise<L1Info> {
    const n = block.header.number;
    const txs = block.transactions as unknown[];
    const system = txs[0];
    if (!isDepositTx(system) || !system.isSystemTx || !same(system.from.toString(), DEPOSITOR_ADDRESS) || !same(system.to?.toString() ?? '', L1_BLOCK_ADDRESS)) {
      throw bad(`block ${n}: its first transaction is not the L1-info system deposit`);
    }
    const info = decodeInfo(system, n);
    if (info.timestamp > block.header.timestamp) throw bad(`block ${n}: L1 origin time ${info.timestamp} is after the block's own ${block.header.timestamp}`);
    await this.checkOrigin(n, info, prev, carriedIn);
    let count = prev.depositCount;
    let hash = prev.depositHash;
    for (const [i, tx] of txs.entries()) {
      if (i === 0 || !isDepositTx(tx)) continue;
      if (tx.isSystemTx) throw bad(`block ${n}: transaction ${i} is a second system deposit`);
      hash = nextDepositHash(hash, depositFields(tx, count));
      if (!same(hash, bytesToHex(tx.sourceHash)))
        throw bad(`block ${n}: deposit ${count} (transaction ${i}) is not the Bridge's deposit ${count}: its fields hash to ${hash}, it claims ${bytesToHex(tx.sourceHash)}`);
      count++;
    }
    if (count !== info.depositCount || !same(hash, info.depositHash)) {
      throw bad(`block ${n}: its deposits bring the rolling hash to ${count} (${hash}), its system deposit records ${info.depositCount} (${info.depositHash})`);
    }
    return info;
  }

  private async checkOrigin(n: bigint, info: L1Info, prev: L1Info, carriedIn: bigint): Promise<void> {
    if (same(info.hash, prev.hash) && prev.number !== 0n) {
      if (info.number !== prev.number || info.sequenceNumber !== prev.sequenceNumber + 1n)
        throw bad(`block ${n}: same L1 origin as its parent, but number ${info.number} / sequence number ${info.sequenceNumber} (parent: ${prev.number} / ${prev.sequenceNumber})`);
      return;
    }
    if (info.number < prev.number) throw bad(`block ${n}: L1 origin ${info.number} is older than its parent's ${prev.number}`);
    if (info.sequenceNumber !== 0n) throw bad(`block ${n}: a new L1 origin with sequence number ${info.sequenceNumber}, not 0`);
    if (info.number > carriedIn) throw bad(`block ${n}: L1 origin ${info.number} is newer than L1 block ${carriedIn}, which carries its batch`);
    const l1 = await this.l1Header(info.number, info.hash);
    if (l1 === undefined || l1.number !== info.number || l1.timestamp !== info.timestamp || l1.baseFee !== info.basefee) {
      throw bad(
        `block ${n}: L1 origin ${info.number} ${info.hash} (time ${info.timestamp}, base fee ${info.basefee}) is not on L1${l1 === undefined ? '' : ` (L1 has number ${l1.number}, time ${l1.timestamp}, base fee ${l1.baseFee})`}`,
      );
    }
  }

  /**
   * L1's block `number` if its hash is `hash`. Read by number, not by hash: a node serves blocks
   * of chains a reorg left behind by hash too, and whether it still has one differs by node.
   */
  private async l1Header(number: bigint, hash: Hex): Promise<L1Header | undefined> {
    const hit = this.origins.get(hash);
    if (hit !== undefined) return hit;
    let b;
    try {
      b = await this.deps.client.getBlock({ blockNumber: number });
    } catch (err) {
      // no such block is an answer; anything else (L1 unreachable) is retried from the checkpoint
      if ((err as Error).name === 'BlockNotFoundError') return undefined;
      throw new DerivationError(DerivationErrorCode.L1Moved, `L1 block ${number}: ${(err as Error).message}`);
    }
    if (b.hash === null || !same(b.hash, hash)) return undefined;
    const got = { number: b.number, timestamp: b.timestamp, baseFee: b.baseFeePerGas ?? 0n };
    this.remember(hash, got);
    return got;
  }
}

function bad(message: string): DerivationError {
  return new DerivationError(DerivationErrorCode.BadAttributes, message);
}

function decodeInfo(tx: DepositTx, n: bigint): L1Info {
  try {
    return decodeL1InfoCall(tx.data);
  } catch (err) {
    throw bad(`block ${n}: the system deposit is not an L1Block.setL1BlockValues call: ${(err as Error).message}`);
  }
}

/** A deposit transaction's fields as the Bridge hashed them (creations go to address zero there). */
function depositFields(tx: DepositTx, index: bigint) {
  return {
    index,
    from: tx.from.toString() as Hex,
    to: (tx.to?.toString() ?? zeroAddress) as Hex,
    mint: tx.mint,
    value: tx.value,
    gasLimit: tx.gasLimit,
    isCreation: tx.to === undefined,
    data: bytesToHex(tx.data),
  };
}
