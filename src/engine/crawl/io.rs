//! The side effects of one crawl: its discv5 instance (UDP socket, FINDNODE requests and
//! random lookups in flight), its dialer and relay monitor swarms, and the geolocator its
//! peers' IPs go to. [`Discovery`] owns them; the crawl loop decides what to do with them.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use discv5::{ConfigBuilder, Discv5, Event, ListenConfig, ProtocolIdentity};
use enr::CombinedKey;
use futures::future::BoxFuture;
use futures::stream::{FuturesUnordered, StreamExt};
use tokio::sync::mpsc;

use super::scope::TableFilter;
use super::walk::Request;
use crate::engine::counter::MessageCounter;
use crate::engine::dialer::{Dialer, DialerConfig, DialerEvent};
use crate::engine::error::{FindNodeError, StartError};
use crate::engine::geo::Geolocator;
use crate::engine::relay_monitor::{RelayConfig, RelayEvent, RelayMonitor};
use crate::metrics::Metrics;
use crate::model::scope::AddressScope;
use crate::model::{CrawlSpec, NodeId, Profile};
use crate::protocol::enr::Enr;
use crate::protocol::waku::WakuMetadata;

/// A discv5 configuration for crawling: the profile's protocol id, no ENR updates from
/// peers' PONGs, no NAT probing, and a session cache big enough to keep a session with
/// every node of a large network (re-handshaking costs an ECDH per node).
///
/// discv5 sends a request's packet again once, 0.45 × `request_timeout` later, and gives
/// the request up at 0.9 × `request_timeout`: just before the walk's longest timeout, so
/// that a retry after it starts a fresh handshake rather than queueing behind the old one.
/// The walk times its requests out sooner as the round trips it sees allow.
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
        .request_timeout(request_timeout * 9 / 20)
        .request_retries(1)
        .query_peer_timeout(request_timeout * 2)
        .session_cache_capacity(20_000)
        .disable_enr_update()
        .auto_nat_listen_duration(None)
        .build()
}

/// A local ENR with no ip or udp: others cannot add the crawler to their tables, but it
/// can query them (a passive crawler).
pub fn passive_local_enr(key: &CombinedKey) -> Result<Enr, enr::Error> {
    Enr::builder().build(key)
}

/// A seed's local ENR: ip/tcp (its libp2p listener) and udp (its discv5 socket), so that
/// others can dial it and add it to their tables.
pub(super) fn seed_local_enr(
    key: &CombinedKey,
    ip: IpAddr,
    tcp: u16,
    udp: u16,
) -> Result<Enr, enr::Error> {
    let mut b = Enr::builder();
    match ip {
        IpAddr::V4(ip) => {
            b.ip4(ip).tcp4(tcp).udp4(udp);
        }
        IpAddr::V6(ip) => {
            b.ip6(ip).tcp6(tcp).udp6(udp);
        }
    }
    b.build(key)
}

/// A crawl's node key: the saved secret (a resumed crawl keeps its node id and peer id),
/// or a new one when none was saved or the saved one does not decode.
pub(crate) fn crawl_key(saved: Option<Vec<u8>>) -> CombinedKey {
    saved
        .and_then(|mut secret| CombinedKey::secp256k1_from_bytes(&mut secret).ok())
        .unwrap_or_else(CombinedKey::generate_secp256k1)
}

/// The libp2p identity of a secp256k1 discv5 key.
pub(super) fn libp2p_key(key: &CombinedKey) -> Result<libp2p::identity::Keypair, StartError> {
    let CombinedKey::Secp256k1(k) = key else {
        return Err(StartError::KeyType);
    };
    let mut secret = k.to_bytes().to_vec();
    let sk = libp2p::identity::secp256k1::SecretKey::try_from_bytes(&mut secret)?;
    Ok(libp2p::identity::Keypair::from(
        libp2p::identity::secp256k1::Keypair::from(sk),
    ))
}

/// A discv5 job that ended: a FINDNODE of the walk or a random lookup.
pub(super) enum Job {
    FindNode {
        request: Request,
        result: Result<Vec<Enr>, FindNodeError>,
    },
    Lookup(Result<Vec<Enr>, FindNodeError>),
}

impl FindNodeError {
    /// Whether the request got no answer in time (rather than failing otherwise).
    pub(super) fn is_timeout(&self) -> bool {
        matches!(self, FindNodeError::Request(discv5::RequestError::Timeout))
    }
}

/// FINDNODE requests and lookups in flight, polled by the crawl's own task (no task of
/// their own: no spawn and no hop between threads per request).
#[derive(Default)]
pub(super) struct Jobs {
    futures: FuturesUnordered<BoxFuture<'static, Job>>,
    /// Random lookups among them.
    lookups: usize,
}

impl Jobs {
    /// The next job to end; never, while none is in flight.
    pub(super) async fn next(&mut self) -> Job {
        match self.futures.next().await {
            Some(job) => {
                if matches!(job, Job::Lookup(_)) {
                    self.lookups = self.lookups.saturating_sub(1);
                }
                job
            }
            None => std::future::pending().await,
        }
    }
}

/// A started discv5 instance for one crawl, with the swarms and the geolocator it feeds.
pub(crate) struct Discovery {
    discv5: Discv5,
    /// discv5's events (`Discovered`, `SessionEstablished`, …).
    pub(super) events: mpsc::Receiver<Event>,
    local_addr: SocketAddr,
    pub(super) local_id: NodeId,
    /// FINDNODE requests and lookups in flight, polled by the crawl's own task (no task
    /// of their own: no spawn and no hop between threads per request).
    pub(super) jobs: Jobs,
    pub(super) dialer: Option<Dialer>,
    pub(super) relay: Option<RelayMonitor>,
    /// Seed mode: the libp2p TCP address peer exchange is served on.
    seed_addr: Option<SocketAddr>,
    /// Where peers' IPs go to be geolocated (when geolocation is on).
    pub(super) geo: Option<Geolocator>,
    /// The addresses this crawl may contact, decided when it starts.
    pub(super) scope: Arc<AddressScope>,
    /// Keeps discv5's queries inside `scope` (see [`super::scope`]).
    _table_filter: TableFilter,
}

impl Discovery {
    /// Sends the IPs of the peers this crawl learns to `geo`.
    pub(crate) fn with_geolocator(mut self, geo: Option<Geolocator>) -> Discovery {
        self.geo = geo;
        self
    }

    /// Binds the UDP socket on `addr` and starts discv5 with the crawl's bootstrap ENRs,
    /// as the node of `key` (discv5 and libp2p).
    pub(crate) async fn start(
        spec: &CrawlSpec,
        addr: SocketAddr,
        key: CombinedKey,
        counter: &MessageCounter,
        metrics: &Metrics,
    ) -> Result<Discovery, StartError> {
        let socket = tokio::net::UdpSocket::bind(addr)
            .await
            .map_err(StartError::Socket)?;
        let local_addr = socket.local_addr().map_err(StartError::Socket)?;
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
        let dial = &spec.settings.dial;
        let px = &spec.settings.peer_exchange;
        let mut dialer = if dial.enabled {
            let metadata = match &spec.profile {
                Profile::Waku {
                    cluster_id, shards, ..
                } => Some(WakuMetadata {
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
                    return Err(StartError::UnspecifiedSeedAddress);
                }
                (
                    seed_local_enr(&key, ip, tcp.port(), local_addr.port())?,
                    Some(tcp),
                )
            }
            (Some(_), None) => return Err(StartError::SeedWithoutDial),
            (None, _) => (passive_local_enr(&key)?, None),
        };
        let local_id = local_enr.node_id().raw();
        let scope = Arc::new(spec.address_scope());
        let table_filter = TableFilter::new(scope.clone());
        let mut config = discv5_config(
            listen,
            spec.profile.protocol_id(),
            spec.settings.request_timeout,
        );
        config.table_filter = table_filter.function();
        let mut discv5 = Discv5::new(local_enr, key, config).map_err(StartError::Discv5Config)?;
        discv5.start().await.map_err(StartError::Discv5)?;
        let events = discv5.event_stream().await.map_err(StartError::Discv5)?;
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
            jobs: Jobs::default(),
            dialer,
            relay,
            seed_addr,
            geo: None,
            scope,
            _table_filter: table_filter,
        })
    }

    /// The bound UDP address.
    pub(crate) fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Seed mode: the TCP address peer exchange is served on.
    pub(crate) fn seed_addr(&self) -> Option<SocketAddr> {
        self.seed_addr
    }

    /// The crawl's local ENR (passive, or a seed's with ip/tcp/udp).
    pub(crate) fn local_enr(&self) -> Enr {
        self.discv5.local_enr()
    }

    /// Adds a bootstrap record to discv5's routing table.
    pub(super) fn add_enr(&self, enr: Enr) {
        if let Err(e) = self.discv5.add_enr(enr) {
            tracing::debug!(error = e, "bootstrap ENR not added to the table");
        }
    }

    /// Removes a node from discv5's routing table (a seed's table takes nodes that contact
    /// it, whatever their address).
    pub(super) fn forget(&self, node: &NodeId) {
        self.discv5.remove_node(&enr::NodeId::new(node));
    }

    /// Sends `request` to `enr` (a designated FINDNODE). The walk times it out sooner,
    /// but the job runs on until discv5 answers or gives up (it always does, by
    /// `request_timeout`, or at once when it stops), so that a late answer still counts.
    pub(super) fn send(&mut self, request: Request, enr: Enr) {
        let fut = self
            .discv5
            .find_node_designated_peer(enr, request.distances());
        self.jobs.futures.push(Box::pin(async move {
            Job::FindNode {
                request,
                result: fut.await.map_err(FindNodeError::Request),
            }
        }));
    }

    /// Starts `n` iterative lookups of random targets.
    pub(super) fn lookups(&mut self, n: u32) {
        for _ in 0..n {
            let fut = self.discv5.find_node(enr::NodeId::random());
            self.jobs.lookups += 1;
            self.jobs.futures.push(Box::pin(async move {
                Job::Lookup(fut.await.map_err(FindNodeError::Query))
            }));
        }
    }

    /// Random lookups in flight.
    pub(super) fn lookups_in_flight(&self) -> usize {
        self.jobs.lookups
    }

    /// Whether the dialer (if any) has no visit in progress and no event waiting.
    pub(super) fn dialer_idle(&self) -> bool {
        self.dialer.as_ref().is_none_or(|d| d.idle())
    }

    /// Ends everything: jobs aborted, discv5 shut down, the swarms dropped (which closes
    /// their connections; visits cut short are not recorded).
    pub(super) fn shutdown(&mut self) {
        self.jobs = Jobs::default();
        self.discv5.shutdown();
        self.dialer = None;
        self.relay = None;
    }
}

/// The dialer's next event; never, without a dialer.
pub(super) async fn next_dial_event(dialer: &mut Option<Dialer>) -> DialerEvent {
    match dialer {
        Some(d) => d.next().await,
        None => std::future::pending().await,
    }
}

/// The relay monitor's next event; never, without one.
pub(super) async fn next_relay_event(relay: &mut Option<RelayMonitor>) -> RelayEvent {
    match relay {
        Some(r) => r.next().await,
        None => std::future::pending().await,
    }
}

/// Sleeps until `deadline`; forever without one.
pub(super) async fn sleep_until_opt(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}
