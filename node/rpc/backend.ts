import type { Block } from '@ethereumjs/block';
import type { MerkleStateManager } from '@ethereumjs/statemanager';
import { type Address, hexToBytes } from '@ethereumjs/util';
import type { Chain } from '../chain/chain.ts';
import type { CallExecutor } from '../chain/call.ts';
import type { StoredReceipt } from '../chain/receipts.ts';
import type { TxPoolView } from '../txpool/view.ts';
import type { ArtifactStore } from '../ai/artifact-store.ts';
import type { JobAnnouncer } from '../ai/job-announcer.ts';
import type { InferenceProofs } from '../ai/inference-proof.ts';
import { CallGate, defaultCallGateOptions } from './call-gate.ts';
import type { FilterManager } from './filters.ts';
import { RpcCode, RpcError, headerNotFound } from './errors.ts';
import type { RpcOptions } from './options.ts';
import type { BlockRef, BlockTag } from './schemas.ts';
import type { PublicClient } from 'viem';
import type { RollupStatus } from '../l1/rollup-status.ts';
import type { RollupConfig } from '../rollup-config.ts';
import type { SyncProgress } from '../sync/progress.ts';

export interface BlockData {
  block: Block;
  senders: Address[];
  receipts: StoredReceipt[];
}

/** Rollup mode: the L1 side the rollup_ methods and the safe/finalized tags read. */
export interface RollupContext {
  config: RollupConfig;
  status: RollupStatus;
  client: PublicClient;
}

/** What the RPC methods read and write through; owns no state of its own. */
export class RpcBackend {
  rollup: RollupContext | undefined;
  /** Proof job announcements (p2p on): takes the inputs of private-input requests. */
  jobs: Pick<JobAnnouncer, 'submitInput'> | undefined;
  /** ai_getInferenceProof's answers (the node sets them up; on L1 too in rollup mode). */
  inferenceProofs: Pick<InferenceProofs, 'get'> | undefined;
  /** A replica's sync progress (eth_syncing); a sequencer is never syncing. */
  sync: Pick<SyncProgress, 'status'> | undefined;
  /** Connected p2p peers (net_peerCount); 0 without p2p. */
  peerCount: () => number = () => 0;
  /** Admission, time limits and turns of eth_call / eth_estimateGas (the node sets its configured one). */
  callGate = new CallGate(defaultCallGateOptions);

  constructor(
    readonly chain: Chain,
    readonly pool: TxPoolView,
    readonly calls: CallExecutor,
    readonly filters: FilterManager,
    readonly options: RpcOptions,
    readonly clientVersion: string,
    /** The sequencer's base fee floor (wei). */
    readonly minBaseFee: bigint,
    /** Compiled models this node serves (ai_modelArtifacts, GET /artifacts/<sha256>). */
    readonly artifacts?: ArtifactStore,
  ) {}

  /** Base fee of the block the sequencer will seal next. */
  nextBaseFee(): bigint {
    const next = this.head.header.calcNextBaseFee();
    return next > this.minBaseFee ? next : this.minBaseFee;
  }

  get head(): Block {
    return this.chain.head;
  }

  /**
   * Resolves a tag. In a rollup, safe = posted in a batch accepted on L1, finalized = covered by
   * an output past its challenge window; a node without L1 is its own safe and finalized head.
   */
  async blockByTag(tag: BlockTag): Promise<Block | undefined> {
    if (tag === 'earliest') return this.chain.genesis;
    if ((tag === 'safe' || tag === 'finalized') && this.rollup !== undefined) {
      const s = this.rollup.status.snapshot;
      const n = tag === 'safe' ? s.safeBlock : s.finalizedBlock;
      return n >= this.head.header.number ? this.head : this.chain.store.getBlockByNumber(n);
    }
    if (typeof tag === 'string') return this.head;
    if (tag > this.head.header.number) return undefined;
    return this.chain.store.getBlockByNumber(tag);
  }

  async blockByRef(ref: BlockRef): Promise<Block> {
    let block: Block | undefined;
    if (typeof ref === 'object' && 'blockHash' in ref) {
      block = await this.chain.store.getBlockByHash(hexToBytes(ref.blockHash));
      if (block !== undefined && ref.requireCanonical === true) {
        const canon = await this.chain.store.getCanonicalHash(block.header.number);
        if (canon === undefined || Buffer.compare(canon, block.hash()) !== 0) {
          throw new RpcError(RpcCode.Server, `hash ${ref.blockHash} is not currently canonical`);
        }
      }
    } else {
      block = await this.blockByTag(typeof ref === 'object' ? ref.blockNumber : ref);
    }
    if (block === undefined) throw headerNotFound();
    return block;
  }

  async stateAt(ref: BlockRef): Promise<MerkleStateManager> {
    const block = await this.blockByRef(ref);
    if (block === this.head) return this.chain.headState();
    return this.chain.stateAt(block.header.stateRoot);
  }

  async blockData(block: Block): Promise<BlockData> {
    const hash = block.hash();
    const [senders, receipts] = await Promise.all([this.chain.store.getSenders(hash), this.chain.store.getReceipts(hash)]);
    return { block, senders, receipts: receipts ?? [] };
  }
}
