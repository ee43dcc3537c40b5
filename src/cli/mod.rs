//! The binary's commands: `serve`, the gRPC client commands, and (with the `testnet`
//! feature) the loopback testnet and the benchmarks.

#[cfg(feature = "testnet")]
pub mod bench;
pub mod client;
pub mod serve;
#[cfg(feature = "testnet")]
pub mod testnet;
#[cfg(feature = "testnet")]
pub mod walk_bench;
