//! Integration tests: real discv5 nodes, a real sled store in a temp dir and a real gRPC
//! client over TCP, all on 127.0.0.1.

mod api;
mod browser;
mod churn;
mod cli;
mod cli_tables;
mod cometbft;
mod common;
mod crash;
mod dashboard;
mod dial;
mod discovery;
mod dns;
mod dns_crawl;
mod estimate;
mod geo;
mod geo_db;
mod hostile;
mod observe;
mod px;
mod relay;
mod resume;
mod rollup;
mod scope;
mod sink;
mod validate;
mod walk;
