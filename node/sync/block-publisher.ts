/**
 * The sequencer's side of the `blocks` topic: every block it commits, signed with its block key
 * (encoding in block-gossip.ts), published in commit order so replicas mostly see parents first.
 */
import type { Block } from '@ethereumjs/block';
import type { Hex } from 'viem';
import type { Logger } from 'pino';
import type { Chain } from '../chain/chain.ts';
import { equalsBytes } from '@ethereumjs/util';
import { encodeBlockGossip, signBlockHash } from './block-gossip.ts';
import type { GossipBlock } from './block-gossip.ts';

export interface PublisherDeps {
  chain: Pick<Chain, 'onBlock' | 'head'>;
  /** Sends on the blocks topic; resolves to the number of peers reached. */
  publish(data: Uint8Array): Promise<number>;
  logger: Logger;
}

export class BlockPublisher {
  private tail: Promise<void> = Promise.resolve();
  private unsubscribe: (() => void) | undefined;
  private signed: GossipBlock | undefined;

  constructor(
    private readonly opts: { chainId: bigint; key: Hex },
    private readonly deps: PublisherDeps,
  ) {}

  start(): void {
    this.unsubscribe ??= this.deps.chain.onBlock((ev) => this.enqueue(ev.block));
  }

  /** Publishes what is queued, then stops listening. */
  async stop(): Promise<void> {
    this.unsubscribe?.();
    await this.tail;
  }

  private enqueue(block: Block): void {
    this.tail = this.tail
      .then(() => this.publish(block))
      // a block nobody received is fetched by range later: never a reason to stop the sequencer
      .catch((err: unknown) => this.deps.logger.warn({ number: block.header.number, err: (err as Error).message }, 'block not published'));
  }

  /** The head, signed: the sequencer's signed-head answer (signed-head.ts). */
  async signedHead(): Promise<GossipBlock> {
    return this.sign(this.deps.chain.head);
  }

  private async sign(block: Block): Promise<GossipBlock> {
    if (this.signed !== undefined && equalsBytes(this.signed.block.hash(), block.hash())) return this.signed;
    const gb = { block, signature: await signBlockHash(this.opts.key, this.opts.chainId, block.hash()) };
    this.signed = gb;
    return gb;
  }

  private async publish(block: Block): Promise<void> {
    const { signature } = await this.sign(block);
    const peers = await this.deps.publish(encodeBlockGossip(signature, block.serialize()));
    this.deps.logger.debug({ number: block.header.number, txs: block.transactions.length, peers }, 'published block');
  }
}
