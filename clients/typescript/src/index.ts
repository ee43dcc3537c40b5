/**
 * TypeScript client of the peerscope `peerscope.v1` gRPC API.
 *
 * - Everything generated from `proto/peerscope/v1/peerscope.proto` is re-exported: the
 *   messages (each with `fromPartial`, `encode`, `decode`, `toJSON`), the enums and the
 *   @grpc/grpc-js `CrawlerClient`.
 * - {@link PeerscopeClient} is a small promise/async-iterator layer over `CrawlerClient`.
 */
export * from "./gen/peerscope/v1/peerscope";
export { Duration } from "./gen/google/protobuf/duration";
export { Timestamp } from "./gen/google/protobuf/timestamp";
export {
  DEFAULT_ADDRESS,
  FINAL_STATES,
  PeerscopeClient,
  isStatus,
  normalizeAddress,
  type ClientOptions,
  type FollowEventsOptions,
} from "./client";
export { status } from "@grpc/grpc-js";
