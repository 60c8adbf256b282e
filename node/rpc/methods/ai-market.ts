/**
 * Read methods over the inference market that need an index the chain does not give through
 * eth_ methods without a scan of every block (the explorer's request and prover pages, and any
 * dApp's): a request with when it was made and fulfilled, and the list of every prover that ever
 * staked. Both walk the store's event index (node/ai/fulfilled-inferences.ts names the events).
 */
import { bytesToHex, createAddressFromString, hexToBytes } from '@ethereumjs/util';
import type { Hex } from 'viem';
import { type MarketProver, marketAbi } from '../../../contracts/abi/market.ts';
import { INFERENCE_MARKET_ADDRESS } from '../../../contracts/predeploys.ts';
import { FULFILMENT_EVENT, PROVER_EVENT, REQUEST_EVENT } from '../../ai/fulfilled-inferences.ts';
import { ExecutionError } from '../../chain/call.ts';
import { readContractAt } from '../../chain/contract-read.ts';
import type { EventLocation, IndexedEvent } from '../../chain/store.ts';
import type { RpcBackend } from '../backend.ts';
import { q } from '../format.ts';
import { method } from '../method.ts';
import { zAddress, zRequestId, zUint } from '../schemas.ts';
import { AI_LIST_MAX } from './ai.ts';

const MARKET = createAddressFromString(INFERENCE_MARKET_ADDRESS);
const STATUS = ['none', 'open', 'fulfilled', 'refunded'] as const;

interface RequestRecord {
  requester: string;
  deadline: bigint;
  status: number;
  callback: string;
  callbackGas: number;
  outputCount: number;
  claimant: string;
  claimedUntil: bigint;
  prover: string;
  modelId: Hex;
  fee: bigint;
  claimLock: bigint;
  inputSignals: readonly bigint[];
  outputs: readonly bigint[];
}

const word = (n: bigint): Uint8Array => hexToBytes(`0x${n.toString(16).padStart(64, '0')}`);

/** Where an indexed event was logged, as JSON: block, time and the transaction that logged it. */
async function located(b: RpcBackend, ev: IndexedEvent, topic1: Uint8Array) {
  const loc: EventLocation | undefined = await b.chain.store.findEvent(ev.address, ev.topic0, topic1);
  if (loc === undefined) return null;
  const block = await b.chain.store.getBlockByHash(loc.blockHash);
  const receipts = await b.chain.store.getReceipts(loc.blockHash);
  if (block === undefined || receipts === undefined) return null;
  let logs = 0;
  const index = receipts.findIndex((r) => (logs += r.logs.length) > loc.logIndex);
  const tx = block.transactions[index];
  return {
    blockNumber: q(loc.number),
    blockHash: bytesToHex(loc.blockHash),
    timestamp: q(block.header.timestamp),
    transactionHash: tx === undefined ? null : bytesToHex(tx.hash()),
  };
}

export const aiMarketMethods = {
  /** A market request as the contract holds it now, with when it was requested and fulfilled; null for an unknown id. */
  ai_getInferenceRequest: method([zRequestId], ([id], b, s) => b.callGate.run(s.client, s.deadline, () => inferenceRequest(b, id))),

  /** Every prover that ever staked, in address order after `after`, with its record now (up to 100 contract reads: they take turns with eth_call). */
  ai_listProvers: method(
    [
      zAddress.optional(),
      zUint
        .refine((n) => n >= 1 && n <= AI_LIST_MAX, `limit must be 1..${AI_LIST_MAX}`)
        .optional()
        .default(AI_LIST_MAX),
    ],
    ([after, limit], b, s) => b.callGate.run(s.client, s.deadline, () => listProvers(b, after?.bytes, limit)),
  ),
};

async function inferenceRequest(b: RpcBackend, id: bigint) {
  let r: RequestRecord;
  try {
    r = (await readContractAt(b.calls, b.chain.head, MARKET, marketAbi, 'getRequest', [id])) as RequestRecord;
  } catch (err) {
    if (err instanceof ExecutionError && err.reverted) return null; // UnknownRequest
    throw err;
  }
  const [requested, fulfilled] = await Promise.all([located(b, REQUEST_EVENT, word(id)), located(b, FULFILMENT_EVENT, word(id))]);
  return {
    id: q(id),
    requester: r.requester,
    modelId: r.modelId,
    fee: q(r.fee),
    status: STATUS[r.status] ?? 'none',
    deadline: q(r.deadline),
    callback: r.callback,
    claimant: r.claimant,
    claimedUntil: q(r.claimedUntil),
    prover: r.prover,
    inputSignals: r.inputSignals.map(q),
    outputs: r.outputs.map(q),
    requested,
    fulfilled,
  };
}

async function listProvers(b: RpcBackend, after: Uint8Array | undefined, limit: number) {
  const provers: Record<string, unknown>[] = [];
  let more = false;
  const cursor = after === undefined ? undefined : new Uint8Array([...new Uint8Array(12), ...after]);
  for await (const { topic1, location } of b.chain.store.indexedKeys(PROVER_EVENT.address, PROVER_EVENT.topic0, cursor)) {
    if (provers.length === limit) {
      more = true;
      break;
    }
    const address = bytesToHex(topic1.slice(12));
    const p = (await readContractAt(b.calls, b.chain.head, MARKET, marketAbi, 'getProver', [address])) as MarketProver;
    provers.push({ address, stake: q(p.stake), locked: q(p.locked), fulfilled: p.fulfilled, missed: p.missed, rejected: p.rejected, lastStakedAt: q(location.number) });
  }
  return { provers, next: more ? (provers.at(-1)?.address ?? null) : null };
}
