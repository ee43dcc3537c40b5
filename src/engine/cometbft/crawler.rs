//! The CometBFT crawl loop: one task per crawl, owning the address book, the visits in
//! flight and (in seed mode) the pool the seed server answers from.
//!
//! ```text
//!  bootstrap peers ─▶ book (schedule.rs: new / vetted / failing / bad / banned)
//!        ▲                 │ due peers, at most `dial.concurrency` visits at once
//!        │                 ▼
//!  valid, in-scope    visit.rs (blocking pool): TCP, SecretConnection, NodeInfo, PEX
//!  PEX addresses ◀────────┘      │
//!                                └─▶ Store: peers, visits (NodeInfo), events
//!  seed.rs (inbound) ◀── pool of vetted peers of the chain ── refreshed by the loop
//!        └── SeedEvent (served / refused / banned) ──▶ loop ──▶ Store, book bans
//! ```
//!
//! New peers are visited as soon as they are learned; known peers are visited again in
//! crawl passes (every `crawl_interval`) once the book says they are due (`min_recrawl`
//! after a success, 2^n s backoff after a failure, never after `max_dial_attempts` in a
//! row or while banned). A ONESHOT crawl visits every peer it learns once and finishes
//! when none is left.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::rngs::StdRng;
use rand::SeedableRng;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::conn::LocalNode;
use super::seed::{self, SeedConfig, SeedEvent, SeedShared};
use super::select::{PoolEntry, Requesters, Scope};
use super::visit::{visit, PexOutcome, Visit, VisitSettings};
use crate::engine::geo::Geolocator;
use crate::engine::schedule::{AddressBook, Policy, Transition};
use crate::metrics::Metrics;
use crate::model::{
    now_millis, CometBftSettings, Crawl, CrawlMode, CrawlState, NewPeerEvent, NodeId,
    PeerEventKind, PeerSource, PeerState, SourceKind, VisitReport,
};
use crate::protocol::cometbft::node_info::NodeInfo;
use crate::protocol::cometbft::pex;
use crate::protocol::cometbft::{CometId, PeerAddr};
use crate::store::{SessionChange, Store, StoreError, Upsert};

/// Most peers one crawl keeps track of when `max_peers` is not set; addresses beyond it
/// are dropped and counted in `invalid_addrs`.
pub const MAX_KNOWN_PEERS: usize = 200_000;

/// Requesters the seed remembers (last request, bans) at most.
const MAX_REQUESTERS: usize = 100_000;

/// Seed events buffered between the handlers and the loop (a burst of inbound peers);
/// handlers drop events when it is full rather than wait.
const SEED_EVENTS: usize = 1024;

/// The pool the seed answers from is rebuilt at most this often.
const POOL_REFRESH: Duration = Duration::from_millis(250);

/// Everything a crawl task needs.
pub(super) struct Ctx {
    pub crawl: Crawl,
    pub store: Store,
    pub metrics: Metrics,
    pub geo: Option<Geolocator>,
    pub snapshots: watch::Sender<Crawl>,
    pub cancel: CancellationToken,
    pub persist_every: Duration,
    pub local: Arc<LocalNode>,
    /// Seed mode: the bound listener and what the server applies.
    pub seed: Option<(tokio::net::TcpListener, SeedConfig)>,
}

/// What the crawl keeps per peer.
struct Peer {
    addr: PeerAddr,
    /// Visits that connected.
    successes: u32,
    /// ONESHOT: visited already.
    visited: bool,
    /// The network its last NodeInfo named.
    network: Option<String>,
}

enum End {
    Finished,
    Stopped,
    Failed(String),
}

struct Crawler {
    crawl: Crawl,
    settings: CometBftSettings,
    store: Store,
    metrics: Metrics,
    geo: Option<Geolocator>,
    local: Arc<LocalNode>,
    book: AddressBook,
    peers: HashMap<NodeId, Peer>,
    /// ONESHOT: learned, not visited yet.
    pending: HashSet<NodeId>,
    visits: JoinSet<Visit>,
    visit_settings: VisitSettings,
    concurrency: usize,
    max_known: usize,
    scope: Scope,
    rng: StdRng,
    events: Vec<NewPeerEvent>,
    /// A crawl pass is under way: known peers that are due may be visited.
    pass_open: bool,
    next_pass: Instant,
    seed: Option<Arc<Mutex<SeedShared>>>,
    pool_dirty: bool,
    pool_refreshed: Instant,
}

/// Runs the crawl until it finishes or is cancelled, then persists its final state.
pub(super) async fn run(ctx: Ctx) {
    let Ctx {
        crawl,
        store,
        metrics,
        geo,
        snapshots,
        cancel,
        persist_every,
        local,
        seed,
    } = ctx;
    let settings = crawl.spec.profile.cometbft().cloned().unwrap_or_default();
    let dial = &crawl.spec.settings.dial;
    let policy = Policy {
        min_redial: settings.min_recrawl,
        backoff_base: Duration::from_secs(1),
        // 2^16 s: the 16th attempt waits ~18 h, as the reactor's.
        backoff_cap: Duration::from_secs(1 << 16),
        max_attempts: settings.max_dial_attempts,
        ban_duration: settings.ban_duration,
        new_bias_percent: settings.new_bias_percent,
        ..Policy::default()
    };
    let bootstrap: Vec<PeerAddr> = settings
        .peers
        .iter()
        .filter_map(|p| p.parse().ok())
        .collect();
    let scope = Scope::of(bootstrap.iter().map(|p| p.addr.ip()));
    let (seed_tx, mut seed_rx) = mpsc::channel(SEED_EVENTS);
    let shared = seed.map(|(listener, config)| {
        let interval = settings
            .seed
            .as_ref()
            .map_or(crate::model::DEFAULT_COMET_REQUEST_INTERVAL, |s| {
                s.request_interval
            });
        let shared = Arc::new(Mutex::new(SeedShared::new(Requesters::new(
            interval,
            settings.ban_duration,
            MAX_REQUESTERS,
        ))));
        tokio::spawn(seed::serve(
            listener,
            local.clone(),
            shared.clone(),
            config,
            seed_tx.clone(),
            cancel.child_token(),
        ));
        shared
    });
    drop(seed_tx);
    let now = Instant::now();
    let mut c = Crawler {
        max_known: crawl
            .spec
            .settings
            .max_peers
            .map_or(MAX_KNOWN_PEERS, |m| (m as usize).min(MAX_KNOWN_PEERS)),
        visit_settings: VisitSettings {
            connect_timeout: dial.timeout,
            exchange_timeout: settings.exchange_timeout,
            max_addrs: settings.max_addrs as usize,
        },
        concurrency: dial.concurrency.max(1) as usize,
        crawl,
        settings,
        store,
        metrics,
        geo,
        local,
        book: AddressBook::new(policy),
        peers: HashMap::new(),
        pending: HashSet::new(),
        visits: JoinSet::new(),
        scope,
        rng: StdRng::from_entropy(),
        events: Vec::new(),
        pass_open: true,
        next_pass: now,
        seed: shared,
        pool_dirty: true,
        pool_refreshed: now,
    };
    let end = c
        .run_loop(bootstrap, &mut seed_rx, &snapshots, &cancel, persist_every)
        .await;
    cancel.cancel();
    c.visits.abort_all();
    if let Err(e) = c.flush_events() {
        tracing::error!(crawl = c.crawl.id, error = %e, "could not write the last events");
    }
    c.update_progress();
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
            crawl.error = Some(e);
        }
    }
    tracing::info!(
        target: "peerscope::cometbft",
        crawl = crawl.id,
        state = ?crawl.state,
        discovered = crawl.progress.discovered,
        connected = crawl.progress.connected,
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

/// The stored record of a CometBFT peer: its address in the fields an ENR's would fill.
pub fn record_of(addr: &PeerAddr) -> crate::protocol::enr::DecodedEnr {
    use std::net::IpAddr;
    let (ip4, tcp4, ip6, tcp6) = match addr.addr.ip() {
        IpAddr::V4(ip) => (Some(ip), Some(addr.addr.port()), None, None),
        IpAddr::V6(ip) => (None, None, Some(ip), Some(addr.addr.port())),
    };
    crate::protocol::enr::DecodedEnr {
        text: addr.to_string(),
        node_id: addr.id.to_node_id(),
        peer_id: Some(addr.id.to_string()),
        seq: 0,
        ip4,
        tcp4,
        udp4: None,
        ip6,
        tcp6,
        udp6: None,
        waku2: None,
        multiaddrs: Vec::new(),
        shards: None,
        eth2: None,
        attnets: None,
        syncnets: None,
        has_eth: false,
        issues: Vec::new(),
    }
}

/// The address a NodeInfo announces, if it is a plain `ip:port` (optionally `tcp://`).
fn announced(id: CometId, info: &NodeInfo) -> Option<PeerAddr> {
    let host = info
        .listen_addr
        .strip_prefix("tcp://")
        .unwrap_or(&info.listen_addr);
    let addr: std::net::SocketAddr = host.parse().ok()?;
    (addr.port() != 0 && !addr.ip().is_unspecified()).then_some(PeerAddr { id, addr })
}

impl Crawler {
    async fn run_loop(
        &mut self,
        bootstrap: Vec<PeerAddr>,
        seed_rx: &mut mpsc::Receiver<SeedEvent>,
        snapshots: &watch::Sender<Crawl>,
        cancel: &CancellationToken,
        persist_every: Duration,
    ) -> End {
        for addr in bootstrap {
            if let Err(e) = self.discover(addr, SourceKind::Bootstrap, None) {
                return End::Failed(e.to_string());
            }
        }
        let deadline = self
            .crawl
            .spec
            .settings
            .max_duration
            .map(|d| Instant::now() + d);
        let oneshot = self.crawl.spec.mode == CrawlMode::Oneshot;
        let mut persist = tokio::time::interval(persist_every);
        persist.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut publish = tokio::time::interval(Duration::from_millis(100));
        publish.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            self.fill();
            self.refresh_pool(false);
            if let Err(e) = self.flush_events() {
                return End::Failed(e.to_string());
            }
            if oneshot && self.visits.is_empty() && self.pending.is_empty() {
                self.crawl.progress.rounds = 1;
                return End::Finished;
            }
            if self
                .crawl
                .spec
                .settings
                .max_peers
                .is_some_and(|m| self.peers.len() as u64 >= m)
            {
                return End::Finished;
            }
            let next_pass = self.next_pass;
            tokio::select! {
                biased;
                _ = cancel.cancelled() => return End::Stopped,
                _ = sleep_until_opt(deadline) => return End::Finished,
                Some(done) = self.visits.join_next(), if !self.visits.is_empty() => {
                    match done {
                        Ok(v) => {
                            if let Err(e) = self.on_visit(v) {
                                return End::Failed(e.to_string());
                            }
                        }
                        Err(e) if e.is_cancelled() => {}
                        Err(e) => tracing::error!(error = %e, "visit task failed"),
                    }
                }
                Some(ev) = seed_rx.recv() => {
                    if let Err(e) = self.on_seed_event(ev) {
                        return End::Failed(e.to_string());
                    }
                }
                _ = tokio::time::sleep_until(next_pass), if !oneshot => {
                    if let Err(e) = self.start_pass() {
                        return End::Failed(e.to_string());
                    }
                }
                _ = publish.tick() => {
                    self.update_progress();
                    snapshots.send_replace(self.crawl.clone());
                }
                _ = persist.tick() => {
                    self.update_progress();
                    if let Err(e) = self.store.put_crawl(&self.crawl) {
                        return End::Failed(e.to_string());
                    }
                }
            }
        }
    }

    /// A crawl pass: lift expired bans, let due known peers be visited.
    fn start_pass(&mut self) -> Result<(), StoreError> {
        let now = Instant::now();
        self.next_pass = now + self.settings.crawl_interval;
        self.pass_open = true;
        self.crawl.progress.rounds += 1;
        for node in self.book.expire_bans(now) {
            self.event(PeerEventKind::Unbanned, node);
            self.store.set_peer_state(&node, PeerState::New)?;
            if let (Some(shared), Some(id)) = (&self.seed, CometId::from_node_id(&node)) {
                seed::lock(shared).requesters.unban(&id);
            }
        }
        Ok(())
    }

    /// Starts visits while there is room and the book has due peers.
    fn fill(&mut self) {
        let oneshot = self.crawl.spec.mode == CrawlMode::Oneshot;
        while self.visits.len() < self.concurrency {
            let now = Instant::now();
            let Some(node) = self.book.next_due(now, &mut self.rng) else {
                self.pass_open = false;
                break;
            };
            let Some(peer) = self.peers.get(&node) else {
                continue;
            };
            if oneshot && peer.visited {
                // Visited once: a ONESHOT crawl does not come back.
                self.book
                    .defer(node, now + Duration::from_secs(365 * 86_400));
                continue;
            }
            let known = peer.successes > 0 || peer.visited;
            if known && !self.pass_open && !oneshot {
                self.book.defer(node, self.next_pass);
                continue;
            }
            self.crawl.progress.dials += 1;
            let (target, local, settings) = (peer.addr, self.local.clone(), self.visit_settings);
            self.visits.spawn(visit(target, local, settings));
        }
    }

    /// Learns `addr`; returns whether it was new to the crawl.
    fn discover(
        &mut self,
        addr: PeerAddr,
        kind: SourceKind,
        via: Option<String>,
    ) -> Result<bool, StoreError> {
        let node = addr.id.to_node_id();
        if self.peers.contains_key(&node) || addr.id == self.local.id() {
            return Ok(false);
        }
        if self.peers.len() >= self.max_known {
            self.crawl.progress.invalid_addrs += 1;
            return Ok(false);
        }
        let now = now_millis();
        self.peers.insert(
            node,
            Peer {
                addr,
                successes: 0,
                visited: false,
                network: None,
            },
        );
        self.pending.insert(node);
        self.book.add(node, Instant::now());
        let record = record_of(&addr);
        match self.store.upsert_peer(self.crawl.id, &record, now)? {
            Upsert::New | Upsert::NewToCrawl => {
                let ev = self.event(PeerEventKind::Discovered, node);
                ev.enr = Some(record.text.clone());
            }
            Upsert::Updated { .. } | Upsert::Seen => {}
        }
        self.store.add_peer_source(
            &node,
            PeerSource {
                kind,
                via,
                first_seen: now,
            },
        )?;
        if let Some(geo) = &self.geo {
            geo.submit(node, addr.addr.ip());
        }
        Ok(true)
    }

    fn event(&mut self, kind: PeerEventKind, node: NodeId) -> &mut NewPeerEvent {
        self.events.push(NewPeerEvent {
            time: now_millis(),
            kind,
            crawl_id: self.crawl.id,
            node_id: node,
            peer_id: CometId::from_node_id(&node).map(|id| id.to_string()),
            enr_seq: 0,
            enr: None,
            error_class: None,
            detail: None,
        });
        self.events.last_mut().expect("just pushed")
    }

    /// Bans `node` (book, seed, store) for misbehaving; `reason` goes in the event.
    fn ban(&mut self, node: NodeId, reason: &str) -> Result<(), StoreError> {
        if self.book.ban(node, Instant::now()) == Transition::Banned {
            self.crawl.progress.banned += 1;
            self.event(PeerEventKind::Banned, node).detail = Some(reason.to_string());
            self.store.set_peer_state(&node, PeerState::Banned)?;
        }
        if let (Some(shared), Some(id)) = (&self.seed, CometId::from_node_id(&node)) {
            seed::lock(shared).requesters.ban(id, Instant::now());
        }
        self.pool_dirty = true;
        Ok(())
    }

    fn on_visit(&mut self, v: Visit) -> Result<(), StoreError> {
        let node = v.target.id.to_node_id();
        let now = Instant::now();
        self.pending.remove(&node);
        if let Some(p) = self.peers.get_mut(&node) {
            p.visited = true;
        }
        self.pool_dirty = true;
        let mut report = VisitReport {
            node_id: node,
            crawl_id: self.crawl.id,
            started: v.started,
            duration_ms: v.duration.as_millis() as u64,
            address: Some(v.target.addr.to_string()),
            error_class: None,
            error: None,
            identify: None,
            metadata: None,
            metadata_error: None,
            rtt_us: None,
            node_info: None,
        };
        match v.result {
            Ok((info, outcome)) => {
                self.crawl.progress.connected += 1;
                self.crawl.progress.identified += 1;
                self.metrics.dial("connected");
                self.book.on_success(node, now);
                if let Some(p) = self.peers.get_mut(&node) {
                    p.successes += 1;
                    p.network = Some(info.network.clone());
                }
                self.event(PeerEventKind::Connected, node).detail = Some(v.target.to_string());
                self.event(PeerEventKind::Identified, node).detail = Some(format!(
                    "network={} version={} moniker={}",
                    info.network, info.version, info.moniker
                ));
                report.node_info = Some(Box::new(info));
                self.crawl.progress.px_requests += 1;
                match outcome {
                    PexOutcome::Addrs(list) => {
                        match pex::validate(&list, self.visit_settings.max_addrs) {
                            Ok(valid) => {
                                let via = Some(v.target.id.to_string());
                                let (mut new, mut dropped) = (0u64, valid.unusable as u64);
                                let total = valid.addrs.len() + valid.unusable;
                                for a in valid.addrs {
                                    if !self.scope.allows(a.addr.ip()) || a.id == self.local.id() {
                                        dropped += 1;
                                    } else if self.discover(
                                        a,
                                        SourceKind::PeerExchange,
                                        via.clone(),
                                    )? {
                                        new += 1;
                                    }
                                }
                                self.crawl.progress.invalid_addrs += dropped;
                                self.crawl.progress.px_enrs += total as u64 - dropped;
                                self.metrics.px_request("ok", total as u64 - dropped);
                                self.event(PeerEventKind::PeerExchange, node).detail = Some(
                                    format!("{total} addresses, {new} new, {dropped} dropped"),
                                );
                            }
                            Err(e) => {
                                let reason = format!("malformed address list: {e}");
                                self.abuse(node, &mut report, reason)?;
                            }
                        }
                    }
                    PexOutcome::NoAnswer(why) => {
                        self.crawl.progress.px_failures += 1;
                        self.metrics.px_request("failed", 0);
                        self.event(PeerEventKind::PeerExchange, node).detail =
                            Some(format!("failed: {why}"));
                    }
                    PexOutcome::Abuse(why) => self.abuse(node, &mut report, why)?,
                }
            }
            Err(e) => {
                let class = e.class();
                self.metrics.dial(class.as_str());
                *self
                    .crawl
                    .progress
                    .failed_by_class
                    .entry(class.as_str().to_string())
                    .or_default() += 1;
                let text = e.to_string();
                if let Some(info) = e.node_info() {
                    if let Some(p) = self.peers.get_mut(&node) {
                        p.network = Some(info.network.clone());
                    }
                    report.node_info = Some(Box::new(info.clone()));
                }
                let ev = self.event(PeerEventKind::DialFailed, node);
                ev.error_class = Some(class);
                ev.detail = Some(text.clone());
                report.error_class = Some(class);
                report.error = Some(text.clone());
                if self.book.on_failure(node, class, now, &mut self.rng) == Transition::Banned {
                    self.crawl.progress.banned += 1;
                    self.event(PeerEventKind::Banned, node).detail = Some(text);
                    if let (Some(shared), Some(id)) = (&self.seed, CometId::from_node_id(&node)) {
                        seed::lock(shared).requesters.ban(id, now);
                    }
                }
            }
        }
        let state = self.book.get(&node).map(|e| e.state).unwrap_or_default();
        match self.store.record_visit(&report, state)? {
            SessionChange::Up => {
                self.event(PeerEventKind::PeerUp, node);
            }
            SessionChange::Down => {
                let ev = self.event(PeerEventKind::PeerDown, node);
                ev.error_class = report.error_class;
                ev.detail = report.error.clone();
            }
            SessionChange::None => {}
        }
        Ok(())
    }

    /// The peer broke the PEX rules after connecting: nothing it sent is used; banned.
    fn abuse(
        &mut self,
        node: NodeId,
        report: &mut VisitReport,
        reason: String,
    ) -> Result<(), StoreError> {
        self.crawl.progress.px_failures += 1;
        self.metrics.px_request("abuse", 0);
        self.event(PeerEventKind::PeerExchange, node).detail = Some(format!("refused: {reason}"));
        report.error = Some(format!("banned: {reason}"));
        self.ban(node, &reason)
    }

    /// An inbound peer's announced address joins the crawl (CometBFT's seed adds inbound
    /// peers to its book too).
    fn inbound(&mut self, id: CometId, info: &NodeInfo) -> Result<(), StoreError> {
        if let Some(addr) = announced(id, info) {
            if self.scope.allows(addr.addr.ip()) {
                self.discover(addr, SourceKind::Inbound, None)?;
            }
        }
        Ok(())
    }

    fn on_seed_event(&mut self, ev: SeedEvent) -> Result<(), StoreError> {
        match ev {
            SeedEvent::Served { id, info, sent } => {
                self.crawl.progress.px_served += 1;
                self.metrics.px_served("ok");
                self.inbound(id, &info)?;
                self.event(PeerEventKind::PeerExchangeServed, id.to_node_id())
                    .detail = Some(format!(
                    "answered {sent} addresses (network {})",
                    info.network
                ));
            }
            SeedEvent::Refused {
                id,
                info,
                reason,
                banned,
            } => {
                self.crawl.progress.px_refused += 1;
                self.metrics.px_served("refused");
                if let Some(info) = &info {
                    self.inbound(id, info)?;
                }
                let node = id.to_node_id();
                self.event(PeerEventKind::PeerExchangeServed, node).detail =
                    Some(format!("refused: {reason}"));
                if banned {
                    self.ban(node, &reason)?;
                }
            }
            SeedEvent::Failed {
                id,
                info,
                class,
                reason,
            } => {
                self.metrics.px_served(class.as_str());
                tracing::debug!(target: "peerscope::cometbft", ?id, network = ?info.map(|i| i.network), %reason, "inbound connection failed");
            }
            SeedEvent::Overloaded => self.metrics.px_served("overloaded"),
        }
        Ok(())
    }

    /// Rebuilds the seed's pool from the book: vetted peers of the crawl's chain.
    fn refresh_pool(&mut self, force: bool) {
        let Some(shared) = &self.seed else {
            return;
        };
        if !self.pool_dirty || (!force && self.pool_refreshed.elapsed() < POOL_REFRESH) {
            return;
        }
        let chain = &self.settings.chain_id;
        let pool: Vec<PoolEntry> = self
            .peers
            .iter()
            .filter(|(node, p)| {
                p.network.as_ref() == Some(chain)
                    && self
                        .book
                        .get(node)
                        .is_some_and(|e| e.state == PeerState::Vetted)
            })
            .map(|(_, p)| PoolEntry {
                id: p.addr.id,
                addr: p.addr.to_proto(),
                old: p.successes >= 2,
            })
            .collect();
        seed::lock(shared).pool = pool;
        self.pool_dirty = false;
        self.pool_refreshed = Instant::now();
    }

    fn flush_events(&mut self) -> Result<(), StoreError> {
        if !self.events.is_empty() {
            let n = self.events.len() as u64;
            self.store.append_events(std::mem::take(&mut self.events))?;
            self.metrics.events_written(n);
        }
        Ok(())
    }

    fn update_progress(&mut self) {
        let p = &mut self.crawl.progress;
        p.discovered = self.peers.len() as u64;
        p.in_flight = self.visits.len() as u64;
        p.dialing = self.visits.len() as u64;
        p.dial_queued = self.pending.len() as u64;
        p.queued = self.pending.len() as u64;
        p.queried = self.peers.values().filter(|x| x.visited).count() as u64;
    }
}

async fn sleep_until_opt(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}
