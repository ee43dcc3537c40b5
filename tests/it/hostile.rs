//! Crawls against testnet peers that misbehave on purpose (`peerscope::testnet::hostile`):
//! the crawl finishes in bounded time and memory, and each hostile peer is classified.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use peerscope::engine::dialer::HANDSHAKE_TIMEOUT;
use peerscope::model::{
    MAX_AGENT_LEN, MAX_LISTEN_ADDRS, MAX_PROTOCOLS, MAX_PROTOCOL_LEN, MAX_PROTOCOL_VERSION_LEN,
};
use peerscope::proto::pb;
use peerscope::protocol::enr::{parse_enr, DecodedEnr};
use peerscope::testnet::hostile::{
    flood_topic, HostileCounts, HostileKind, BIG_AGENT_PREFIX, FLOOD_AGENT, FLOOD_MESSAGES,
    WRONG_KEY_AGENT,
};
use peerscope::testnet::{Testnet, TestnetConfig};

use crate::common::{all_peers, oneshot, start, visit, within, Server};

/// This process's resident set size in KiB (`VmRSS` of /proc/self/status).
fn vm_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("a VmRSS line")
}

fn secs_f(s: f64) -> prost_types::Duration {
    let d = Duration::from_secs_f64(s);
    prost_types::Duration {
        seconds: d.as_secs() as i64,
        nanos: d.subsec_nanos() as i32,
    }
}

/// Growth of the process RSS allowed over the whole test (testnet, server and crawl). The
/// test alone measured about 60 MiB; the rest is room for the one other test that runs
/// in the same process at the same time.
const RSS_GROWTH_LIMIT_KIB: u64 = 384 * 1024;
/// Growth allowed while the crawl runs (the testnet and server already up). Measured
/// 15-20 MiB; a crawler that kept what hostile peers send without bound, or held their
/// connections, would not stay under.
const CRAWL_RSS_GROWTH_LIMIT_KIB: u64 = 128 * 1024;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_peers_are_classified_and_the_oneshot_crawl_finishes() {
    let rss_before = vm_rss_kib();
    let net = Testnet::start(TestnetConfig {
        nodes: 24,
        seed: 21,
        hostile: HostileCounts::one_each(),
        ..TestnetConfig::default()
    })
    .await
    .unwrap();
    let nodes = net.nodes();
    assert_eq!(nodes.len(), 24 + HostileCounts::one_each().total());
    let hostile: HashMap<HostileKind, _> = net
        .hostile()
        .nodes()
        .iter()
        .map(|h| (h.kind, h.clone()))
        .collect();
    let junk = net.hostile().junk_records().to_vec();
    assert_eq!(junk.len(), 10);

    let server = Server::start().await;
    let mut client = server.client().await;
    let rss_ready = vm_rss_kib();
    let started = Instant::now();
    let (crawl, done) = server
        .crawl(
            &mut client,
            pb::StartCrawlRequest {
                dial_timeout: Some(secs_f(1.0)),
                ..oneshot(net.bootstrap_enrs())
            },
            Duration::from_secs(45),
        )
        .await;
    let took = started.elapsed();
    assert_eq!(
        done.state,
        pb::CrawlState::Finished as i32,
        "{:?}",
        done.error
    );
    let p = done.progress.unwrap();
    // Normal and hostile nodes plus every junk record.
    let peers = all_peers(&mut client, &crawl.id, 100).await;
    let by_id: HashMap<&str, &pb::Peer> = peers.iter().map(|p| (p.node_id.as_str(), p)).collect();
    let missing: Vec<String> = nodes
        .iter()
        .map(|n| format!("node {} ({:?})", n.node_id, n.hostile))
        .filter(|n| !by_id.contains_key(&n[5..69]))
        .chain(
            junk.iter()
                .filter(|j| !by_id.contains_key(j.node_id.as_str()))
                .map(|j| format!("junk record {} ({})", j.node_id, j.what)),
        )
        .collect();
    let junk_node = {
        let raw: [u8; 32] = hex::decode(&hostile[&HostileKind::JunkEnrs].info.node_id)
            .unwrap()
            .try_into()
            .unwrap();
        discv5::Key::from(enr::NodeId::new(&raw))
    };
    let buckets: Vec<(u64, &str)> = junk
        .iter()
        .map(|j| {
            let raw: [u8; 32] = hex::decode(&j.node_id).unwrap().try_into().unwrap();
            let d = junk_node
                .log2_distance(&discv5::Key::from(enr::NodeId::new(&raw)))
                .unwrap();
            (d, j.what)
        })
        .collect();
    assert_eq!(
        p.discovered,
        (nodes.len() + junk.len()) as u64,
        "missing {missing:?}; junk buckets {buckets:?}: {p:?}"
    );

    // Every normal node is found and identified.
    for n in nodes.iter().filter(|n| n.hostile.is_none()) {
        let peer = by_id
            .get(n.node_id.as_str())
            .unwrap_or_else(|| panic!("node {} not found", n.index));
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
    }

    let get = |kind: HostileKind| -> &pb::Peer {
        let h = &hostile[&kind];
        by_id
            .get(h.info.node_id.as_str())
            .unwrap_or_else(|| panic!("hostile {} not found", kind.as_str()))
    };
    // Accepts TCP, never speaks: TCP connected, the handshake timed out.
    for kind in [HostileKind::Silent, HostileKind::Stall] {
        let peer = get(kind);
        assert_eq!(peer.reachable, Some(false), "{}", kind.as_str());
        assert_eq!(
            peer.last_error_class,
            "handshake_timeout",
            "{}: {}",
            kind.as_str(),
            peer.last_error
        );
        assert!(
            peer.last_error.contains(HANDSHAKE_TIMEOUT),
            "{}",
            peer.last_error
        );
        assert_eq!(peer.dial_attempts, 1);
    }
    // Signed by one key, answers with another.
    let wrong = get(HostileKind::WrongKey);
    assert_eq!(
        wrong.last_error_class, "peer_id_mismatch",
        "{}",
        wrong.last_error
    );
    assert_eq!(wrong.reachable, Some(false));
    assert!(wrong.agent_version.is_empty());
    let actual = hostile[&HostileKind::WrongKey]
        .actual_peer_id
        .clone()
        .unwrap();
    assert_ne!(actual, wrong.peer_id);
    assert!(!WRONG_KEY_AGENT.is_empty());

    // Identify larger than sane: identified, every stored field within its cap.
    let big = get(HostileKind::BigIdentify);
    let big_node = &hostile[&HostileKind::BigIdentify].info;
    assert_eq!(big.reachable, Some(true), "{}", big.last_error);
    assert_eq!(big.agent_version.len(), MAX_AGENT_LEN);
    assert!(big_node.agent.starts_with(&big.agent_version));
    assert!(big.agent_version.starts_with(BIG_AGENT_PREFIX));
    assert_eq!(big.protocol_version.len(), MAX_PROTOCOL_VERSION_LEN);
    assert_eq!(big.protocols.len(), MAX_PROTOCOLS, "{:?}", big.protocols);
    for proto in &big.protocols {
        assert!(proto.len() <= MAX_PROTOCOL_LEN);
        assert!(big_node.protocols.contains(proto), "{proto} was not served");
    }
    let mut distinct = big.protocols.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), big.protocols.len());
    assert_eq!(
        big.listen_addrs.len(),
        MAX_LISTEN_ADDRS,
        "{:?}",
        big.listen_addrs
    );
    assert!(big
        .listen_addrs
        .iter()
        .all(|a| a.starts_with("/ip4/127.0.0.1/tcp/")));
    assert!(
        big.last_error
            .starts_with("identify capped: agent 1000 -> 256 bytes"),
        "{}",
        big.last_error
    );
    assert!(
        big.last_error.contains("listen addrs"),
        "{}",
        big.last_error
    );
    assert!(
        big.last_error
            .contains("1 protocol names over 128 bytes dropped"),
        "{}",
        big.last_error
    );

    // The flood node is a working relay peer as far as a visit goes.
    let flood = get(HostileKind::Flood);
    assert_eq!(flood.reachable, Some(true), "{}", flood.last_error);
    assert_eq!(flood.agent_version, FLOOD_AGENT);
    assert_eq!(flood.metadata_cluster_id, Some(1));

    // The junk-enrs node's own record has no TCP.
    let junk_node = get(HostileKind::JunkEnrs);
    assert_eq!(junk_node.last_error_class, "no_address");

    // Its junk records are stored, decoded, with the issues of what is wrong with them.
    for r in &junk {
        let peer = by_id
            .get(r.node_id.as_str())
            .unwrap_or_else(|| panic!("junk record {:?} not stored", r.what));
        assert_eq!(peer.enr, r.enr, "{}", r.what);
        let fields = peer.enr_fields.as_ref().unwrap();
        assert_eq!(fields.ip4, "127.0.0.1", "{}", r.what);
        match r.issue_key {
            Some(key) => assert!(
                fields
                    .issues
                    .iter()
                    .any(|i| i.starts_with(&format!("{key}:"))),
                "{}: {:?}",
                r.what,
                fields.issues
            ),
            None => assert!(fields.issues.is_empty(), "{}: {:?}", r.what, fields.issues),
        }
        // Dialed once, with nothing to dial: no TCP at all, or TCP port 0, which the TCP
        // transport refuses to dial.
        assert_eq!(
            peer.last_error_class, "no_address",
            "{}: {}",
            r.what, peer.last_error
        );
        let decoded = DecodedEnr::from_enr(&parse_enr(&r.enr).unwrap());
        if decoded.tcp4 == Some(0) {
            assert!(
                peer.last_error.contains("/tcp/0") && peer.last_error.contains("not supported"),
                "{}: {}",
                r.what,
                peer.last_error
            );
        }
        assert_eq!(peer.dial_attempts, 1, "{}", r.what);
    }
    // None of them answers discv5 (their UDP port is a sink).
    assert!(p.unresponsive >= junk.len() as u64, "{p:?}");

    // Failure classes add up: 2 handshake timeouts, 1 peer id mismatch, the junk node and
    // its 10 records without an address to dial; nothing else failed.
    assert_eq!(
        p.failed_by_class.get("handshake_timeout"),
        Some(&2),
        "{p:?}"
    );
    assert_eq!(p.failed_by_class.get("peer_id_mismatch"), Some(&1), "{p:?}");
    assert_eq!(p.failed_by_class.get("no_address"), Some(&11), "{p:?}");
    assert_eq!(p.failed_by_class.len(), 3, "{p:?}");
    assert_eq!(p.identified, 24 + 2, "{p:?}");

    // Bounded time and memory.
    assert!(took < Duration::from_secs(30), "the crawl took {took:?}");
    let rss_after = vm_rss_kib();
    let growth = rss_after.saturating_sub(rss_before);
    let crawl_growth = rss_after.saturating_sub(rss_ready);
    eprintln!(
        "hostile crawl: {took:?}, RSS {rss_before} -> {rss_ready} (ready) -> {rss_after} KiB"
    );
    assert!(
        crawl_growth < CRAWL_RSS_GROWTH_LIMIT_KIB,
        "RSS grew by {crawl_growth} KiB during the crawl ({rss_ready} -> {rss_after})"
    );
    assert!(
        growth < RSS_GROWTH_LIMIT_KIB,
        "RSS grew by {growth} KiB ({rss_before} -> {rss_after})"
    );
    drop(client);
    server.stop().await;
}

/// A relay peer flooding its topic with garbage: every message is counted, as
/// undecodable only, bytes exact, no content-topic row created.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flood_garbage_is_counted_as_undecodable_only() {
    let net = Testnet::start(TestnetConfig {
        nodes: 8,
        seed: 22,
        hostile: HostileCounts {
            flood: 1,
            ..HostileCounts::default()
        },
        ..TestnetConfig::default()
    })
    .await
    .unwrap();
    let topic = flood_topic();
    let server = Server::start().await;
    let mut client = server.client().await;
    let crawl = start(
        &mut client,
        pb::StartCrawlRequest {
            mode: pb::CrawlMode::Continuous as i32,
            // Revisit quickly, so that a visit whose identify missed relay is repeated.
            recrawl_interval: Some(secs_f(1.0)),
            min_redial_interval: Some(secs_f(1.0)),
            dial_timeout: Some(secs_f(1.0)),
            relay: Some(true),
            relay_peers: Some(16),
            pubsub_topics: vec![topic.clone()],
            ..oneshot(net.bootstrap_enrs())
        },
    )
    .await;
    // The flood starts once the crawler subscribes and stops at FLOOD_MESSAGES.
    within(Duration::from_secs(40), async {
        while net.hostile().flood_published().0 < FLOOD_MESSAGES {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;
    let (sent, sent_bytes) = net.hostile().flood_published();
    assert_eq!(sent, FLOOD_MESSAGES);
    let counts = || {
        let mut client = client.clone();
        async move {
            client
                .get_message_counts(pb::GetMessageCountsRequest::default())
                .await
                .unwrap()
                .into_inner()
        }
    };
    let undecodable = |c: &pb::GetMessageCountsResponse| {
        c.undecodable
            .iter()
            .filter(|u| u.pubsub_topic == topic)
            .map(|u| (u.messages, u.bytes))
            .next()
            .unwrap_or_default()
    };
    within(Duration::from_secs(15), async {
        while undecodable(&counts().await).0 < sent {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    })
    .await;
    // And no more than that, a moment later.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let c = counts().await;
    assert_eq!(undecodable(&c), (sent, sent_bytes));
    assert_eq!(
        c.undecodable
            .iter()
            .filter(|u| u.pubsub_topic == topic)
            .count(),
        1
    );
    assert!(
        c.counts.iter().all(|r| r.pubsub_topic != topic),
        "garbage made content-topic rows: {:?}",
        c.counts
    );
    let stats = client
        .get_network_stats(pb::GetNetworkStatsRequest {
            crawl_id: crawl.id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    let summary = stats
        .by_pubsub_topic
        .iter()
        .find(|s| s.pubsub_topic == topic)
        .expect("a summary of the flooded topic");
    assert_eq!(summary.undecodable, sent, "{summary:?}");
    assert_eq!(summary.messages, 0, "{summary:?}");
    client
        .stop_crawl(pb::StopCrawlRequest {
            crawl_id: crawl.id.clone(),
        })
        .await
        .unwrap();
    drop(client);
    server.stop().await;
}

/// `addr` as a multiaddr.
fn tcp(addr: std::net::SocketAddr) -> Vec<libp2p::Multiaddr> {
    vec![format!("/ip4/{}/tcp/{}", addr.ip(), addr.port())
        .parse()
        .unwrap()]
}

/// A TCP connect that never completes is a `timeout`; a connect that completes into a
/// handshake that never does is a `handshake_timeout`. Both within their bounds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_connect_timeout_and_handshake_timeout_are_told_apart() {
    use peerscope::engine::dialer::TCP_CONNECT_TIMEOUT;
    use peerscope::model::ErrorClass;
    let someone = libp2p::PeerId::from(libp2p::identity::Keypair::generate_secp256k1().public());
    let phase = Duration::from_millis(500);

    // A listener that never accepts, with its accept queue full: further SYNs are dropped
    // by the kernel, so the connect hangs.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let full = socket.listen(0).unwrap();
    let full_addr = full.local_addr().unwrap();
    let mut fillers = Vec::new();
    for _ in 0..4 {
        if let Ok(Ok(s)) = tokio::time::timeout(
            Duration::from_millis(200),
            tokio::net::TcpStream::connect(full_addr),
        )
        .await
        {
            fillers.push(s);
        }
    }
    assert!(!fillers.is_empty(), "the accept queue takes at least one");
    let t = Instant::now();
    let r = visit(someone, tcp(full_addr), phase).await;
    assert_eq!(r.error_class, Some(ErrorClass::Timeout), "{:?}", r.error);
    assert!(
        r.error
            .as_deref()
            .unwrap_or("")
            .contains(TCP_CONNECT_TIMEOUT),
        "{:?}",
        r.error
    );
    assert!(t.elapsed() < phase * 2, "{:?}", t.elapsed());

    // Accepts and never speaks.
    let (silent_addr, hold) = crate::common::silent_listener().await;
    let t = Instant::now();
    let r = visit(someone, tcp(silent_addr), phase).await;
    assert_eq!(
        r.error_class,
        Some(ErrorClass::HandshakeTimeout),
        "{:?}",
        r.error
    );
    assert!(
        r.error.as_deref().unwrap_or("").contains(HANDSHAKE_TIMEOUT),
        "{:?}",
        r.error
    );
    // Connect + handshake are bounded by twice the phase timeout.
    assert!(
        t.elapsed() >= phase && t.elapsed() < phase * 3,
        "{:?}",
        t.elapsed()
    );
    hold.abort();
    drop(full);
}

/// A responder that answers every FINDNODE with freshly minted, validly signed records
/// for as long as the crawl runs: a CONTINUOUS crawl of it keeps within its known-node cap
/// and the per-responder budget, stores no more peers than its cap, stays bounded in
/// memory, finishes at its time limit, and says what it dropped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endless_records_stay_within_the_caps_and_are_counted_as_dropped() {
    const CAP: u64 = 80;
    const BUDGET: u32 = 20;
    const RUN: Duration = Duration::from_secs(30);
    let rss_before = vm_rss_kib();
    let net = Testnet::start(TestnetConfig {
        nodes: 16,
        seed: 71,
        hostile: HostileCounts {
            endless_enrs: 1,
            ..HostileCounts::default()
        },
        ..TestnetConfig::default()
    })
    .await
    .unwrap();
    let server = Server::start().await;
    let mut client = server.client().await;
    let crawl = start(
        &mut client,
        pb::StartCrawlRequest {
            mode: pb::CrawlMode::Continuous as i32,
            recrawl_interval: Some(secs_f(1.0)),
            limits: Some(pb::CrawlLimits {
                max_peers: CAP,
                max_duration: Some(secs_f(RUN.as_secs_f64())),
                max_new_per_responder: Some(BUDGET),
            }),
            request_timeout: Some(secs_f(0.5)),
            dial_timeout: Some(secs_f(1.0)),
            relay: Some(false),
            ..oneshot(net.bootstrap_enrs())
        },
    )
    .await;
    // While it runs, it never knows more than its cap.
    let mut peak_rss = vm_rss_kib();
    let done = within(RUN + Duration::from_secs(30), async {
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
            let p = c.progress.clone().unwrap();
            assert!(p.discovered <= CAP, "{p:?}");
            peak_rss = peak_rss.max(vm_rss_kib());
            if c.state != pb::CrawlState::Running as i32 {
                return c;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    })
    .await;
    assert_eq!(
        done.state,
        pb::CrawlState::Finished as i32,
        "ended by its time limit: {}",
        done.error
    );
    let p = done.progress.unwrap();
    let minted = net.hostile().endless_minted();
    eprintln!(
        "endless responder: {minted} records minted; crawl: {} known, {} dropped over the \
         cap, {} over the budget, {} rounds",
        p.discovered, p.dropped_over_cap, p.dropped_over_budget, p.rounds
    );
    assert_eq!(p.discovered, CAP, "{p:?}");
    assert!(p.rounds >= 2, "{p:?}");
    assert!(p.dropped_over_budget > 0, "{p:?}");
    assert!(p.dropped_over_cap > 0, "{p:?}");
    assert!(
        minted > 10 * CAP,
        "the responder kept minting: {minted} records"
    );
    let limits = done.settings.unwrap().limits.unwrap();
    assert_eq!(
        (limits.max_peers, limits.max_new_per_responder),
        (CAP, Some(BUDGET))
    );
    // Only what it kept was stored.
    let peers = all_peers(&mut client, &crawl.id, 100).await;
    assert_eq!(peers.len() as u64, CAP);
    let (_, metrics) = crate::common::http_get(server.http, "/metrics", None).await;
    for reason in ["known_cap", "responder_budget"] {
        assert!(
            metrics.contains(&format!(
                "peerscope_records_dropped_total{{reason=\"{reason}\"}}"
            )),
            "{reason}"
        );
    }
    let growth = peak_rss.saturating_sub(rss_before);
    assert!(
        growth < RSS_GROWTH_LIMIT_KIB,
        "RSS grew by {growth} KiB ({rss_before} -> {peak_rss})"
    );
    drop(client);
    server.stop().await;
}
