//! Crawls bootstrapped from EIP-1459 trees served by a real DNS server on loopback, and the
//! operator's tree builder feeding a second crawl.

use std::time::Duration;

use peerscope::engine::EngineConfig;
use peerscope::proto::pb;
use peerscope::protocol::dns::{build_tree, random_signing_key, TreeUrl};
use peerscope::testnet::dns::TreeServer;
use peerscope::testnet::{Testnet, TestnetConfig};
use tonic::Code;

use crate::common::{crawl_testnet, oneshot, Crawled, Server};

fn engine_with_dns(server: &TreeServer) -> EngineConfig {
    EngineConfig {
        dns: peerscope::protocol::dns::ResolverSettings {
            nameservers: vec![server.addr()],
            timeout: Duration::from_secs(2),
            ..Default::default()
        },
        ..EngineConfig::default()
    }
}

fn dns_only(url: &str) -> pb::StartCrawlRequest {
    pb::StartCrawlRequest {
        bootstrap_enrs: vec![],
        dns_tree_urls: vec![url.to_string()],
        ..oneshot(&[])
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crawl_bootstrapped_only_from_a_dns_tree_finds_the_whole_testnet() {
    let net = Testnet::start(TestnetConfig {
        nodes: 48,
        bootstrap_count: 2,
        seed: 31,
        ..TestnetConfig::default()
    })
    .await
    .unwrap();
    let (dns, url) = net.serve_dns_tree("nodes.peerscope.test").await.unwrap();
    let server = Server::start_with(engine_with_dns(&dns)).await;
    let mut client = server.client().await;
    let (crawl, done) = server
        .crawl(&mut client, dns_only(&url), Duration::from_secs(90))
        .await;
    assert_eq!(crawl.dns_tree_urls, vec![url.clone()]);
    let mut from_tree = crawl.bootstrap_enrs.clone();
    from_tree.sort();
    let mut want = net.bootstrap_enrs().to_vec();
    want.sort();
    assert_eq!(from_tree, want, "the tree's records became the bootstrap");
    assert_eq!(done.progress.unwrap().discovered, 48);
    drop(client);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trees_with_bad_signatures_or_tampered_entries_are_refused() {
    let net = Testnet::start(TestnetConfig {
        nodes: 4,
        bootstrap_count: 4,
        ..TestnetConfig::default()
    })
    .await
    .unwrap();
    let enrs: Vec<_> = net
        .bootstrap_enrs()
        .iter()
        .map(|t| peerscope::protocol::enr::parse_enr(t).unwrap())
        .collect();
    let tree = build_tree(&enrs, &[], 1, &random_signing_key(), "bad.peerscope.test").unwrap();
    let dns = TreeServer::start(tree.records.clone()).await.unwrap();
    let server = Server::start_with(engine_with_dns(&dns)).await;
    let mut client = server.client().await;

    // The right domain, another key: the root signature does not verify.
    let other = random_signing_key();
    let forged = TreeUrl::new(*other.verifying_key(), "bad.peerscope.test")
        .unwrap()
        .to_string();
    let status = client.start_crawl(dns_only(&forged)).await.unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
    assert!(
        status.message().contains("dns_tree_urls"),
        "{}",
        status.message()
    );
    assert!(
        status.message().to_lowercase().contains("signature"),
        "{}",
        status.message()
    );

    // One leaf replaced by another valid record under the same name: hash mismatch.
    let spare = net.nodes()[0].enr.clone();
    let mut tampered = tree.records.clone();
    let leaf = tampered
        .iter_mut()
        .find(|(_, t)| t.starts_with("enr:") && *t != spare)
        .unwrap();
    let leaf_name = leaf.0.clone();
    leaf.1 = spare;
    dns.set_records(tampered).await.unwrap();
    let status = client.start_crawl(dns_only(&tree.url)).await.unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
    let sub = leaf_name.split('.').next().unwrap().to_string();
    assert!(status.message().contains(&sub), "{}", status.message());

    // Nothing from either tree was used: no crawl exists, no peer is stored.
    let listed = client
        .list_crawls(pb::ListCrawlsRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert!(listed.crawls.is_empty());
    let peers = client
        .list_peers(pb::ListPeersRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert!(peers.peers.is_empty());
    drop(client);
    server.stop().await;
}

/// Parses `name. TTL IN TXT "a" "b"` lines into (name, text) records.
fn parse_zone(zone: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for line in zone
        .lines()
        .filter(|l| !l.starts_with(';') && !l.trim().is_empty())
    {
        let (name, rest) = line.split_once(' ').unwrap();
        let quoted = &rest[rest.find('"').unwrap()..];
        let mut text = String::new();
        let mut inside = false;
        let mut escaped = false;
        for c in quoted.chars() {
            match (inside, escaped, c) {
                (true, true, c) => {
                    text.push(c);
                    escaped = false;
                }
                (true, false, '\\') => escaped = true,
                (_, false, '"') => inside = !inside,
                (true, false, c) => text.push(c),
                _ => {}
            }
        }
        out.push((name.trim_end_matches('.').to_string(), text));
    }
    out
}

/// `peerscope tree` signs the peers a crawl vetted; served by DNS, the tree bootstraps a
/// second crawl that finds the network again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tree_builder_output_bootstraps_a_second_crawl() {
    // The testnet stays up for the second crawl.
    let Crawled {
        net: _net,
        server,
        client,
        ..
    } = crawl_testnet(
        TestnetConfig {
            nodes: 32,
            down_fraction: 0.25,
            seed: 41,
            ..TestnetConfig::default()
        },
        Duration::from_secs(90),
    )
    .await;

    let key_file = server.dir().join("tree.key");
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_peerscope"))
        .args([
            "tree",
            "--server",
            &format!("http://{}", server.addr),
            "--domain",
            "vetted.peerscope.test",
            "--key-file",
            key_file.to_str().unwrap(),
            "--seq",
            "7",
        ])
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(key_file.exists());
    let zone = String::from_utf8(out.stdout).unwrap();
    let url = zone
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("; "))
        .unwrap()
        .to_string();
    let records = parse_zone(&zone);
    assert!(records[0].1.starts_with("enrtree-root:v1 "));
    assert!(records[0].1.contains(" seq=7 "));
    // Only vetted (reachable) peers are published: 24 of 32.
    assert_eq!(
        records
            .iter()
            .filter(|(_, t)| t.starts_with("enr:"))
            .count(),
        24
    );

    let dns = TreeServer::start(records).await.unwrap();
    let second = Server::start_with(engine_with_dns(&dns)).await;
    let mut client2 = second.client().await;
    let (crawl, done) = second
        .crawl(&mut client2, dns_only(&url), Duration::from_secs(90))
        .await;
    assert_eq!(crawl.bootstrap_enrs.len(), 24);
    assert_eq!(done.progress.unwrap().discovered, 32);
    drop(client);
    drop(client2);
    server.stop().await;
    second.stop().await;
}
