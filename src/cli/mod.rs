//! The binary's commands besides `serve`: the gRPC client commands and the benchmarks.

pub mod bench;
pub mod client;
