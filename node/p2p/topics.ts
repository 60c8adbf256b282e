/**
 * The gossip topics. Names carry the chain id so two chains never share a mesh, and a version so
 * a change of encoding gets a new topic instead of a flood of rejects between old and new nodes.
 */

export const TopicKind = {
  /** Sequencer-signed L2 blocks, for replicas. */
  Blocks: 'blocks',
  /** Transactions forwarded to the sequencer. */
  Txs: 'txs',
  /** Proof jobs offered to provers. */
  Jobs: 'jobs',
  /** Proofs returned by provers. */
  Proofs: 'proofs',
} as const;
export type TopicKind = (typeof TopicKind)[keyof typeof TopicKind];

export const TOPIC_KINDS: readonly TopicKind[] = Object.values(TopicKind);

export const TOPIC_VERSION = 1;

/**
 * Largest message per topic, bytes; larger ones are rejected (and their relayer penalised) before
 * the handler decodes them. Blocks: a 30M-gas block of calldata at the EIP-7623 floor is ~750 KB;
 * txs: the pool's own cap (128 KiB, as geth); proofs: a Groth16 proof plus up to ~800 public
 * signals; jobs: a model input of a few thousand fixed-point values.
 */
export const defaultTopicMaxBytes: Readonly<Record<TopicKind, number>> = {
  blocks: 4 * 1024 * 1024,
  txs: 128 * 1024,
  jobs: 1024 * 1024,
  proofs: 128 * 1024,
};

/** `/ai-rollup/<chainId>/<kind>/<version>` */
export function topicName(chainId: bigint, kind: TopicKind): string {
  return `/ai-rollup/${chainId}/${kind}/${TOPIC_VERSION}`;
}

export function parseTopic(name: string): { chainId: bigint; kind: TopicKind } | undefined {
  const m = /^\/ai-rollup\/(\d+)\/([a-z]+)\/(\d+)$/.exec(name);
  if (m === null || Number(m[3]) !== TOPIC_VERSION) return undefined;
  const kind = TOPIC_KINDS.find((k) => k === m[2]);
  return kind === undefined ? undefined : { chainId: BigInt(m[1]!), kind };
}
