//! The binary's commands besides `serve`: the gRPC client commands, the benchmarks, and the
//! CometBFT testnet and benchmark (`cometbft`).

pub mod bench;
pub mod client;
pub mod cometbft;
