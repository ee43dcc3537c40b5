//! discv5 behaviour the crawl design rests on, shown against real nodes on loopback.

use std::net::Ipv4Addr;
use std::time::Duration;

use discv5::{Discv5, Key, ListenConfig};
use enr::{CombinedKey, NodeId};
use peerscope::engine::{discv5_config, passive_local_enr};
use peerscope::proto::pb;
use peerscope::protocol::enr::{build_waku_enr, Waku2};
use peerscope::testnet::{Testnet, TestnetConfig};

use crate::common::{crawl_testnet_with, within, Crawled};

fn distance(a: NodeId, b: NodeId) -> Option<u64> {
    Key::from(a).log2_distance(&Key::from(b))
}

/// A designated FINDNODE through discv5 0.12 keeps only the first NODES packet of a
/// multi-packet answer: a node holding 16 records at distance 256 hands back fewer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn designated_find_node_keeps_first_packet_only() {
    let net = Testnet::start(TestnetConfig {
        nodes: 1,
        degree: 0,
        ..TestnetConfig::default()
    })
    .await
    .unwrap();
    let responder = net.discv5(0).unwrap();
    let responder_id = responder.local_enr().node_id();

    // Fill the responder's distance-256 bucket with 16 Waku records (about 140 bytes each,
    // so they need more than one 1280-byte packet).
    let mut added = 0;
    let mut port = 20_000u16;
    while added < 16 {
        let key = CombinedKey::generate_secp256k1();
        port += 1;
        let enr = build_waku_enr(
            &key,
            Ipv4Addr::LOCALHOST,
            port,
            Some(port),
            Waku2(0x0f),
            1,
            &[0, 1, 2, 3, 4, 5, 6, 7],
            &[],
        )
        .unwrap();
        if distance(responder_id, enr.node_id()) == Some(256) && responder.add_enr(enr).is_ok() {
            added += 1;
        }
    }
    assert_eq!(responder.nodes_by_distance(vec![256]).len(), 16);

    let socket = tokio::net::UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))
        .await
        .unwrap();
    let key = CombinedKey::generate_secp256k1();
    let local = passive_local_enr(&key).unwrap();
    let config = discv5_config(
        ListenConfig::FromSockets {
            ipv4: Some(std::sync::Arc::new(socket)),
            ipv6: None,
        },
        *b"d5waku",
        Duration::from_secs(1),
    );
    let mut querier = Discv5::new(local, key, config).unwrap();
    querier.start().await.unwrap();
    let got = within(
        Duration::from_secs(10),
        querier.find_node_designated_peer(responder.local_enr(), vec![256]),
    )
    .await
    .expect("the responder answers");
    assert!(!got.is_empty());
    assert!(
        got.len() < 16,
        "all 16 records arrived ({}): the first-packet truncation is gone; the crawl could ask \
         several distances per request",
        got.len()
    );
    querier.shutdown();
}

/// With buckets fuller than one NODES packet (every node knows 30 others), the walk still
/// finds every node: what one node's answer loses, another node's answer carries.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crawl_is_complete_when_buckets_overflow_one_packet() {
    let Crawled {
        net: _net,
        server,
        client,
        done,
        ..
    } = crawl_testnet_with(
        TestnetConfig {
            nodes: 96,
            degree: 30,
            seed: 7,
            ..TestnetConfig::default()
        },
        |req| pb::StartCrawlRequest {
            random_lookups: Some(0),
            ..req
        },
        Duration::from_secs(120),
    )
    .await;
    let p = done.progress.unwrap();
    assert_eq!(done.state, pb::CrawlState::Finished as i32);
    assert_eq!(p.discovered, 96, "{p:?}");
    assert_eq!(p.queried, 96, "{p:?}");
    drop(client);
    server.stop().await;
}
