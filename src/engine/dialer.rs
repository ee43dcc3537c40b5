//! The libp2p side of a crawl: dial a peer (TCP + Noise + Yamux), read identify, exchange
//! Waku metadata, measure one ping, disconnect — and classify whatever fails.
//!
//! One [`Dialer`] owns one swarm. The crawl loop calls [`Dialer::dial`] and polls
//! [`Dialer::next`], which yields progress events and, for every dial, exactly one
//! [`VisitReport`]. A visit ends when identify, metadata and ping have each answered or
//! failed, when the connection closes, or at the visit deadline.
//!
//! The crawler also *serves* metadata: nwaku asks every new connection for its cluster and
//! drops peers that report another one, so the answer echoes the requester's own cluster
//! and shards.

use std::collections::HashMap;
use std::error::Error as _;
use std::time::Duration;

use futures::StreamExt;
use libp2p::core::muxing::StreamMuxerBox;
use libp2p::core::transport::{Boxed, Transport as _};
use libp2p::core::upgrade;
use libp2p::swarm::dial_opts::{DialOpts, PeerCondition};
use libp2p::swarm::{DialError, NetworkBehaviour, SwarmEvent};
use libp2p::{identify, identity, noise, ping, request_response, tcp, yamux, Multiaddr, PeerId};
use tokio::time::Instant;

use crate::model::{
    now_millis, CrawlId, ErrorClass, IdentifyInfo, MetadataInfo, NodeId, UnixMillis, VisitReport,
};
use crate::waku::{metadata_protocol, MetadataCodec, WakuMetadata};

/// The libp2p behaviours a crawler connection runs.
#[derive(NetworkBehaviour)]
#[behaviour(prelude = "libp2p::swarm::derive_prelude")]
pub struct Behaviour {
    identify: identify::Behaviour,
    ping: ping::Behaviour,
    metadata: request_response::Behaviour<MetadataCodec>,
}

/// Dialer settings.
#[derive(Clone, Debug)]
pub struct DialerConfig {
    /// Bound on TCP connect + Noise + Yamux.
    pub dial_timeout: Duration,
    /// Bound on identify, metadata and ping once connected.
    pub visit_timeout: Duration,
    /// Our identify agent version.
    pub agent_version: String,
    /// Our metadata request; `None` sends none (not a Waku crawl).
    pub metadata: Option<WakuMetadata>,
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
    metadata: Option<MetadataInfo>,
    metadata_error: Option<String>,
    metadata_pending: bool,
    rtt: Option<Duration>,
    ping_failed: Option<String>,
}

impl Visit {
    fn complete(&self) -> bool {
        self.connected.is_some()
            && (self.identify.is_some() || self.identify_failed.is_some())
            && !self.metadata_pending
            && (self.rtt.is_some() || self.ping_failed.is_some())
    }

    fn report(self, error_class: Option<ErrorClass>, error: Option<String>) -> VisitReport {
        let error = error.or_else(|| {
            let mut notes = Vec::new();
            if let Some(e) = &self.identify_failed {
                notes.push(format!("identify: {e}"));
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
}

/// The crawler's libp2p transport: TCP (nodelay) + Noise + Yamux, with `timeout` bounding
/// connect and upgrade together (the TCP transport has no connect timeout of its own).
pub(crate) fn tcp_transport(
    key: &identity::Keypair,
    timeout: Duration,
) -> Result<Boxed<(PeerId, StreamMuxerBox)>, Box<dyn std::error::Error + Send + Sync>> {
    let noise = noise::Config::new(key)?;
    Ok(
        tcp::tokio::Transport::new(tcp::Config::default().nodelay(true))
            .upgrade(upgrade::Version::V1Lazy)
            .authenticate(noise)
            .multiplex(yamux::Config::default())
            .timeout(timeout)
            .map(|(peer, muxer), _| (peer, StreamMuxerBox::new(muxer)))
            .boxed(),
    )
}

/// Builds the dialer's swarm.
fn build_swarm(
    key: identity::Keypair,
    config: &DialerConfig,
) -> Result<libp2p::Swarm<Behaviour>, String> {
    let dial_timeout = config.dial_timeout;
    let agent = config.agent_version.clone();
    let idle = config.visit_timeout + config.dial_timeout;
    let swarm = libp2p::SwarmBuilder::with_existing_identity(key)
        .with_tokio()
        .with_other_transport(|key| tcp_transport(key, dial_timeout))
        .map_err(|e| e.to_string())?
        .with_behaviour(|key| Behaviour {
            identify: identify::Behaviour::new(
                identify::Config::new("peerscope/1".into(), key.public())
                    .with_agent_version(agent)
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
                request_response::Config::default().with_request_timeout(dial_timeout),
            ),
        })
        .map_err(|e| e.to_string())?
        .with_swarm_config(|c| c.with_idle_connection_timeout(idle))
        .build();
    Ok(swarm)
}

/// Maps a dial error to its class and raw text.
pub fn classify_dial_error(error: &DialError) -> (ErrorClass, String) {
    let text = error_chain(error);
    let class = match error {
        DialError::NoAddresses => ErrorClass::NoAddress,
        DialError::WrongPeerId { .. } => ErrorClass::PeerIdMismatch,
        DialError::Aborted => ErrorClass::Canceled,
        DialError::LocalPeerId { .. } | DialError::Denied { .. } => ErrorClass::Other,
        DialError::DialPeerConditionFalse(_) => ErrorClass::Other,
        DialError::Transport(errors) => errors
            .iter()
            .map(|(_, e)| classify_transport(e))
            // With several addresses, report the most informative failure.
            .min_by_key(|c| match c {
                ErrorClass::PeerIdMismatch => 0,
                ErrorClass::Handshake => 1,
                ErrorClass::Timeout => 2,
                ErrorClass::Refused => 3,
                ErrorClass::Unreachable => 4,
                _ => 5,
            })
            .unwrap_or(ErrorClass::Other),
    };
    (class, text)
}

fn classify_transport(error: &libp2p::TransportError<std::io::Error>) -> ErrorClass {
    use std::io::ErrorKind;
    let libp2p::TransportError::Other(io) = error else {
        return ErrorClass::NoAddress; // MultiaddrNotSupported
    };
    // Walk the source chain for the innermost I/O error kind.
    let mut kinds = vec![io.kind()];
    let mut source = io.source();
    while let Some(s) = source {
        if let Some(e) = s.downcast_ref::<std::io::Error>() {
            kinds.push(e.kind());
        }
        source = s.source();
    }
    // The upgrade and timeout wrappers hide the inner io::Error from downcasting, so the
    // OS error text is consulted too.
    let text = error_chain(io).to_ascii_lowercase();
    if kinds.contains(&ErrorKind::ConnectionRefused) || text.contains("connection refused") {
        ErrorClass::Refused
    } else if kinds.contains(&ErrorKind::TimedOut)
        || text.contains("timeout")
        || text.contains("timed out")
    {
        ErrorClass::Timeout
    } else if kinds.contains(&ErrorKind::HostUnreachable)
        || kinds.contains(&ErrorKind::NetworkUnreachable)
        || kinds.contains(&ErrorKind::AddrNotAvailable)
        || text.contains("unreachable")
        || text.contains("no route to host")
    {
        ErrorClass::Unreachable
    } else if text.contains("noise") || text.contains("handshake") || text.contains("yamux") {
        ErrorClass::Handshake
    } else if text.contains("multistream") || text.contains("negotiat") {
        ErrorClass::ProtocolNegotiation
    } else {
        ErrorClass::Other
    }
}

/// An error and its sources, joined with ": ".
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let t = s.to_string();
        if !out.contains(&t) {
            out.push_str(": ");
            out.push_str(&t);
        }
        source = s.source();
    }
    out
}

impl Dialer {
    /// A dialer with a fresh secp256k1 identity.
    pub fn new(config: DialerConfig) -> Result<Dialer, String> {
        let swarm = build_swarm(identity::Keypair::generate_secp256k1(), &config)?;
        let mut tick = tokio::time::interval(Duration::from_millis(100));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        Ok(Dialer {
            swarm,
            config,
            visits: HashMap::new(),
            nodes: HashMap::new(),
            out: Default::default(),
            tick,
        })
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
            deadline: now + self.config.dial_timeout + self.config.visit_timeout,
            connected: None,
            identify: None,
            identify_failed: None,
            metadata: None,
            metadata_error: None,
            metadata_pending: false,
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
                peer_id, endpoint, ..
            } => {
                let address = endpoint.get_remote_address().to_string();
                let Some(v) = self.visits.get_mut(&peer_id) else {
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
            SwarmEvent::ConnectionClosed {
                peer_id,
                num_established,
                cause,
                ..
            } => {
                if num_established > 0 {
                    return;
                }
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
                let info = IdentifyInfo {
                    agent_version: info.agent_version,
                    protocol_version: info.protocol_version,
                    protocols: info.protocols.iter().map(|p| p.to_string()).collect(),
                    listen_addrs: info.listen_addrs.iter().map(|a| a.to_string()).collect(),
                    observed_addr: info.observed_addr.to_string(),
                };
                if let Some(v) = self.visits.get_mut(&peer_id) {
                    if v.identify.is_none() {
                        v.identify = Some(info.clone());
                        let node = v.node;
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
        }
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
                let _ = self
                    .swarm
                    .behaviour_mut()
                    .metadata
                    .send_response(channel, request);
                let _ = peer;
            }
            Event::Message {
                peer,
                message: Message::Response { response, .. },
                ..
            } => {
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
