//! The relay monitor against a gossipsub mesh of testnet nodes on loopback.

use std::collections::BTreeMap;
use std::time::Duration;

use peerscope::engine::relay_monitor::TRIAL;
use peerscope::engine::EngineConfig;
use peerscope::proto::pb;
use peerscope::proto::pb::crawler_client::CrawlerClient;
use peerscope::testnet::{Testnet, TestnetConfig, CONTENT_TOPICS, NAMED_TOPIC};
use tonic::transport::Channel;

use crate::common::{get_crawl, oneshot, start, within, Server};

/// The pubsub topics of cluster 1 with at least two relay nodes, most populated first.
pub(crate) fn busy_topics(net: &Testnet, n: usize) -> Vec<String> {
    let mut topics: Vec<(usize, String)> = (0..8)
        .map(|s| format!("/waku/2/rs/1/{s}"))
        .map(|t| (net.relay_nodes_on(&t).len(), t))
        .filter(|(k, _)| *k >= 2)
        .collect();
    topics.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    topics.into_iter().take(n).map(|(_, t)| t).collect()
}

/// Relay nodes on `topic` in cluster 1, the crawl's: the nodes of other clusters on the
/// named topic form meshes of their own (nodes drop peers of another cluster).
pub(crate) fn cluster1_relays(net: &Testnet, topic: &str) -> Vec<usize> {
    let nodes = net.nodes();
    net.relay_nodes_on(topic)
        .into_iter()
        .filter(|i| nodes[*i].cluster_id == 1)
        .collect()
}

pub(crate) async fn start_relay_crawl(
    client: &mut CrawlerClient<Channel>,
    net: &Testnet,
    topics: &[String],
) -> String {
    start_relay_crawl_with(client, net, topics, |r| r).await
}

/// A CONTINUOUS relay crawl of `net` on `topics` (`tweak` adjusts the request); returns
/// once every topic has a gossipsub mesh.
async fn start_relay_crawl_with(
    client: &mut CrawlerClient<Channel>,
    net: &Testnet,
    topics: &[String],
    tweak: impl FnOnce(pb::StartCrawlRequest) -> pb::StartCrawlRequest,
) -> String {
    let crawl = start(client, tweak(relay_request(net, topics))).await;
    // Wait until every subscribed topic has a gossipsub mesh.
    within(Duration::from_secs(60), async {
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
            if p.relay_mesh_peers >= 1 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    })
    .await;
    crawl.id
}

/// A CONTINUOUS Waku crawl of `net` with the relay monitor on `topics`.
fn relay_request(net: &Testnet, topics: &[String]) -> pb::StartCrawlRequest {
    pb::StartCrawlRequest {
        mode: pb::CrawlMode::Continuous as i32,
        recrawl_interval: Some(prost_types::Duration {
            seconds: 600,
            nanos: 0,
        }),
        relay: Some(true),
        relay_peers: Some(64),
        pubsub_topics: topics.to_vec(),
        ..oneshot(net.bootstrap_enrs())
    }
}

async fn counts(client: &mut CrawlerClient<Channel>) -> pb::GetMessageCountsResponse {
    client
        .get_message_counts(pb::GetMessageCountsRequest::default())
        .await
        .unwrap()
        .into_inner()
}

/// Waits until the API has counted `total` messages (decodable), then a little longer to
/// catch any over-count.
pub(crate) async fn settle(
    client: &mut CrawlerClient<Channel>,
    total: u64,
) -> pb::GetMessageCountsResponse {
    within(Duration::from_secs(30), async {
        loop {
            let c = counts(client).await;
            if c.counts.iter().map(|r| r.messages).sum::<u64>() >= total {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    })
    .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    counts(client).await
}

fn as_map(c: &pb::GetMessageCountsResponse) -> BTreeMap<(String, String), (u64, u64)> {
    c.counts
        .iter()
        .map(|r| {
            (
                (r.pubsub_topic.clone(), r.content_topic.clone()),
                (r.messages, r.bytes),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counts_equal_what_the_testnet_published_and_survive_restart() {
    let net = Testnet::start(TestnetConfig {
        nodes: 40,
        seed: 5,
        ..TestnetConfig::default()
    })
    .await
    .unwrap();
    let topics = busy_topics(&net, 3);
    assert!(
        topics.len() >= 2,
        "the seeded testnet has relay nodes on shared shards"
    );
    let server = Server::start().await;
    let mut client = server.client().await;
    let crawl_id = start_relay_crawl(&mut client, &net, &topics).await;

    // Publish from two nodes per topic on three content topics; payloads differ.
    let n = publish_grid(&net, &topics, 2, 3, 5).await;
    let published = net.published();
    let total: u64 = published.values().map(|v| v.0).sum();
    assert_eq!(total, u64::from(n));
    let got = settle(&mut client, total).await;
    assert_eq!(
        as_map(&got),
        published,
        "counts per (pubsub, content topic) are exact"
    );
    assert!(got.undecodable.is_empty());
    assert!(got
        .counts
        .iter()
        .all(|r| !r.other && r.window_messages == r.messages));

    // Garbage on a topic: only the undecodable counter moves.
    let node = net.relay_nodes_on(&topics[0])[0];
    net.publish_garbage(node, &topics[0], vec![0xff, 0x00, 0xfe, 0x13])
        .await
        .unwrap();
    let after = within(Duration::from_secs(30), async {
        loop {
            let c = counts(&mut client).await;
            if !c.undecodable.is_empty() {
                return c;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    })
    .await;
    assert_eq!(after.undecodable.len(), 1);
    assert_eq!(after.undecodable[0].pubsub_topic, topics[0]);
    assert_eq!(
        (after.undecodable[0].messages, after.undecodable[0].bytes),
        (1, 4)
    );
    assert_eq!(as_map(&after), published);

    // The per-topic summary in GetNetworkStats agrees.
    let stats = client
        .get_network_stats(pb::GetNetworkStatsRequest::default())
        .await
        .unwrap()
        .into_inner();
    for t in &stats.by_pubsub_topic {
        let want: u64 = published
            .iter()
            .filter(|((p, _), _)| p == &t.pubsub_topic)
            .map(|(_, v)| v.0)
            .sum();
        assert_eq!(t.messages, want, "{}", t.pubsub_topic);
        assert_eq!(t.content_topics, 3);
        assert_eq!(t.undecodable, u64::from(t.pubsub_topic == topics[0]));
    }

    // Restart: counts are kept.
    client
        .stop_crawl(pb::StopCrawlRequest { crawl_id })
        .await
        .unwrap();
    drop(client);
    let server = server.restart().await;
    let mut client = server.client().await;
    let again = counts(&mut client).await;
    assert_eq!(as_map(&again), published);
    assert_eq!(again.undecodable.len(), 1);
    drop(client);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn content_topics_beyond_the_cap_are_summed_in_other() {
    let net = Testnet::start(TestnetConfig {
        nodes: 40,
        seed: 5,
        ..TestnetConfig::default()
    })
    .await
    .unwrap();
    let topic = busy_topics(&net, 1).remove(0);
    let server = Server::start_with(EngineConfig {
        max_content_topics: 3,
        ..EngineConfig::default()
    })
    .await;
    let mut client = server.client().await;
    start_relay_crawl(&mut client, &net, std::slice::from_ref(&topic)).await;
    let node = net.relay_nodes_on(&topic)[0];
    let mut n = 0;
    // 5 content topics, 4 messages each, sent one content topic after the other so the
    // first three are the ones kept.
    for ct in CONTENT_TOPICS {
        for _ in 0..4 {
            n += 1;
            net.publish(node, &topic, ct, format!("cap test {n}").into_bytes())
                .await
                .unwrap();
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let got = settle(&mut client, 20).await;
    assert_eq!(got.max_content_topics, 3);
    assert_eq!(got.counts.len(), 4, "{:?}", got.counts);
    let named: Vec<_> = got.counts.iter().filter(|r| !r.other).collect();
    assert_eq!(named.len(), 3);
    let other: Vec<_> = got.counts.iter().filter(|r| r.other).collect();
    assert_eq!(other.len(), 1);
    assert_eq!(other[0].content_topic, "(other)");
    let published = net.published();
    let total: u64 = published.values().map(|v| v.0).sum();
    let total_bytes: u64 = published.values().map(|v| v.1).sum();
    assert_eq!(got.counts.iter().map(|r| r.messages).sum::<u64>(), total);
    assert_eq!(got.counts.iter().map(|r| r.bytes).sum::<u64>(), total_bytes);
    assert_eq!(other[0].messages, 8);
    for r in named {
        assert_eq!(
            published[&(topic.clone(), r.content_topic.clone())],
            (r.messages, r.bytes)
        );
    }
    drop(client);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_relay_crawls_of_one_cluster_count_each_message_once() {
    let net = Testnet::start(TestnetConfig {
        nodes: 40,
        seed: 5,
        ..TestnetConfig::default()
    })
    .await
    .unwrap();
    let topics = busy_topics(&net, 2);
    let server = Server::start().await;
    let mut client = server.client().await;
    // Two CONTINUOUS relay crawls of the same topics: two gossipsub swarms, two meshes,
    // each receiving every message.
    let first = start_relay_crawl(&mut client, &net, &topics).await;
    let second = start_relay_crawl(&mut client, &net, &topics).await;
    assert_ne!(first, second);
    let n = publish_grid(&net, &topics, 1, 2, 5).await;
    let published = net.published();
    assert_eq!(published.values().map(|v| v.0).sum::<u64>(), u64::from(n));
    // Both monitors receive each message; the counts hold each once.
    let got = settle(&mut client, u64::from(n)).await;
    assert_eq!(as_map(&got), published, "each message counted once");
    // Stop one and start it again within the dedup window: re-delivered messages
    // (gossipsub's history) are still not counted again.
    client
        .stop_crawl(pb::StopCrawlRequest {
            crawl_id: second.clone(),
        })
        .await
        .unwrap();
    start_relay_crawl(&mut client, &net, &topics).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(as_map(&counts(&mut client).await), published);
    drop(client);
    server.stop().await;
}

/// Publishes `each` messages from each of the first `nodes` relay nodes of every topic in
/// `topics` on each of the first `cts` content topics (payloads all differ); returns how
/// many.
pub(crate) async fn publish_grid(
    net: &Testnet,
    topics: &[String],
    nodes: usize,
    cts: usize,
    each: u32,
) -> u32 {
    let mut n = 0u32;
    for topic in topics {
        for &node in net.relay_nodes_on(topic).iter().take(nodes) {
            for ct in &CONTENT_TOPICS[..cts] {
                for _ in 0..each {
                    n += 1;
                    let payload = format!("message {n} from node {node}").into_bytes();
                    net.publish(node, topic, ct, payload).await.unwrap();
                }
            }
        }
    }
    n
}

/// Publishes `per_node` messages from each of the first `nodes` relay nodes on `topic`
/// (payloads all differ); returns how many.
async fn publish_some(net: &Testnet, topic: &str, nodes: usize, per_node: usize) -> u64 {
    let mut n = 0u64;
    for &node in net.relay_nodes_on(topic).iter().take(nodes) {
        for i in 0..per_node {
            n += 1;
            let ct = CONTENT_TOPICS[i % CONTENT_TOPICS.len()];
            let payload = format!("{topic} message {n} from node {node}").into_bytes();
            net.publish(node, topic, ct, payload).await.unwrap();
        }
    }
    n
}

/// A Waku network of older nwaku releases speaks discv5 with protocol id `discv5`: with
/// the Waku profile's protocol id overridden, the crawl finds every node, keeps Waku
/// stats, and its relay monitor counts exactly what was published.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waku_network_speaking_discv5_is_crawled_with_its_relay_counted() {
    let net = Testnet::start(TestnetConfig {
        nodes: 32,
        seed: 5,
        protocol_id: *b"discv5",
        ..TestnetConfig::default()
    })
    .await
    .unwrap();
    let topics = busy_topics(&net, 2);
    assert!(!topics.is_empty());
    let server = Server::start().await;
    let mut client = server.client().await;
    let with_discv5_id = |mut r: pb::StartCrawlRequest| {
        if let Some(pb::network_profile::Profile::Waku(w)) =
            r.profile.as_mut().and_then(|p| p.profile.as_mut())
        {
            w.protocol_id = "discv5".into();
        }
        r
    };
    let crawl_id = start_relay_crawl_with(&mut client, &net, &topics, with_discv5_id).await;
    let crawl = get_crawl(&mut client, &crawl_id).await;
    match crawl.profile.and_then(|p| p.profile) {
        Some(pb::network_profile::Profile::Waku(w)) => assert_eq!(w.protocol_id, "discv5"),
        other => panic!("{other:?}"),
    }
    let mut total = 0;
    for topic in &topics {
        total += publish_some(&net, topic, 2, 6).await;
    }
    let published = net.published();
    assert_eq!(published.values().map(|v| v.0).sum::<u64>(), total);
    let got = settle(&mut client, total).await;
    assert_eq!(as_map(&got), published, "counts are exact");
    // Every node found, with its Waku cluster.
    let nodes = net.nodes();
    within(Duration::from_secs(60), async {
        while get_crawl(&mut client, &crawl_id)
            .await
            .progress
            .unwrap()
            .discovered
            < nodes.len() as u64
        {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    })
    .await;
    let stats = client
        .get_network_stats(pb::GetNetworkStatsRequest {
            crawl_id: crawl_id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    for cluster in [1u16, 16] {
        let want = nodes.iter().filter(|n| n.cluster_id == cluster).count() as u64;
        assert_eq!(
            stats
                .by_cluster
                .get(&u32::from(cluster))
                .copied()
                .unwrap_or(0),
            want,
            "cluster {cluster}"
        );
    }
    // The Waku profile's default id does not speak to this network: only the bootstrap
    // record is known.
    let (_, done) = server
        .crawl(
            &mut client,
            pb::StartCrawlRequest {
                request_timeout: Some(prost_types::Duration {
                    seconds: 0,
                    nanos: 300_000_000,
                }),
                dial: Some(false),
                ..oneshot(net.bootstrap_enrs())
            },
            Duration::from_secs(60),
        )
        .await;
    assert_eq!(done.progress.unwrap().discovered, 1);
    drop(client);
    server.stop().await;
}

/// A network that relays on a named topic, without `rs` in its records and without
/// metadata (so no peer's cluster is known): relay peers are taken on trial and kept
/// because gossipsub shows them on the monitored topic; the counts are exact. A crawl
/// monitoring a topic nobody relays on drops them once their trial ends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relay_peers_of_unknown_cluster_on_a_named_topic_are_counted_exactly() {
    let net = Testnet::start(TestnetConfig {
        nodes: 24,
        seed: 7,
        named_topic: true,
        ..TestnetConfig::default()
    })
    .await
    .unwrap();
    let relays = net.relay_nodes_on(NAMED_TOPIC);
    assert!(relays.len() >= 3, "{relays:?}");
    for n in net.nodes() {
        let enr = peerscope::protocol::enr::parse_enr(&n.enr).unwrap();
        assert!(
            peerscope::protocol::enr::DecodedEnr::from_enr(&enr)
                .shards
                .is_none(),
            "no rs"
        );
    }
    let server = Server::start().await;
    let mut client = server.client().await;
    let topics = vec![NAMED_TOPIC.to_string()];
    let crawl_id = start_relay_crawl(&mut client, &net, &topics).await;
    let total = publish_some(&net, NAMED_TOPIC, 3, 10).await;
    let published = net.published();
    assert_eq!(published.values().map(|v| v.0).sum::<u64>(), total);
    let got = settle(&mut client, total).await;
    assert_eq!(as_map(&got), published, "counts are exact");
    let p = get_crawl(&mut client, &crawl_id).await.progress.unwrap();
    assert!(p.relay_peers >= 1, "{p:?}");
    // Metadata was never answered.
    let peers = crate::common::all_peers(&mut client, &crawl_id, 100).await;
    assert!(peers
        .iter()
        .filter(|p| p.reachable == Some(true))
        .all(|p| p.metadata_cluster_id.is_none() && !p.metadata_error.is_empty()));

    // Another crawl, monitoring a topic nobody relays on: its relay peers are tried, then
    // dropped when their trial ends.
    let crawl = start(
        &mut client,
        relay_request(&net, &["/waku/2/nobody-here/proto".to_string()]),
    )
    .await;
    let mut tried = 0;
    within(TRIAL + Duration::from_secs(30), async {
        loop {
            let p = get_crawl(&mut client, &crawl.id).await.progress.unwrap();
            tried = tried.max(p.relay_peers);
            if tried > 0 && p.relay_peers == 0 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;
    // They stay dropped, and nothing new was counted.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let p = get_crawl(&mut client, &crawl.id).await.progress.unwrap();
    assert_eq!((p.relay_peers, p.messages), (0, 0), "{p:?}");
    assert_eq!(as_map(&counts(&mut client).await), published);
    drop(client);
    server.stop().await;
}
