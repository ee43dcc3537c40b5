//! The gRPC surface end to end: crawl a testnet, page peers, restart, reflection, health,
//! bad arguments.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use peerscope::proto::pb;
use peerscope::testnet::{Testnet, TestnetConfig};
use tokio_stream::StreamExt;
use tonic::Code;

use crate::common::{all_peers, oneshot, start, wait_final, within, Server};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oneshot_crawl_of_64_nodes_lists_every_node_once_and_survives_restart() {
    let net = Testnet::start(TestnetConfig {
        nodes: 64,
        ..TestnetConfig::default()
    })
    .await
    .unwrap();
    let expected: HashMap<String, _> = net
        .nodes()
        .into_iter()
        .map(|n| (n.node_id.clone(), n))
        .collect();

    let server = Server::start().await;
    let mut client = server.client().await;
    // Subscribe before the crawl: live DISCOVERED events only.
    let mut live = client
        .stream_peer_events(pb::StreamPeerEventsRequest {
            kinds: vec![pb::PeerEventKind::Discovered as i32],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();

    let crawl = start(&mut client, oneshot(net.bootstrap_enrs())).await;
    assert_eq!(crawl.state, pb::CrawlState::Running as i32);
    assert!(!crawl.listen_addr.is_empty());

    let done = wait_final(&mut client, &crawl.id, Duration::from_secs(90)).await;
    assert_eq!(done.state, pb::CrawlState::Finished as i32, "{done:?}");
    let progress = done.progress.unwrap();
    assert_eq!(progress.discovered, 64, "{progress:?}");
    assert_eq!(progress.queried, 64, "{progress:?}");
    assert_eq!(progress.unresponsive, 0, "{progress:?}");
    assert_eq!(progress.rounds, 1);
    assert!(done.finished_at.is_some());

    // Pages of 10 return every node exactly once, in ascending node-id order, with what the
    // testnet assigned.
    let peers = all_peers(&mut client, &crawl.id, 10).await;
    assert_eq!(peers.len(), 64);
    let ids: Vec<&str> = peers.iter().map(|p| p.node_id.as_str()).collect();
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(ids, sorted, "pages are ordered and free of duplicates");
    for p in &peers {
        let n = expected.get(&p.node_id).expect("a testnet node");
        assert_eq!(p.peer_id, n.peer_id);
        assert_eq!(p.enr, n.enr);
        assert_eq!(p.capabilities, n.capabilities, "node {}", n.index);
        assert_eq!(p.cluster_id, Some(u32::from(n.cluster_id)));
        let shards: Vec<u32> = n.shards.iter().map(|s| u32::from(*s)).collect();
        assert_eq!(p.shards, shards, "node {}", n.index);
        assert_eq!(p.crawl_ids, vec![crawl.id.clone()]);
        let f = p.enr_fields.as_ref().unwrap();
        assert_eq!(f.ip4, "127.0.0.1");
        assert_eq!(f.udp4, u32::from(n.udp.unwrap().port()));
        assert_eq!(f.waku2, Some(u32::from(n.waku2)));
    }

    // Exactly one DISCOVERED event per node reached the live subscriber, in sequence order.
    let mut seen = BTreeSet::new();
    let mut last_seq = 0;
    while seen.len() < 64 {
        let ev = within(Duration::from_secs(10), live.next())
            .await
            .unwrap()
            .unwrap()
            .event
            .unwrap();
        assert!(ev.sequence > last_seq);
        last_seq = ev.sequence;
        assert_eq!(ev.kind, pb::PeerEventKind::Discovered as i32);
        assert_eq!(ev.crawl_id, crawl.id);
        assert!(
            seen.insert(ev.node_id.clone()),
            "duplicate event for {}",
            ev.node_id
        );
    }

    // Filters: capability and cluster/shard agree with the assignment.
    let relay = client
        .list_peers(pb::ListPeersRequest {
            page_size: 1000,
            capability: "relay".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let want_relay = expected.values().filter(|n| n.waku2 & 1 != 0).count();
    assert_eq!(relay.peers.len(), want_relay);
    let shard3 = client
        .list_peers(pb::ListPeersRequest {
            page_size: 1000,
            cluster_id: Some(1),
            shard: Some(3),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let want = expected
        .values()
        .filter(|n| n.cluster_id == 1 && n.shards.contains(&3))
        .count();
    assert_eq!(shard3.peers.len(), want);

    // Stats agree with the assignment.
    let stats = client
        .get_network_stats(pb::GetNetworkStatsRequest {
            crawl_id: crawl.id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(stats.peers, 64);
    assert_eq!(
        stats.by_capability.get("relay").copied(),
        Some(want_relay as u64)
    );
    let cluster16 = expected.values().filter(|n| n.cluster_id == 16).count() as u64;
    assert_eq!(stats.by_cluster.get(&16).copied().unwrap_or(0), cluster16);

    // GetPeer by node id and by peer id.
    let any = &peers[7];
    for key in [
        pb::get_peer_request::Key::NodeId(any.node_id.clone()),
        pb::get_peer_request::Key::PeerId(any.peer_id.clone()),
    ] {
        let got = client
            .get_peer(pb::GetPeerRequest { key: Some(key) })
            .await
            .unwrap()
            .into_inner()
            .peer
            .unwrap();
        assert_eq!(got.node_id, any.node_id);
    }

    // Restart on the same data dir: the crawl and every peer are still there, and the event
    // log resumes from sequence 0 with every event.
    drop(live);
    drop(client);
    let server = server.restart().await;
    let mut client = server.client().await;
    let again = client
        .get_crawl(pb::GetCrawlRequest {
            crawl_id: crawl.id.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .crawl
        .unwrap();
    assert_eq!(again.state, pb::CrawlState::Finished as i32);
    assert_eq!(again.progress.unwrap().discovered, 64);
    // Uptime is computed at read time for peers still up; everything else is as stored.
    let without_uptime = |mut v: Vec<pb::Peer>| {
        v.iter_mut().for_each(|p| p.uptime = None);
        v
    };
    let peers_after = all_peers(&mut client, &crawl.id, 1000).await;
    assert_eq!(without_uptime(peers_after), without_uptime(peers.clone()));
    let listed = client
        .list_crawls(pb::ListCrawlsRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.crawls.len(), 1);
    let mut replay = client
        .stream_peer_events(pb::StreamPeerEventsRequest {
            after_sequence: Some(0),
            crawl_id: crawl.id.clone(),
            kinds: vec![pb::PeerEventKind::Discovered as i32],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let mut replayed = BTreeSet::new();
    while replayed.len() < 64 {
        let ev = within(Duration::from_secs(10), replay.next())
            .await
            .unwrap()
            .unwrap()
            .event
            .unwrap();
        replayed.insert(ev.node_id);
    }
    assert_eq!(replayed, seen);
    drop(replay);
    drop(client);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reflection_lists_the_service_and_health_is_serving() {
    use tonic_health::pb::health_check_response::ServingStatus;
    use tonic_health::pb::{health_client::HealthClient, HealthCheckRequest};
    use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
    use tonic_reflection::pb::v1::ServerReflectionRequest;

    let server = Server::start().await;
    let channel = server.channel().await;

    let mut health = HealthClient::new(channel.clone());
    for service in ["peerscope.v1.Crawler", ""] {
        let status = health
            .check(HealthCheckRequest {
                service: service.into(),
            })
            .await
            .unwrap()
            .into_inner()
            .status;
        assert_eq!(status, ServingStatus::Serving as i32, "service {service:?}");
    }

    let mut reflection = ServerReflectionClient::new(channel.clone());
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut responses = reflection
        .server_reflection_info(tokio_stream::iter(vec![request]))
        .await
        .unwrap()
        .into_inner();
    let response = responses.next().await.unwrap().unwrap();
    let Some(MessageResponse::ListServicesResponse(list)) = response.message_response else {
        panic!("unexpected reflection answer {response:?}");
    };
    let names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    assert!(
        names.contains(&"peerscope.v1.Crawler".to_string()),
        "{names:?}"
    );
    assert!(
        names.contains(&"grpc.health.v1.Health".to_string()),
        "{names:?}"
    );

    // v1alpha answers too (grpcurl 1.8 speaks only v1alpha).
    {
        use tonic_reflection::pb::v1alpha::server_reflection_client::ServerReflectionClient;
        use tonic_reflection::pb::v1alpha::server_reflection_request::MessageRequest;
        use tonic_reflection::pb::v1alpha::server_reflection_response::MessageResponse;
        use tonic_reflection::pb::v1alpha::ServerReflectionRequest;
        let mut reflection = ServerReflectionClient::new(channel);
        let request = ServerReflectionRequest {
            host: String::new(),
            message_request: Some(MessageRequest::FileContainingSymbol(
                "peerscope.v1.Crawler".into(),
            )),
        };
        let mut responses = reflection
            .server_reflection_info(tokio_stream::iter(vec![request]))
            .await
            .unwrap()
            .into_inner();
        let response = responses.next().await.unwrap().unwrap();
        assert!(
            matches!(
                response.message_response,
                Some(MessageResponse::FileDescriptorResponse(ref f)) if !f.file_descriptor_proto.is_empty()
            ),
            "{response:?}"
        );
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_arguments_get_clear_codes_naming_the_field() {
    let server = Server::start().await;
    let mut client = server.client().await;
    let net = Testnet::start(TestnetConfig {
        nodes: 2,
        ..TestnetConfig::default()
    })
    .await
    .unwrap();
    let good = oneshot(net.bootstrap_enrs());

    let cases: Vec<(&str, pb::StartCrawlRequest, Code, &str)> = vec![
        (
            "malformed ENR",
            pb::StartCrawlRequest {
                bootstrap_enrs: vec!["enr:-not-a-record".into()],
                ..good.clone()
            },
            Code::InvalidArgument,
            "bootstrap_enrs[0]",
        ),
        (
            "no profile",
            pb::StartCrawlRequest {
                profile: None,
                ..good.clone()
            },
            Code::InvalidArgument,
            "profile",
        ),
        (
            "unknown profile (custom id of the wrong length)",
            pb::StartCrawlRequest {
                profile: Some(pb::NetworkProfile {
                    profile: Some(pb::network_profile::Profile::Custom(pb::CustomProfile {
                        protocol_id: "dv5".into(),
                    })),
                }),
                ..good.clone()
            },
            Code::InvalidArgument,
            "profile.custom.protocol_id",
        ),
        (
            "zero concurrency",
            pb::StartCrawlRequest {
                concurrency: Some(0),
                ..good.clone()
            },
            Code::InvalidArgument,
            "concurrency",
        ),
        (
            "no bootstrap",
            pb::StartCrawlRequest {
                bootstrap_enrs: vec![],
                ..good.clone()
            },
            Code::InvalidArgument,
            "bootstrap_enrs",
        ),
        (
            "unknown mode",
            pb::StartCrawlRequest {
                mode: 42,
                ..good.clone()
            },
            Code::InvalidArgument,
            "mode",
        ),
        (
            "shard out of range",
            pb::StartCrawlRequest {
                profile: Some(pb::NetworkProfile {
                    profile: Some(pb::network_profile::Profile::Waku(pb::WakuProfile {
                        cluster_id: 1,
                        shards: vec![1024],
                        preset: String::new(),
                        ..Default::default()
                    })),
                }),
                ..good.clone()
            },
            Code::InvalidArgument,
            "profile.waku.shards[0]",
        ),
        (
            "bad listen address",
            pb::StartCrawlRequest {
                listen_addr: "localhost".into(),
                ..good.clone()
            },
            Code::InvalidArgument,
            "listen_addr",
        ),
        (
            "malformed DNS tree URL (rejected before any lookup)",
            pb::StartCrawlRequest {
                dns_tree_urls: vec!["enrtree://not-a-key@nodes.peerscope.test".into()],
                ..good.clone()
            },
            Code::InvalidArgument,
            "dns_tree_urls[0]",
        ),
    ];
    for (what, req, code, field) in cases {
        let status = client.start_crawl(req).await.unwrap_err();
        assert_eq!(status.code(), code, "{what}: {status:?}");
        assert!(
            status.message().contains(field),
            "{what}: message {:?} does not name {field}",
            status.message()
        );
    }

    let status = client
        .get_crawl(pb::GetCrawlRequest {
            crawl_id: "999".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound, "{status:?}");
    let status = client
        .stop_crawl(pb::StopCrawlRequest {
            crawl_id: "abc".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(status.message().contains("crawl_id"));
    let status = client
        .get_crawl(pb::GetCrawlRequest {
            crawl_id: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    let status = client
        .get_peer(pb::GetPeerRequest { key: None })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    let status = client
        .get_peer(pb::GetPeerRequest {
            key: Some(pb::get_peer_request::Key::NodeId("zz".into())),
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(status.message().contains("node_id"));
    let status = client
        .get_peer(pb::GetPeerRequest {
            key: Some(pb::get_peer_request::Key::NodeId(hex::encode([7u8; 32]))),
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
    let status = client
        .list_peers(pb::ListPeersRequest {
            page_token: "garbage".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(status.message().contains("page_token"));
    let status = client
        .list_peers(pb::ListPeersRequest {
            capability: "teleport".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(status.message().contains("capability"));
    let status = client
        .stream_peer_events(pb::StreamPeerEventsRequest {
            after_sequence: Some(1_000_000),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::OutOfRange);
    let status = client
        .get_message_counts(pb::GetMessageCountsRequest {
            since: Some(prost_types::Timestamp {
                seconds: 2_000_000_000,
                nanos: 0,
            }),
            until: Some(prost_types::Timestamp {
                seconds: 1_000_000_000,
                nanos: 0,
            }),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(status.message().contains("since"));
    let status = client
        .start_crawl(pb::StartCrawlRequest {
            relay: Some(true),
            profile: Some(pb::NetworkProfile {
                profile: Some(pb::network_profile::Profile::Ethereum(
                    pb::EthereumProfile {},
                )),
            }),
            ..good.clone()
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(status.message().contains("relay"));
    let status = client
        .watch_crawl(pb::WatchCrawlRequest {
            crawl_id: "5".into(),
            interval: None,
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);

    // Nothing above created a crawl.
    let listed = client
        .list_crawls(pb::ListCrawlsRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert!(listed.crawls.is_empty());
    drop(client);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn continuous_crawl_reports_enr_updates_and_stops_on_request() {
    let net = Testnet::start(TestnetConfig {
        nodes: 16,
        ..TestnetConfig::default()
    })
    .await
    .unwrap();
    let server = Server::start().await;
    let mut client = server.client().await;
    let mut req = oneshot(net.bootstrap_enrs());
    req.mode = pb::CrawlMode::Continuous as i32;
    req.recrawl_interval = Some(prost_types::Duration {
        seconds: 1,
        nanos: 0,
    });
    let crawl = start(&mut client, req).await;
    let mut events = client
        .stream_peer_events(pb::StreamPeerEventsRequest {
            after_sequence: Some(0),
            kinds: vec![pb::PeerEventKind::EnrUpdated as i32],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    // Wait for the first round, then change node 3's record.
    let mut watch = client
        .watch_crawl(pb::WatchCrawlRequest {
            crawl_id: crawl.id.clone(),
            interval: Some(prost_types::Duration {
                seconds: 0,
                nanos: 100_000_000,
            }),
        })
        .await
        .unwrap()
        .into_inner();
    within(Duration::from_secs(60), async {
        loop {
            let snap = watch.next().await.unwrap().unwrap().crawl.unwrap();
            if snap.progress.unwrap().rounds >= 1 {
                break;
            }
        }
    })
    .await;
    let node = &net.nodes()[3];
    let d = net.discv5(3).unwrap();
    d.enr_insert("waku2", &alloy_rlp::Bytes::from(vec![0x3fu8]))
        .expect("update record");
    let new_seq = d.local_enr().seq();
    let ev = within(Duration::from_secs(30), events.next())
        .await
        .unwrap()
        .unwrap()
        .event
        .unwrap();
    assert_eq!(ev.kind, pb::PeerEventKind::EnrUpdated as i32);
    assert_eq!(ev.node_id, node.node_id);
    assert_eq!(ev.enr_seq, new_seq);
    let peer = client
        .get_peer(pb::GetPeerRequest {
            key: Some(pb::get_peer_request::Key::NodeId(node.node_id.clone())),
        })
        .await
        .unwrap()
        .into_inner()
        .peer
        .unwrap();
    assert_eq!(peer.enr_versions, 2);
    assert_eq!(peer.capabilities.len(), 6, "{:?}", peer.capabilities);

    let stopped = client
        .stop_crawl(pb::StopCrawlRequest {
            crawl_id: crawl.id.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .crawl
        .unwrap();
    assert_eq!(stopped.state, pb::CrawlState::Stopped as i32);
    // The watch stream ends with the final snapshot.
    let last = within(Duration::from_secs(10), async {
        let mut last = None;
        while let Some(Ok(m)) = watch.next().await {
            last = m.crawl;
        }
        last
    })
    .await
    .unwrap();
    assert_eq!(last.state, pb::CrawlState::Stopped as i32);
    drop(events);
    drop(client);
    server.stop().await;
}
