//! The adaptive walk on real testnets: it stops early without losing nodes (ids that
//! cluster, records of nodes that never answer), and nodes that never answer cost the end
//! of a crawl their tries, not more.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use discv5::Key;
use peerscope::proto::pb;
use peerscope::testnet::{TestnetConfig, CLUSTER_BITS};

use crate::common::{all_peers, crawl_testnet_with, Crawled};

fn log2_distance(a: enr::NodeId, b: enr::NodeId) -> Option<u64> {
    Key::from(a).log2_distance(&Key::from(b))
}

fn node_id(hex_id: &str) -> enr::NodeId {
    let raw: [u8; 32] = hex::decode(hex_id).unwrap().try_into().unwrap();
    enr::NodeId::new(&raw)
}

fn millis(d: Option<prost_types::Duration>) -> u64 {
    let d = d.expect("a duration");
    d.seconds as u64 * 1000 + d.nanos as u64 / 1_000_000
}

/// A quarter of the nodes share their first bits and know mostly each other: they sit in
/// low buckets, below where a random network's tables end and the scan stops. The walk
/// still finds every node, with far fewer requests than asking every distance.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clustered_ids_are_all_found() {
    let nodes = 80;
    let clustered = 24;
    let Crawled {
        net,
        server,
        client,
        done,
        ..
    } = crawl_testnet_with(
        TestnetConfig {
            nodes,
            degree: 3,
            seed: 21,
            clustered,
            libp2p: false,
            ..TestnetConfig::default()
        },
        |req| pb::StartCrawlRequest {
            random_lookups: Some(0),
            dial: Some(false),
            ..req
        },
        Duration::from_secs(120),
    )
    .await;
    // The shape the test needs: some cluster node is held by no table at a distance the
    // scan of a random network reaches (it stops around 256 - log2(80) ≈ 250).
    let infos = net.nodes();
    let ids: Vec<enr::NodeId> = infos.iter().map(|n| node_id(&n.node_id)).collect();
    let mut deepest_holder: HashMap<enr::NodeId, u64> = HashMap::new();
    for (i, &holder) in ids.iter().enumerate() {
        for held in net.discv5(i).unwrap().table_entries_id() {
            let d = log2_distance(holder, held).unwrap();
            let e = deepest_holder.entry(held).or_insert(0);
            *e = (*e).max(d);
        }
    }
    let cluster = &ids[nodes - clustered..];
    for pair in cluster.windows(2) {
        assert!(log2_distance(pair[0], pair[1]).unwrap() <= 256 - u64::from(CLUSTER_BITS));
    }
    let hidden = cluster
        .iter()
        .filter(|id| deepest_holder.get(*id).is_some_and(|d| *d < 250))
        .count();
    assert!(hidden > 0, "every cluster node is also held far away");

    // What any walk of 17 distances (256 down to 240, the default depth) can reach at all:
    // from the bootstrap, the nodes held at one of those distances by a node it reaches.
    // Cluster ids share 10 bits, so two of them may share 17 and sit closer than distance
    // 240; a node held only that close is out of reach of every such walk (about one run
    // in ten of this shape has one).
    let index: HashMap<enr::NodeId, usize> =
        ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
    let mut reach: HashSet<usize> = infos
        .iter()
        .filter(|n| net.bootstrap_enrs().contains(&n.enr))
        .map(|n| n.index)
        .collect();
    let mut queue: Vec<usize> = reach.iter().copied().collect();
    while let Some(i) = queue.pop() {
        for held in net.discv5(i).unwrap().table_entries_id() {
            if log2_distance(ids[i], held).unwrap() >= 240 {
                if let Some(&j) = index.get(&held) {
                    if reach.insert(j) {
                        queue.push(j);
                    }
                }
            }
        }
    }
    assert!(
        reach.len() + 3 >= nodes,
        "the shape hides {} nodes",
        nodes - reach.len()
    );

    let p = done.progress.unwrap();
    assert_eq!(done.state, pb::CrawlState::Finished as i32);
    // Every node a walk of every distance could reach, and nothing else.
    assert_eq!(p.discovered, reach.len() as u64, "{p:?}");
    assert_eq!(p.queried, reach.len() as u64, "{p:?}");
    assert_eq!(p.unresponsive, 0, "{p:?}");
    // A probe and 17 distances per node would be 18 requests.
    assert!(
        p.find_node_requests < nodes as u64 * 12,
        "{} requests for {nodes} nodes",
        p.find_node_requests
    );
    eprintln!(
        "clustered: {hidden} cluster nodes held only below distance 250, {} out of reach; {} requests for {nodes} nodes",
        nodes - reach.len(),
        p.find_node_requests
    );
    drop(client);
    server.stop().await;
}

/// Records of nodes that never answer, in live nodes' tables: every live node and every
/// dead record is found, the dead ones are stored and counted unresponsive (and, dialed,
/// refused), and each cost its tries only: the crawl ended within about two adapted
/// timeouts of its last answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_records_are_found_and_cost_only_their_tries() {
    let nodes = 60;
    let dead = 3;
    let Crawled {
        net,
        server,
        mut client,
        crawl,
        done,
    } = crawl_testnet_with(
        TestnetConfig {
            nodes,
            seed: 22,
            dead,
            ..TestnetConfig::default()
        },
        |req| pb::StartCrawlRequest {
            random_lookups: Some(0),
            dial: Some(true),
            ..req
        },
        Duration::from_secs(120),
    )
    .await;
    assert_eq!(net.dead().len(), dead);
    for d in net.dead() {
        assert!(!d.held_by.is_empty(), "{d:?}");
    }
    let p = done.progress.clone().unwrap();
    assert_eq!(done.state, pb::CrawlState::Finished as i32);
    let total = (nodes + dead) as u64;
    assert_eq!(p.discovered, total, "{p:?}");
    assert_eq!(p.queried, total, "{p:?}");
    assert_eq!(p.unresponsive, dead as u64, "{p:?}");

    // Stored, with their records; dialed and refused (their TCP port is closed).
    let peers = all_peers(&mut client, &crawl.id, 100).await;
    assert_eq!(peers.len(), total as usize);
    for d in net.dead() {
        let peer = peers
            .iter()
            .find(|p| p.node_id == d.node_id)
            .unwrap_or_else(|| panic!("dead record {} not stored", d.node_id));
        assert_eq!(peer.enr, d.enr);
        assert_eq!(peer.reachable, Some(false));
        assert_eq!(peer.last_error_class, "refused", "{}", peer.last_error);
    }

    // Each dead node got its two tries, and at most a second chance of two more, all timed
    // out; the live nodes (quiet loopback) lost nothing.
    let per_dead = |n: u64| n >= 2 * dead as u64 && n <= 4 * dead as u64 + 2;
    assert!(per_dead(p.find_node_timeouts), "{p:?}");
    assert_eq!(p.find_node_failures, p.find_node_timeouts, "{p:?}");
    // The tail: from the last answer to the end, about two adapted timeouts.
    let timeout = millis(p.request_timeout);
    let tail = millis(p.walk_tail);
    assert!((100..=1000).contains(&timeout), "{p:?}");
    assert!(
        tail <= 2 * timeout + 250,
        "the walk ended {tail} ms after its last answer (timeout {timeout} ms)"
    );
    eprintln!(
        "dead records: {} requests, {} timed out, timeout {timeout} ms, tail {tail} ms",
        p.find_node_requests, p.find_node_timeouts
    );
    server.stop().await;
}
