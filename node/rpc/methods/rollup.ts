import type { Block } from '@ethereumjs/block';
import { getMerkleStateProof } from '@ethereumjs/statemanager';
import { bytesToHex, createAddressFromString, hexToBytes } from '@ethereumjs/util';
import type { Hex } from 'viem';
import { z } from 'zod';
import { L1_BLOCK_ADDRESS, MESSAGE_PASSER_ADDRESS, MODEL_REGISTRY_ADDRESS } from '../../../contracts/predeploys.ts';
import { outputAt } from '../../rollup/output-root.ts';
import { rollupAbi } from '../../../contracts/abi/rollup.ts';
import { withdrawalSlot } from '../../../contracts/abi/withdrawals.ts';
import { readL1BlockInfo } from '../../chain/l1-block-info.ts';
import type { RpcBackend } from '../backend.ts';
import { RpcCode, RpcError } from '../errors.ts';
import { q } from '../format.ts';
import { method } from '../method.ts';
import { zBlockRef, zHash, zUint } from '../schemas.ts';

const MESSAGE_PASSER = createAddressFromString(MESSAGE_PASSER_ADDRESS);

function rollupOf(b: RpcBackend) {
  if (b.rollup === undefined) throw new RpcError(RpcCode.MethodNotFound, 'the rollup_ namespace needs a rollup node (--rollup-config)');
  return b.rollup;
}

const ref = (block: Block) => ({ number: q(block.header.number), hash: bytesToHex(block.hash()), timestamp: q(block.header.timestamp) });

export const rollupMethods = {
  rollup_getInfo: method([], async (_p, b) => {
    const r = rollupOf(b);
    const c = r.config;
    return {
      l1ChainId: q(c.l1ChainId),
      l2ChainId: q(c.l2ChainId),
      l1Start: { number: q(c.l1Start.number), hash: c.l1Start.hash, timestamp: q(c.l1Start.timestamp) },
      l1Contracts: { rollup: c.contracts.rollup, bridge: c.contracts.bridge },
      l2Predeploys: { l1Block: L1_BLOCK_ADDRESS, l2ToL1MessagePasser: MESSAGE_PASSER_ADDRESS, modelRegistry: MODEL_REGISTRY_ADDRESS },
      challengeWindow: q(c.challengeWindow),
      inclusionWindow: q(c.inclusionWindow),
      l1Confirmations: c.l1Confirmations,
      genesisHash: bytesToHex(b.chain.genesis.hash()),
    };
  }),

  rollup_syncStatus: method([], async (_p, b) => {
    const s = rollupOf(b).status.snapshot;
    const head = b.head;
    const at = async (n: bigint) => ref((await b.chain.store.getBlockByNumber(n < head.header.number ? n : head.header.number)) ?? head);
    const origin = await readL1BlockInfo(b.chain.headState());
    return {
      unsafe: ref(head),
      safe: await at(s.safeBlock),
      finalized: await at(s.finalizedBlock),
      currentL1Origin: { number: q(origin.number), hash: bytesToHex(origin.hash), timestamp: q(origin.timestamp) },
      l1Head: q(s.l1Head),
      batchCount: q(s.batchCount),
      outputCount: q(s.outputs.length),
      depositsConsumed: q(origin.depositCount),
    };
  }),

  rollup_outputAtBlock: method([zBlockRef, z.array(zHash).max(64).optional()], async ([tag, withdrawals], b) => {
    const r = rollupOf(b);
    const block = await b.blockByRef(tag);
    const n = block.header.number;
    const out = await outputAt(b.chain, n);
    const l1 = r.status.outputForBlock(n);
    const withdrawalProofs = [];
    if (withdrawals !== undefined && withdrawals.length > 0) {
      const state = b.chain.stateAt(block.header.stateRoot);
      const slots = withdrawals.map((w) => withdrawalSlot(w as Hex));
      const proof = await getMerkleStateProof(
        state,
        MESSAGE_PASSER,
        slots.map((s) => hexToBytes(s)),
      );
      for (const [i, w] of withdrawals.entries()) {
        const p = proof.storageProof[i];
        withdrawalProofs.push({ withdrawalHash: w, slot: slots[i], value: p?.value ?? '0x0', proof: p?.proof ?? [] });
      }
    }
    return {
      blockNumber: q(n),
      outputRoot: out.root,
      outputRootProof: out.parts,
      l1Output: l1 === undefined ? null : { index: q(l1.index), batchIndex: q(l1.batchIndex), root: l1.root, finalized: l1.finalized, matches: l1.root === out.root },
      withdrawalProofs,
    };
  }),

  /** Output `index` as L1 holds it: root, batch, L2 block, L1 time, final or not, and when its challenge window ends; null past the end. */
  rollup_getOutput: method([zUint], async ([i], b) => {
    const r = rollupOf(b);
    const o = r.status.snapshot.outputs[i];
    if (o === undefined) return null;
    return {
      index: q(o.index),
      batchIndex: q(o.batchIndex),
      outputRoot: o.root,
      l2Block: q(o.l2Block),
      l1Timestamp: q(o.timestamp),
      finalized: o.finalized,
      challengeWindowEnds: q(o.timestamp + r.config.challengeWindow),
    };
  }),

  rollup_getBatch: method([zUint], async ([i], b) => {
    const r = rollupOf(b);
    const index = BigInt(i);
    const { client, config } = r;
    const count = r.status.snapshot.batchCount;
    if (index >= count) return null;
    const batch = (await client.readContract({ address: config.contracts.rollup, abi: rollupAbi, functionName: 'getBatch', args: [index] })) as {
      hash: Hex;
      firstBlock: bigint;
      lastBlock: bigint;
      depositCount: bigint;
      l1Block: bigint;
      timestamp: bigint;
    };
    const logs = await client.getContractEvents({
      address: config.contracts.rollup,
      abi: rollupAbi,
      eventName: 'BatchSubmitted',
      args: { index },
      fromBlock: BigInt(batch.l1Block),
      toBlock: BigInt(batch.l1Block),
    });
    // what posting it cost on L1, for an explorer: two more L1 reads, for one batch at a time
    const hash = logs[0]?.transactionHash ?? null;
    const [tx, receipt] = hash === null ? [undefined, undefined] : await Promise.all([client.getTransaction({ hash }), client.getTransactionReceipt({ hash })]);
    return {
      index: q(index),
      hash: batch.hash,
      firstBlock: q(BigInt(batch.firstBlock)),
      lastBlock: q(BigInt(batch.lastBlock)),
      depositCount: q(BigInt(batch.depositCount)),
      l1Block: q(BigInt(batch.l1Block)),
      l1Timestamp: q(BigInt(batch.timestamp)),
      l1TransactionHash: hash,
      l1GasUsed: receipt === undefined ? null : q(receipt.gasUsed),
      l1CalldataBytes: tx === undefined ? null : q(BigInt((tx.input.length - 2) / 2)),
    };
  }),
};
