//! The libp2p side of a crawl: dial a peer (TCP + Noise + Yamux), read identify, exchange
//! Waku metadata, measure one ping, disconnect — and classify whatever fails (by error
//! type, in [`transport`], whose transport and swarm it uses).
//!
//! One [`Dialer`] owns one swarm. The crawl loop calls [`Dialer::dial`] and polls
//! [`Dialer::next`], which yields progress events and, for every dial, exactly one
//! [`VisitReport`]. A visit ends when identify, metadata and ping have each answered or
//! failed, when the connection closes, or at the visit deadline.
//!
//! The crawler also *serves* metadata: nwaku asks every new connection for its cluster and
//! drops peers that report another one, so the answer echoes the requester's own cluster
//! and shards.
//!
//! **Peer exchange, client.** When identify lists `/vac/waku/peer-exchange/2.0.0-alpha1`,
//! the visit also asks the peer for [`PX_REQUEST_PEERS`] ENRs — unless that peer was asked
//! less than `px_interval` ago (politeness across visits). The visit waits for the answer.
//!
//! **Peer exchange, seed mode.** With a listen address the swarm accepts inbound
//! connections and serves peer exchange: every request is handed to the crawl
//! ([`DialerEvent::PxRequest`]) with the requester's cluster as far as it is known — from
//! the metadata request it sent us, or from its answer to ours — and the crawl answers
//! through [`Dialer::respond_px`].
//!
//! **Inbound bounds (seed mode).** Strangers open the inbound connections, so they are
//! capped: at most [`SEED_MAX_INBOUND`] established and [`SEED_MAX_PENDING_INBOUND`]
//! being set up at once (libp2p's connection limits), at most [`SEED_MAX_INBOUND_PER_IP`]
//! from one IP address (further ones are closed as soon as they are up), and every
//! connection of any swarm negotiates at most
//! [`MAX_NEGOTIATING_INBOUND_STREAMS`](super::transport::MAX_NEGOTIATING_INBOUND_STREAMS)
//! inbound streams at once, each request-response protocol running at most
//! [`MAX_STREAMS_PER_PROTOCOL`] streams per connection. Every connection refused is
//! reported ([`DialerEvent::InboundRefused`]).

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Duration;

use futures::StreamExt;
use libp2p::swarm::dial_opts::{DialOpts, PeerCondition};
use libp2p::swarm::{ConnectionId, ListenError, NetworkBehaviour, SwarmEvent};
use libp2p::{connection_limits, identify, identity, ping, request_response, Multiaddr, PeerId};
use tokio::time::Instant;

use super::error::{PxError, SwarmError};
use super::transport;
pub use super::transport::{classify_dial_error, HANDSHAKE_TIMEOUT, TCP_CONNECT_TIMEOUT};

use crate::model::{
    now_millis, CrawlId, ErrorClass, IdentifyInfo, MetadataInfo, NodeId, UnixMillis, VisitReport,
    PX_REQUEST_PEERS,
};
use crate::protocol::waku::{
    metadata_protocol, peer_exchange_protocol, MetadataCodec, PxCodec, PxResponse, PxRpc,
    WakuMetadata, PEER_EXCHANGE,
};

/// Seed mode: inbound connections established at once, at most.
pub const SEED_MAX_INBOUND: u32 = 256;
/// Seed mode: inbound connections being set up (TCP accepted, handshake running) at most.
pub const SEED_MAX_PENDING_INBOUND: u32 = 64;
/// Seed mode: inbound connections from one IP address at once, at most.
pub const SEED_MAX_INBOUND_PER_IP: usize = 8;
/// Connections to one peer at once, at most (a dial and the peer's own connection).
pub const MAX_CONNECTIONS_PER_PEER: u32 = 2;
/// Streams one request-response protocol (metadata, peer exchange) runs at once on one
/// connection.
pub const MAX_STREAMS_PER_PROTOCOL: usize = 4;

/// The libp2p behaviours a crawler connection runs.
#[derive(NetworkBehaviour)]
#[behaviour(prelude = "libp2p::swarm::derive_prelude")]
pub struct Behaviour {
    /// Caps on connections (inbound ones only matter in seed mode).
    limits: connection_limits::Behaviour,
    identify: identify::Behaviour,
    ping: ping::Behaviour,
    metadata: request_response::Behaviour<MetadataCodec>,
    px: request_response::Behaviour<PxCodec>,
}

/// Dialer settings.
#[derive(Clone, Debug)]
pub struct DialerConfig {
    /// Bound on the TCP connect; connect + multistream/Noise/Yamux together get twice this
    /// (see [`transport::tcp_transport`]). Also the timeout of ping and of each request.
    pub dial_timeout: Duration,
    /// Bound on identify, metadata and ping once connected.
    pub visit_timeout: Duration,
    /// Our identify agent version.
    pub agent_version: String,
    /// Our metadata request; `None` sends none (not a Waku crawl).
    pub metadata: Option<WakuMetadata>,
    /// Ask peers that support it for ENRs over peer exchange.
    pub px_client: bool,
    /// Do not ask the same peer again sooner than this.
    pub px_interval: Duration,
    /// Seed mode: serve peer exchange to inbound connections.
    pub px_serve: bool,
}

/// What the dialer reports.
#[derive(Debug)]
pub enum DialerEvent {
    Connected {
        node: NodeId,
        address: String,
    },
    Identified {
        node: NodeId,
        info: IdentifyInfo,
    },
    Metadata {
        node: NodeId,
        info: MetadataInfo,
    },
    Disconnected {
        node: NodeId,
    },
    /// A peer-exchange answer (or why there is none) from a visited peer.
    PeerExchange {
        node: NodeId,
        peer: PeerId,
        result: Result<PxResponse, PxError>,
    },
    /// Seed mode: an inbound connection was refused or closed at once; `reason` is
    /// `limit` (too many connections) or `per_ip` (too many from its address).
    InboundRefused {
        reason: &'static str,
    },
    /// Seed mode: a peer asks for records. Answer with [`Dialer::respond_px`].
    PxRequest {
        peer: PeerId,
        /// The address of the connection the request came on.
        ip: Option<IpAddr>,
        /// The requester's cluster, when its metadata told us.
        cluster: Option<u32>,
        /// `query.num_peers`; `None` when the request had no query.
        num_peers: Option<u64>,
        channel: request_response::ResponseChannel<PxRpc>,
    },
    /// The visit is over (success or failure).
    Done(VisitReport),
}

struct Visit {
    node: NodeId,
    crawl: CrawlId,
    started: Instant,
    started_ms: UnixMillis,
    deadline: Instant,
    connected: Option<String>,
    identify: Option<IdentifyInfo>,
    identify_failed: Option<String>,
    /// What the identify caps cut, if anything.
    identify_capped: Option<String>,
    metadata: Option<MetadataInfo>,
    metadata_error: Option<String>,
    metadata_pending: bool,
    px_pending: bool,
    rtt: Option<Duration>,
    ping_failed: Option<String>,
}

impl Visit {
    fn complete(&self) -> bool {
        self.connected.is_some()
            && (self.identify.is_some() || self.identify_failed.is_some())
            && !self.metadata_pending
            && !self.px_pending
            && (self.rtt.is_some() || self.ping_failed.is_some())
    }

    fn report(self, error_class: Option<ErrorClass>, error: Option<String>) -> VisitReport {
        let error = error.or_else(|| {
            let mut notes = Vec::new();
            if let Some(e) = &self.identify_failed {
                notes.push(format!("identify: {e}"));
            }
            if let Some(c) = &self.identify_capped {
                notes.push(format!("identify capped: {c}"));
            }
            if let Some(e) = &self.ping_failed {
                notes.push(format!("ping: {e}"));
            }
            (!notes.is_empty()).then(|| notes.join("; "))
        });
        VisitReport {
            node_id: self.node,
            crawl_id: self.crawl,
            started: self.started_ms,
            duration_ms: self.started.elapsed().as_millis() as u64,
            address: self.connected,
            error_class,
            error,
            identify: self.identify,
            metadata: self.metadata,
            metadata_error: self.metadata_error,
            rtt_us: self.rtt.map(|d| d.as_micros() as u64),
            node_info: None,
        }
    }
}

/// One swarm dialing on behalf of one crawl.
pub struct Dialer {
    swarm: libp2p::Swarm<Behaviour>,
    config: DialerConfig,
    visits: HashMap<PeerId, Visit>,
    nodes: HashMap<PeerId, NodeId>,
    out: std::collections::VecDeque<DialerEvent>,
    tick: tokio::time::Interval,
    /// When each peer was last asked for ENRs.
    px_asked: HashMap<PeerId, Instant>,
    /// Clusters connected peers reported in metadata (requests and answers).
    clusters: HashMap<PeerId, u32>,
    /// Seed mode: the address of each inbound connection, and how many each address holds.
    inbound: HashMap<ConnectionId, IpAddr>,
    inbound_per_ip: HashMap<IpAddr, usize>,
}

/// Builds the dialer's swarm.
fn build_swarm(
    key: identity::Keypair,
    config: &DialerConfig,
) -> Result<libp2p::Swarm<Behaviour>, SwarmError> {
    let dial_timeout = config.dial_timeout;
    let px_serve = config.px_serve;
    let limits = connection_limits::ConnectionLimits::default()
        .with_max_established_per_peer(Some(MAX_CONNECTIONS_PER_PEER))
        .with_max_established_incoming(Some(if px_serve { SEED_MAX_INBOUND } else { 0 }))
        .with_max_pending_incoming(Some(if px_serve {
            SEED_MAX_PENDING_INBOUND
        } else {
            0
        }));
    let behaviour = Behaviour {
        limits: connection_limits::Behaviour::new(limits),
        identify: identify::Behaviour::new(
            identify::Config::new("peerscope/1".into(), key.public())
                .with_agent_version(config.agent_version.clone())
                .with_push_listen_addr_updates(false)
                .with_interval(Duration::from_secs(3600))
                .with_cache_size(0),
        ),
        ping: ping::Behaviour::new(
            ping::Config::new()
                .with_interval(Duration::from_secs(3600))
                .with_timeout(dial_timeout),
        ),
        metadata: request_response::Behaviour::new(
            [(metadata_protocol(), request_response::ProtocolSupport::Full)],
            request_response::Config::default()
                .with_request_timeout(dial_timeout)
                .with_max_concurrent_streams(MAX_STREAMS_PER_PROTOCOL),
        ),
        px: request_response::Behaviour::new(
            [(
                peer_exchange_protocol(),
                if px_serve {
                    request_response::ProtocolSupport::Full
                } else {
                    request_response::ProtocolSupport::Outbound
                },
            )],
            request_response::Config::default()
                .with_request_timeout(dial_timeout)
                .with_max_concurrent_streams(MAX_STREAMS_PER_PROTOCOL),
        ),
    };
    let idle = config.visit_timeout + config.dial_timeout;
    Ok(transport::build_swarm(&key, behaviour, dial_timeout, idle)?)
}

impl Dialer {
    /// A dialer with the libp2p identity `key` (the crawl's discv5 key, so that a seed's
    /// ENR names the peer id its TCP port answers with).
    pub fn new(config: DialerConfig, key: identity::Keypair) -> Result<Dialer, SwarmError> {
        let swarm = build_swarm(key, &config)?;
        let mut tick = tokio::time::interval(Duration::from_millis(100));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        Ok(Dialer {
            swarm,
            config,
            visits: HashMap::new(),
            nodes: HashMap::new(),
            out: Default::default(),
            tick,
            px_asked: HashMap::new(),
            clusters: HashMap::new(),
            inbound: HashMap::new(),
            inbound_per_ip: HashMap::new(),
        })
    }

    /// Listens on `addr` (seed mode) and returns the bound TCP address.
    pub async fn listen(
        &mut self,
        addr: std::net::SocketAddr,
    ) -> Result<std::net::SocketAddr, SwarmError> {
        use libp2p::multiaddr::Protocol;
        let ma = Multiaddr::empty()
            .with(match addr.ip() {
                std::net::IpAddr::V4(ip) => Protocol::Ip4(ip),
                std::net::IpAddr::V6(ip) => Protocol::Ip6(ip),
            })
            .with(Protocol::Tcp(addr.port()));
        self.swarm.listen_on(ma)?;
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let ev = tokio::time::timeout_at(deadline, self.swarm.select_next_some())
                .await
                .map_err(|_| SwarmError::ListenTimeout(addr))?;
            match ev {
                SwarmEvent::NewListenAddr { address, .. } => {
                    let port = address.iter().find_map(|p| match p {
                        Protocol::Tcp(p) => Some(p),
                        _ => None,
                    });
                    if let Some(port) = port {
                        return Ok(std::net::SocketAddr::new(addr.ip(), port));
                    }
                }
                SwarmEvent::ListenerError { error, .. } => return Err(SwarmError::Listener(error)),
                SwarmEvent::ListenerClosed { reason, .. } => {
                    return Err(match reason {
                        Err(e) => SwarmError::Listener(e),
                        Ok(()) => SwarmError::ListenerClosed,
                    })
                }
                _ => {}
            }
        }
    }

    /// Answers a seed-mode peer-exchange request.
    pub fn respond_px(&mut self, channel: request_response::ResponseChannel<PxRpc>, answer: PxRpc) {
        let _ = self.swarm.behaviour_mut().px.send_response(channel, answer);
    }

    /// Visits in progress.
    pub fn in_flight(&self) -> usize {
        self.visits.len()
    }

    /// No visit in progress and no event waiting to be taken.
    pub fn idle(&self) -> bool {
        self.visits.is_empty() && self.out.is_empty()
    }

    /// Starts a visit. A peer without addresses fails at once (reported through `next`).
    pub fn dial(&mut self, crawl: CrawlId, node: NodeId, peer: PeerId, addrs: Vec<Multiaddr>) {
        let now = Instant::now();
        let visit = Visit {
            node,
            crawl,
            started: now,
            started_ms: now_millis(),
            // The transport gives up after 2 × dial_timeout (connect, then handshake);
            // this deadline only catches what it does not.
            deadline: now + self.config.dial_timeout.saturating_mul(2) + self.config.visit_timeout,
            connected: None,
            identify: None,
            identify_failed: None,
            identify_capped: None,
            metadata: None,
            metadata_error: None,
            metadata_pending: false,
            px_pending: false,
            rtt: None,
            ping_failed: None,
        };
        if let Some(old) = self.visits.remove(&peer) {
            // Same peer dialed again before the old visit ended: end the old one.
            self.out.push_back(DialerEvent::Done(
                old.report(Some(ErrorClass::Canceled), Some("superseded".into())),
            ));
        }
        self.nodes.insert(peer, node);
        let opts = DialOpts::peer_id(peer)
            .addresses(addrs)
            .condition(PeerCondition::Always)
            .build();
        match self.swarm.dial(opts) {
            Ok(()) => {
                self.visits.insert(peer, visit);
            }
            Err(e) => {
                let (class, text) = classify_dial_error(&e);
                self.out
                    .push_back(DialerEvent::Done(visit.report(Some(class), Some(text))));
            }
        }
    }

    /// The next event. Cancel-safe.
    pub async fn next(&mut self) -> DialerEvent {
        loop {
            if let Some(ev) = self.out.pop_front() {
                return ev;
            }
            tokio::select! {
                ev = self.swarm.select_next_some() => self.on_swarm(ev),
                _ = self.tick.tick() => self.expire(),
            }
        }
    }

    fn finish(&mut self, peer: PeerId, class: Option<ErrorClass>, error: Option<String>) {
        if let Some(v) = self.visits.remove(&peer) {
            let connected = v.connected.is_some();
            self.out
                .push_back(DialerEvent::Done(v.report(class, error)));
            if connected {
                let _ = self.swarm.disconnect_peer_id(peer);
            }
        }
    }

    fn check_complete(&mut self, peer: PeerId) {
        if self.visits.get(&peer).is_some_and(Visit::complete) {
            self.finish(peer, None, None);
        }
    }

    fn expire(&mut self) {
        let now = Instant::now();
        let expired: Vec<PeerId> = self
            .visits
            .iter()
            .filter(|(_, v)| v.deadline <= now)
            .map(|(p, _)| *p)
            .collect();
        for peer in expired {
            let connected = self
                .visits
                .get(&peer)
                .is_some_and(|v| v.connected.is_some());
            if connected {
                // Reachable; what did not answer in time is noted in the error text.
                if let Some(v) = self.visits.get_mut(&peer) {
                    if v.identify.is_none() && v.identify_failed.is_none() {
                        v.identify_failed = Some("no answer in time".into());
                    }
                    if v.metadata_pending {
                        v.metadata_pending = false;
                        v.metadata_error = Some("no answer in time".into());
                    }
                    if v.rtt.is_none() && v.ping_failed.is_none() {
                        v.ping_failed = Some("no answer in time".into());
                    }
                    if v.px_pending {
                        v.px_pending = false;
                        let node = v.node;
                        self.out.push_back(DialerEvent::PeerExchange {
                            node,
                            peer,
                            result: Err(PxError::NoAnswer),
                        });
                    }
                }
                self.finish(peer, None, None);
            } else {
                self.finish(
                    peer,
                    Some(ErrorClass::Timeout),
                    Some("dial did not complete in time".into()),
                );
            }
        }
    }

    fn on_swarm(&mut self, event: SwarmEvent<BehaviourEvent>) {
        match event {
            SwarmEvent::ConnectionEstablished {
                peer_id,
                endpoint,
                connection_id,
                ..
            } => {
                if endpoint.is_listener() && self.config.px_serve {
                    let ip = ip_of(endpoint.get_remote_address());
                    if let Some(ip) = ip {
                        let n = self.inbound_per_ip.entry(ip).or_default();
                        if *n >= SEED_MAX_INBOUND_PER_IP {
                            self.swarm.close_connection(connection_id);
                            self.out
                                .push_back(DialerEvent::InboundRefused { reason: "per_ip" });
                            return;
                        }
                        *n += 1;
                        self.inbound.insert(connection_id, ip);
                    }
                }
                let address = endpoint.get_remote_address().to_string();
                let Some(v) = self.visits.get_mut(&peer_id) else {
                    if endpoint.is_listener() && self.config.px_serve {
                        // Seed mode: a peer came to us. Learn its cluster (it may ask for
                        // records next); the idle timeout closes the connection.
                        if let Some(req) = &self.config.metadata {
                            self.swarm
                                .behaviour_mut()
                                .metadata
                                .send_request(&peer_id, req.clone());
                        }
                        return;
                    }
                    // Not ours (an old visit's late connection): close it.
                    let _ = self.swarm.disconnect_peer_id(peer_id);
                    return;
                };
                if v.connected.is_some() {
                    return;
                }
                v.connected = Some(address.clone());
                v.deadline = Instant::now() + self.config.visit_timeout;
                let node = v.node;
                if let Some(req) = &self.config.metadata {
                    v.metadata_pending = true;
                    self.swarm
                        .behaviour_mut()
                        .metadata
                        .send_request(&peer_id, req.clone());
                }
                self.out.push_back(DialerEvent::Connected { node, address });
            }
            SwarmEvent::OutgoingConnectionError {
                peer_id: Some(peer),
                error,
                ..
            } if self
                .visits
                .get(&peer)
                .is_some_and(|v| v.connected.is_none()) =>
            {
                let (class, text) = classify_dial_error(&error);
                self.finish(peer, Some(class), Some(text));
            }
            SwarmEvent::IncomingConnectionError {
                error: ListenError::Denied { .. },
                ..
            } => {
                self.out
                    .push_back(DialerEvent::InboundRefused { reason: "limit" });
            }
            SwarmEvent::ConnectionClosed {
                peer_id,
                connection_id,
                num_established,
                cause,
                ..
            } => {
                if let Some(ip) = self.inbound.remove(&connection_id) {
                    if let Some(n) = self.inbound_per_ip.get_mut(&ip) {
                        *n = n.saturating_sub(1);
                        if *n == 0 {
                            self.inbound_per_ip.remove(&ip);
                        }
                    }
                }
                if num_established > 0 {
                    return;
                }
                self.clusters.remove(&peer_id);
                if let Some(node) = self.nodes.remove(&peer_id) {
                    self.out.push_back(DialerEvent::Disconnected { node });
                }
                if let Some(v) = self.visits.get(&peer_id) {
                    // Closed by the remote before the visit completed.
                    let cause = cause
                        .map(|c| c.to_string())
                        .unwrap_or_else(|| "closed".to_string());
                    let wrong_cluster = match (&v.metadata, &self.config.metadata) {
                        (Some(theirs), Some(ours)) => theirs.cluster_id != ours.cluster_id,
                        _ => false,
                    };
                    if v.identify.is_none() && wrong_cluster {
                        self.finish(
                            peer_id,
                            Some(ErrorClass::WrongCluster),
                            Some(format!("connection closed by the remote: {cause}")),
                        );
                    } else if v.identify.is_none() {
                        self.finish(
                            peer_id,
                            Some(ErrorClass::ProtocolNegotiation),
                            Some(format!("connection closed before identify: {cause}")),
                        );
                    } else {
                        if let Some(v) = self.visits.get_mut(&peer_id) {
                            if v.metadata_pending {
                                v.metadata_pending = false;
                                v.metadata_error = Some(format!("connection closed: {cause}"));
                            }
                            if v.px_pending {
                                v.px_pending = false;
                                let node = v.node;
                                self.out.push_back(DialerEvent::PeerExchange {
                                    node,
                                    peer: peer_id,
                                    result: Err(PxError::ConnectionClosed {
                                        cause: cause.clone(),
                                    }),
                                });
                            }
                        }
                        self.finish(peer_id, None, None);
                    }
                }
            }
            SwarmEvent::Behaviour(ev) => self.on_behaviour(ev),
            _ => {}
        }
    }

    fn on_behaviour(&mut self, event: BehaviourEvent) {
        match event {
            BehaviourEvent::Identify(identify::Event::Received { peer_id, info, .. }) => {
                // libp2p reads at most 4 KiB of identify; what is kept of it is capped
                // further (see `IdentifyInfo::capped`).
                let supports_px = info.protocols.iter().any(|p| p.as_ref() == PEER_EXCHANGE);
                let (info, cut) = IdentifyInfo::capped(
                    info.agent_version,
                    info.protocol_version,
                    info.protocols.iter().map(|p| p.to_string()),
                    info.listen_addrs.iter().map(|a| a.to_string()),
                    info.observed_addr.to_string(),
                );
                let now = Instant::now();
                let px_due = self.config.px_client
                    && supports_px
                    && self
                        .px_asked
                        .get(&peer_id)
                        .is_none_or(|t| now.duration_since(*t) >= self.config.px_interval);
                if let Some(v) = self.visits.get_mut(&peer_id) {
                    if v.identify.is_none() {
                        v.identify = Some(info.clone());
                        if !cut.is_empty() {
                            v.identify_capped = Some(cut.join(", "));
                        }
                        let node = v.node;
                        if px_due {
                            v.px_pending = true;
                            self.px_asked.insert(peer_id, now);
                            self.swarm
                                .behaviour_mut()
                                .px
                                .send_request(&peer_id, PxRpc::query(PX_REQUEST_PEERS));
                        }
                        self.out.push_back(DialerEvent::Identified { node, info });
                    }
                }
                self.check_complete(peer_id);
            }
            BehaviourEvent::Identify(identify::Event::Error { peer_id, error, .. }) => {
                if let Some(v) = self.visits.get_mut(&peer_id) {
                    if v.identify.is_none() {
                        v.identify_failed = Some(error.to_string());
                    }
                }
                self.check_complete(peer_id);
            }
            BehaviourEvent::Identify(_) => {}
            BehaviourEvent::Ping(ping::Event { peer, result, .. }) => {
                if let Some(v) = self.visits.get_mut(&peer) {
                    match result {
                        Ok(rtt) => v.rtt = Some(rtt),
                        Err(e) => v.ping_failed = Some(e.to_string()),
                    }
                }
                self.check_complete(peer);
            }
            BehaviourEvent::Metadata(ev) => self.on_metadata(ev),
            BehaviourEvent::Px(ev) => self.on_px(ev),
            BehaviourEvent::Limits(never) => match never {},
        }
    }

    fn on_px(&mut self, event: request_response::Event<PxRpc, PxRpc>) {
        use request_response::{Event, Message};
        match event {
            Event::Message {
                peer,
                connection_id,
                message:
                    Message::Request {
                        request, channel, ..
                    },
            } => {
                self.out.push_back(DialerEvent::PxRequest {
                    peer,
                    ip: self.inbound.get(&connection_id).copied(),
                    cluster: self.clusters.get(&peer).copied(),
                    num_peers: request.query.map(|q| q.num_peers),
                    channel,
                });
            }
            Event::Message {
                peer,
                message: Message::Response { response, .. },
                ..
            } => {
                let result = response.response.ok_or(PxError::EmptyAnswer);
                self.px_done(peer, result);
            }
            Event::OutboundFailure { peer, error, .. } => {
                self.px_done(peer, Err(PxError::Request(error)));
            }
            Event::InboundFailure { .. } | Event::ResponseSent { .. } => {}
        }
    }

    fn px_done(&mut self, peer: PeerId, result: Result<PxResponse, PxError>) {
        if let Some(v) = self.visits.get_mut(&peer) {
            if v.px_pending {
                v.px_pending = false;
                let node = v.node;
                self.out
                    .push_back(DialerEvent::PeerExchange { node, peer, result });
            }
        }
        self.check_complete(peer);
    }

    fn on_metadata(&mut self, event: request_response::Event<WakuMetadata, WakuMetadata>) {
        use request_response::{Event, Message};
        match event {
            Event::Message {
                peer,
                message:
                    Message::Request {
                        request, channel, ..
                    },
                ..
            } => {
                // Echo the requester's cluster and shards (see the module docs).
                if let Some(c) = request.cluster_id {
                    self.clusters.insert(peer, c);
                }
                let _ = self
                    .swarm
                    .behaviour_mut()
                    .metadata
                    .send_response(channel, request);
            }
            Event::Message {
                peer,
                message: Message::Response { response, .. },
                ..
            } => {
                if let Some(c) = response.cluster_id {
                    self.clusters.insert(peer, c);
                }
                let info = MetadataInfo {
                    cluster_id: response.cluster_id,
                    shards: response.shards,
                };
                if let Some(v) = self.visits.get_mut(&peer) {
                    v.metadata_pending = false;
                    v.metadata = Some(info.clone());
                    let node = v.node;
                    self.out.push_back(DialerEvent::Metadata { node, info });
                }
                self.check_complete(peer);
            }
            Event::OutboundFailure { peer, error, .. } => {
                if let Some(v) = self.visits.get_mut(&peer) {
                    v.metadata_pending = false;
                    v.metadata_error = Some(error.to_string());
                }
                self.check_complete(peer);
            }
            Event::InboundFailure { .. } | Event::ResponseSent { .. } => {}
        }
    }
}

/// The IP a multiaddr starts with.
fn ip_of(addr: &Multiaddr) -> Option<IpAddr> {
    use libp2p::multiaddr::Protocol;
    match addr.iter().next() {
        Some(Protocol::Ip4(ip)) => Some(IpAddr::V4(ip)),
        Some(Protocol::Ip6(ip)) => Some(IpAddr::V6(ip)),
        _ => None,
    }
}
