/** The p2p layer's public surface, for the node's assembly and the prover. */
export { P2PService } from './p2p-service.ts';
export type { P2PDeps } from './p2p-service.ts';
export { defaultP2POptions, p2pOptions } from './options.ts';
export type { P2POptions, P2POptionsOverrides, GossipTuning, ScoringOptions, ReqRespOptions } from './options.ts';
export { P2PError, P2PErrorCode, isP2PError } from './errors.ts';
export { TopicKind, TOPIC_KINDS, topicName, parseTopic, defaultTopicMaxBytes } from './topics.ts';
export { GossipAction, GossipValidationError } from './gossip.ts';
export type { TopicHandler, GossipMeta, GossipResultEvent } from './gossip.ts';
export { ARTIFACTS_PROTOCOL, artifactStoreLookup } from './artifacts.ts';
export type { ArtifactLookup } from './artifacts.ts';
export { FrameStatus } from './framing.ts';
export type { Body } from './framing.ts';
export type { ProtocolSpec, RequestHandler, RequestOptions, ServerReply } from './reqresp.ts';
