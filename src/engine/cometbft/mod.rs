//! The CometBFT driver: crawls a CometBFT / Tendermint chain over PEX the way the PEX
//! reactor's seed/crawler does, and (in seed mode) serves as its seed. It shares the
//! store, events, address book policy ([`crate::engine::schedule`]) and stats with the
//! discv5 crawls; only the network side differs.
//!
//! ```text
//! Engine::start_crawl ──(Profile::CometBft)──▶ start_cometbft: local key + NodeInfo,
//!                                               seed listener bound (seed mode)
//!                                                 │
//!                          one task per crawl ◀───┘ crawler.rs: book, visits, events
//!                          ├─ visit.rs  (blocking pool): dial, SecretConnection, PEX
//!                          └─ seed.rs   (blocking pool, per inbound connection)
//! conn.rs: TCP + tendermint-p2p SecretConnection + NodeInfo + MConnection packets
//! select.rs: pure decisions (seed answer with bias, address scope, request limits)
//! ```
//!
//! A crawl announces a NodeInfo with the profile's chain id, block and p2p protocol
//! versions and the PEX channel only; it never relays blocks or transactions. Without
//! seed mode it announces `0.0.0.0:0` as its listen address, which CometBFT nodes do not
//! add to their books (a passive crawler).

pub mod conn;
mod crawler;
pub mod seed;
pub mod select;
pub mod visit;

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::sync::watch;

pub use crawler::{record_of, MAX_KNOWN_PEERS};

use super::{Engine, EngineError, RunningCrawl};
use crate::model::{now_millis, CometBftSettings, Crawl, CrawlProgress, CrawlSpec, CrawlState};
use crate::protocol::cometbft::node_info::NodeInfo;
use crate::protocol::cometbft::PEX_CHANNEL;
use conn::LocalNode;

/// The NodeInfo a crawl announces (its `node_id` and `listen_addr` are filled in later).
pub fn local_info(settings: &CometBftSettings) -> NodeInfo {
    NodeInfo {
        p2p_version: settings.p2p_version,
        block_version: settings.block_version,
        app_version: 0,
        node_id: String::new(),
        listen_addr: "0.0.0.0:0".into(),
        network: settings.chain_id.clone(),
        version: format!("peerscope/{}", env!("CARGO_PKG_VERSION")),
        channels: vec![PEX_CHANNEL],
        moniker: settings.moniker.clone(),
        tx_index: "off".into(),
        rpc_address: String::new(),
    }
}

impl Engine {
    /// Starts a CometBFT crawl: a fresh node key, the seed listener when seed mode is on
    /// (a bind failure fails the crawl, as a discv5 socket's does), the crawl task.
    pub(super) async fn start_cometbft(&self, spec: CrawlSpec) -> Result<Crawl, EngineError> {
        let settings = spec.profile.cometbft().cloned().unwrap_or_default();
        let store = &self.inner.store;
        let id = store.next_crawl_id()?;
        let mut crawl = Crawl {
            id,
            spec,
            state: CrawlState::Running,
            created_at: now_millis(),
            finished_at: None,
            progress: CrawlProgress::default(),
            error: None,
            listen_addr: None,
            seed_addr: None,
            local_enr: None,
        };
        let mut local = LocalNode::generate(local_info(&settings));
        let mut seed = None;
        if let Some(s) = &settings.seed {
            let addr = s.listen_addr.unwrap_or(SocketAddr::new(
                self.inner.config.default_discv5_addr.ip(),
                0,
            ));
            let bound = match tokio::net::TcpListener::bind(addr).await {
                Ok(l) => l.local_addr().map(|a| (l, a)),
                Err(e) => Err(e),
            };
            let failure = match &bound {
                Err(e) => Some(e.to_string()),
                Ok((_, b)) if s.external_addr.is_none() && b.ip().is_unspecified() => {
                    Some("seed mode listens on an unspecified address: set external_addr".into())
                }
                Ok(_) => None,
            };
            if let Some(reason) = failure {
                crawl.state = CrawlState::Failed;
                crawl.finished_at = Some(now_millis());
                crawl.error = Some(format!("could not start the seed on {addr}: {reason}"));
                store.put_crawl(&crawl)?;
                store.flush().await?;
                return Err(EngineError::Listen { addr, reason });
            }
            let (listener, bound) = bound.map_err(|e| EngineError::Listen {
                addr,
                reason: e.to_string(),
            })?;
            let external = s.external_addr.unwrap_or(bound);
            local.set_listen_addr(external);
            crawl.listen_addr = Some(bound.to_string());
            crawl.seed_addr = Some(format!("{}@{external}", local.id()));
            seed = Some((
                listener,
                seed::SeedConfig {
                    max_reply: s.max_reply as usize,
                    new_bias: settings.new_bias_percent,
                    max_inbound: s.max_inbound as usize,
                    handshake_timeout: settings.exchange_timeout,
                    idle_timeout: s.idle_timeout,
                },
            ));
        }
        crawl.local_enr = Some(local.id().to_string());
        store.put_crawl(&crawl)?;
        store.flush().await?;
        let cancel = self.inner.root.child_token();
        let (tx, rx) = watch::channel(crawl.clone());
        let task = tokio::spawn(crawler::run(crawler::Ctx {
            crawl: crawl.clone(),
            store: store.clone(),
            metrics: self.inner.metrics.clone(),
            geo: self.inner.geo.clone(),
            snapshots: tx,
            cancel: cancel.clone(),
            persist_every: self.inner.config.persist_interval,
            local: Arc::new(local),
            seed,
        }));
        tracing::info!(target: "peerscope::cometbft", crawl = id, seed = ?crawl.seed_addr, "CometBFT crawl started");
        self.running().insert(
            id,
            RunningCrawl {
                cancel,
                snapshot: rx,
                task,
            },
        );
        Ok(crawl)
    }
}
