//! peerscope: crawl and monitor peer-to-peer networks, driven over gRPC.
//!
//! # Layout
//!
//! ```text
//!   api      gRPC edge (tonic): Crawler service, health, reflection; converts and validates
//!    │
//!   engine   crawls: per crawl one discv5 instance and enumeration loop, one libp2p dialer
//!            (identify, Waku metadata, ping) and one address book (PEX dial policy)
//!    │
//!   store    sled: crawls, peers, ENR history, sequence-numbered event log
//!
//!   record   ENR decoding (Waku waku2/rs/rsv/multiaddrs, Ethereum eth2/attnets/syncnets)
//!   model    domain types shared by all of the above
//!   testnet  an in-process network of real discv5 + libp2p nodes on loopback
//!   waku     Waku protocol ids and the metadata codec
//!   relay    Waku relay: gossipsub config, WakuMessage, message counter
//!   dns      EIP-1459 trees: resolve and verify, build and sign
//!   geo      IP geolocation (ip-api): rate-limited, cached, non-public addresses skipped
//!   testnet_geo  a stand-in for ip-api on 127.0.0.1
//!   testnet_hostile  testnet peers that misbehave on purpose (silent, stall, flood, …)
//!   metrics  Prometheus registry
//!   bench    the crawl-vs-baseline benchmark
//!   config   `peerscope serve` settings: defaults, TOML file, environment, flags
//! ```
//!
//! `engine` never sees tonic, `api` never sees discv5 or libp2p types, and only the binary
//! uses `anyhow`.

pub mod api;
pub mod bench;
pub mod config;
pub mod dns;
pub mod engine;
pub mod geo;
pub mod metrics;
pub mod model;
pub mod proto;
pub mod record;
pub mod relay;
pub mod store;
pub mod testnet;
pub mod testnet_dns;
pub mod testnet_geo;
pub mod testnet_hostile;
pub mod waku;

#[cfg(test)]
mod fuzz_corpus;
