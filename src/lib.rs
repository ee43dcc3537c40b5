//! peerscope: crawl and monitor peer-to-peer networks, driven over gRPC.

pub mod api;
pub mod config;
pub mod engine;
pub mod metrics;
pub mod model;
pub mod proto;
pub mod protocol;
pub mod sink;
pub mod store;
#[cfg(feature = "testnet")]
pub mod testnet;

#[cfg(test)]
mod fuzz_corpus;
