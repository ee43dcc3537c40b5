//! The CometBFT driver against the loopback CometBFT testnet, through the gRPC API: a
//! ONESHOT crawl that finds and labels every node, and seed mode (answers, limits, bans, a
//! node that finds the network through the seed alone).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use peerscope::engine::cometbft::conn::{self, PEX};
use peerscope::engine::cometbft::visit::{visit, PexOutcome, VisitSettings};
use peerscope::proto::pb;
use peerscope::proto::pb::crawler_client::CrawlerClient;
use peerscope::protocol::cometbft::pex::{self, MAX_GET_SELECTION};
use peerscope::protocol::cometbft::{CometId, PeerAddr};
use peerscope::testnet::cometbft::{
    discover_from, joining_node, CometKind, CometNode, CometTestnet, CometTestnetConfig,
};
use tonic::transport::Channel;

use crate::common::{get_crawl, within, Server};

pub(crate) const CHAIN_A: &str = "testchain-a";
pub(crate) const CHAIN_B: &str = "testchain-b";

fn secs(s: u64) -> Option<prost_types::Duration> {
    Some(prost_types::Duration {
        seconds: s as i64,
        nanos: 0,
    })
}

fn millis(ms: u64) -> Option<prost_types::Duration> {
    Some(prost_types::Duration {
        seconds: (ms / 1000) as i64,
        nanos: ((ms % 1000) * 1_000_000) as i32,
    })
}

pub(crate) fn request(
    net: &CometTestnet,
    mode: pb::CrawlMode,
    seed: Option<pb::CometBftSeedOptions>,
) -> pb::StartCrawlRequest {
    pb::StartCrawlRequest {
        profile: Some(pb::NetworkProfile {
            profile: Some(pb::network_profile::Profile::Cometbft(
                pb::CometBftProfile {
                    chain_id: CHAIN_A.into(),
                    peers: vec![net.bootstrap()],
                    exchange_timeout: secs(3),
                    crawl_interval: secs(1),
                    seed,
                    ..Default::default()
                },
            )),
        }),
        mode: mode as i32,
        name: "cometbft".into(),
        dial_concurrency: Some(32),
        dial_timeout: secs(2),
        ..Default::default()
    }
}

/// Every page of ListPeers with `req`'s filters.
async fn list_all(client: &mut CrawlerClient<Channel>, req: pb::ListPeersRequest) -> Vec<pb::Peer> {
    let mut out = Vec::new();
    let mut token = String::new();
    loop {
        let page = client
            .list_peers(pb::ListPeersRequest {
                page_size: 100,
                page_token: token.clone(),
                ..req.clone()
            })
            .await
            .unwrap()
            .into_inner();
        out.extend(page.peers);
        if page.next_page_token.is_empty() {
            return out;
        }
        token = page.next_page_token;
    }
}

fn by_id(peers: Vec<pb::Peer>) -> HashMap<String, pb::Peer> {
    peers.into_iter().map(|p| (p.peer_id.clone(), p)).collect()
}

fn ids_of<'a>(nodes: impl Iterator<Item = &'a CometNode>) -> HashSet<String> {
    nodes.map(|n| n.id.clone()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn oneshot_crawl_of_200_nodes_finds_and_labels_every_node() {
    let server = Server::start().await;
    let net = CometTestnet::start(CometTestnetConfig {
        nodes: 200,
        chain_b: 20,
        down: 10,
        silent: 2,
        abusive: 4,
        degree: 6,
        seed: 7,
        ..CometTestnetConfig::default()
    })
    .await
    .unwrap();
    let mut client = server.client().await;
    let crawl = client
        .start_crawl(request(&net, pb::CrawlMode::Oneshot, None))
        .await
        .unwrap()
        .into_inner()
        .crawl
        .unwrap();
    let done = within(Duration::from_secs(180), async {
        loop {
            let c = get_crawl(&mut client, &crawl.id).await;
            if c.state != pb::CrawlState::Running as i32 {
                return c;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;
    assert_eq!(done.state, pb::CrawlState::Finished as i32, "{done:?}");
    let progress = done.progress.clone().unwrap();

    // Every node is found, under its CometBFT id.
    let peers = by_id(
        list_all(
            &mut client,
            pb::ListPeersRequest {
                crawl_id: crawl.id.clone(),
                ..Default::default()
            },
        )
        .await,
    );
    let all = ids_of(net.nodes().iter());
    let found: HashSet<String> = peers.keys().cloned().collect();
    assert_eq!(found, all, "every testnet node, nothing else");
    assert_eq!(progress.discovered, 200);

    for n in net.nodes() {
        let p = &peers[&n.id];
        assert_eq!(p.enr, n.address, "node {}: stored address", n.index);
        assert_eq!(&p.node_id[..40], n.id.as_str());
        let info = p.cometbft.as_ref();
        match (n.kind, n.chain_id.as_str()) {
            (CometKind::Normal, CHAIN_A) => {
                let info = info.unwrap_or_else(|| panic!("node {} has no NodeInfo", n.index));
                assert_eq!(info.network, CHAIN_A);
                assert_eq!(info.version, n.version);
                assert_eq!(info.moniker, n.moniker);
                assert_eq!(info.node_id, n.id);
                assert!(info.channels.contains(&0));
                assert_eq!(p.reachable, Some(true), "node {}", n.index);
                assert_eq!(p.state, "vetted", "node {}", n.index);
            }
            (CometKind::Normal, _) => {
                // The other chain: labelled with its own NodeInfo, never vetted.
                let info = info.unwrap_or_else(|| panic!("chain-B node {} unlabelled", n.index));
                assert_eq!(info.network, CHAIN_B);
                assert_eq!(info.version, n.version);
                assert_eq!(info.moniker, n.moniker);
                assert_eq!(p.last_error_class, "wrong_network");
                assert_eq!(p.reachable, Some(false));
                assert_eq!(p.state, "bad");
            }
            (CometKind::Down, _) => {
                assert!(info.is_none());
                assert_eq!(p.last_error_class, "refused", "down node {}", n.index);
                assert_eq!(p.reachable, Some(false));
            }
            (CometKind::Silent, _) => {
                assert!(info.is_none());
                assert_eq!(
                    p.last_error_class, "handshake_timeout",
                    "silent node {}",
                    n.index
                );
            }
            (CometKind::Oversized | CometKind::Malformed, _) => {
                assert_eq!(info.map(|i| i.network.as_str()), Some(CHAIN_A));
                assert_eq!(p.state, "banned", "abusive node {}", n.index);
                assert!(p.last_error.starts_with("banned: "), "{}", p.last_error);
            }
        }
    }

    // The chain filter separates the chains.
    let chain_b = list_all(
        &mut client,
        pb::ListPeersRequest {
            chain_id: CHAIN_B.into(),
            ..Default::default()
        },
    )
    .await;
    let expected_b = ids_of(net.nodes().iter().filter(|n| n.chain_id == CHAIN_B));
    assert_eq!(
        chain_b
            .iter()
            .map(|p| p.peer_id.clone())
            .collect::<HashSet<_>>(),
        expected_b
    );
    let chain_a = list_all(
        &mut client,
        pb::ListPeersRequest {
            chain_id: CHAIN_A.into(),
            ..Default::default()
        },
    )
    .await;
    let expected_a = ids_of(net.nodes().iter().filter(|n| {
        n.chain_id == CHAIN_A
            && matches!(
                n.kind,
                CometKind::Normal | CometKind::Oversized | CometKind::Malformed
            )
    }));
    assert_eq!(
        chain_a
            .iter()
            .map(|p| p.peer_id.clone())
            .collect::<HashSet<_>>(),
        expected_a
    );

    // Stats by chain, version, protocol and reachability.
    let stats = client
        .get_network_stats(pb::GetNetworkStatsRequest {
            crawl_id: crawl.id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(stats.peers, 200);
    assert_eq!(stats.by_record_kind.get("cometbft"), Some(&200));
    assert_eq!(
        stats.by_chain_id.get(CHAIN_A),
        Some(&(expected_a.len() as u64))
    );
    assert_eq!(stats.by_chain_id.get(CHAIN_B), Some(&20));
    assert_eq!(
        stats.reachable_by_chain_id.get(CHAIN_A),
        Some(&(expected_a.len() as u64))
    );
    assert_eq!(stats.reachable_by_chain_id.get(CHAIN_B), None);
    let mut versions: BTreeMap<String, u64> = BTreeMap::new();
    for n in net.nodes() {
        if !matches!(n.kind, CometKind::Down | CometKind::Silent) {
            *versions.entry(n.version.clone()).or_default() += 1;
        }
    }
    assert_eq!(
        stats
            .by_software_version
            .into_iter()
            .collect::<BTreeMap<_, _>>(),
        versions
    );
    assert_eq!(
        stats.by_block_version.get(&11),
        Some(&(expected_a.len() as u64 + 20))
    );
    assert_eq!(stats.by_error_class.get("wrong_network"), Some(&20));
    assert_eq!(stats.by_error_class.get("refused"), Some(&10));
    assert_eq!(stats.by_error_class.get("handshake_timeout"), Some(&2));

    // The crawl's own counters agree.
    assert_eq!(progress.banned, 4);
    assert_eq!(progress.failed_by_class.get("wrong_network"), Some(&20));
    assert_eq!(progress.failed_by_class.get("refused"), Some(&10));
    assert_eq!(progress.connected as usize, expected_a.len());
    // Each peer was visited once.
    assert_eq!(progress.dials, 200);

    // The other chain's nodes are found only as addresses, never through their own PEX:
    // every peer's sources name a chain-A node (or the bootstrap).
    let a_ids = ids_of(net.nodes().iter().filter(|n| n.chain_id == CHAIN_A));
    for p in peers.values() {
        for s in &p.sources {
            if s.kind == "peer_exchange" {
                assert!(
                    a_ids.contains(&s.via_peer_id),
                    "{} via {}",
                    p.peer_id,
                    s.via_peer_id
                );
            }
        }
    }
    net.stop();
    server.stop().await;
}

/// Polls until every node was visited once by the running crawl.
async fn wait_visited(client: &mut CrawlerClient<Channel>, id: &str, n: u64) -> pb::Crawl {
    within(Duration::from_secs(120), async {
        loop {
            let c = get_crawl(client, id).await;
            let p = c.progress.clone().unwrap();
            if p.queried >= n && p.in_flight == 0 {
                return c;
            }
            assert_eq!(c.state, pb::CrawlState::Running as i32, "{c:?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await
}

/// The seed's events about `id`, from the log.
async fn events_of(
    client: &mut CrawlerClient<Channel>,
    crawl: &str,
    id: CometId,
) -> Vec<pb::PeerEvent> {
    use futures::StreamExt;
    let node = hex::encode(id.to_node_id());
    let mut stream = client
        .stream_peer_events(pb::StreamPeerEventsRequest {
            after_sequence: Some(0),
            crawl_id: crawl.into(),
            node_id: node,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let mut out = Vec::new();
    // Replay, then stop when nothing more arrives for a moment.
    while let Ok(Some(Ok(m))) =
        tokio::time::timeout(Duration::from_millis(500), stream.next()).await
    {
        out.push(m.event.unwrap());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn seed_mode_answers_vetted_peers_of_its_chain_once_and_bans_abusers() {
    let server = Server::start().await;
    let net = CometTestnet::start(CometTestnetConfig {
        nodes: 60,
        chain_b: 8,
        down: 4,
        abusive: 2,
        degree: 4,
        seed: 11,
        ..CometTestnetConfig::default()
    })
    .await
    .unwrap();
    let mut client = server.client().await;
    let max_reply = 10;
    let crawl = client
        .start_crawl(request(
            &net,
            pb::CrawlMode::Continuous,
            Some(pb::CometBftSeedOptions {
                listen_addr: "127.0.0.1:0".into(),
                request_interval: secs(30),
                max_reply: Some(max_reply),
                idle_timeout: secs(5),
                ..Default::default()
            }),
        ))
        .await
        .unwrap()
        .into_inner()
        .crawl
        .unwrap();
    let seed: PeerAddr = crawl.seed_addr.parse().expect("the seed's id@ip:port");
    assert_eq!(crawl.local_enr, seed.id.to_string());
    wait_visited(&mut client, &crawl.id, 60).await;
    // The pool is refreshed within 250 ms of a visit.
    tokio::time::sleep(Duration::from_millis(600)).await;

    let vetted_a: HashSet<String> = net
        .nodes()
        .iter()
        .filter(|n| n.chain_id == CHAIN_A && n.kind == CometKind::Normal)
        .map(|n| n.address.clone())
        .collect();
    let settings = VisitSettings {
        connect_timeout: Duration::from_secs(2),
        exchange_timeout: Duration::from_secs(5),
        max_addrs: MAX_GET_SELECTION,
    };

    // 1. Fresh requesters are answered with at most `max_reply` vetted chain-A peers.
    let mut seen = HashSet::new();
    for _ in 0..8 {
        let me = Arc::new(joining_node(CHAIN_A, None));
        let v = visit(seed, me.clone(), settings).await;
        let (info, outcome) = v.result.expect("the seed accepts a chain-A peer");
        assert_eq!(info.network, CHAIN_A);
        let PexOutcome::Addrs(list) = outcome else {
            panic!("no answer: {outcome:?}");
        };
        assert!(
            !list.is_empty() && list.len() <= max_reply as usize,
            "{}",
            list.len()
        );
        for a in pex::validate(&list, MAX_GET_SELECTION).unwrap().addrs {
            assert!(
                vetted_a.contains(&a.to_string()),
                "{a} is not a vetted chain-A node"
            );
            seen.insert(a.to_string());
        }
    }
    // Selections vary between requesters.
    assert!(seen.len() > max_reply as usize, "{} distinct", seen.len());
    // Every answered address is vetted in the store, too.
    for text in &seen {
        let a: PeerAddr = text.parse().unwrap();
        let p = client
            .get_peer(pb::GetPeerRequest {
                key: Some(pb::get_peer_request::Key::PeerId(a.id.to_string())),
            })
            .await
            .unwrap()
            .into_inner()
            .peer
            .unwrap();
        assert_eq!(p.state, "vetted");
        assert_eq!(p.cometbft.unwrap().network, CHAIN_A);
    }

    // 2. Asking twice within the interval: refused, banned, and refused again after.
    let me = Arc::new(joining_node(CHAIN_A, None));
    let first = visit(seed, me.clone(), settings).await;
    assert!(matches!(first.result, Ok((_, PexOutcome::Addrs(_)))));
    let second = visit(seed, me.clone(), settings).await;
    match second.result {
        Ok((_, PexOutcome::NoAnswer(_))) => {}
        other => panic!("the repeat was answered: {other:?}"),
    }
    let third = visit(seed, me.clone(), settings).await;
    assert!(
        !matches!(third.result, Ok((_, PexOutcome::Addrs(_)))),
        "a banned peer got an answer"
    );
    let events = within(Duration::from_secs(20), async {
        loop {
            let evs = events_of(&mut client, &crawl.id, me.id()).await;
            if evs
                .iter()
                .filter(|e| e.kind == pb::PeerEventKind::PeerExchangeServed as i32)
                .count()
                >= 3
                && evs
                    .iter()
                    .any(|e| e.kind == pb::PeerEventKind::Banned as i32)
            {
                return evs;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    })
    .await;
    let details: Vec<&str> = events
        .iter()
        .filter(|e| e.kind == pb::PeerEventKind::PeerExchangeServed as i32)
        .map(|e| e.detail.as_str())
        .collect();
    assert!(details[0].starts_with("answered "), "{details:?}");
    assert!(
        details[1].starts_with("refused: asked again"),
        "{details:?}"
    );
    assert_eq!(details[2], "refused: banned");

    // 3. An unsolicited address list is refused and banned.
    let pushy = joining_node(CHAIN_A, None);
    let stream = conn::connect(seed.addr, Duration::from_secs(2))
        .await
        .unwrap();
    let pushy_id = pushy.id();
    tokio::task::spawn_blocking(move || {
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        let mut c = conn::establish(stream, &pushy, Some(seed.id), deadline).unwrap();
        c.send(PEX, &pex::encode_addrs(vec![seed.to_proto()]))
            .unwrap();
        // The seed closes without answering.
        assert!(c.recv().is_err());
    })
    .await
    .unwrap();
    within(Duration::from_secs(20), async {
        loop {
            let evs = events_of(&mut client, &crawl.id, pushy_id).await;
            if evs
                .iter()
                .any(|e| e.kind == pb::PeerEventKind::Banned as i32)
            {
                assert!(
                    evs.iter().any(|e| e.detail.contains("unsolicited")),
                    "{evs:?}"
                );
                return;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    })
    .await;

    // 4. A peer of the other chain gets nothing: the seed refuses it after NodeInfo.
    let other = Arc::new(joining_node(CHAIN_B, None));
    let v = visit(seed, other, settings).await;
    let e = v.result.expect_err("a chain-B peer must not be served");
    assert_eq!(e.node_info().map(|i| i.network.as_str()), Some(CHAIN_A));

    // 5. A node that starts with only the seed's address finds the rest of chain A.
    let report = within(
        Duration::from_secs(120),
        discover_from(
            &[seed],
            joining_node(CHAIN_A, None),
            8,
            1000,
            Duration::from_secs(100),
        ),
    )
    .await;
    let from_seed = report.seed_answers[0].as_ref().expect("the seed answered");
    assert!(!from_seed.is_empty() && from_seed.len() <= max_reply as usize);
    assert!(from_seed.iter().all(|a| vetted_a.contains(&a.to_string())));
    let learned: HashSet<String> = report.book.values().map(|a| a.to_string()).collect();
    let missing: Vec<_> = vetted_a.difference(&learned).collect();
    assert!(
        missing.is_empty(),
        "not found through the seed: {missing:?}"
    );

    // The crawl's counters saw it all (nine requesters and the joining node answered;
    // snapshots are published every 100 ms).
    let p = within(Duration::from_secs(10), async {
        loop {
            let p = get_crawl(&mut client, &crawl.id).await.progress.unwrap();
            if p.px_served >= 10 {
                return p;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;
    assert!(p.px_refused >= 3, "{p:?}");
    // Two abusive testnet nodes, the repeater and the pushy peer.
    assert!(p.banned >= 4, "{p:?}");
    client
        .stop_crawl(pb::StopCrawlRequest { crawl_id: crawl.id })
        .await
        .unwrap();
    net.stop();
    server.stop().await;
}

#[tokio::test]
async fn cometbft_profiles_are_validated_naming_the_field() {
    let server = Server::start().await;
    let mut client = server.client().await;
    let good = "00112233445566778899aabbccddeeff00112233@127.0.0.1:26656";
    let cases: Vec<(pb::CometBftProfile, Vec<String>, &str)> = vec![
        (
            pb::CometBftProfile {
                chain_id: String::new(),
                peers: vec![good.into()],
                ..Default::default()
            },
            vec![],
            "profile.cometbft.chain_id",
        ),
        (
            pb::CometBftProfile {
                chain_id: CHAIN_A.into(),
                ..Default::default()
            },
            vec![],
            "profile.cometbft.peers",
        ),
        (
            pb::CometBftProfile {
                chain_id: CHAIN_A.into(),
                peers: vec![good.into(), "abc@127.0.0.1:1".into()],
                ..Default::default()
            },
            vec![],
            "profile.cometbft.peers[1]",
        ),
        (
            pb::CometBftProfile {
                chain_id: CHAIN_A.into(),
                peers: vec![good.into()],
                new_bias_percent: Some(101),
                ..Default::default()
            },
            vec![],
            "profile.cometbft.new_bias_percent",
        ),
        (
            pb::CometBftProfile {
                chain_id: CHAIN_A.into(),
                peers: vec![good.into()],
                seed: Some(pb::CometBftSeedOptions {
                    max_reply: Some(251),
                    ..Default::default()
                }),
                ..Default::default()
            },
            vec![],
            "profile.cometbft.seed.max_reply",
        ),
        (
            pb::CometBftProfile {
                chain_id: CHAIN_A.into(),
                peers: vec![good.into()],
                ..Default::default()
            },
            vec!["enr:-abc".into()],
            "bootstrap_enrs",
        ),
    ];
    for (profile, enrs, field) in cases {
        let status = client
            .start_crawl(pb::StartCrawlRequest {
                profile: Some(pb::NetworkProfile {
                    profile: Some(pb::network_profile::Profile::Cometbft(profile)),
                }),
                bootstrap_enrs: enrs,
                ..Default::default()
            })
            .await
            .expect_err(field);
        assert_eq!(status.code(), tonic::Code::InvalidArgument, "{field}");
        assert!(
            status.message().starts_with(&format!("{field}:")),
            "{field}: {}",
            status.message()
        );
    }
    // The effective settings are echoed with the reactor's defaults.
    let c = client
        .start_crawl(pb::StartCrawlRequest {
            profile: Some(pb::NetworkProfile {
                profile: Some(pb::network_profile::Profile::Cometbft(
                    pb::CometBftProfile {
                        chain_id: CHAIN_A.into(),
                        // Nothing listens there: the crawl finishes at once.
                        peers: vec![good.replace("26656", "9")],
                        ..Default::default()
                    },
                )),
            }),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .crawl
        .unwrap();
    let Some(pb::network_profile::Profile::Cometbft(p)) = c.profile.unwrap().profile else {
        panic!("profile not echoed");
    };
    assert_eq!(p.crawl_interval, secs(30));
    assert_eq!(p.min_recrawl, secs(120));
    assert_eq!(p.max_dial_attempts, Some(16));
    assert_eq!(p.ban_duration, secs(24 * 3600));
    assert_eq!(p.new_bias_percent, Some(30));
    assert_eq!(p.max_addrs, Some(250));
    assert_eq!(p.exchange_timeout, millis(10_000));
    server.stop().await;
}
