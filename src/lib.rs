//! peerscope: crawl and monitor peer-to-peer networks, driven over gRPC.
//!
//! # Layout
//!
//! Modules depend downwards only; nothing below `api` sees tonic, and `api` never sees a
//! libp2p or discv5 type (a test scans for it).
//!
//! ```text
//!   service   the whole service wired once: store + engine + gRPC + HTTP + shutdown order
//!     │       (used by `peerscope serve`, the integration tests and the benchmarks)
//!   api       gRPC (tonic) and HTTP (axum) edges: validation, conversion, status mapping
//!     │
//!   engine    crawls: per crawl a discv5 walk (crawl/walk.rs is pure state), a libp2p
//!     │       dialer (dialer.rs, transport.rs), an address book (schedule.rs); the relay
//!     │       monitor and message counter, geolocation, housekeeping
//!   store     sled: one file per tree family; the sequenced event log and its subscriptions
//!     │
//!   model     domain types without I/O (crawls, peers, events, address scope, message names)
//!     │
//!   protocol  wire formats: ENRs, Waku codecs and relay config, EIP-1459 DNS trees
//!
//!   sink      (beside the engine, over the store) the PostgreSQL export: reads the store's
//!             export feed, change marks and events, writes them exactly once per vantage
//!
//!   config    `peerscope serve` settings: one struct for flags, environment and TOML
//!   metrics   the Prometheus registry
//!   proto     the generated gRPC types
//!   testnet   (feature `testnet`) a loopback network of real discv5 + libp2p nodes,
//!             hostile peers, a DNS tree server, an ip-api stand-in
//! ```

pub mod api;
pub mod config;
pub mod engine;
pub mod metrics;
pub mod model;
pub mod proto;
pub mod protocol;
pub mod service;
pub mod sink;
pub mod store;
#[cfg(feature = "testnet")]
pub mod testnet;

#[cfg(test)]
mod fuzz_corpus;
