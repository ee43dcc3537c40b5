//! The address scope: records naming addresses outside a crawl's scope are stored and
//! never contacted. Everything stays on loopback: the scope allows 127.0.0.1 only, and the
//! records out of it name 127.0.0.2, where the test itself listens to prove that nothing
//! arrives.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use enr::CombinedKey;
use libp2p::Multiaddr;
use peerscope::proto::pb;
use peerscope::protocol::enr::{build_waku_enr, Enr, Waku2};
use peerscope::testnet::{Testnet, TestnetConfig};

use crate::common::{all_peers, oneshot, stored_events, Server};

/// What arrived at the listeners on 127.0.0.2: UDP datagrams and TCP connections.
struct Listeners {
    udp: SocketAddr,
    tcp: SocketAddr,
    datagrams: Arc<AtomicU64>,
    connections: Arc<AtomicU64>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Listeners {
    async fn bind() -> Listeners {
        let ip = Ipv4Addr::new(127, 0, 0, 2);
        let udp = tokio::net::UdpSocket::bind((ip, 0))
            .await
            .expect("udp on 127.0.0.2");
        let tcp = tokio::net::TcpListener::bind((ip, 0))
            .await
            .expect("tcp on 127.0.0.2");
        let (udp_addr, tcp_addr) = (udp.local_addr().unwrap(), tcp.local_addr().unwrap());
        let datagrams = Arc::new(AtomicU64::new(0));
        let connections = Arc::new(AtomicU64::new(0));
        let d = datagrams.clone();
        let c = connections.clone();
        let tasks = vec![
            tokio::spawn(async move {
                let mut buf = [0u8; 2048];
                while udp.recv_from(&mut buf).await.is_ok() {
                    d.fetch_add(1, Ordering::SeqCst);
                }
            }),
            tokio::spawn(async move {
                while let Ok((s, _)) = tcp.accept().await {
                    c.fetch_add(1, Ordering::SeqCst);
                    drop(s);
                }
            }),
        ];
        Listeners {
            udp: udp_addr,
            tcp: tcp_addr,
            datagrams,
            connections,
            tasks,
        }
    }

    fn arrived(&self) -> (u64, u64) {
        (
            self.datagrams.load(Ordering::SeqCst),
            self.connections.load(Ordering::SeqCst),
        )
    }
}

impl Drop for Listeners {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// A relay record on `ip` with the listeners' UDP and TCP ports.
fn record_on(ip: Ipv4Addr, l: &Listeners, multiaddrs: &[Multiaddr]) -> Enr {
    build_waku_enr(
        &CombinedKey::generate_secp256k1(),
        ip,
        l.udp.port(),
        Some(l.tcp.port()),
        Waku2(Waku2::RELAY),
        1,
        &[0],
        multiaddrs,
    )
    .unwrap()
}

fn secs(s: f64) -> prost_types::Duration {
    let d = Duration::from_secs_f64(s);
    prost_types::Duration {
        seconds: d.as_secs() as i64,
        nanos: d.subsec_nanos() as i32,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_outside_the_address_scope_are_stored_and_never_contacted() {
    let net = Testnet::start(TestnetConfig {
        nodes: 16,
        peer_exchange: true,
        seed: 61,
        ..TestnetConfig::default()
    })
    .await
    .unwrap();
    let nodes = net.nodes();
    let listeners = Listeners::bind().await;
    // Three records on 127.0.0.2, in the tables and the peer-exchange answers of every
    // node; and one on 127.0.0.1 whose `multiaddrs` name 127.0.0.2 only.
    let outside: Vec<Enr> = (0..3)
        .map(|_| record_on(Ipv4Addr::new(127, 0, 0, 2), &listeners, &[]))
        .collect();
    let stray_addr: Multiaddr = format!("/ip4/127.0.0.2/tcp/{}", listeners.tcp.port())
        .parse()
        .unwrap();
    let sink = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let mixed = build_waku_enr(
        &CombinedKey::generate_secp256k1(),
        Ipv4Addr::LOCALHOST,
        sink.local_addr().unwrap().port(),
        None,
        Waku2(Waku2::RELAY),
        1,
        &[0],
        &[stray_addr],
    )
    .unwrap();
    for i in 0..nodes.len() {
        for r in outside.iter().chain([&mixed]) {
            let _ = net.discv5(i).unwrap().add_enr(r.clone());
            net.add_px_record(i, r);
        }
    }
    let server = Server::start().await;
    let mut client = server.client().await;
    let (crawl, done) = server
        .crawl(
            &mut client,
            pb::StartCrawlRequest {
                allowed_cidrs: vec!["127.0.0.1/32".into()],
                dial_timeout: Some(secs(1.0)),
                // CONTINUOUS, so that random lookups run between its rounds (a ONESHOT
                // crawl runs none by default, and never waits for them) and show that they
                // skip out-of-scope nodes too; ended by its duration.
                mode: pb::CrawlMode::Continuous as i32,
                recrawl_interval: Some(secs(1.0)),
                random_lookups: Some(8),
                relay: Some(false),
                limits: Some(pb::CrawlLimits {
                    max_duration: Some(secs(4.0)),
                    ..Default::default()
                }),
                ..oneshot(net.bootstrap_enrs())
            },
            Duration::from_secs(120),
        )
        .await;
    assert_eq!(
        done.state,
        pb::CrawlState::Finished as i32,
        "{}",
        done.error
    );
    // Let anything late arrive, then: nothing did.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        listeners.arrived(),
        (0, 0),
        "datagrams and connections at 127.0.0.2"
    );
    let settings = done.settings.clone().unwrap();
    assert_eq!(settings.allowed_cidrs, vec!["127.0.0.1/32"]);
    assert_eq!(settings.address_scope, "127.0.0.1/32");
    let p = done.progress.clone().unwrap();
    assert!(p.px_enrs > 0, "peer exchange ran: {p:?}");
    assert!(p.lookups > 0, "random lookups ran: {p:?}");
    assert_eq!(p.out_of_scope, 3, "{p:?}");
    assert_eq!(p.discovered as usize, nodes.len() + 4, "{p:?}");

    // Stored, classed, never dialed.
    let peers = all_peers(&mut client, &crawl.id, 100).await;
    assert_eq!(peers.len(), nodes.len() + 4);
    for r in &outside {
        let id = hex::encode(r.node_id().raw());
        let peer = peers.iter().find(|p| p.node_id == id).expect("stored");
        assert_eq!(peer.last_error_class, "out_of_scope");
        assert!(
            peer.last_error.contains("127.0.0.2") && peer.last_error.contains("127.0.0.1/32"),
            "{}",
            peer.last_error
        );
        assert_eq!(peer.reachable, None);
        assert_eq!(peer.dial_attempts, 0);
    }
    // The in-scope record with a stray multiaddr: walked, and its dial had no address.
    let mixed_peer = peers
        .iter()
        .find(|p| p.node_id == hex::encode(mixed.node_id().raw()))
        .unwrap();
    assert_eq!(mixed_peer.last_error_class, "no_address");
    let events = stored_events(
        &mut client,
        &crawl.id,
        &[pb::PeerEventKind::Discovered],
        1000,
    )
    .await;
    let classed: Vec<&pb::PeerEvent> = events
        .iter()
        .filter(|e| e.error_class == "out_of_scope")
        .collect();
    assert_eq!(classed.len(), 3, "{classed:?}");
    let stats = client
        .get_network_stats(pb::GetNetworkStatsRequest {
            crawl_id: crawl.id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(stats.by_error_class.get("out_of_scope"), Some(&3));

    // The same network crawled with the default scope (loopback, from the bootstrap):
    // 127.0.0.2 is in it, and the listeners hear from the crawler.
    let (_, done) = server
        .crawl(
            &mut client,
            pb::StartCrawlRequest {
                dial_timeout: Some(secs(1.0)),
                ..oneshot(net.bootstrap_enrs())
            },
            Duration::from_secs(120),
        )
        .await;
    let settings = done.settings.unwrap();
    assert_eq!(settings.address_scope, "loopback");
    assert!(settings.allowed_cidrs.is_empty());
    // The default caps are bounded.
    let limits = settings.limits.unwrap();
    assert_eq!(
        (limits.max_peers, limits.max_new_per_responder),
        (
            peerscope::model::DEFAULT_MAX_PEERS,
            Some(peerscope::model::DEFAULT_MAX_NEW_PER_RESPONDER)
        )
    );
    assert_eq!(done.progress.unwrap().out_of_scope, 0);
    let (datagrams, connections) = listeners.arrived();
    assert!(
        datagrams > 0 && connections > 0,
        "{datagrams} {connections}"
    );
    drop(client);
    server.stop().await;
}
