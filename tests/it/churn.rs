//! Testnet churn: nodes that leave stop answering, and come back as the same peers.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use peerscope::proto::pb;
use peerscope::testnet::{Testnet, TestnetConfig};
use rand::SeedableRng;

use crate::common::{all_peers, oneshot, Server};

/// Crawls the testnet once; returns node id → reachable, and node id → peer id of the
/// reachable ones.
async fn crawl(
    server: &Server,
    enrs: &[String],
) -> (HashMap<String, bool>, HashMap<String, String>) {
    let mut client = server.client().await;
    let (crawl, done) = server
        .crawl(&mut client, oneshot(enrs), Duration::from_secs(120))
        .await;
    assert_eq!(done.state, pb::CrawlState::Finished as i32);
    let peers = all_peers(&mut client, &crawl.id, 100).await;
    let reachable = peers
        .iter()
        .map(|p| (p.node_id.clone(), p.reachable == Some(true)))
        .collect();
    let ids = peers
        .iter()
        .filter(|p| p.reachable == Some(true))
        .map(|p| (p.node_id.clone(), p.peer_id.clone()))
        .collect();
    (reachable, ids)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn churned_nodes_leave_and_come_back_as_the_same_peers() {
    let mut net = Testnet::start(TestnetConfig {
        nodes: 24,
        // Dense tables, so every node that stays is still known to some node that stays.
        degree: 12,
        seed: 11,
        ..TestnetConfig::default()
    })
    .await
    .unwrap();
    let node_id: Vec<String> = net.nodes().iter().map(|n| n.node_id.clone()).collect();
    let server = Server::start().await;
    let mut rng = rand::rngs::StdRng::seed_from_u64(5);

    let first = net.churn(6, &mut rng).await;
    assert_eq!(first.left.len(), 6);
    assert!(first.joined.is_empty());
    assert!(!first.left.contains(&0), "the bootstrap node never leaves");
    assert_eq!(net.online(), 18);
    let left: BTreeSet<String> = first.left.iter().map(|i| node_id[*i].clone()).collect();

    let (reachable, before) = crawl(&server, net.bootstrap_enrs()).await;
    for (i, id) in node_id.iter().enumerate() {
        // Nodes that left are still in their neighbours' tables: found, but not reachable.
        if left.contains(id) {
            assert_eq!(reachable.get(id), Some(&false), "node {i} left");
        } else {
            assert_eq!(reachable.get(id), Some(&true), "node {i} stayed");
        }
    }

    let second = net.churn(6, &mut rng).await;
    let mut joined = second.joined.clone();
    joined.sort_unstable();
    let mut was_away = first.left.clone();
    was_away.sort_unstable();
    assert_eq!(joined, was_away, "everyone who left came back");
    assert_eq!(second.left.len(), 6);
    assert!(second.left.iter().all(|i| !first.left.contains(i)));
    assert_eq!(net.online(), 18);

    let (reachable, after) = crawl(&server, net.bootstrap_enrs()).await;
    for i in &first.left {
        let id = &node_id[*i];
        assert_eq!(reachable.get(id), Some(&true), "node {i} came back");
        assert_eq!(
            after.get(id),
            net.nodes()
                .iter()
                .find(|n| &n.node_id == id)
                .map(|n| &n.peer_id),
            "node {i} came back with its own identity"
        );
    }
    for i in &second.left {
        assert_eq!(reachable.get(&node_id[*i]), Some(&false), "node {i} left");
        assert!(before.contains_key(&node_id[*i]));
    }
    server.stop().await;
}
