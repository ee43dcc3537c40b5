//! Dialing over real libp2p on loopback: identify, metadata, ping, failure classes, events.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use libp2p::swarm::SwarmEvent;
use libp2p::{identify, noise, tcp, yamux, Multiaddr, PeerId};
use peerscope::proto::pb;
use peerscope::testnet::{Testnet, TestnetConfig};
use tokio_stream::StreamExt;

use crate::common::{all_peers, crawl_testnet, oneshot, start, visit, within, Crawled, Server};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn up_nodes_are_identified_and_down_nodes_fail_refused() {
    let Crawled {
        net,
        server,
        mut client,
        crawl,
        done,
    } = crawl_testnet(
        TestnetConfig {
            nodes: 64,
            down_fraction: 0.25,
            seed: 3,
            ..TestnetConfig::default()
        },
        Duration::from_secs(120),
    )
    .await;
    let nodes: HashMap<String, _> = net
        .nodes()
        .into_iter()
        .map(|n| (n.node_id.clone(), n))
        .collect();
    let down = nodes.values().filter(|n| !n.up).count();
    assert_eq!(down, 16);

    assert_eq!(done.state, pb::CrawlState::Finished as i32);
    let p = done.progress.unwrap();
    assert_eq!(p.discovered, 64, "{p:?}");
    assert_eq!(p.dials, 64, "every node dialed once: {p:?}");
    assert_eq!(p.connected, 48, "{p:?}");
    assert_eq!(p.identified, 48, "{p:?}");
    let peers = all_peers(&mut client, &crawl.id, 100).await;
    let errors: Vec<&str> = peers
        .iter()
        .filter(|p| p.reachable == Some(false))
        .map(|p| p.last_error.as_str())
        .collect();
    assert_eq!(
        p.failed_by_class.get("refused"),
        Some(&16),
        "{p:?} {errors:?}"
    );

    let peers = all_peers(&mut client, &crawl.id, 100).await;
    assert_eq!(peers.len(), 64);
    for peer in &peers {
        let n = &nodes[&peer.node_id];
        assert_eq!(
            peer.dial_attempts, 1,
            "node {} left unvisited or dialed twice",
            n.index
        );
        if n.up {
            assert_eq!(
                peer.reachable,
                Some(true),
                "node {}: {}",
                n.index,
                peer.last_error
            );
            assert_eq!(peer.agent_version, n.agent, "node {}", n.index);
            crate::common::assert_identified_protocols(
                &peer.protocols,
                &n.protocols,
                &format!("node {}", n.index),
            );
            assert_eq!(peer.metadata_cluster_id, Some(u32::from(n.cluster_id)));
            let shards: Vec<u32> = n.shards.iter().map(|s| u32::from(*s)).collect();
            assert_eq!(peer.metadata_shards, shards, "node {}", n.index);
            assert!(
                peer.rtt_last.is_some() && peer.rtt_avg.is_some(),
                "node {} has no RTT",
                n.index
            );
            assert_eq!(peer.state, "vetted");
            assert!(peer.up_since.is_some());
            assert_eq!(peer.sessions, 1);
            assert!(peer
                .listen_addrs
                .iter()
                .any(|a| a.starts_with("/ip4/127.0.0.1/tcp/")));
        } else {
            assert_eq!(peer.reachable, Some(false), "node {}", n.index);
            assert_eq!(
                peer.last_error_class, "refused",
                "node {}: {}",
                n.index, peer.last_error
            );
            assert!(!peer.last_error.is_empty());
            assert_eq!(peer.state, "failing");
            assert!(peer.agent_version.is_empty());
        }
    }
    // Every node asked for our metadata got an answer with its own cluster, so none
    // dropped us.
    let stats = net.stats();
    assert_eq!(
        stats
            .metadata_drops
            .load(std::sync::atomic::Ordering::Relaxed),
        0
    );

    // Events: per up node CONNECTED, IDENTIFIED, METADATA, PEER_UP, DISCONNECTED; per down
    // node DIAL_FAILED (refused).
    let mut events = client
        .stream_peer_events(pb::StreamPeerEventsRequest {
            after_sequence: Some(0),
            crawl_id: crawl.id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let mut by_kind: HashMap<i32, BTreeSet<String>> = HashMap::new();
    let mut failed_classes = BTreeSet::new();
    while let Ok(Some(msg)) = tokio::time::timeout(Duration::from_millis(500), events.next()).await
    {
        let ev = msg.unwrap().event.unwrap();
        if ev.kind == pb::PeerEventKind::DialFailed as i32 {
            failed_classes.insert(ev.error_class.clone());
        }
        by_kind.entry(ev.kind).or_default().insert(ev.node_id);
    }
    let up: BTreeSet<String> = nodes
        .values()
        .filter(|n| n.up)
        .map(|n| n.node_id.clone())
        .collect();
    let down: BTreeSet<String> = nodes
        .values()
        .filter(|n| !n.up)
        .map(|n| n.node_id.clone())
        .collect();
    for kind in [
        pb::PeerEventKind::Connected,
        pb::PeerEventKind::Identified,
        pb::PeerEventKind::Metadata,
        pb::PeerEventKind::PeerUp,
    ] {
        assert_eq!(by_kind.get(&(kind as i32)), Some(&up), "{kind:?}");
    }
    assert_eq!(
        by_kind.get(&(pb::PeerEventKind::DialFailed as i32)),
        Some(&down)
    );
    assert_eq!(failed_classes, BTreeSet::from(["refused".to_string()]));

    // Stats: per protocol, agent, error class, reachability, metadata shards.
    let s = client
        .get_network_stats(pb::GetNetworkStatsRequest {
            crawl_id: crawl.id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(s.reachable, 48);
    assert_eq!(s.unreachable, 16);
    assert_eq!(s.by_error_class.get("refused"), Some(&16));
    assert_eq!(s.by_protocol.get("/vac/waku/metadata/1.0.0"), Some(&48));
    let relay_up = nodes.values().filter(|n| n.up && n.waku2 & 1 != 0).count() as u64;
    assert!(relay_up > 0);
    assert_eq!(
        s.by_protocol.get("/vac/waku/relay/2.0.0"),
        Some(&relay_up),
        "every relay node that is up lists relay"
    );
    assert_eq!(s.by_agent.values().sum::<u64>(), 48);

    // Filters on what dialing learned.
    let store_nodes = client
        .list_peers(pb::ListPeersRequest {
            page_size: 1000,
            protocol: "/vac/waku/store-query/3.0.0".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let want = nodes.values().filter(|n| n.up && n.waku2 & 2 != 0).count();
    assert_eq!(store_nodes.peers.len(), want);
    let unreachable = client
        .list_peers(pb::ListPeersRequest {
            page_size: 1000,
            reachable: Some(false),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(unreachable.peers.len(), 16);
    let nwaku = client
        .list_peers(pb::ListPeersRequest {
            page_size: 1000,
            agent: "nwaku".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let want = nodes
        .values()
        .filter(|n| n.agent.starts_with("nwaku"))
        .count();
    assert_eq!(nwaku.peers.len(), want);
    drop(client);
    server.stop().await;
}

/// The testnet's metadata rule is real: a peer that does not serve metadata is dropped
/// (as nwaku drops it), while the crawler, which echoes the requester's cluster, stays
/// connected long enough to be identified.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn testnet_nodes_drop_peers_without_metadata_but_keep_the_crawler() {
    let net = Testnet::start(TestnetConfig {
        nodes: 1,
        degree: 0,
        ..TestnetConfig::default()
    })
    .await
    .unwrap();
    let node = net.nodes().remove(0);
    let addr: Multiaddr = format!("/ip4/127.0.0.1/tcp/{}", node.tcp.unwrap())
        .parse()
        .unwrap();
    let peer: PeerId = node.peer_id.parse().unwrap();

    // A bare libp2p peer with identify only: no metadata protocol.
    let mut bare = libp2p::SwarmBuilder::with_new_identity()
        .with_tokio()
        .with_tcp(
            tcp::Config::default(),
            noise::Config::new,
            yamux::Config::default,
        )
        .unwrap()
        .with_behaviour(|key| {
            identify::Behaviour::new(identify::Config::new("test/1".into(), key.public()))
        })
        .unwrap()
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(30)))
        .build();
    bare.dial(addr).unwrap();
    let closed = within(Duration::from_secs(20), async {
        loop {
            match futures::StreamExt::select_next_some(&mut bare).await {
                SwarmEvent::ConnectionClosed { peer_id, .. } if peer_id == peer => return true,
                SwarmEvent::OutgoingConnectionError { error, .. } => panic!("dial failed: {error}"),
                _ => {}
            }
        }
    })
    .await;
    assert!(closed);
    let drops = net
        .stats()
        .metadata_drops
        .load(std::sync::atomic::Ordering::Relaxed);
    assert_eq!(
        drops, 1,
        "the node dropped the peer that does not serve metadata"
    );

    // The crawler gets identified and its metadata answer keeps it connected.
    let server = Server::start().await;
    let mut client = server.client().await;
    let (crawl, done) = server
        .crawl(
            &mut client,
            oneshot(net.bootstrap_enrs()),
            Duration::from_secs(60),
        )
        .await;
    assert_eq!(done.progress.unwrap().identified, 1);
    let p = all_peers(&mut client, &crawl.id, 10).await.remove(0);
    assert_eq!(p.agent_version, node.agent);
    assert_eq!(p.metadata_cluster_id, Some(u32::from(node.cluster_id)));
    assert_eq!(
        net.stats()
            .metadata_drops
            .load(std::sync::atomic::Ordering::Relaxed),
        1
    );
    assert!(
        net.stats()
            .metadata_served
            .load(std::sync::atomic::Ordering::Relaxed)
            >= 1
    );
    drop(client);
    server.stop().await;
}

/// A relay node's gossipsub withdraws its protocol from a connection whose remote does not
/// speak relay (the crawler's dialer does not); identify must list relay all the same, on
/// every visit, as nwaku does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relay_nodes_list_relay_on_every_visit() {
    const VISITS: usize = 8;
    let net = Testnet::start(TestnetConfig {
        nodes: 12,
        degree: 0,
        down_fraction: 0.0,
        ..TestnetConfig::default()
    })
    .await
    .unwrap();
    let relays: Vec<_> = net
        .nodes()
        .into_iter()
        .filter(|n| n.waku2 & 1 != 0)
        .collect();
    assert!(relays.len() >= 3, "{} relay nodes", relays.len());
    for n in &relays {
        let peer: PeerId = n.peer_id.parse().unwrap();
        let addr: Multiaddr = format!("/ip4/127.0.0.1/tcp/{}", n.tcp.unwrap())
            .parse()
            .unwrap();
        for i in 0..VISITS {
            let r = visit(peer, vec![addr.clone()], Duration::from_secs(5)).await;
            let id = r.identify.unwrap_or_else(|| {
                panic!("node {} visit {i}: no identify: {:?}", n.index, r.error)
            });
            crate::common::assert_identified_protocols(
                &id.protocols,
                &n.protocols,
                &format!("node {} visit {i}", n.index),
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dial_failures_are_classified() {
    use peerscope::model::ErrorClass;
    let someone = PeerId::from(libp2p::identity::Keypair::generate_secp256k1().public());

    // Accepts TCP and never speaks: the handshake times out.
    let (silent_addr, hold) = crate::common::silent_listener().await;
    let r = visit(
        someone,
        vec![format!("/ip4/127.0.0.1/tcp/{}", silent_addr.port())
            .parse()
            .unwrap()],
        Duration::from_millis(500),
    )
    .await;
    assert_eq!(
        r.error_class,
        Some(ErrorClass::HandshakeTimeout),
        "{:?}",
        r.error
    );
    hold.abort();

    // Answers with garbage: multistream negotiation fails.
    let garbage = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let garbage_addr = garbage.local_addr().unwrap();
    tokio::spawn(async move {
        use tokio::io::AsyncWriteExt;
        while let Ok((mut s, _)) = garbage.accept().await {
            let _ = s.write_all(&[0xff; 64]).await;
            let _ = s.shutdown().await;
        }
    });
    let r = visit(
        someone,
        vec![format!("/ip4/127.0.0.1/tcp/{}", garbage_addr.port())
            .parse()
            .unwrap()],
        Duration::from_secs(2),
    )
    .await;
    assert!(
        matches!(
            r.error_class,
            Some(ErrorClass::Handshake | ErrorClass::ProtocolNegotiation)
        ),
        "{:?}: {:?}",
        r.error_class,
        r.error
    );

    // A real node whose key is not the expected one: peer id mismatch.
    let net = Testnet::start(TestnetConfig {
        nodes: 1,
        degree: 0,
        ..TestnetConfig::default()
    })
    .await
    .unwrap();
    let node = net.nodes().remove(0);
    let addr: Multiaddr = format!("/ip4/127.0.0.1/tcp/{}", node.tcp.unwrap())
        .parse()
        .unwrap();
    let r = visit(someone, vec![addr.clone()], Duration::from_secs(2)).await;
    assert_eq!(
        r.error_class,
        Some(ErrorClass::PeerIdMismatch),
        "{:?}",
        r.error
    );

    // And the right key connects, with identify and a ping.
    let r = visit(
        node.peer_id.parse().unwrap(),
        vec![addr],
        Duration::from_secs(2),
    )
    .await;
    assert_eq!(r.error_class, None, "{:?}", r.error);
    assert_eq!(r.identify.unwrap().agent_version, node.agent);
    assert!(r.rtt_us.is_some());

    // No address at all.
    let r = visit(someone, vec![], Duration::from_secs(1)).await;
    assert_eq!(r.error_class, Some(ErrorClass::NoAddress), "{:?}", r.error);
}

/// CONTINUOUS crawls re-dial on the address-book schedule: a node that stops listening
/// ends its session (PEER_DOWN, refused) and its uptime is kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn continuous_crawl_sees_a_peer_go_down() {
    let mut net = Testnet::start(TestnetConfig {
        nodes: 8,
        seed: 11,
        ..TestnetConfig::default()
    })
    .await
    .unwrap();
    let victim = net.nodes()[2].clone();
    let server = Server::start().await;
    let mut client = server.client().await;
    let second = || prost_types::Duration {
        seconds: 1,
        nanos: 0,
    };
    let crawl = start(
        &mut client,
        pb::StartCrawlRequest {
            mode: pb::CrawlMode::Continuous as i32,
            recrawl_interval: Some(second()),
            min_redial_interval: Some(second()),
            ..oneshot(net.bootstrap_enrs())
        },
    )
    .await;
    let mut events = client
        .stream_peer_events(pb::StreamPeerEventsRequest {
            after_sequence: Some(0),
            node_id: victim.node_id.clone(),
            kinds: vec![
                pb::PeerEventKind::PeerUp as i32,
                pb::PeerEventKind::PeerDown as i32,
            ],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let up = within(Duration::from_secs(30), events.next())
        .await
        .unwrap()
        .unwrap()
        .event
        .unwrap();
    assert_eq!(up.kind, pb::PeerEventKind::PeerUp as i32);
    // Let it be re-dialed at least once while up (vetted, min redial 1 s).
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert!(net.stop_libp2p(2));
    let down = within(Duration::from_secs(30), events.next())
        .await
        .unwrap()
        .unwrap()
        .event
        .unwrap();
    assert_eq!(down.kind, pb::PeerEventKind::PeerDown as i32);
    assert_eq!(down.error_class, "refused", "{}", down.detail);
    let peer = client
        .get_peer(pb::GetPeerRequest {
            key: Some(pb::get_peer_request::Key::NodeId(victim.node_id.clone())),
        })
        .await
        .unwrap()
        .into_inner()
        .peer
        .unwrap();
    assert!(peer.dial_attempts >= 3, "{}", peer.dial_attempts);
    assert_eq!(peer.sessions, 1);
    assert!(peer.up_since.is_none() && peer.down_since.is_some());
    assert!(peer.uptime.unwrap().seconds >= 2);
    assert_eq!(peer.state, "failing");
    assert_eq!(peer.reachable, Some(false));
    client
        .stop_crawl(pb::StopCrawlRequest {
            crawl_id: crawl.id.clone(),
        })
        .await
        .unwrap();
    drop(events);
    drop(client);
    server.stop().await;
}
