//! The crawl engine: runs crawls, owns their discv5 instances, writes what they find.
//!
//! ```text
//! Engine (Clone handle) ──start/stop/get──▶ crawls: id → RunningCrawl { cancel, watch<Crawl>, task }
//!   │                                                  │
//!   │                one task per crawl (crawl/) ◀─────┘
//!   │                ├─ io.rs: its own Discv5 (one protocol id per instance), UDP socket bound at start
//!   │                ├─ walk.rs: FINDNODE per distance to every node (bounded in flight), rounds
//!   │                ├─ random lookups (discv5 iterative queries)
//!   │                ├─ its own libp2p swarm (dialer.rs over transport.rs): dial, identify, metadata, ping
//!   │                ├─ address book (schedule.rs, crawl/dials.rs): who to dial when (PEX policy);
//!   │                │    CONTINUOUS: written to the store as it changes, restored on resume (crawl/book.rs)
//!   │                ├─ seed mode (crawl/seed.rs): peer-exchange answers
//!   │                ├─ relay monitor (relay_monitor.rs) ─▶ relay counter (counter.rs)
//!   │                ├─ peers' IPs ─▶ geolocator (geo.rs, one engine-wide task) ─▶ Store
//!   │                └─▶ Store: peers, ENR history, visits, events (sequence-numbered) ─▶ subscribers
//!   └─ housekeeping.rs (one tracked task): relay counts ─▶ Store every second, event retention,
//!                                          ended crawl tasks let go
//! ```
//!
//! A crawl of the CometBFT profile runs the CometBFT driver instead ([`cometbft`]): PEX
//! over SecretConnection, the same store, events, address book and stats.
//!
//! Each crawl has a child of the engine's root cancellation token: `stop_crawl` cancels the
//! child, `shutdown` cancels the root, waits for the engine's tasks (housekeeping, a
//! resumption under way) and for every crawl task to persist its state, then writes the
//! relay counts once more. A CONTINUOUS crawl the shutdown (or a crash) cut short stays
//! RUNNING in the store with its address book and node key; [`Engine::new`] resumes it
//! (same id, settings and identity) unless [`EngineConfig::resume`] is off, in which case
//! it is marked INTERRUPTED. Errors are typed ([`error`]). The engine knows nothing about
//! gRPC.

pub mod cometbft;
pub mod counter;
mod crawl;
pub mod dialer;
pub mod error;
pub mod geo;
pub mod geo_db;
mod housekeeping;
pub mod relay_monitor;
pub mod schedule;
pub mod transport;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::engine::counter::MessageCounter;
use crate::engine::geo::Geolocator;
use crate::metrics::Metrics;
use crate::model::{now_millis, Crawl, CrawlId, CrawlMode, CrawlProgress, CrawlSpec, CrawlState};
use crate::store::Store;

pub use crawl::{discv5_config, passive_local_enr};
pub use error::{EngineError, FindNodeError, PxError, StartError, SwarmError};

/// Engine-wide settings.
#[derive(Clone, Debug)]
pub struct EngineConfig {
    /// UDP address a crawl binds when its request names none.
    pub default_discv5_addr: SocketAddr,
    /// How often a running crawl writes its progress to the store.
    pub persist_interval: Duration,
    /// Cap on distinct content topics counted per pubsub topic (the rest go to "other").
    pub max_content_topics: usize,
    /// Events kept in the log (the oldest are dropped first).
    pub event_retention: u64,
    /// Events older than this are dropped.
    pub event_max_age: Duration,
    /// How EIP-1459 trees are resolved (nameservers, limits).
    pub dns: crate::protocol::dns::ResolverSettings,
    /// Geolocation of peers' IPs; `None` = off (the default here; `peerscope serve` turns
    /// it on unless configured off).
    pub geo: Option<crate::engine::geo::GeoConfig>,
    /// Resume, at start, the CONTINUOUS crawls the previous process left running (crash,
    /// kill or shutdown): same id and settings, their address book restored. Default on;
    /// off (`--no-resume`), they are marked INTERRUPTED like ONESHOT ones.
    pub resume: bool,
}

/// Default number of events kept.
pub const DEFAULT_EVENT_RETENTION: u64 = 10_000_000;
/// Default age after which events are dropped (30 days).
pub const DEFAULT_EVENT_MAX_AGE: Duration = Duration::from_secs(30 * 24 * 3600);

/// Default UDP address for crawls: every interface, a free port per crawl.
pub const DEFAULT_DISCV5_ADDR: &str = "0.0.0.0:0";

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            default_discv5_addr: DEFAULT_DISCV5_ADDR.parse().expect("valid literal"),
            persist_interval: Duration::from_secs(2),
            max_content_topics: crate::model::messages::DEFAULT_MAX_CONTENT_TOPICS,
            event_retention: DEFAULT_EVENT_RETENTION,
            event_max_age: DEFAULT_EVENT_MAX_AGE,
            dns: crate::protocol::dns::ResolverSettings::default(),
            geo: None,
            resume: true,
        }
    }
}

struct RunningCrawl {
    cancel: CancellationToken,
    snapshot: watch::Receiver<Crawl>,
    task: JoinHandle<()>,
}

/// The crawl tasks the engine holds, by id: shared by the engine handle and the
/// housekeeping task, which lets go of the ones that ended by themselves.
#[derive(Clone, Default)]
struct Crawls(Arc<Mutex<HashMap<CrawlId, RunningCrawl>>>);

impl Crawls {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<CrawlId, RunningCrawl>> {
        // The map stays consistent even if a holder panicked: every update is one call.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Forgets the tasks that have ended (their final state is in the store); returns how
    /// many.
    fn reap(&self) -> usize {
        let mut crawls = self.lock();
        let before = crawls.len();
        crawls.retain(|_, r| !r.task.is_finished());
        before - crawls.len()
    }
}

struct Inner {
    store: Store,
    counter: MessageCounter,
    metrics: Metrics,
    config: EngineConfig,
    geo: Option<Geolocator>,
    root: CancellationToken,
    crawls: Crawls,
    /// Engine-wide tasks (housekeeping), waited for at shutdown.
    tasks: TaskTracker,
}

/// Handle to the engine; cheap to clone.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

impl Engine {
    /// Creates the engine over `store`. Of the crawls the store still lists as running
    /// (the previous process crashed or shut down), CONTINUOUS ones are resumed in the
    /// background when [`EngineConfig::resume`] is on; the rest are marked interrupted.
    pub fn new(
        store: Store,
        config: EngineConfig,
        root: CancellationToken,
    ) -> Result<Engine, EngineError> {
        let (interrupted, to_resume) = store.mark_running_interrupted(now_millis(), |c| {
            config.resume && c.spec.mode == CrawlMode::Continuous
        })?;
        if !interrupted.is_empty() {
            tracing::warn!(crawls = ?interrupted, "marked crawls interrupted by the previous run");
        }
        for id in &interrupted {
            store.delete_book(*id)?;
        }
        let counter = MessageCounter::new(store.clone(), config.max_content_topics)?;
        let geo = match &config.geo {
            Some(g) => Some(Geolocator::start(g.clone(), store.clone(), root.clone())?),
            None => None,
        };
        let tasks = TaskTracker::new();
        let crawls = Crawls::default();
        tasks.spawn(
            housekeeping::Housekeeping {
                counter: counter.clone(),
                crawls: crawls.clone(),
                store: store.clone(),
                event_retention: config.event_retention,
                event_max_age: config.event_max_age,
            }
            .run(root.clone()),
        );
        let engine = Engine {
            inner: Arc::new(Inner {
                store,
                counter,
                metrics: Metrics::new(),
                config,
                geo,
                root,
                crawls,
                tasks,
            }),
        };
        if !to_resume.is_empty() {
            let e = engine.clone();
            engine
                .inner
                .tasks
                .spawn(async move { e.resume(to_resume).await });
        }
        Ok(engine)
    }

    /// Starts again the CONTINUOUS crawls the previous process left running, one after the
    /// other. A crawl that cannot start (its socket cannot be bound) ends FAILED; one not
    /// started because the engine is shutting down stays RUNNING in the store, for the
    /// next start.
    async fn resume(&self, crawls: Vec<Crawl>) {
        for mut crawl in crawls {
            let id = crawl.id;
            crawl.state = CrawlState::Running;
            crawl.finished_at = None;
            crawl.error = None;
            crawl.progress.in_flight = 0;
            crawl.progress.dialing = 0;
            match self.launch(crawl, true).await {
                Ok(c) => tracing::info!(crawl = id, addr = ?c.listen_addr, "crawl resumed"),
                Err(EngineError::ShuttingDown) => return,
                Err(e) => tracing::error!(crawl = id, error = %e, "could not resume the crawl"),
            }
        }
    }

    /// The store the engine writes to.
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// The geolocator, when geolocation is on. Crawls submit every peer IP they learn;
    /// [`Geolocator::submit`] queues others the same way.
    pub fn geolocator(&self) -> Option<&Geolocator> {
        self.inner.geo.as_ref()
    }

    /// The metrics registry.
    pub fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }

    /// Refreshes the store-derived and crawl gauges (peer aggregates at most every few
    /// seconds) and renders the metrics text.
    pub fn render_metrics(&self) -> Result<String, EngineError> {
        let m = &self.inner.metrics;
        if m.stats_stale() {
            let store = &self.inner.store;
            let stats = store.network_stats(None)?;
            m.set_stats(&stats, store.size_on_disk()?, store.peer_count() as u64);
        }
        let (running, discovered) = {
            let crawls = self.running();
            let live: Vec<_> = crawls
                .values()
                .map(|r| r.snapshot.borrow().clone())
                .filter(|c| c.state == CrawlState::Running)
                .collect();
            (
                live.len() as u64,
                live.iter().map(|c| c.progress.discovered).sum::<u64>(),
            )
        };
        m.set_crawls(running, discovered);
        Ok(m.render())
    }

    /// The relay message counter, after writing what it holds to the store (so a read of
    /// the store that follows sees every message counted so far).
    pub fn flushed_counter(&self) -> Result<&MessageCounter, EngineError> {
        self.inner.counter.flush()?;
        Ok(&self.inner.counter)
    }

    fn running(&self) -> std::sync::MutexGuard<'_, HashMap<CrawlId, RunningCrawl>> {
        self.inner.crawls.lock()
    }

    /// Starts a crawl: resolves its DNS trees (every one must verify), binds its discv5
    /// socket, persists it as running, spawns its task.
    pub async fn start_crawl(&self, mut spec: CrawlSpec) -> Result<Crawl, EngineError> {
        if self.inner.root.is_cancelled() {
            return Err(EngineError::ShuttingDown);
        }
        if spec.profile.cometbft().is_some() {
            return self.start_cometbft(spec).await;
        }
        if !spec.dns_tree_urls.is_empty() {
            let resolution = crate::protocol::dns::resolve_all_report(
                &spec.dns_tree_urls,
                &self.inner.config.dns,
            )
            .await
            .map_err(|source| EngineError::DnsTree {
                url: spec.dns_tree_urls.join(", "),
                source,
            })?;
            if let Some((url, source)) = resolution.failures.into_iter().next() {
                return Err(EngineError::DnsTree { url, source });
            }
            spec.dns_from = Some(spec.bootstrap_enrs.len());
            for tree in resolution.trees {
                tracing::info!(url = %tree.url, seq = tree.seq, records = tree.enrs.len(), "DNS tree resolved");
                for enr in tree.enrs {
                    let text = enr.to_base64();
                    if !spec.bootstrap_enrs.contains(&text) {
                        spec.bootstrap_enrs.push(text);
                    }
                }
            }
            if spec.bootstrap_enrs.is_empty() {
                return Err(EngineError::EmptyDnsTrees {
                    urls: spec.dns_tree_urls.join(", "),
                });
            }
        }
        let id = self.inner.store.next_crawl_id()?;
        let crawl = Crawl {
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
        self.launch(crawl, false).await
    }

    /// Binds a crawl's discv5 socket, persists it as running and spawns its task
    /// (`resumed`: it ran before the server restarted).
    async fn launch(&self, mut crawl: Crawl, resumed: bool) -> Result<Crawl, EngineError> {
        if self.inner.root.is_cancelled() {
            return Err(EngineError::ShuttingDown);
        }
        let store = &self.inner.store;
        let id = crawl.id;
        let addr = crawl
            .spec
            .listen_addr
            .unwrap_or(self.inner.config.default_discv5_addr);
        // A CONTINUOUS crawl's node key is saved, so that it resumes as the same node.
        let continuous = crawl.spec.mode == CrawlMode::Continuous;
        let saved = if resumed { store.crawl_key(id)? } else { None };
        let key = crawl::io::crawl_key(saved);
        let secret = key.encode();
        let started = match crawl::io::Discovery::start(
            &crawl.spec,
            addr,
            key,
            &self.inner.counter,
            &self.inner.metrics,
        )
        .await
        {
            Ok(d) => d,
            Err(source) => {
                let e = EngineError::Start {
                    addr,
                    source: Box::new(source),
                };
                crawl.state = CrawlState::Failed;
                crawl.finished_at = Some(now_millis());
                crawl.error = Some(e.to_string());
                store.put_crawl(&crawl)?;
                store.delete_book(id)?;
                store.flush().await?;
                return Err(e);
            }
        };
        let started = started.with_geolocator(self.inner.geo.clone());
        crawl.listen_addr = Some(started.local_addr().to_string());
        crawl.seed_addr = started.seed_addr().map(|a| a.to_string());
        crawl.local_enr = Some(started.local_enr().to_base64());
        if continuous {
            store.put_crawl_key(id, &secret)?;
        }
        store.put_crawl(&crawl)?;
        store.flush().await?;

        let cancel = self.inner.root.child_token();
        let (tx, rx) = watch::channel(crawl.clone());
        let task = tokio::spawn(crawl::run(
            started,
            crawl.clone(),
            store.clone(),
            self.inner.metrics.clone(),
            tx,
            crawl::Launch {
                cancel: cancel.clone(),
                shutdown: self.inner.root.clone(),
                persist_every: self.inner.config.persist_interval,
                resumed,
            },
        ));
        tracing::info!(crawl = id, addr = ?crawl.listen_addr, "crawl started");
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

    /// Stops a running crawl and returns its final state; a crawl that already ended is
    /// returned unchanged.
    pub async fn stop_crawl(&self, id: CrawlId) -> Result<Crawl, EngineError> {
        let running = self.running().remove(&id);
        if let Some(r) = running {
            r.cancel.cancel();
            // The task persists the final state before it returns; a panic there is logged
            // and the stored record (last persisted progress) is returned.
            if let Err(e) = r.task.await {
                tracing::error!(crawl = id, error = %e, "crawl task failed");
            }
        }
        self.get_crawl(id)
    }

    /// One crawl: the live snapshot while it runs, the stored record otherwise.
    pub fn get_crawl(&self, id: CrawlId) -> Result<Crawl, EngineError> {
        if let Some(r) = self.running().get(&id) {
            return Ok(r.snapshot.borrow().clone());
        }
        self.inner
            .store
            .get_crawl(id)?
            .ok_or(EngineError::UnknownCrawl(id))
    }

    /// Crawls below `before`, newest first, with live snapshots for running ones.
    pub fn list_crawls(
        &self,
        before: Option<CrawlId>,
        state: Option<CrawlState>,
        limit: usize,
    ) -> Result<Vec<Crawl>, EngineError> {
        let mut crawls = self.inner.store.list_crawls(before, None, usize::MAX)?;
        {
            let running = self.running();
            for c in crawls.iter_mut() {
                if let Some(r) = running.get(&c.id) {
                    *c = r.snapshot.borrow().clone();
                }
            }
        }
        crawls.retain(|c| state.is_none_or(|s| s == c.state));
        crawls.truncate(limit);
        Ok(crawls)
    }

    /// A receiver of live snapshots of a running crawl; `None` once it has ended.
    pub fn watch_crawl(&self, id: CrawlId) -> Option<watch::Receiver<Crawl>> {
        self.running().get(&id).map(|r| r.snapshot.clone())
    }

    /// Forgets crawl tasks that have ended by themselves (ONESHOT done, limits hit, the
    /// store failed); their final state is read from the store from then on. The
    /// housekeeping task calls this every second. Returns how many were forgotten.
    pub fn reap(&self) -> usize {
        self.inner.crawls.reap()
    }

    /// Stops every crawl (ONESHOT ones end STOPPED; CONTINUOUS ones stay RUNNING in the
    /// store, with their address book, for the next start to resume), waits for the
    /// engine's tasks to end (housekeeping, a resumption under way) and for the crawls to
    /// persist their state, then writes the relay counts.
    pub async fn shutdown(&self) {
        self.inner.root.cancel();
        self.inner.tasks.close();
        self.inner.tasks.wait().await;
        let tasks: Vec<_> = self.running().drain().map(|(_, r)| r.task).collect();
        for t in tasks {
            let _ = t.await;
        }
        if let Err(e) = self.inner.counter.flush() {
            tracing::error!(error = %e, "could not write relay counts");
        }
    }
}
