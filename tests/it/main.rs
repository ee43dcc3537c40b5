//! Integration tests: real discv5 nodes, a real sled store in a temp dir and a real gRPC
//! client over TCP, all on 127.0.0.1.

mod api;
mod churn;
mod cli;
mod common;
mod crash;
mod dial;
mod discovery;
mod dns;
mod dns_crawl;
mod estimate;
mod geo;
mod hostile;
mod observe;
mod px;
mod relay;
mod sink;
mod validate;
