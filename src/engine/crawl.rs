//! One crawl: a discv5 instance and the loop that enumerates the network through it.
//!
//! **Enumeration.** Every node the crawl learns of is walked once per round. The walk opens
//! with a probe, FINDNODE at distance 0, which returns the node's own current record (so
//! ENR updates are seen every round); a node that does not answer it (after one retry) is
//! marked unresponsive and costs nothing more. Then one FINDNODE per distance, from 256 down
//! (`find_node_distances` of them, 17 by default as Nebula does). Random-target lookups run beside the walk, and
//! every ENR discv5 reports (`Discovered`, `SessionEstablished`) feeds the same queue. A
//! round ends when the queue is empty and nothing is in flight: every known node has been
//! asked and nothing new appeared.
//!
//! **One distance per request.** discv5 0.12 hands a designated FINDNODE only the *first*
//! NODES packet of a multi-packet answer (the crate's `find_node_designated_peer` returns
//! on the first packet; later ones are dropped as unmatched). A packet holds about 7 Waku
//! ENRs, so a request naming several distances, or a full bucket, loses records. Asking
//! one distance at a time keeps most answers in one packet; what a full far bucket still
//! loses is found through the other nodes' tables (the integration test
//! `designated_find_node_keeps_first_packet_only` shows the truncation, and the crawl tests
//! show the walk still finds every node).

use std::collections::{HashMap, HashSet, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use discv5::{ConfigBuilder, Discv5, Event, ListenConfig, ProtocolIdentity};
use enr::CombinedKey;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use libp2p::multiaddr::Protocol;
use libp2p::{Multiaddr, PeerId};
use rand::rngs::StdRng;
use rand::SeedableRng;

use super::dialer::{Dialer, DialerConfig, DialerEvent};
use super::relay_monitor::{RelayConfig, RelayEvent, RelayMonitor};
use super::schedule::{AddressBook, Policy, Transition};
use crate::engine::counter::MessageCounter;
use crate::engine::geo::Geolocator;
use crate::metrics::Metrics;
use crate::model::{
    now_millis, Crawl, CrawlMode, CrawlSettings, CrawlSpec, CrawlState, ErrorClass, NewPeerEvent,
    NodeId, PeerEventKind, PeerSource, PeerState, Profile, SourceKind, VisitReport,
};
use crate::protocol::enr::{parse_enr, DecodedEnr, Enr};
use crate::protocol::waku::WakuMetadata;
use crate::protocol::waku::{px_status, PxPeerInfo, PxResponse, PxRpc, PX_MAX_PEERS};
use crate::store::{SessionChange, Store, StoreError, Upsert};

/// Attempts per FINDNODE request (discv5 itself also retransmits once per attempt).
const ATTEMPTS: u8 = 2;

/// FINDNODE distance 0 asks a node for its own record.
const PROBE: u64 = 0;

/// A discv5 configuration for crawling: the profile's protocol id, no ENR updates from
/// peers' PONGs, no NAT probing, and a session cache big enough to keep a session with
/// every node of a large network (re-handshaking costs an ECDH per node).
pub fn discv5_config(
    listen: ListenConfig,
    protocol_id: [u8; 6],
    request_timeout: Duration,
) -> discv5::Config {
    ConfigBuilder::new(listen)
        .protocol_identity(ProtocolIdentity {
            protocol_id,
            protocol_version: 1u16.to_be_bytes(),
        })
        .request_timeout(request_timeout)
        .request_retries(1)
        .query_peer_timeout(request_timeout * 2)
        .session_cache_capacity(20_000)
        .disable_enr_update()
        .auto_nat_listen_duration(None)
        .build()
}

/// A local ENR with no ip or udp: others cannot add the crawler to their tables, but it
/// can query them (a passive crawler).
pub fn passive_local_enr(key: &CombinedKey) -> Result<Enr, String> {
    Enr::builder().build(key).map_err(|e| e.to_string())
}

/// A seed's local ENR: ip/tcp (its libp2p listener) and udp (its discv5 socket), so that
/// others can dial it and add it to their tables.
pub fn seed_local_enr(key: &CombinedKey, ip: IpAddr, tcp: u16, udp: u16) -> Result<Enr, String> {
    let mut b = Enr::builder();
    match ip {
        IpAddr::V4(ip) => {
            b.ip4(ip).tcp4(tcp).udp4(udp);
        }
        IpAddr::V6(ip) => {
            b.ip6(ip).tcp6(tcp).udp6(udp);
        }
    }
    b.build(key).map_err(|e| e.to_string())
}

/// The libp2p identity of a secp256k1 discv5 key.
fn libp2p_key(key: &CombinedKey) -> Result<libp2p::identity::Keypair, String> {
    let CombinedKey::Secp256k1(k) = key else {
        return Err("crawl keys are secp256k1".into());
    };
    let mut secret = k.to_bytes().to_vec();
    let sk = libp2p::identity::secp256k1::SecretKey::try_from_bytes(&mut secret)
        .map_err(|e| e.to_string())?;
    Ok(libp2p::identity::Keypair::from(
        libp2p::identity::secp256k1::Keypair::from(sk),
    ))
}

/// A started discv5 instance for one crawl.
pub(super) struct Discovery {
    discv5: Discv5,
    events: mpsc::Receiver<Event>,
    local_addr: SocketAddr,
    local_id: NodeId,
    dialer: Option<Dialer>,
    relay: Option<RelayMonitor>,
    /// Seed mode: the libp2p TCP address peer exchange is served on.
    seed_addr: Option<SocketAddr>,
    /// Where peers' IPs go to be geolocated (when geolocation is on).
    geo: Option<Geolocator>,
}

impl Discovery {
    /// Sends the IPs of the peers this crawl learns to `geo`.
    pub(super) fn with_geolocator(mut self, geo: Option<Geolocator>) -> Discovery {
        self.geo = geo;
        self
    }

    /// Binds the UDP socket on `addr` and starts discv5 with the crawl's bootstrap ENRs.
    pub(super) async fn start(
        spec: &CrawlSpec,
        addr: SocketAddr,
        counter: &MessageCounter,
        metrics: &Metrics,
    ) -> Result<Discovery, String> {
        let socket = tokio::net::UdpSocket::bind(addr)
            .await
            .map_err(|e| e.to_string())?;
        let local_addr = socket.local_addr().map_err(|e| e.to_string())?;
        let socket = Arc::new(socket);
        let listen = if addr.is_ipv4() {
            ListenConfig::FromSockets {
                ipv4: Some(socket),
                ipv6: None,
            }
        } else {
            ListenConfig::FromSockets {
                ipv4: None,
                ipv6: Some(socket),
            }
        };
        let key = CombinedKey::generate_secp256k1();
        let dial = &spec.settings.dial;
        let px = &spec.settings.peer_exchange;
        let mut dialer = if dial.enabled {
            let metadata = match &spec.profile {
                Profile::Waku { cluster_id, shards } => Some(WakuMetadata {
                    cluster_id: Some(u32::from(*cluster_id)),
                    shards: shards.iter().map(|s| u32::from(*s)).collect(),
                }),
                _ => None,
            };
            Some(Dialer::new(
                DialerConfig {
                    dial_timeout: dial.timeout,
                    visit_timeout: dial.timeout,
                    agent_version: format!("peerscope/{}", env!("CARGO_PKG_VERSION")),
                    metadata,
                    px_client: px.client,
                    px_interval: px.interval,
                    px_serve: px.seed.is_some(),
                },
                libp2p_key(&key)?,
            )?)
        } else {
            None
        };
        let (local_enr, seed_addr) = match (&px.seed, dialer.as_mut()) {
            (Some(seed), Some(d)) => {
                let tcp = d
                    .listen(seed.listen_addr.unwrap_or(SocketAddr::new(addr.ip(), 0)))
                    .await?;
                let ip = seed.advertise_ip.unwrap_or(tcp.ip());
                if ip.is_unspecified() {
                    return Err(
                        "seed mode listens on an unspecified address: set advertise_ip".into(),
                    );
                }
                (
                    seed_local_enr(&key, ip, tcp.port(), local_addr.port())?,
                    Some(tcp),
                )
            }
            (Some(_), None) => return Err("seed mode needs dial".into()),
            (None, _) => (passive_local_enr(&key)?, None),
        };
        let local_id = local_enr.node_id().raw();
        let config = discv5_config(
            listen,
            spec.profile.protocol_id(),
            spec.settings.request_timeout,
        );
        let mut discv5 = Discv5::new(local_enr, key, config).map_err(|e| e.to_string())?;
        discv5.start().await.map_err(|e| e.to_string())?;
        let events = discv5.event_stream().await.map_err(|e| e.to_string())?;
        let relay_settings = &spec.settings.relay;
        let relay = if relay_settings.enabled {
            Some(RelayMonitor::new(
                RelayConfig {
                    topics: relay_settings.topics.clone(),
                    peers: relay_settings.peers as usize,
                    dial_timeout: dial.timeout,
                    agent_version: format!("peerscope/{}", env!("CARGO_PKG_VERSION")),
                },
                counter.clone(),
                metrics.clone(),
            )?)
        } else {
            None
        };
        Ok(Discovery {
            discv5,
            events,
            local_addr,
            local_id,
            dialer,
            relay,
            seed_addr,
            geo: None,
        })
    }

    /// The bound UDP address.
    pub(super) fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Seed mode: the TCP address peer exchange is served on.
    pub(super) fn seed_addr(&self) -> Option<SocketAddr> {
        self.seed_addr
    }

    /// The crawl's local ENR (passive, or a seed's with ip/tcp/udp).
    pub(super) fn local_enr(&self) -> Enr {
        self.discv5.local_enr()
    }
}

/// What a finished job reports back to the loop.
enum Job {
    FindNode {
        node: NodeId,
        distance: u64,
        attempt: u8,
        result: Result<Vec<Enr>, String>,
    },
    Lookup(Result<Vec<Enr>, String>),
}

/// Walk state of one node in the current round.
struct NodeWalk {
    /// Requests not yet finished (answered or given up).
    remaining: u32,
}

/// Why the crawl loop ended.
enum End {
    /// ONESHOT enumeration complete, or a limit hit.
    Finished,
    /// Cancelled (StopCrawl or shutdown).
    Stopped,
    /// The store failed.
    Failed(String),
}

struct Crawler {
    crawl: Crawl,
    settings: CrawlSettings,
    store: Store,
    metrics: Metrics,
    discovery: Discovery,
    /// Every node this crawl knows, with its newest record.
    known: HashMap<NodeId, Enr>,
    /// Nodes waiting to be walked this round.
    queue: VecDeque<NodeId>,
    /// Nodes queued or walked this round.
    scheduled: HashSet<NodeId>,
    /// Nodes whose probe failed, to be probed once more when the round's queue drains.
    stragglers: Vec<NodeId>,
    /// Nodes given their second chance this round.
    second_chance: HashSet<NodeId>,
    /// Requests ready to send: (node, distance, attempt).
    ready: VecDeque<(NodeId, u64, u8)>,
    walking: HashMap<NodeId, NodeWalk>,
    jobs: JoinSet<Job>,
    events: Vec<NewPeerEvent>,
    limit_hit: bool,
    /// Dialing: the address book, each node's libp2p identity and addresses, what is still
    /// to dial this round (ONESHOT), dials in flight per IP.
    book: AddressBook,
    targets: HashMap<NodeId, DialTarget>,
    to_dial: HashSet<NodeId>,
    per_ip: HashMap<IpAddr, u32>,
    dialing_ip: HashMap<NodeId, IpAddr>,
    rng: StdRng,
    /// CONTINUOUS: when the next walk round starts.
    next_round: Option<tokio::time::Instant>,
    /// (node, source kind, via) already written to the peer's sources.
    sources_seen: HashSet<(NodeId, SourceKind, Option<String>)>,
    /// Each known node's cluster from its ENR (`rs`/`rsv`).
    clusters: HashMap<NodeId, Option<u16>>,
    /// Seed mode: when each requester was last answered.
    px_answered: HashMap<PeerId, tokio::time::Instant>,
    /// Where peers' IPs are sent to be geolocated (when geolocation is on).
    geo: Option<Geolocator>,
    /// ONESHOT: (time, nodes walked, dials done) samples of the last seconds, for the
    /// completion estimate.
    throughput: VecDeque<(Instant, u64, u64)>,
}

/// Samples of the completion estimate: at most one per this interval…
const THROUGHPUT_SAMPLE: Duration = Duration::from_millis(250);
/// …kept over this window.
const THROUGHPUT_WINDOW: Duration = Duration::from_secs(10);

/// Where and whom to dial.
struct DialTarget {
    peer: PeerId,
    addrs: Vec<Multiaddr>,
    ip: Option<IpAddr>,
}

/// libp2p TCP addresses of a record: `ip`/`tcp`, `ip6`/`tcp6`, and the plain TCP entries of
/// `multiaddrs` (DNS and websocket entries need transports the crawler does not run).
fn dial_target(decoded: &DecodedEnr) -> Option<DialTarget> {
    let peer: PeerId = decoded.peer_id.as_ref()?.parse().ok()?;
    let mut addrs = Vec::new();
    if let (Some(ip), Some(tcp)) = (decoded.ip4, decoded.tcp4) {
        addrs.push(
            Multiaddr::empty()
                .with(Protocol::Ip4(ip))
                .with(Protocol::Tcp(tcp)),
        );
    }
    if let (Some(ip), Some(tcp)) = (decoded.ip6, decoded.tcp6) {
        addrs.push(
            Multiaddr::empty()
                .with(Protocol::Ip6(ip))
                .with(Protocol::Tcp(tcp)),
        );
    }
    for text in &decoded.multiaddrs {
        let Ok(ma) = text.parse::<Multiaddr>() else {
            continue;
        };
        let plain_tcp = {
            let mut it = ma.iter();
            matches!(
                (it.next(), it.next(), it.next()),
                (
                    Some(Protocol::Ip4(_) | Protocol::Ip6(_)),
                    Some(Protocol::Tcp(_)),
                    None
                )
            )
        };
        if plain_tcp && !addrs.contains(&ma) {
            addrs.push(ma);
        }
    }
    let ip = addrs.first().and_then(|a| match a.iter().next() {
        Some(Protocol::Ip4(ip)) => Some(IpAddr::V4(ip)),
        Some(Protocol::Ip6(ip)) => Some(IpAddr::V6(ip)),
        _ => None,
    });
    Some(DialTarget { peer, addrs, ip })
}

/// The IP of a record: `ip`, else `ip6`.
fn enr_ip(decoded: &DecodedEnr) -> Option<IpAddr> {
    decoded
        .ip4
        .map(IpAddr::V4)
        .or_else(|| decoded.ip6.map(IpAddr::V6))
}

/// Runs the crawl until it finishes or is cancelled, then persists its final state.
pub(super) async fn run(
    discovery: Discovery,
    crawl: Crawl,
    store: Store,
    metrics: Metrics,
    snapshots: watch::Sender<Crawl>,
    cancel: CancellationToken,
    persist_every: Duration,
) {
    let settings = crawl.spec.settings.clone();
    let settings_min_redial = settings
        .dial
        .min_redial
        .unwrap_or(settings.recrawl_interval);
    let geo = discovery.geo.clone();
    let mut c = Crawler {
        crawl,
        settings,
        store,
        metrics,
        discovery,
        known: HashMap::new(),
        queue: VecDeque::new(),
        scheduled: HashSet::new(),
        ready: VecDeque::new(),
        stragglers: Vec::new(),
        second_chance: HashSet::new(),
        walking: HashMap::new(),
        jobs: JoinSet::new(),
        events: Vec::new(),
        limit_hit: false,
        book: AddressBook::new(Policy {
            min_redial: settings_min_redial,
            ..Policy::default()
        }),
        targets: HashMap::new(),
        to_dial: HashSet::new(),
        per_ip: HashMap::new(),
        dialing_ip: HashMap::new(),
        rng: StdRng::from_entropy(),
        next_round: None,
        sources_seen: HashSet::new(),
        clusters: HashMap::new(),
        px_answered: HashMap::new(),
        geo,
        throughput: VecDeque::new(),
    };
    let end = c.run_loop(&snapshots, &cancel, persist_every).await;
    c.jobs.abort_all();
    c.discovery.discv5.shutdown();
    // Dropping the swarms closes their connections; visits cut short are not recorded.
    c.discovery.dialer = None;
    c.discovery.relay = None;
    if let Err(e) = c.flush_events() {
        tracing::error!(crawl = c.crawl.id, error = %e, "could not write the last events");
    }
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
    async fn run_loop(
        &mut self,
        snapshots: &watch::Sender<Crawl>,
        cancel: &CancellationToken,
        persist_every: Duration,
    ) -> End {
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
                    if let Err(e) = self.discovery.discv5.add_enr(enr.clone()) {
                        tracing::debug!(error = e, "bootstrap ENR not added to the table");
                    }
                    if let Err(e) = self.on_enr(enr, source, None) {
                        return End::Failed(e.to_string());
                    }
                }
                Err(e) => tracing::warn!(error = %e, "skipping bad bootstrap ENR"),
            }
        }
        let deadline = self
            .settings
            .max_duration
            .map(|d| tokio::time::Instant::now() + d);
        let mut last_publish = Instant::now();
        let mut last_persist = Instant::now();
        self.spawn_lookups();
        loop {
            if let Err(e) = self.fill_dials() {
                return End::Failed(e.to_string());
            }
            if let Err(e) = self.flush_events() {
                return End::Failed(e.to_string());
            }
            if self.limit_hit {
                return End::Finished;
            }
            self.fill();
            self.update_progress();
            if last_publish.elapsed() >= Duration::from_millis(100) {
                snapshots.send_replace(self.crawl.clone());
                last_publish = Instant::now();
            }
            if last_persist.elapsed() >= persist_every {
                if let Err(e) = self.store.put_crawl(&self.crawl) {
                    return End::Failed(e.to_string());
                }
                last_persist = Instant::now();
            }
            let oneshot = self.crawl.spec.mode == CrawlMode::Oneshot;
            let mut walk_idle =
                self.jobs.is_empty() && self.ready.is_empty() && self.queue.is_empty();
            if walk_idle && !self.stragglers.is_empty() {
                self.queue.extend(self.stragglers.drain(..));
                self.fill();
                walk_idle = false;
            }
            let dial_idle =
                self.to_dial.is_empty() && self.discovery.dialer.as_ref().is_none_or(|d| d.idle());
            if self.next_round.is_none() && walk_idle && (dial_idle || !oneshot) {
                // Round complete: every known node walked (and, ONESHOT, dialed), nothing
                // new pending.
                self.crawl.progress.rounds += 1;
                self.update_progress();
                snapshots.send_replace(self.crawl.clone());
                if let Err(e) = self.store.put_crawl(&self.crawl) {
                    return End::Failed(e.to_string());
                }
                if oneshot {
                    return End::Finished;
                }
                self.next_round =
                    Some(tokio::time::Instant::now() + self.settings.recrawl_interval);
            }
            let wake = [self.next_round, self.book.next_wakeup()]
                .into_iter()
                .flatten()
                .min();
            tokio::select! {
                _ = cancel.cancelled() => return End::Stopped,
                _ = sleep_until_opt(deadline) => return End::Finished,
                Some(done) = self.jobs.join_next(), if !self.jobs.is_empty() => {
                    match done {
                        Ok(job) => {
                            if let Err(e) = self.on_job(job) {
                                return End::Failed(e.to_string());
                            }
                        }
                        Err(e) if e.is_panic() => tracing::error!(error = %e, "crawl job panicked"),
                        Err(_) => {}
                    }
                }
                Some(event) = self.discovery.events.recv() => {
                    let enr = match event {
                        Event::Discovered(enr) => Some(enr),
                        Event::SessionEstablished(enr, _) => Some(enr),
                        _ => None,
                    };
                    if let Some(enr) = enr {
                        if let Err(e) = self.on_enr(enr, SourceKind::Discv5, None) {
                            return End::Failed(e.to_string());
                        }
                    }
                }
                ev = next_dial_event(&mut self.discovery.dialer) => {
                    if let Err(e) = self.on_dial_event(ev) {
                        return End::Failed(e.to_string());
                    }
                }
                _ev = next_relay_event(&mut self.discovery.relay) => {}
                _ = sleep_until_opt(wake) => {
                    if self.next_round.is_some_and(|t| t <= tokio::time::Instant::now()) {
                        self.next_round = None;
                        self.start_round();
                    }
                }
            }
        }
    }

    /// Re-queues every known node for a new round.
    fn start_round(&mut self) {
        self.scheduled.clear();
        self.second_chance.clear();
        self.crawl.progress.queried = 0;
        self.crawl.progress.unresponsive = 0;
        let mut ids: Vec<NodeId> = self.known.keys().copied().collect();
        ids.sort_unstable();
        for id in ids {
            self.scheduled.insert(id);
            self.queue.push_back(id);
        }
        self.spawn_lookups();
    }

    fn spawn_lookups(&mut self) {
        for _ in 0..self.settings.random_lookups {
            let fut = self.discovery.discv5.find_node(enr::NodeId::random());
            self.jobs
                .spawn(async move { Job::Lookup(fut.await.map_err(|e| format!("{e:?}"))) });
        }
    }

    /// Starts requests while fewer than `concurrency` are in flight: first the remaining
    /// distances of nodes already being walked, then probes of new nodes.
    fn fill(&mut self) {
        let limit = self.settings.concurrency as usize;
        while self.jobs.len() < limit {
            if let Some((node, distance, attempt)) = self.ready.pop_front() {
                self.spawn_find_node(node, distance, attempt);
                continue;
            }
            let Some(node) = self.queue.pop_front() else {
                break;
            };
            let Some(enr) = self.known.get(&node) else {
                continue;
            };
            if enr.udp4_socket().is_none() && enr.udp6_socket().is_none() {
                // Nothing to send to: counts as walked, unresponsive.
                self.crawl.progress.queried += 1;
                self.crawl.progress.unresponsive += 1;
                continue;
            }
            self.walking.insert(
                node,
                NodeWalk {
                    remaining: self.settings.find_node_distances + 1,
                },
            );
            self.spawn_find_node(node, PROBE, 1);
        }
    }

    fn spawn_find_node(&mut self, node: NodeId, distance: u64, attempt: u8) {
        let Some(enr) = self.known.get(&node).cloned() else {
            return;
        };
        self.crawl.progress.find_node_requests += 1;
        self.metrics.find_node(1, 0);
        let fut = self
            .discovery
            .discv5
            .find_node_designated_peer(enr, vec![distance]);
        // discv5 times requests out itself; this outer bound only guards against a lost
        // callback.
        let guard = self.settings.request_timeout * 3 + Duration::from_secs(1);
        self.jobs.spawn(async move {
            let result = match tokio::time::timeout(guard, fut).await {
                Ok(r) => r.map_err(|e| format!("{e:?}")),
                Err(_) => Err("timed out".to_string()),
            };
            Job::FindNode {
                node,
                distance,
                attempt,
                result,
            }
        });
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
                node,
                distance,
                attempt,
                result,
            } => match result {
                Ok(enrs) => {
                    if distance == PROBE {
                        let lowest = 257 - u64::from(self.settings.find_node_distances);
                        for d in (lowest..=256).rev() {
                            self.ready.push_back((node, d, 1));
                        }
                    }
                    if distance == PROBE {
                        // It answered: seen now (once per walk, not per request).
                        self.store.touch_peer(&node, now_millis())?;
                    }
                    self.finish_request(node);
                    for enr in enrs {
                        self.on_enr(enr, SourceKind::Discv5, None)?;
                    }
                }
                Err(reason) => {
                    self.crawl.progress.find_node_failures += 1;
                    self.metrics.find_node(0, 1);
                    tracing::trace!(node = %hex::encode(node), distance, %reason, "FINDNODE failed");
                    if attempt < ATTEMPTS {
                        self.ready.push_back((node, distance, attempt + 1));
                    } else if distance == PROBE {
                        self.walking.remove(&node);
                        if self.second_chance.insert(node) {
                            // Loss under load is common (UDP buffers, busy peers): probe
                            // again once the round's burst is over.
                            self.stragglers.push(node);
                        } else {
                            // The node is unresponsive this round.
                            self.crawl.progress.queried += 1;
                            self.crawl.progress.unresponsive += 1;
                        }
                    } else {
                        self.finish_request(node);
                    }
                }
            },
        }
        Ok(())
    }

    /// One request of a node's walk is done (answered, or given up after retries).
    fn finish_request(&mut self, node: NodeId) {
        if let Some(w) = self.walking.get_mut(&node) {
            w.remaining = w.remaining.saturating_sub(1);
            if w.remaining == 0 {
                self.walking.remove(&node);
                self.crawl.progress.queried += 1;
            }
        }
    }

    /// Handles a record from any source: stores it, emits events, queues new nodes, and
    /// records where it came from (once per node, source kind and origin).
    fn on_enr(
        &mut self,
        enr: Enr,
        source: SourceKind,
        via: Option<String>,
    ) -> Result<(), StoreError> {
        let id = enr.node_id().raw();
        if id == self.discovery.local_id {
            return Ok(());
        }
        let stale = self
            .known
            .get(&id)
            .is_some_and(|old| old.seq() >= enr.seq());
        if !stale {
            self.on_new_record(enr)?;
        }
        if self.sources_seen.insert((id, source, via.clone())) {
            self.store.add_peer_source(
                &id,
                PeerSource {
                    kind: source,
                    via,
                    first_seen: now_millis(),
                },
            )?;
        }
        Ok(())
    }

    /// A record newer than any this crawl holds for its node.
    fn on_new_record(&mut self, enr: Enr) -> Result<(), StoreError> {
        let id = enr.node_id().raw();
        let decoded = DecodedEnr::from_enr(&enr);
        self.clusters
            .insert(id, decoded.shards.as_ref().map(|s| s.cluster));
        let outcome = self
            .store
            .upsert_peer(self.crawl.id, &decoded, now_millis())?;
        let first_sighting = self.known.insert(id, enr).is_none();
        // First sighting by this crawl: DISCOVERED (the store has just added the crawl to
        // the peer). Otherwise a record newer than the stored one: ENR_UPDATED.
        let kind = if first_sighting {
            Some(PeerEventKind::Discovered)
        } else if matches!(outcome, Upsert::Updated { .. }) {
            self.crawl.progress.enr_updates += 1;
            Some(PeerEventKind::EnrUpdated)
        } else {
            None
        };
        if kind.is_some() {
            // A new node or a new record: (re)locate its IP.
            if let (Some(geo), Some(ip)) = (&self.geo, enr_ip(&decoded)) {
                geo.submit(id, ip);
            }
        }
        if let Some(kind) = kind {
            self.events.push(NewPeerEvent {
                time: now_millis(),
                kind,
                crawl_id: self.crawl.id,
                node_id: id,
                peer_id: decoded.peer_id.clone(),
                enr_seq: decoded.seq,
                enr: Some(decoded.text.clone()),
                error_class: None,
                detail: None,
            });
        }
        if self.discovery.dialer.is_some() {
            if let Some(target) = dial_target(&decoded) {
                self.targets.insert(id, target);
                let now = tokio::time::Instant::now();
                if first_sighting {
                    self.book.add(id, now);
                    if self.crawl.spec.mode == CrawlMode::Oneshot {
                        self.to_dial.insert(id);
                    }
                } else {
                    // A new record may fix what made the peer bad.
                    self.book.revive(id, now);
                }
            }
        }
        if first_sighting {
            if self.scheduled.insert(id) {
                self.queue.push_back(id);
            }
            if let Some(max) = self.settings.max_peers {
                if self.known.len() as u64 >= max {
                    self.limit_hit = true;
                }
            }
        }
        Ok(())
    }

    fn event(&mut self, kind: PeerEventKind, node: NodeId) -> &mut NewPeerEvent {
        let (peer_id, enr_seq) = match self.known.get(&node) {
            Some(enr) => (
                self.targets.get(&node).map(|t| t.peer.to_string()),
                enr.seq(),
            ),
            None => (None, 0),
        };
        self.events.push(NewPeerEvent {
            time: now_millis(),
            kind,
            crawl_id: self.crawl.id,
            node_id: node,
            peer_id,
            enr_seq,
            enr: None,
            error_class: None,
            detail: None,
        });
        self.events.last_mut().expect("just pushed")
    }

    /// Starts dials while fewer than `dial_concurrency` are in flight: due peers from the
    /// book (biased between new and known), at most `per_ip` at once per IP.
    fn fill_dials(&mut self) -> Result<(), StoreError> {
        if self.discovery.dialer.is_none() {
            return Ok(());
        }
        let now = tokio::time::Instant::now();
        for node in self.book.expire_bans(now) {
            self.store.set_peer_state(&node, PeerState::New)?;
            self.event(PeerEventKind::Unbanned, node);
        }
        let oneshot = self.crawl.spec.mode == CrawlMode::Oneshot;
        let limit = self.settings.dial.concurrency as usize;
        let per_ip_limit = self.settings.dial.per_ip;
        loop {
            let Some(dialer) = self.discovery.dialer.as_mut() else {
                return Ok(());
            };
            if dialer.in_flight() >= limit {
                return Ok(());
            }
            let Some(node) = self.book.next_due(now, &mut self.rng) else {
                return Ok(());
            };
            if oneshot && !self.to_dial.contains(&node) {
                // Already dialed this round.
                continue;
            }
            let Some(target) = self.targets.get(&node) else {
                continue;
            };
            if let Some(ip) = target.ip {
                let n = self.per_ip.entry(ip).or_default();
                if *n >= per_ip_limit {
                    self.book.defer(node, now + Duration::from_millis(50));
                    continue;
                }
                *n += 1;
                self.dialing_ip.insert(node, ip);
            }
            self.to_dial.remove(&node);
            dialer.dial(self.crawl.id, node, target.peer, target.addrs.clone());
            self.crawl.progress.dials += 1;
        }
    }

    fn on_dial_event(&mut self, ev: DialerEvent) -> Result<(), StoreError> {
        match ev {
            DialerEvent::Connected { node, address } => {
                self.event(PeerEventKind::Connected, node).detail = Some(address);
            }
            DialerEvent::Identified { node, info } => {
                self.crawl.progress.identified += 1;
                self.event(PeerEventKind::Identified, node).detail = Some(info.agent_version);
            }
            DialerEvent::Metadata { node, info } => {
                let shards: Vec<String> = info.shards.iter().map(|s| s.to_string()).collect();
                self.event(PeerEventKind::Metadata, node).detail = Some(format!(
                    "cluster={} shards={}",
                    info.cluster_id.map(|c| c.to_string()).unwrap_or_default(),
                    shards.join(",")
                ));
            }
            DialerEvent::Disconnected { node } => {
                self.event(PeerEventKind::Disconnected, node);
            }
            DialerEvent::PeerExchange { node, peer, result } => {
                self.on_px_answer(node, peer, result)?;
            }
            DialerEvent::PxRequest {
                peer,
                cluster,
                num_peers,
                channel,
            } => {
                let answer = self.px_answer(peer, cluster, num_peers);
                if let Some(d) = self.discovery.dialer.as_mut() {
                    d.respond_px(channel, answer);
                }
            }
            DialerEvent::Done(report) => self.on_visit(report)?,
        }
        Ok(())
    }

    fn on_visit(&mut self, report: VisitReport) -> Result<(), StoreError> {
        let node = report.node_id;
        if let Some(ip) = self.dialing_ip.remove(&node) {
            if let Some(n) = self.per_ip.get_mut(&ip) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    self.per_ip.remove(&ip);
                }
            }
        }
        let now = tokio::time::Instant::now();
        self.metrics.dial(
            report
                .error_class
                .map(ErrorClass::as_str)
                .unwrap_or("connected"),
        );
        if let Some(us) = report.rtt_us {
            self.metrics.ping(Duration::from_micros(us));
        }
        let transition = match report.error_class {
            None => {
                self.crawl.progress.connected += 1;
                self.locate_dialed(&report);
                self.book.on_success(node, now);
                self.offer_relay(&report);
                Transition::None
            }
            Some(class) => {
                *self
                    .crawl
                    .progress
                    .failed_by_class
                    .entry(class.as_str().to_string())
                    .or_default() += 1;
                self.event(PeerEventKind::DialFailed, node);
                if let Some(ev) = self.events.last_mut() {
                    ev.error_class = Some(class);
                    ev.detail = report.error.clone();
                }
                if class == ErrorClass::Canceled {
                    Transition::None
                } else {
                    self.book.on_failure(node, class, now, &mut self.rng)
                }
            }
        };
        let state = self.book.get(&node).map(|e| e.state).unwrap_or_default();
        match transition {
            Transition::Banned => {
                self.event(PeerEventKind::Banned, node).detail = report.error.clone();
            }
            Transition::MarkedBad | Transition::None | Transition::Unbanned => {}
        }
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

    /// A peer-exchange answer from a visited peer: its records join discovery.
    fn on_px_answer(
        &mut self,
        node: NodeId,
        peer: PeerId,
        result: Result<PxResponse, String>,
    ) -> Result<(), StoreError> {
        self.crawl.progress.px_requests += 1;
        let detail = match result {
            Err(e) => {
                self.crawl.progress.px_failures += 1;
                self.metrics.px_request("failed", 0);
                format!("failed: {e}")
            }
            Ok(r) if r.status_code != 0 && r.status_code != px_status::OK => {
                self.crawl.progress.px_failures += 1;
                self.metrics.px_request("refused", 0);
                format!(
                    "refused: status {} {}",
                    r.status_code,
                    r.status_desc.unwrap_or_default()
                )
            }
            Ok(r) => {
                let via = Some(peer.to_string());
                let decoded = crate::protocol::waku::px_records(&r);
                let (good, bad) = (decoded.records.len() as u64, decoded.undecodable);
                for enr in decoded.records {
                    self.on_enr(enr, SourceKind::PeerExchange, via.clone())?;
                }
                self.crawl.progress.px_enrs += good;
                self.metrics.px_request("ok", good);
                if bad > 0 {
                    format!("{good} records, {bad} undecodable")
                } else {
                    format!("{good} records")
                }
            }
        };
        self.event(PeerEventKind::PeerExchange, node).detail = Some(detail);
        Ok(())
    }

    /// Seed mode: the answer to a peer-exchange request. At most one answer per requester
    /// per `requester_interval` (faster repeats: 429); at most `min(num_peers, 60)`
    /// records, drawn at random from the *vetted* peers of the requester's cluster, each
    /// weighted by how recently it was vetted (`1 / (1 + minutes since)`). The requester's
    /// cluster comes from its metadata; when unknown, the crawl profile's cluster is used
    /// (for non-Waku profiles: any cluster). Never new, failing, bad or banned peers.
    fn px_answer(&mut self, peer: PeerId, cluster: Option<u32>, num_peers: Option<u64>) -> PxRpc {
        use rand::seq::SliceRandom;
        let now = tokio::time::Instant::now();
        let interval = self
            .settings
            .peer_exchange
            .seed
            .as_ref()
            .map(|s| s.requester_interval)
            .unwrap_or(crate::model::DEFAULT_SEED_REQUESTER_INTERVAL);
        let requester = crate::protocol::waku::node_id_of_peer(&peer);
        let (answer, outcome, detail) = match num_peers {
            None | Some(0) => (
                PxRpc::response(
                    Vec::new(),
                    px_status::BAD_REQUEST,
                    Some("the request asks for no peers (query.num_peers > 0 required)".into()),
                ),
                "bad_request",
                "refused: 400 no query".to_string(),
            ),
            Some(_)
                if self
                    .px_answered
                    .get(&peer)
                    .is_some_and(|t| now.duration_since(*t) < interval) =>
            {
                let waited = self
                    .px_answered
                    .get(&peer)
                    .map(|t| now.duration_since(*t))
                    .unwrap_or_default();
                let desc = format!(
                    "one answer per {}s per requester; asked again after {}s",
                    interval.as_secs(),
                    waited.as_secs()
                );
                (
                    PxRpc::response(Vec::new(), px_status::TOO_MANY_REQUESTS, Some(desc.clone())),
                    "refused",
                    format!("refused: 429 {desc}"),
                )
            }
            Some(n) => {
                if self.px_answered.len() > 10_000 {
                    self.px_answered
                        .retain(|_, t| now.duration_since(*t) < interval);
                }
                self.px_answered.insert(peer, now);
                let want = cluster.or(match &self.crawl.spec.profile {
                    Profile::Waku { cluster_id, .. } => Some(u32::from(*cluster_id)),
                    _ => None,
                });
                let candidates: Vec<(NodeId, f64)> = self
                    .book
                    .entries()
                    .filter(|(id, e)| e.state == PeerState::Vetted && Some(**id) != requester)
                    .filter(|(id, _)| {
                        want.is_none_or(|w| {
                            self.clusters.get(*id).copied().flatten().map(u32::from) == Some(w)
                        })
                    })
                    .map(|(id, e)| {
                        let age = e
                            .last_dial
                            .map(|t| now.saturating_duration_since(t))
                            .unwrap_or(Duration::from_secs(86_400));
                        (*id, 1.0 / (1.0 + age.as_secs_f64() / 60.0))
                    })
                    .collect();
                let k = (n.min(PX_MAX_PEERS) as usize).min(candidates.len());
                let chosen: Vec<NodeId> = candidates
                    .choose_multiple_weighted(&mut self.rng, k, |c| c.1)
                    .map(|it| it.map(|c| c.0).collect())
                    .unwrap_or_default();
                let infos: Vec<PxPeerInfo> = chosen
                    .iter()
                    .filter_map(|id| self.known.get(id))
                    .map(|enr| PxPeerInfo {
                        enr: alloy_rlp::encode(enr),
                    })
                    .collect();
                let detail = format!(
                    "answered {} records (asked {n}, cluster {})",
                    infos.len(),
                    want.map(|c| c.to_string()).unwrap_or_else(|| "any".into())
                );
                (PxRpc::response(infos, px_status::OK, None), "ok", detail)
            }
        };
        self.metrics.px_served(outcome);
        if outcome == "ok" {
            self.crawl.progress.px_served += 1;
        } else {
            self.crawl.progress.px_refused += 1;
        }
        if let Some(node) = requester {
            self.events.push(NewPeerEvent {
                time: now_millis(),
                kind: PeerEventKind::PeerExchangeServed,
                crawl_id: self.crawl.id,
                node_id: node,
                peer_id: Some(peer.to_string()),
                enr_seq: 0,
                enr: None,
                error_class: None,
                detail: Some(detail),
            });
        }
        answer
    }

    /// A peer whose record has no IP is located by the address a dial connected to.
    fn locate_dialed(&self, report: &VisitReport) {
        let Some(geo) = &self.geo else {
            return;
        };
        let has_enr_ip = self
            .known
            .get(&report.node_id)
            .is_some_and(|e| e.ip4().is_some() || e.ip6().is_some());
        if has_enr_ip {
            return;
        }
        let ip = report
            .address
            .as_deref()
            .and_then(|a| a.parse::<Multiaddr>().ok())
            .and_then(|ma| match ma.iter().next() {
                Some(Protocol::Ip4(ip)) => Some(IpAddr::V4(ip)),
                Some(Protocol::Ip6(ip)) => Some(IpAddr::V6(ip)),
                _ => None,
            });
        if let Some(ip) = ip {
            geo.submit(report.node_id, ip);
        }
    }

    /// ONESHOT: time until the known work is done at the recent pace, for the walk and the
    /// dials apart, whichever is longer; `None` without enough throughput to tell.
    fn estimate_remaining(&mut self) -> Option<u64> {
        if self.crawl.spec.mode != CrawlMode::Oneshot {
            return None;
        }
        let p = &self.crawl.progress;
        let walked = p.queried;
        let dialed = p.connected + p.failed_by_class.values().sum::<u64>();
        let now = Instant::now();
        if self
            .throughput
            .back()
            .is_none_or(|(t, _, _)| now.duration_since(*t) >= THROUGHPUT_SAMPLE)
        {
            self.throughput.push_back((now, walked, dialed));
            while self.throughput.len() > 2
                && now.duration_since(self.throughput[1].0) >= THROUGHPUT_WINDOW
            {
                self.throughput.pop_front();
            }
        }
        let (t0, w0, d0) = *self.throughput.front()?;
        let span = now.duration_since(t0);
        if span < THROUGHPUT_SAMPLE * 2 {
            return None;
        }
        let walk_left = (self.queue.len() + self.walking.len() + self.stragglers.len()) as u64;
        let dial_left = self.to_dial.len() as u64 + p.dialing;
        let mut eta = 0.0f64;
        for (left, done) in [
            (walk_left, walked.saturating_sub(w0)),
            (dial_left, dialed.saturating_sub(d0)),
        ] {
            if left == 0 {
                continue;
            }
            if done == 0 {
                return None;
            }
            eta = eta.max(left as f64 * span.as_secs_f64() / done as f64);
        }
        Some((eta * 1000.0).round() as u64)
    }

    /// Offers a reachable peer to the relay monitor if it runs relay on the crawl's cluster.
    fn offer_relay(&mut self, report: &VisitReport) {
        let Some(relay) = self.discovery.relay.as_mut() else {
            return;
        };
        let Profile::Waku { cluster_id, .. } = &self.crawl.spec.profile else {
            return;
        };
        let relays = report.identify.as_ref().is_some_and(|i| {
            i.protocols
                .iter()
                .any(|p| p == crate::protocol::waku::RELAY)
        });
        let cluster = report
            .metadata
            .as_ref()
            .and_then(|m| m.cluster_id)
            .or_else(|| {
                self.known
                    .get(&report.node_id)
                    .and_then(|e| DecodedEnr::from_enr(e).shards.map(|s| u32::from(s.cluster)))
            });
        if relays && cluster == Some(u32::from(*cluster_id)) {
            if let Some(t) = self.targets.get(&report.node_id) {
                relay.offer(t.peer, t.addrs.clone());
            }
        }
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
        p.discovered = self.known.len() as u64;
        p.queued = self.queue.len() as u64;
        p.in_flight = self.jobs.len() as u64;
        p.dialing = self
            .discovery
            .dialer
            .as_ref()
            .map_or(0, |d| d.in_flight() as u64);
        p.dial_queued = self.to_dial.len() as u64;
        if let Some(r) = &self.discovery.relay {
            p.relay_peers = r.connected() as u64;
            p.relay_mesh_peers = r.min_mesh_peers() as u64;
            p.messages = r.messages();
        }
        self.crawl.progress.estimated_remaining_ms = self.estimate_remaining();
    }
}

async fn next_dial_event(dialer: &mut Option<Dialer>) -> DialerEvent {
    match dialer {
        Some(d) => d.next().await,
        None => std::future::pending().await,
    }
}

async fn next_relay_event(relay: &mut Option<RelayMonitor>) -> RelayEvent {
    match relay {
        Some(r) => r.next().await,
        None => std::future::pending().await,
    }
}

async fn sleep_until_opt(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}
