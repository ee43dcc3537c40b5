/**
 * TypeScript client of the peerscope `peerscope.v1` gRPC API, on @grpc/grpc-js.
 *
 * - Every type generated from `proto/peerscope/v1/peerscope.proto` is re-exported: for each
 *   message `X`, `X` is what requests accept and `X__Output` what responses hold; enums
 *   (`CrawlState`, `CrawlMode`, `PeerEventKind`, …) are objects of their names.
 * - {@link PeerscopeClient} is a small promise/async-iterator layer over the typed client.
 */
export * from "./gen";
export type { ProtoGrpcType } from "./gen/peerscope";
export {
  DEFAULT_ADDRESS,
  FINAL_STATES,
  PeerscopeClient,
  duration,
  isStatus,
  normalizeAddress,
  toDate,
  type ClientOptions,
  type FollowEventsOptions,
} from "./client";
export type { ServingStatus } from "./health";
export { LOADER_OPTIONS, load, protoDir } from "./proto";
export { status } from "@grpc/grpc-js";
