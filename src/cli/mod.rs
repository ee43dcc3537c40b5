//! The binary's commands: `serve`, the gRPC client commands, and (with the `testnet`
//! feature) the loopback testnets (discv5 and CometBFT) and the benchmarks.

#[cfg(feature = "testnet")]
pub mod bench;
pub mod client;
#[cfg(feature = "testnet")]
pub mod cometbft;
pub mod serve;
#[cfg(feature = "testnet")]
pub mod testnet;
#[cfg(feature = "testnet")]
pub mod walk_bench;
