//! One crawl: a discv5 instance and the loop that enumerates the network through it.
//!
//! ```text
//! run ─▶ Crawler::run_loop (select!) ◀── cancel, max_duration, timers
//!          │  asks / tells                    ▲ events
//!          ├─ walk.rs      pure: known nodes, queue, requests, stragglers, rounds
//!          ├─ dials.rs     pure: address book, dial targets, per-IP limit
//!          ├─ seed.rs      pure: peer-exchange answers and the per-requester limit
//!          ├─ estimate.rs  pure: ONESHOT completion estimate
//!          ├─ records.rs   a record from any source: store, events, walk, dials, geo
//!          ├─ visits.rs    what the dialer reports: visits, PX answers, PX requests
//!          └─ io.rs        Discovery: discv5 (jobs in flight), dialer, relay monitor, geolocator
//! ```
//!
//! **Enumeration.** Every node the crawl learns of is walked once per round (see
//! [`walk`] for a node's walk and when a round ends). Random-target lookups run beside the
//! walk, and every ENR discv5 reports (`Discovered`, `SessionEstablished`) feeds the same
//! queue.
//!
//! **One distance per request.** discv5 0.12 hands a designated FINDNODE only the *first*
//! NODES packet of a multi-packet answer (the crate's `find_node_designated_peer` returns
//! on the first packet; later ones are dropped as unmatched). A packet holds about 7 Waku
//! ENRs, so a request naming several distances, or a full bucket, loses records. Asking
//! one distance at a time keeps most answers in one packet; what a full far bucket still
//! loses is found through the other nodes' tables (the integration test
//! `designated_find_node_keeps_first_packet_only` shows the truncation, and the crawl tests
//! show the walk still finds every node).

mod dials;
mod estimate;
pub(crate) mod io;
mod records;
mod seed;
mod visits;
mod walk;

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use discv5::Event;
use rand::rngs::StdRng;
use rand::SeedableRng;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use self::dials::Dials;
use self::estimate::{Throughput, Work};
use self::io::{next_dial_event, next_relay_event, sleep_until_opt, Discovery, Job};
use self::seed::PxServer;
use self::walk::{Round, Walk, WalkConfig};
use crate::engine::schedule::Policy;
use crate::metrics::Metrics;
use crate::model::{
    now_millis, Crawl, CrawlMode, CrawlSettings, CrawlState, NewPeerEvent, NodeId, Profile,
    SourceKind,
};
use crate::protocol::enr::parse_enr;
use crate::store::{Store, StoreError};

pub use self::io::{discv5_config, passive_local_enr};

/// How often the live snapshot of a running crawl is published.
const PUBLISH_INTERVAL: Duration = Duration::from_millis(100);

/// Why the crawl loop ended.
enum End {
    /// ONESHOT enumeration complete, or a limit hit.
    Finished,
    /// Cancelled (StopCrawl or shutdown).
    Stopped,
    /// The store failed.
    Failed(StoreError),
}

/// One crawl's state: the pure parts (walk, dials, seed, estimate) and the side effects
/// (`io`) they drive.
struct Crawler {
    crawl: Crawl,
    settings: CrawlSettings,
    store: Store,
    metrics: Metrics,
    io: Discovery,
    walk: Walk,
    dials: Dials,
    seed: PxServer,
    /// ONESHOT: recent throughput, for the completion estimate.
    throughput: Throughput,
    /// Events not yet written to the store.
    events: Vec<NewPeerEvent>,
    /// (node, source kind, via) already written to the peer's sources.
    sources_seen: HashSet<(NodeId, SourceKind, Option<String>)>,
    /// Each known node's cluster from its ENR (`rs`/`rsv`).
    clusters: HashMap<NodeId, Option<u16>>,
    rng: StdRng,
    /// `max_peers` reached.
    limit_hit: bool,
}

/// Runs the crawl until it finishes or is cancelled, then persists its final state.
pub(super) async fn run(
    io: Discovery,
    crawl: Crawl,
    store: Store,
    metrics: Metrics,
    snapshots: watch::Sender<Crawl>,
    cancel: CancellationToken,
    persist_every: Duration,
) {
    let mut c = Crawler::new(io, crawl, store, metrics);
    let end = c.run_loop(&snapshots, &cancel, persist_every).await;
    c.io.shutdown();
    if let Err(e) = c.flush_events() {
        tracing::error!(crawl = c.crawl.id, error = %e, "could not write the last events");
    }
    c.sync_walk();
    let crawl = &mut c.crawl;
    crawl.progress.in_flight = 0;
    crawl.progress.dialing = 0;
    crawl.progress.estimated_remaining_ms = None;
    crawl.finished_at = Some(now_millis());
    match end {
        End::Finished => crawl.state = CrawlState::Finished,
        End::Stopped => crawl.state = CrawlState::Stopped,
        End::Failed(e) => {
            crawl.state = CrawlState::Failed;
            crawl.error = Some(e.to_string());
        }
    }
    tracing::info!(
        crawl = crawl.id,
        state = ?crawl.state,
        discovered = crawl.progress.discovered,
        rounds = crawl.progress.rounds,
        elapsed_ms = crawl.elapsed().as_millis() as u64,
        "crawl ended"
    );
    if let Err(e) = c.store.put_crawl(&c.crawl) {
        tracing::error!(crawl = c.crawl.id, error = %e, "could not persist final crawl state");
    }
    if let Err(e) = c.store.flush().await {
        tracing::error!(crawl = c.crawl.id, error = %e, "could not flush the store");
    }
    snapshots.send_replace(c.crawl.clone());
}

impl Crawler {
    fn new(io: Discovery, crawl: Crawl, store: Store, metrics: Metrics) -> Crawler {
        let settings = crawl.spec.settings.clone();
        let mode = crawl.spec.mode;
        let walk = Walk::new(WalkConfig {
            concurrency: settings.concurrency as usize,
            distances: settings.find_node_distances,
            mode,
            recrawl_interval: settings.recrawl_interval,
        });
        let dials = Dials::new(
            Policy {
                min_redial: settings
                    .dial
                    .min_redial
                    .unwrap_or(settings.recrawl_interval),
                ..Policy::default()
            },
            mode == CrawlMode::Oneshot,
            settings.dial.per_ip,
        );
        let seed = PxServer::new(
            settings
                .peer_exchange
                .seed
                .as_ref()
                .map(|s| s.requester_interval)
                .unwrap_or(crate::model::DEFAULT_SEED_REQUESTER_INTERVAL),
            match &crawl.spec.profile {
                Profile::Waku { cluster_id, .. } => Some(u32::from(*cluster_id)),
                _ => None,
            },
        );
        Crawler {
            crawl,
            settings,
            store,
            metrics,
            io,
            walk,
            dials,
            seed,
            throughput: Throughput::default(),
            events: Vec::new(),
            sources_seen: HashSet::new(),
            clusters: HashMap::new(),
            rng: StdRng::from_entropy(),
            limit_hit: false,
        }
    }

    async fn run_loop(
        &mut self,
        snapshots: &watch::Sender<Crawl>,
        cancel: &CancellationToken,
        persist_every: Duration,
    ) -> End {
        if let Err(e) = self.bootstrap() {
            return End::Failed(e);
        }
        let deadline = self
            .settings
            .max_duration
            .map(|d| tokio::time::Instant::now() + d);
        let mut last_publish = Instant::now();
        let mut last_persist = Instant::now();
        self.io.lookups(self.settings.random_lookups);
        loop {
            if let Err(e) = self.fill_dials().and_then(|()| self.flush_events()) {
                return End::Failed(e);
            }
            if self.limit_hit {
                return End::Finished;
            }
            self.send_requests();
            self.update_progress();
            if last_publish.elapsed() >= PUBLISH_INTERVAL {
                snapshots.send_replace(self.crawl.clone());
                last_publish = Instant::now();
            }
            if last_persist.elapsed() >= persist_every {
                if let Err(e) = self.store.put_crawl(&self.crawl) {
                    return End::Failed(e);
                }
                last_persist = Instant::now();
            }
            let dials_idle = self.dials.undialed() == 0 && self.io.dialer_idle();
            match self.walk.check_round(
                self.io.in_flight(),
                dials_idle,
                tokio::time::Instant::now(),
            ) {
                Round::Open => {}
                Round::Requeued => self.send_requests(),
                Round::Done | Round::Finished => {
                    // Every known node walked (and, ONESHOT, dialed), nothing new pending.
                    self.update_progress();
                    snapshots.send_replace(self.crawl.clone());
                    if let Err(e) = self.store.put_crawl(&self.crawl) {
                        return End::Failed(e);
                    }
                    if self.crawl.spec.mode == CrawlMode::Oneshot {
                        return End::Finished;
                    }
                }
            }
            let wake = [self.walk.next_round(), self.dials.book.next_wakeup()]
                .into_iter()
                .flatten()
                .min();
            tokio::select! {
                _ = cancel.cancelled() => return End::Stopped,
                _ = sleep_until_opt(deadline) => return End::Finished,
                Some(done) = self.io.jobs.join_next(), if !self.io.jobs.is_empty() => {
                    match done {
                        Ok(job) => {
                            if let Err(e) = self.on_job(job) {
                                return End::Failed(e);
                            }
                        }
                        Err(e) if e.is_panic() => tracing::error!(error = %e, "crawl job panicked"),
                        Err(_) => {}
                    }
                }
                Some(event) = self.io.events.recv() => {
                    let enr = match event {
                        Event::Discovered(enr) => Some(enr),
                        Event::SessionEstablished(enr, _) => Some(enr),
                        _ => None,
                    };
                    if let Some(enr) = enr {
                        if let Err(e) = self.on_enr(enr, SourceKind::Discv5, None) {
                            return End::Failed(e);
                        }
                    }
                }
                ev = next_dial_event(&mut self.io.dialer) => {
                    if let Err(e) = self.on_dial_event(ev) {
                        return End::Failed(e);
                    }
                }
                _ev = next_relay_event(&mut self.io.relay) => {}
                _ = sleep_until_opt(wake) => {
                    if self.walk.start_round_if_due(tokio::time::Instant::now()) {
                        self.io.lookups(self.settings.random_lookups);
                    }
                }
            }
        }
    }

    /// Takes the crawl's bootstrap records (the DNS trees' after the given ones).
    fn bootstrap(&mut self) -> Result<(), StoreError> {
        let dns_from = self.crawl.spec.dns_from.unwrap_or(usize::MAX);
        for (i, text) in self
            .crawl
            .spec
            .bootstrap_enrs
            .clone()
            .into_iter()
            .enumerate()
        {
            let source = if i >= dns_from {
                SourceKind::Dns
            } else {
                SourceKind::Bootstrap
            };
            match parse_enr(&text) {
                Ok(enr) => {
                    self.io.add_enr(enr.clone());
                    self.on_enr(enr, source, None)?;
                }
                Err(e) => tracing::warn!(error = %e, "skipping bad bootstrap ENR"),
            }
        }
        Ok(())
    }

    /// Sends the FINDNODE requests the walk has room for.
    fn send_requests(&mut self) {
        // discv5 times requests out itself; this outer bound only guards against a lost
        // callback.
        let guard = self.settings.request_timeout * 3 + Duration::from_secs(1);
        for request in self.walk.next_requests(self.io.in_flight()) {
            let Some(enr) = self.walk.record(&request.node).cloned() else {
                continue;
            };
            self.crawl.progress.find_node_requests += 1;
            self.metrics.find_node(1, 0);
            self.io.send(request, enr, guard);
        }
    }

    fn on_job(&mut self, job: Job) -> Result<(), StoreError> {
        match job {
            Job::Lookup(result) => {
                self.crawl.progress.lookups += 1;
                if let Ok(enrs) = result {
                    for enr in enrs {
                        self.on_enr(enr, SourceKind::Discv5, None)?;
                    }
                }
            }
            Job::FindNode {
                request,
                result: Ok(enrs),
            } => {
                if request.is_probe() {
                    // It answered: seen now (once per walk, not per request).
                    self.store.touch_peer(&request.node, now_millis())?;
                }
                self.walk.answered(request);
                for enr in enrs {
                    self.on_enr(enr, SourceKind::Discv5, None)?;
                }
            }
            Job::FindNode {
                request,
                result: Err(reason),
            } => {
                self.crawl.progress.find_node_failures += 1;
                self.metrics.find_node(0, 1);
                let outcome = self.walk.failed(request);
                tracing::trace!(
                    node = %hex::encode(request.node),
                    distance = request.distance,
                    %reason,
                    ?outcome,
                    "FINDNODE failed"
                );
            }
        }
        Ok(())
    }

    fn flush_events(&mut self) -> Result<(), StoreError> {
        if !self.events.is_empty() {
            let n = self.events.len() as u64;
            self.store.append_events(std::mem::take(&mut self.events))?;
            self.metrics.events_written(n);
        }
        Ok(())
    }

    /// Copies the walk's round counters into the crawl's progress.
    fn sync_walk(&mut self) {
        let p = &mut self.crawl.progress;
        p.queried = self.walk.queried();
        p.unresponsive = self.walk.unresponsive();
        p.rounds = self.walk.rounds();
    }

    fn update_progress(&mut self) {
        self.sync_walk();
        let p = &mut self.crawl.progress;
        p.discovered = self.walk.known() as u64;
        p.queued = self.walk.queued() as u64;
        p.in_flight = self.io.in_flight() as u64;
        p.dialing = self.io.dialer.as_ref().map_or(0, |d| d.in_flight() as u64);
        p.dial_queued = self.dials.undialed() as u64;
        if let Some(r) = &self.io.relay {
            p.relay_peers = r.connected() as u64;
            p.relay_mesh_peers = r.min_mesh_peers() as u64;
            p.messages = r.messages();
        }
        self.crawl.progress.estimated_remaining_ms = self.estimate_remaining();
    }

    /// ONESHOT: time until the known work is done at the recent pace; `None` without
    /// enough throughput to tell.
    fn estimate_remaining(&mut self) -> Option<u64> {
        if self.crawl.spec.mode != CrawlMode::Oneshot {
            return None;
        }
        let p = &self.crawl.progress;
        let done = Work {
            walk: p.queried,
            dials: p.connected + p.failed_by_class.values().sum::<u64>(),
        };
        let left = Work {
            walk: self.walk.remaining(),
            dials: self.dials.undialed() as u64 + p.dialing,
        };
        self.throughput.estimate(Instant::now(), done, left)
    }
}
