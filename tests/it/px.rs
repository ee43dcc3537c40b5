//! Waku peer exchange: records learned only through it, seed mode answering requesters,
//! Ethereum records counted per fork digest, and fleet presets.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use futures::StreamExt;
use libp2p::swarm::{NetworkBehaviour, SwarmEvent};
use libp2p::{noise, request_response, tcp, yamux, Multiaddr, PeerId};
use peerscope::proto::pb;
use peerscope::protocol::enr::{build_waku_enr, DecodedEnr, Enr, Waku2};
use peerscope::protocol::waku::{self, MetadataCodec, PxCodec, PxResponse, PxRpc, WakuMetadata};
use peerscope::testnet::{Testnet, TestnetConfig};
use tonic::Code;

use crate::common::{
    all_peers, crawl_testnet, crawl_testnet_with, http_get, oneshot, start, stored_events, within,
    Crawled, Server,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_reachable_only_through_peer_exchange_are_found() {
    let Crawled {
        net,
        server,
        mut client,
        crawl,
        done,
    } = crawl_testnet(
        TestnetConfig {
            nodes: 24,
            px_only: 6,
            peer_exchange: true,
            seed: 41,
            ..TestnetConfig::default()
        },
        Duration::from_secs(150),
    )
    .await;
    let nodes = net.nodes();
    assert_eq!(nodes.len(), 30);
    let px_only: BTreeSet<String> = nodes
        .iter()
        .filter(|n| n.px_only)
        .map(|n| n.node_id.clone())
        .collect();
    assert_eq!(px_only.len(), 6);
    for n in nodes.iter().filter(|n| n.px_only) {
        assert!(n.udp.is_none(), "peer-exchange-only nodes run no discv5");
    }
    assert_eq!(done.state, pb::CrawlState::Finished as i32);
    let progress = done.progress.unwrap();
    assert!(progress.px_requests >= 24, "{progress:?}");
    assert!(progress.px_enrs > 0, "{progress:?}");
    let peers = all_peers(&mut client, &crawl.id, 100).await;
    let found: BTreeMap<String, pb::Peer> =
        peers.into_iter().map(|p| (p.node_id.clone(), p)).collect();
    let want: BTreeSet<String> = nodes.iter().map(|n| n.node_id.clone()).collect();
    assert_eq!(found.keys().cloned().collect::<BTreeSet<_>>(), want);
    let peer_ids: BTreeSet<String> = nodes.iter().map(|n| n.peer_id.clone()).collect();
    for (id, p) in &found {
        let kinds: BTreeSet<&str> = p.sources.iter().map(|s| s.kind.as_str()).collect();
        if px_only.contains(id) {
            assert_eq!(kinds, BTreeSet::from(["peer_exchange"]), "{id}");
            for s in &p.sources {
                assert!(peer_ids.contains(&s.via_peer_id), "via a testnet node");
            }
            assert_eq!(p.reachable, Some(true), "dialed and identified");
        } else {
            assert!(
                kinds.contains("discv5") || kinds.contains("bootstrap"),
                "{id}: {kinds:?}"
            );
        }
    }
    let stats = client
        .get_network_stats(pb::GetNetworkStatsRequest {
            crawl_id: crawl.id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(stats.by_source.get("peer_exchange").copied().unwrap_or(0) >= 6);
    drop(client);
    server.stop().await;
}

#[derive(NetworkBehaviour)]
#[behaviour(prelude = "libp2p::swarm::derive_prelude")]
struct Requester {
    metadata: request_response::Behaviour<MetadataCodec>,
    px: request_response::Behaviour<PxCodec>,
}

/// A libp2p peer of `cluster` asking a seed for records.
pub(crate) struct Client {
    swarm: libp2p::Swarm<Requester>,
    seed: PeerId,
    own: WakuMetadata,
}

/// A requester's swarm, with a fresh secp256k1 identity (so the seed can tell its node id).
fn requester_swarm() -> libp2p::Swarm<Requester> {
    libp2p::SwarmBuilder::with_existing_identity(libp2p::identity::Keypair::generate_secp256k1())
        .with_tokio()
        .with_tcp(
            tcp::Config::default(),
            noise::Config::new,
            yamux::Config::default,
        )
        .unwrap()
        .with_behaviour(|_| Requester {
            metadata: request_response::Behaviour::new(
                [(
                    waku::metadata_protocol(),
                    request_response::ProtocolSupport::Full,
                )],
                request_response::Config::default(),
            ),
            px: request_response::Behaviour::new(
                [(
                    waku::peer_exchange_protocol(),
                    request_response::ProtocolSupport::Outbound,
                )],
                request_response::Config::default().with_request_timeout(Duration::from_secs(20)),
            ),
        })
        .unwrap()
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(60)))
        .build()
}

impl Client {
    /// Connects to the seed and exchanges metadata. A connection the seed closes at once
    /// (its per-IP cap still counts one that just closed) is tried again, up to 50 times.
    pub(crate) async fn connect(seed: PeerId, addr: Multiaddr, cluster: u32) -> Client {
        let mut swarm = requester_swarm();
        let target = addr.with(libp2p::multiaddr::Protocol::P2p(seed));
        swarm.dial(target.clone()).unwrap();
        let own = WakuMetadata {
            cluster_id: Some(cluster),
            shards: vec![],
        };
        // As nwaku does: tell the seed our cluster first.
        swarm
            .behaviour_mut()
            .metadata
            .send_request(&seed, own.clone());
        let mut c = Client {
            swarm,
            seed,
            own: own.clone(),
        };
        let mut redials = 0;
        within(Duration::from_secs(30), async {
            loop {
                match c.swarm.select_next_some().await {
                    SwarmEvent::ConnectionClosed {
                        num_established: 0, ..
                    } => {
                        redials += 1;
                        assert!(redials <= 50, "the seed keeps closing the connection");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        c.swarm.dial(target.clone()).unwrap();
                        c.swarm
                            .behaviour_mut()
                            .metadata
                            .send_request(&seed, own.clone());
                    }
                    SwarmEvent::Behaviour(RequesterEvent::Metadata(
                        request_response::Event::Message {
                            message: request_response::Message::Request { channel, .. },
                            ..
                        },
                    )) => {
                        let _ = c
                            .swarm
                            .behaviour_mut()
                            .metadata
                            .send_response(channel, own.clone());
                    }
                    SwarmEvent::Behaviour(RequesterEvent::Metadata(
                        request_response::Event::Message {
                            message: request_response::Message::Response { response, .. },
                            ..
                        },
                    )) => {
                        assert_eq!(response.cluster_id, Some(cluster), "the seed echoes");
                        return;
                    }
                    SwarmEvent::OutgoingConnectionError { error, .. } => {
                        panic!("could not reach the seed: {error}")
                    }
                    _ => {}
                }
            }
        })
        .await;
        c
    }

    pub(crate) async fn ask(&mut self, num_peers: u64) -> PxResponse {
        self.ask_rpc(PxRpc::query(num_peers)).await
    }

    /// Sends `rpc` as a request (which may hold no query at all) and returns the answer.
    async fn ask_rpc(&mut self, rpc: PxRpc) -> PxResponse {
        let seed = self.seed;
        self.swarm.behaviour_mut().px.send_request(&seed, rpc);
        within(Duration::from_secs(30), async {
            loop {
                match self.swarm.select_next_some().await {
                    SwarmEvent::Behaviour(RequesterEvent::Px(
                        request_response::Event::Message {
                            message: request_response::Message::Response { response, .. },
                            ..
                        },
                    )) => return response.response.expect("a response"),
                    SwarmEvent::Behaviour(RequesterEvent::Px(
                        request_response::Event::OutboundFailure { error, .. },
                    )) => panic!("peer exchange failed: {error}"),
                    SwarmEvent::Behaviour(RequesterEvent::Metadata(
                        request_response::Event::Message {
                            message: request_response::Message::Request { channel, .. },
                            ..
                        },
                    )) => {
                        let _ = self
                            .swarm
                            .behaviour_mut()
                            .metadata
                            .send_response(channel, self.own.clone());
                    }
                    _ => {}
                }
            }
        })
        .await
    }
}

fn decode_all(r: &PxResponse) -> Vec<DecodedEnr> {
    use alloy_rlp::Decodable;
    r.peer_infos
        .iter()
        .map(|i| {
            let enr = Enr::decode(&mut i.enr.as_slice()).expect("an RLP ENR");
            assert!(enr.verify());
            DecodedEnr::from_enr(&enr)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_mode_serves_vetted_peers_of_the_requesters_cluster_once_per_interval() {
    let net = Testnet::start(TestnetConfig {
        nodes: 40,
        down_fraction: 0.2,
        seed: 43,
        ..TestnetConfig::default()
    })
    .await
    .unwrap();
    let nodes = net.nodes();
    // A record that claims an up node's TCP port with another key: its dial fails with a
    // peer id mismatch and it is banned. It is on cluster 16, like the requester.
    let victim = nodes.iter().find(|n| n.up).unwrap();
    let udp_hold = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let impostor_key = enr::CombinedKey::generate_secp256k1();
    let impostor = build_waku_enr(
        &impostor_key,
        std::net::Ipv4Addr::LOCALHOST,
        udp_hold.local_addr().unwrap().port(),
        victim.tcp,
        Waku2(Waku2::RELAY),
        16,
        &[1],
        &[],
    )
    .unwrap();
    let impostor_id = hex::encode(impostor.node_id().raw());
    let server = Server::start().await;
    let mut client = server.client().await;
    let mut bootstrap = net.bootstrap_enrs().to_vec();
    bootstrap.push(impostor.to_base64());
    let crawl = start(&mut client, seed_crawl(&bootstrap)).await;
    assert!(!crawl.seed_addr.is_empty(), "seed mode listens");
    let local =
        DecodedEnr::from_enr(&peerscope::protocol::enr::parse_enr(&crawl.local_enr).unwrap());
    assert!(local.ip4.is_some() && local.tcp4.is_some() && local.udp4.is_some());
    let seed_peer: PeerId = local.peer_id.clone().unwrap().parse().unwrap();
    let seed_addr: std::net::SocketAddr = crawl.seed_addr.parse().unwrap();
    assert_eq!(local.tcp4, Some(seed_addr.port()));
    // Wait until every node was dialed once (up nodes vetted, down ones failing) and the
    // impostor banned.
    let up: usize = nodes.iter().filter(|n| n.up).count();
    within(Duration::from_secs(150), async {
        loop {
            let c = client
                .get_crawl(pb::GetCrawlRequest {
                    crawl_id: crawl.id.clone(),
                })
                .await
                .unwrap()
                .into_inner()
                .crawl
                .unwrap();
            let p = c.progress.unwrap();
            let failed: u64 = p.failed_by_class.values().sum();
            if p.discovered as usize == nodes.len() + 1
                && p.connected as usize >= up
                && failed as usize > nodes.len() - up
                && p.failed_by_class.contains_key("peer_id_mismatch")
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    })
    .await;
    let impostor_peer = client
        .get_peer(pb::GetPeerRequest {
            key: Some(pb::get_peer_request::Key::NodeId(impostor_id.clone())),
        })
        .await
        .unwrap()
        .into_inner()
        .peer
        .unwrap();
    assert_eq!(impostor_peer.state, "banned");

    let addr: Multiaddr = format!("/ip4/127.0.0.1/tcp/{}", seed_addr.port())
        .parse()
        .unwrap();
    let up_in = |cluster: u16| -> BTreeSet<String> {
        nodes
            .iter()
            .filter(|n| n.up && n.cluster_id == cluster)
            .map(|n| n.node_id.clone())
            .collect()
    };
    // A cluster-16 requester gets every vetted cluster-16 peer (fewer than 60): no down
    // (never vetted) node, not the banned impostor, no other cluster.
    let mut a = Client::connect(seed_peer, addr.clone(), 16).await;
    let first = a.ask(60).await;
    assert_eq!(first.status_code, 200);
    let got: BTreeSet<String> = decode_all(&first)
        .iter()
        .map(|d| hex::encode(d.node_id))
        .collect();
    assert!(!up_in(16).is_empty());
    assert_eq!(got, up_in(16));
    assert!(!got.contains(&impostor_id));
    // Asking again inside the interval is refused.
    let again = a.ask(60).await;
    assert_eq!(again.status_code, 429);
    assert!(again.peer_infos.is_empty());
    assert!(!again.status_desc.unwrap_or_default().is_empty());
    // Another requester, of cluster 1, asking for 3: at most 3, all vetted cluster-1 peers.
    let mut b = Client::connect(seed_peer, addr.clone(), 1).await;
    let few = b.ask(3).await;
    assert_eq!(few.status_code, 200);
    let few = decode_all(&few);
    assert_eq!(few.len(), 3.min(up_in(1).len()));
    for d in &few {
        assert!(up_in(1).contains(&hex::encode(d.node_id)));
    }
    // A third asks for more than the protocol cap: never more than 60.
    let mut c = Client::connect(seed_peer, addr, 1).await;
    let many = c.ask(1000).await;
    assert!(many.peer_infos.len() <= 60);
    assert_eq!(many.peer_infos.len(), up_in(1).len().min(60));

    // Progress snapshots are published about every 100 ms: wait for the counts.
    within(Duration::from_secs(30), async {
        loop {
            let c = client
                .get_crawl(pb::GetCrawlRequest {
                    crawl_id: crawl.id.clone(),
                })
                .await
                .unwrap()
                .into_inner()
                .crawl
                .unwrap();
            let p = c.progress.unwrap();
            if p.px_served == 3 && p.px_refused == 1 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;
    let (_, metrics) = http_get(server.http, "/metrics", None).await;
    assert!(
        metrics.contains("peerscope_px_served_total{outcome=\"refused\"}"),
        "{metrics}"
    );
    drop(client);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ethereum_crawl_counts_peers_per_fork_digest() {
    let Crawled {
        net,
        server,
        mut client,
        crawl,
        done,
    } = crawl_testnet_with(
        TestnetConfig {
            nodes: 24,
            protocol_id: *b"discv5",
            eth2: true,
            seed: 47,
            ..TestnetConfig::default()
        },
        |req| pb::StartCrawlRequest {
            profile: Some(pb::NetworkProfile {
                profile: Some(pb::network_profile::Profile::Ethereum(
                    pb::EthereumProfile {},
                )),
            }),
            ..req
        },
        Duration::from_secs(120),
    )
    .await;
    let mut want: BTreeMap<String, u64> = BTreeMap::new();
    for n in net.nodes() {
        *want.entry(n.fork_digest.clone().unwrap()).or_default() += 1;
    }
    assert_eq!(want.len(), 2, "both digests in use");
    assert_eq!(done.progress.unwrap().discovered, 24);
    let stats = client
        .get_network_stats(pb::GetNetworkStatsRequest {
            crawl_id: crawl.id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        stats.by_fork_digest.into_iter().collect::<BTreeMap<_, _>>(),
        want
    );
    assert_eq!(stats.by_record_kind.get("eth2"), Some(&24));
    for p in all_peers(&mut client, &crawl.id, 50).await {
        let f = p.enr_fields.unwrap();
        let eth2 = f.eth2.expect("eth2 decoded");
        assert!(want.contains_key(&eth2.fork_digest));
        assert_eq!(eth2.next_fork_epoch, u64::MAX);
        assert!(f.syncnets.iter().all(|s| *s < 4));
        assert!(f.attnets.iter().all(|s| *s < 64));
    }
    let (_, metrics) = http_get(server.http, "/metrics", None).await;
    for (digest, n) in &want {
        assert!(
            metrics.contains(&format!(
                "peerscope_peers_by_fork_digest{{fork_digest=\"{digest}\"}} {n}"
            )),
            "{metrics}"
        );
    }
    drop(client);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fleet_presets_expand_to_their_tree_and_unknown_ones_are_refused() {
    // The nameserver is a loopback DNS server that holds no fleet domain: the preset's URL
    // is looked up there only, and fails.
    let dns = peerscope::testnet::dns::TreeServer::start(Vec::new())
        .await
        .unwrap();
    let server = Server::start_with(peerscope::engine::EngineConfig {
        dns: peerscope::protocol::dns::ResolverSettings {
            nameservers: vec![dns.addr()],
            timeout: Duration::from_secs(2),
            ..Default::default()
        },
        ..Default::default()
    })
    .await;
    let mut client = server.client().await;
    let with_preset = |name: &str| pb::StartCrawlRequest {
        profile: Some(pb::NetworkProfile {
            profile: Some(pb::network_profile::Profile::Waku(pb::WakuProfile {
                cluster_id: 0,
                shards: vec![],
                preset: name.into(),
                ..Default::default()
            })),
        }),
        ..oneshot(&[])
    };
    let err = client
        .start_crawl(with_preset("mainnet"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(
        err.message().contains("profile.waku.preset"),
        "{}",
        err.message()
    );
    let err = client
        .start_crawl(with_preset("sandbox"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "{}", err.message());
    assert!(
        err.message().contains(
            "enrtree://AIRVQ5DDA4FFWLRBCHJWUWOO6X6S4ZTZ5B667LQ6AJU6PEYDLRD5O@sandbox.waku.nodes.status.im"
        ),
        "{}",
        err.message()
    );
    drop(client);
    server.stop().await;
}

/// Connections from `n` fresh peers at once, each held for `hold`: how many the seed kept
/// open all along.
async fn held_connections(seed: PeerId, addr: &Multiaddr, n: usize, hold: Duration) -> usize {
    let target = addr.clone().with(libp2p::multiaddr::Protocol::P2p(seed));
    let mut swarms: Vec<libp2p::Swarm<Requester>> = (0..n).map(|_| requester_swarm()).collect();
    for s in &mut swarms {
        s.dial(target.clone()).unwrap();
    }
    let outcomes = futures::future::join_all(swarms.iter_mut().map(|s| async move {
        let mut up = false;
        let deadline = tokio::time::sleep(hold);
        tokio::pin!(deadline);
        loop {
            tokio::select! {
                _ = &mut deadline => return up,
                ev = s.select_next_some() => match ev {
                    SwarmEvent::ConnectionEstablished { .. } => up = true,
                    SwarmEvent::ConnectionClosed { num_established: 0, .. }
                    | SwarmEvent::OutgoingConnectionError { .. } => return false,
                    _ => {}
                },
            }
        }
    }))
    .await;
    outcomes.into_iter().filter(|held| *held).count()
}

/// Many requests from many fresh peer ids, all from one IP: the address's limit holds
/// whatever the peer ids, requests without a query count like the others, the seed keeps
/// at most its per-IP cap of connections from the address, and the refusals are counted,
/// not each written to the event log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_mode_limits_requests_per_peer_and_ip_and_samples_refusal_events() {
    const REQUESTERS: usize = 40;
    const PER_IP: u32 = peerscope::model::DEFAULT_SEED_REQUESTS_PER_IP;
    let net = Testnet::start(TestnetConfig {
        nodes: 8,
        seed: 44,
        ..TestnetConfig::default()
    })
    .await
    .unwrap();
    let server = Server::start().await;
    let mut client = server.client().await;
    let crawl = start(&mut client, seed_crawl(net.bootstrap_enrs())).await;
    assert_eq!(
        crawl.settings.as_ref().unwrap().seed_requests_per_ip,
        PER_IP
    );
    let local =
        DecodedEnr::from_enr(&peerscope::protocol::enr::parse_enr(&crawl.local_enr).unwrap());
    let seed_peer: PeerId = local.peer_id.clone().unwrap().parse().unwrap();
    let seed_addr: std::net::SocketAddr = crawl.seed_addr.parse().unwrap();
    let addr: Multiaddr = format!("/ip4/127.0.0.1/tcp/{}", seed_addr.port())
        .parse()
        .unwrap();

    // One fresh peer id after the other, every third asking with no query at all.
    let mut statuses = Vec::new();
    for i in 0..REQUESTERS {
        let mut c = Client::connect(seed_peer, addr.clone(), 1).await;
        let rpc = if i % 3 == 2 {
            PxRpc {
                query: None,
                response: None,
            }
        } else {
            PxRpc::query(10)
        };
        statuses.push(c.ask_rpc(rpc).await.status_code);
    }
    let counted = &statuses[..PER_IP as usize];
    for (i, status) in counted.iter().enumerate() {
        let want = if i % 3 == 2 { 400 } else { 200 };
        assert_eq!(*status, want, "request {i}: {statuses:?}");
    }
    assert!(
        statuses[PER_IP as usize..].iter().all(|s| *s == 429),
        "{statuses:?}"
    );
    let served = counted.iter().filter(|s| **s == 200).count() as u64;
    let refused = REQUESTERS as u64 - served;

    // Connections from one address at once (the requesters' are closed by now): the cap
    // holds the rest off.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let held = held_connections(seed_peer, &addr, 16, Duration::from_secs(2)).await;
    assert_eq!(held, peerscope::engine::dialer::SEED_MAX_INBOUND_PER_IP);

    let progress = within(Duration::from_secs(30), async {
        loop {
            let c = client
                .get_crawl(pb::GetCrawlRequest {
                    crawl_id: crawl.id.clone(),
                })
                .await
                .unwrap()
                .into_inner()
                .crawl
                .unwrap();
            let p = c.progress.unwrap();
            if p.px_served + p.px_refused == REQUESTERS as u64 && p.px_connections_refused >= 8 {
                return p;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;
    assert_eq!((progress.px_served, progress.px_refused), (served, refused));
    // Every answer is logged; of the refusals, one per address per interval.
    let events = stored_events(
        &mut client,
        &crawl.id,
        &[pb::PeerEventKind::PeerExchangeServed],
        1000,
    )
    .await;
    let logged_refusals = events
        .iter()
        .filter(|e| e.detail.starts_with("refused"))
        .count() as u64;
    assert_eq!(events.len() as u64, served + logged_refusals, "{events:?}");
    assert_eq!(logged_refusals, 1, "{events:?}");
    assert_eq!(progress.px_refused_unlogged, refused - 1);
    let (_, metrics) = http_get(server.http, "/metrics", None).await;
    for line in [
        "peerscope_px_served_total{outcome=\"refused_ip\"}",
        "peerscope_px_served_total{outcome=\"bad_request\"}",
        "peerscope_seed_connections_refused_total{reason=\"per_ip\"}",
    ] {
        assert!(metrics.contains(line), "{line}");
    }
    drop(client);
    server.stop().await;
}

/// A CONTINUOUS crawl in seed mode (peer exchange served from its libp2p host), no relay,
/// one round in the test's time.
fn seed_crawl(bootstrap: &[String]) -> pb::StartCrawlRequest {
    pb::StartCrawlRequest {
        mode: pb::CrawlMode::Continuous as i32,
        recrawl_interval: Some(prost_types::Duration {
            seconds: 3600,
            nanos: 0,
        }),
        relay: Some(false),
        peer_exchange: Some(pb::PeerExchangeOptions {
            seed: Some(pb::SeedOptions::default()),
            ..Default::default()
        }),
        ..oneshot(bootstrap)
    }
}
