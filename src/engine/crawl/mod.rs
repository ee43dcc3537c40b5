//! One crawl: a discv5 instance and the loop that enumerates the network through it.
//!
//! ```text
//! run ─▶ Crawler::run_loop (select!) ◀── cancel, max_duration, timers
//!          │  asks / tells                    ▲ events
//!          ├─ walk.rs      pure: known nodes, queue, adaptive depth, timeouts, rounds
//!          ├─ dials.rs     pure: address book, dial targets, per-IP limit
//!          ├─ book.rs      CONTINUOUS: the address book written to the store, restored on resume
//!          ├─ seed.rs      pure: peer-exchange answers, per-requester and per-IP limits
//!          ├─ estimate.rs  pure: ONESHOT completion estimate
//!          ├─ requests.rs  FINDNODE requests sent, timed out, answered; lookups' records
//!          ├─ records.rs   a record from any source: scope, caps, store, events, walk, dials
//!          ├─ scope.rs     pure: the address scope of records and dial addresses
//!          ├─ visits.rs    what the dialer reports: visits, PX answers, PX requests
//!          ├─ progress.rs  progress counters, the estimate, events written
//!          └─ io.rs        Discovery: discv5 (jobs in flight), dialer, relay monitor, geolocator
//! ```
//!
//! **Enumeration.** Every node the crawl learns of is walked once per round (see
//! [`walk`] for a node's walk, its adaptive depth, timeouts and retries, and when a round
//! ends). Every ENR discv5 reports (`Discovered`, `SessionEstablished`) feeds the same
//! queue. Random-target lookups run between the rounds of a CONTINUOUS crawl (not beside
//! its walk: on the testnet, lookups running beside it left some of its probes
//! unanswered), and in a ONESHOT crawl only when asked for, beside the walk; they never
//! hold a round open, and what they find that no answer of the walk did is counted
//! (`lookup_only`).
//!
//! **One bucket per request.** discv5 0.12 hands a designated FINDNODE only the *first*
//! NODES packet of a multi-packet answer (the crate's `find_node_designated_peer` returns
//! on the first packet; later ones are dropped as unmatched). A packet holds about 7 Waku
//! ENRs, so a request naming several distances, or a full bucket,
//! loses records. The walk therefore asks every bucket that holds nodes alone, which keeps
//! most answers in one packet; what a full far bucket still loses is found through the
//! other nodes' tables (the integration test `designated_find_node_keeps_first_packet_only`
//! shows the truncation, and the crawl tests show the walk still finds every node). Only
//! the rest check names several distances at once, and it serves to show them empty or to
//! name the buckets to ask alone.

mod book;
mod dials;
mod estimate;
pub(crate) mod io;
mod progress;
mod records;
mod requests;
mod scope;
mod seed;
mod visits;
mod walk;

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use discv5::Event;
use rand::rngs::StdRng;
use rand::SeedableRng;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use self::dials::Dials;
use self::estimate::Throughput;
use self::io::{next_dial_event, next_relay_event, sleep_until_opt, Discovery};
use self::progress::Reports;
use self::records::{Intake, Responder};
use self::seed::PxServer;
use self::walk::{Round, Walk, WalkConfig};
use crate::engine::schedule::Policy;
use crate::metrics::Metrics;
use crate::model::{
    now_millis, Crawl, CrawlMode, CrawlSettings, CrawlState, NewPeerEvent, NodeId, Profile,
    SourceKind,
};
use crate::store::{Store, StoreError};

pub use self::io::{discv5_config, passive_local_enr};

/// Why the crawl loop ended.
enum End {
    /// ONESHOT enumeration complete, or a limit hit.
    Finished,
    /// Cancelled by StopCrawl.
    Stopped,
    /// Cancelled by the engine's shutdown.
    Shutdown,
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
    /// The known-node cap, the per-responder budget, and the nodes known out of scope.
    intake: Intake,
    /// Nodes some answer of the walk returned.
    walk_found: HashSet<NodeId>,
    /// When each node that answered a probe was last written as seen.
    touched: HashMap<NodeId, tokio::time::Instant>,
    /// Nodes random lookups returned and no answer of the walk did (yet).
    lookup_only: HashSet<NodeId>,
    rng: StdRng,
    /// Rounds completed before the crawl was resumed (the walk counts from 0 again).
    rounds_before: u64,
}

/// How a crawl task starts.
pub(super) struct Launch {
    /// Cancelled by StopCrawl (a child of `shutdown`).
    pub cancel: CancellationToken,
    /// The engine's shutdown: a CONTINUOUS crawl it cancels stays RUNNING in the store and
    /// resumes at the next start.
    pub shutdown: CancellationToken,
    /// How often progress (and a CONTINUOUS crawl's book) is written to the store.
    pub persist_every: Duration,
    /// The crawl ran before the server restarted: restore its book, emit RESUMED.
    pub resumed: bool,
}

/// Runs the crawl until it finishes or is cancelled, then persists its final state (a
/// CONTINUOUS crawl cancelled by the shutdown: its progress and book, still RUNNING).
pub(super) async fn run(
    io: Discovery,
    crawl: Crawl,
    store: Store,
    metrics: Metrics,
    snapshots: watch::Sender<Crawl>,
    launch: Launch,
) {
    let mut c = Crawler::new(io, crawl, store, metrics);
    if launch.resumed {
        c.restore_book();
    }
    let end = c
        .run_loop(&snapshots, &launch.cancel, launch.persist_every)
        .await;
    let end = match end {
        End::Stopped if launch.shutdown.is_cancelled() => End::Shutdown,
        end => end,
    };
    c.io.shutdown();
    if let Err(e) = c.flush_events() {
        tracing::error!(crawl = c.crawl.id, error = %e, "could not write the last events");
    }
    c.sync_walk();
    let continuous = c.crawl.spec.mode == CrawlMode::Continuous;
    let resumable = continuous && matches!(end, End::Shutdown);
    if resumable {
        if let Err(e) = c.persist_book() {
            tracing::error!(crawl = c.crawl.id, error = %e, "could not write the address book");
        }
    } else {
        c.drop_book();
    }
    let crawl = &mut c.crawl;
    crawl.progress.in_flight = 0;
    crawl.progress.dialing = 0;
    crawl.progress.estimated_remaining_ms = None;
    if !resumable {
        crawl.finished_at = Some(now_millis());
    }
    match end {
        End::Finished => crawl.state = CrawlState::Finished,
        End::Stopped => crawl.state = CrawlState::Stopped,
        // Left RUNNING: the next start resumes it (or marks it interrupted).
        End::Shutdown if resumable => {}
        End::Shutdown => crawl.state = CrawlState::Stopped,
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
        let rounds_before = crawl.progress.rounds;
        let walk = Walk::new(WalkConfig {
            concurrency: settings.concurrency as usize,
            distances: settings.find_node_distances,
            mode,
            recrawl_interval: settings.recrawl_interval,
            request_timeout: settings.request_timeout,
        });
        let mut dials = Dials::new(
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
        let seed_settings = settings.peer_exchange.seed.as_ref();
        if mode == CrawlMode::Continuous {
            // Its book is written to the store as it changes (see `book`).
            dials.book.track_changes();
        }
        let seed = PxServer::new(
            seed_settings
                .map(|s| s.requester_interval)
                .unwrap_or(crate::model::DEFAULT_SEED_REQUESTER_INTERVAL),
            seed_settings
                .map(|s| s.requests_per_ip)
                .unwrap_or(crate::model::DEFAULT_SEED_REQUESTS_PER_IP),
            match &crawl.spec.profile {
                Profile::Waku { cluster_id, .. } => Some(u32::from(*cluster_id)),
                _ => None,
            },
        );
        let intake = Intake::new(settings.max_peers(), settings.max_new_per_responder);
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
            intake,
            walk_found: HashSet::new(),
            touched: HashMap::new(),
            lookup_only: HashSet::new(),
            rng: StdRng::from_entropy(),
            rounds_before,
        }
    }

    /// Walks and dials until the crawl finishes, fails, or is cancelled.
    async fn run_loop(
        &mut self,
        snapshots: &watch::Sender<Crawl>,
        cancel: &CancellationToken,
        persist_every: Duration,
    ) -> End {
        if let Err(e) = self.bootstrap() {
            return End::Failed(e);
        }
        // Counted from the crawl's creation: a resumed crawl has used part of it already.
        let deadline = self
            .settings
            .max_duration
            .map(|d| tokio::time::Instant::now() + d.saturating_sub(self.crawl.elapsed()));
        let mut reports = Reports::new(persist_every);
        if self.crawl.spec.mode == CrawlMode::Oneshot {
            // Only when asked for (none by default): they run beside the walk.
            self.io.lookups(self.settings.random_lookups);
        }
        loop {
            match self.advance(snapshots, &mut reports) {
                Ok(None) => {}
                Ok(Some(end)) => return end,
                Err(e) => return End::Failed(e),
            }
            let wake = [
                self.walk.next_wakeup(),
                self.dials.book.next_wakeup(),
                reports.next_publish(),
            ]
            .into_iter()
            .flatten()
            .min();
            let handled = tokio::select! {
                _ = cancel.cancelled() => return End::Stopped,
                _ = sleep_until_opt(deadline) => return End::Finished,
                job = self.io.jobs.next() => self.on_job(job),
                Some(event) = self.io.events.recv() => match event {
                    // Nodes a random lookup came across.
                    Event::Discovered(enr) => self.on_lookup_enr(enr),
                    Event::SessionEstablished(enr, _) => {
                        self.on_enr(enr, SourceKind::Discv5, None, Responder::Lookups)
                    }
                    _ => Ok(()),
                },
                ev = next_dial_event(&mut self.io.dialer) => self.on_dial_event(ev),
                _ev = next_relay_event(&mut self.io.relay) => Ok(()),
                _ = sleep_until_opt(wake) => {
                    self.walk.start_round_if_due(tokio::time::Instant::now());
                    Ok(())
                }
            };
            if let Err(e) = handled {
                return End::Failed(e);
            }
        }
    }

    /// Everything due between two events: dials and requests started, events written,
    /// progress published and persisted, the round checked. `Some` when the crawl ends.
    fn advance(
        &mut self,
        snapshots: &watch::Sender<Crawl>,
        reports: &mut Reports,
    ) -> Result<Option<End>, StoreError> {
        self.expire_requests();
        self.fill_dials()?;
        self.flush_events()?;
        self.send_requests();
        self.update_progress();
        reports.due(self, snapshots)?;
        let dials_idle = self.dials.undialed() == 0 && self.io.dialer_idle();
        // Random lookups do not hold a round open.
        match self
            .walk
            .check_round(dials_idle, tokio::time::Instant::now())
        {
            Round::Open => {}
            Round::Done | Round::Finished => {
                // Every known node walked (and, ONESHOT, dialed), nothing new pending.
                self.update_progress();
                snapshots.send_replace(self.crawl.clone());
                self.store.put_crawl(&self.crawl)?;
                if self.crawl.spec.mode == CrawlMode::Oneshot {
                    return Ok(Some(End::Finished));
                }
                // CONTINUOUS: random lookups between rounds, not beside the walk (there
                // they left some of its probes unanswered); the nodes they find are walked
                // as they come.
                self.io.lookups(self.settings.random_lookups);
            }
        }
        Ok(None)
    }
}
