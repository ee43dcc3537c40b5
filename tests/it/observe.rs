//! Observing and protecting the service: resumable events, retention, Prometheus and the
//! seed monitor's JSON, bearer tokens, TLS.

use std::collections::HashMap;
use std::time::Duration;

use peerscope::api::{ServeOptions, Token};
use peerscope::engine::EngineConfig;
use peerscope::proto::pb;
use peerscope::proto::pb::crawler_client::CrawlerClient;
use peerscope::testnet::{Testnet, TestnetConfig};
use tokio_stream::StreamExt;
use tonic::transport::Channel;
use tonic::Code;

use crate::common::{data_dir, http_get, oneshot, start, wait_final, within, Server};

async fn read_events(
    client: &mut CrawlerClient<Channel>,
    after: u64,
    crawl_id: &str,
    limit: usize,
) -> Vec<pb::PeerEvent> {
    let mut stream = client
        .stream_peer_events(pb::StreamPeerEventsRequest {
            after_sequence: Some(after),
            crawl_id: crawl_id.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let mut out = Vec::new();
    while out.len() < limit {
        match tokio::time::timeout(Duration::from_millis(700), stream.next()).await {
            Ok(Some(Ok(m))) => out.push(m.event.unwrap()),
            _ => break,
        }
    }
    out
}

/// A client that disconnects mid-crawl and resumes with `after_sequence` gets exactly what
/// it missed: no gap, no duplicate.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resumed_streams_receive_exactly_the_missing_events() {
    let net = Testnet::start(TestnetConfig {
        nodes: 48,
        seed: 21,
        ..TestnetConfig::default()
    })
    .await
    .unwrap();
    let server = Server::start().await;
    let mut client = server.client().await;
    let mut live = client
        .stream_peer_events(pb::StreamPeerEventsRequest::default())
        .await
        .unwrap()
        .into_inner();
    let crawl = start(&mut client, oneshot(net.bootstrap_enrs())).await;
    // Read 40 events live, then drop the stream while the crawl goes on.
    let mut first = Vec::new();
    while first.len() < 40 {
        let ev = within(Duration::from_secs(20), live.next())
            .await
            .unwrap()
            .unwrap()
            .event
            .unwrap();
        first.push(ev);
    }
    drop(live);
    let done = wait_final(&mut client, &crawl.id, Duration::from_secs(90)).await;
    assert_eq!(done.state, pb::CrawlState::Finished as i32);
    // Resume after the last event seen.
    let last_seen = first.last().unwrap().sequence;
    let rest = read_events(&mut client, last_seen, "", usize::MAX).await;
    let all: Vec<u64> = first
        .iter()
        .chain(rest.iter())
        .map(|e| e.sequence)
        .collect();
    // Contiguous from the first live event to the end: nothing missing, nothing twice.
    let expected: Vec<u64> = (all[0]..all[0] + all.len() as u64).collect();
    assert_eq!(all, expected);
    // And the concatenation equals a full replay.
    let replay = read_events(&mut client, all[0] - 1, "", usize::MAX).await;
    assert_eq!(
        replay.iter().map(|e| e.sequence).collect::<Vec<_>>(),
        expected
    );
    assert_eq!(
        replay.last().unwrap().sequence,
        all.last().copied().unwrap()
    );
    drop(client);
    server.stop().await;
}

/// Events dropped by retention cannot be resumed from: OUT_OF_RANGE says from where.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resuming_before_retention_is_out_of_range() {
    use peerscope::model::{NewPeerEvent, PeerEventKind};
    let dir = tempfile::tempdir().unwrap();
    {
        let store = peerscope::store::Store::open(&data_dir(dir.path()), 100).unwrap();
        let events = (0..100u8)
            .map(|i| NewPeerEvent {
                time: peerscope::model::now_millis(),
                kind: PeerEventKind::Discovered,
                crawl_id: 1,
                node_id: [i; 32],
                peer_id: None,
                enr_seq: 1,
                enr: None,
                error_class: None,
                detail: None,
            })
            .collect();
        store.append_events(events).unwrap();
        assert_eq!(store.trim_events(10, 0).unwrap(), 90);
        assert_eq!(store.first_sequence().unwrap(), Some(91));
        store.flush().await.unwrap();
    }
    let server = Server::start_in(dir, EngineConfig::default(), ServeOptions::default()).await;
    let mut client = server.client().await;
    let status = client
        .stream_peer_events(pb::StreamPeerEventsRequest {
            after_sequence: Some(5),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::OutOfRange);
    assert!(status.message().contains("90"), "{}", status.message());
    // From the retention edge on, resume works and is complete.
    let evs = read_events(&mut client, 90, "", usize::MAX).await;
    assert_eq!(
        evs.iter().map(|e| e.sequence).collect::<Vec<_>>(),
        (91..=100).collect::<Vec<_>>()
    );
    drop(client);
    server.stop().await;
}

fn metric(text: &str, name_and_labels: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(name_and_labels) && l[name_and_labels.len()..].starts_with(' '))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

/// `/metrics` during and after a crawl carries the seed monitor's names with values equal
/// to GetNetworkStats; `/allpeersinfo` lists every peer with the seed monitor's fields.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_and_json_match_network_stats() {
    let net = Testnet::start(TestnetConfig {
        nodes: 40,
        down_fraction: 0.25,
        seed: 8,
        ..TestnetConfig::default()
    })
    .await
    .unwrap();
    let server = Server::start().await;
    let mut client = server.client().await;
    let crawl = start(&mut client, oneshot(net.bootstrap_enrs())).await;
    // Scraped while running: the crawl gauges exist.
    let (code, during) = http_get(server.http, "/metrics", None).await;
    assert_eq!(code, 200);
    assert!(during.contains("peerscope_crawls_running"), "{during}");
    wait_final(&mut client, &crawl.id, Duration::from_secs(90)).await;
    // Past the cache of the scraped aggregates.
    tokio::time::sleep(peerscope::metrics::STATS_TTL).await;
    let (code, text) = http_get(server.http, "/metrics", None).await;
    assert_eq!(code, 200);
    let stats = client
        .get_network_stats(pb::GetNetworkStatsRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(stats.peers, 40);
    for (cap, n) in &stats.by_capability {
        let got = metric(
            &text,
            &format!("networkmonitor_peer_type_as_per_enr{{capability=\"{cap}\"}}"),
        );
        assert_eq!(got, Some(*n as f64), "capability {cap}");
    }
    for (cluster, n) in &stats.by_cluster {
        let got = metric(
            &text,
            &format!("networkmonitor_peer_cluster_as_per_enr{{cluster=\"{cluster}\"}}"),
        );
        assert_eq!(got, Some(*n as f64), "cluster {cluster}");
    }
    for (proto, n) in &stats.by_protocol {
        let got = metric(
            &text,
            &format!("networkmonitor_peer_type_as_per_protocol{{protocols=\"{proto}\"}}"),
        );
        assert_eq!(got, Some(*n as f64), "protocol {proto}");
    }
    for (agent, n) in &stats.by_agent {
        let got = metric(
            &text,
            &format!("networkmonitor_peer_user_agents{{user_agent=\"{agent}\"}}"),
        );
        assert_eq!(got, Some(*n as f64), "agent {agent}");
    }
    assert_eq!(
        metric(&text, "networkmonitor_peer_count{connected=\"true\"}"),
        Some(stats.reachable as f64)
    );
    assert_eq!(
        metric(&text, "networkmonitor_peer_count{connected=\"false\"}"),
        Some((stats.peers - stats.reachable) as f64)
    );
    assert_eq!(
        metric(&text, "networkmonitor_peer_ping_count"),
        Some(stats.reachable as f64)
    );
    assert_eq!(
        metric(&text, "peerscope_dials_total{outcome=\"refused\"}"),
        Some(10.0)
    );
    assert_eq!(
        metric(&text, "peerscope_dials_total{outcome=\"connected\"}"),
        Some(30.0)
    );
    assert_eq!(metric(&text, "peerscope_peers_stored"), Some(40.0));
    assert!(metric(&text, "peerscope_events_written_total").unwrap() >= 40.0 * 2.0);
    // Nothing is geolocated in this run, so no country series is invented.
    assert!(!text.contains("networkmonitor_peer_country_count{"));

    let (code, body) = http_get(server.http, "/allpeersinfo", None).await;
    assert_eq!(code, 200);
    let peers: Vec<serde_json::Value> = serde_json::from_str(&body).unwrap();
    assert_eq!(peers.len(), 40);
    let by_id: HashMap<String, serde_json::Value> = peers
        .into_iter()
        .map(|p| (p["peerId"].as_str().unwrap().to_string(), p))
        .collect();
    for n in net.nodes() {
        let p = &by_id[&n.peer_id];
        assert_eq!(p["enr"], serde_json::json!(n.enr));
        assert_eq!(p["enrCapabilities"], serde_json::json!(n.capabilities));
        assert_eq!(p["ip"], "127.0.0.1");
        assert_eq!(p["retries"], 1);
        if n.up {
            assert_eq!(p["userAgent"], serde_json::json!(n.agent));
            let protos: Vec<String> =
                serde_json::from_value(p["supportedProtocols"].clone()).unwrap();
            crate::common::assert_identified_protocols(&protos, &n.protocols, &n.peer_id);
            assert!(p["lastPingDuration"].as_f64().unwrap() > 0.0);
            assert_eq!(p["connError"], "");
        } else {
            assert!(p["connError"].as_str().unwrap().contains("refused"));
        }
    }
    let (code, body) = http_get(server.http, "/contenttopics", None).await;
    assert_eq!(code, 200);
    let _: HashMap<String, u64> = serde_json::from_str(&body).unwrap();
    drop(client);
    server.stop().await;
}

/// With a token: every call without it (or with a wrong one) fails UNAUTHENTICATED, health
/// still answers, the right token works; HTTP answers 401 without it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_locks_the_control_plane_but_not_health() {
    use tonic_health::pb::health_check_response::ServingStatus;
    use tonic_health::pb::{health_client::HealthClient, HealthCheckRequest};
    let server = Server::start_full(
        EngineConfig::default(),
        ServeOptions {
            token: Token::new("correct horse"),
            tls: None,
            ..ServeOptions::default()
        },
    )
    .await;
    let channel = server.channel().await;
    let mut plain = CrawlerClient::new(channel.clone());
    let status = plain
        .list_crawls(pb::ListCrawlsRequest::default())
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
    let with = |token: &'static str| {
        move |mut req: tonic::Request<()>| {
            req.metadata_mut()
                .insert("authorization", format!("Bearer {token}").parse().unwrap());
            Ok(req)
        }
    };
    let mut wrong = CrawlerClient::with_interceptor(channel.clone(), with("battery staple"));
    let status = wrong
        .list_crawls(pb::ListCrawlsRequest::default())
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
    let mut right = CrawlerClient::with_interceptor(channel.clone(), with("correct horse"));
    right
        .list_crawls(pb::ListCrawlsRequest::default())
        .await
        .expect("the right token is accepted");
    // Reflection is protected too; health is not.
    {
        use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
        use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
        use tonic_reflection::pb::v1::ServerReflectionRequest;
        let mut r = ServerReflectionClient::new(channel.clone());
        let req = ServerReflectionRequest {
            host: String::new(),
            message_request: Some(MessageRequest::ListServices(String::new())),
        };
        let status = r
            .server_reflection_info(tokio_stream::iter(vec![req]))
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::Unauthenticated);
    }
    let mut health = HealthClient::new(channel);
    let s = health
        .check(HealthCheckRequest {
            service: "peerscope.v1.Crawler".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .status;
    assert_eq!(s, ServingStatus::Serving as i32);

    let (code, _) = http_get(server.http, "/metrics", None).await;
    assert_eq!(code, 401);
    let (code, _) = http_get(server.http, "/allpeersinfo", Some("nope")).await;
    assert_eq!(code, 401);
    let (code, body) = http_get(server.http, "/metrics", Some("correct horse")).await;
    assert_eq!(code, 200);
    assert!(body.contains("networkmonitor_peer_count"));
    server.stop().await;
}

/// gRPC over TLS with a self-signed certificate: a client trusting it round-trips; a
/// plaintext client does not get through.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_round_trip() {
    use tonic::transport::{Certificate, ClientTlsConfig, Endpoint};
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let cert_pem = cert.cert.pem();
    let key_pem = cert.key_pair.serialize_pem();
    let server = Server::start_full(
        EngineConfig::default(),
        ServeOptions {
            token: None,
            tls: Some((cert_pem.clone().into_bytes(), key_pem.into_bytes())),
            ..ServeOptions::default()
        },
    )
    .await;
    let channel = Endpoint::from_shared(format!("https://localhost:{}", server.addr.port()))
        .unwrap()
        .tls_config(
            ClientTlsConfig::new()
                .ca_certificate(Certificate::from_pem(cert_pem))
                .domain_name("localhost"),
        )
        .unwrap()
        .connect()
        .await
        .expect("TLS handshake");
    let mut client = CrawlerClient::new(channel);
    let listed = client
        .list_crawls(pb::ListCrawlsRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert!(listed.crawls.is_empty());
    let status = client
        .get_crawl(pb::GetCrawlRequest {
            crawl_id: "3".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
    // Plaintext HTTP/2 to a TLS port fails.
    let plain = Endpoint::from_shared(format!("http://127.0.0.1:{}", server.addr.port()))
        .unwrap()
        .connect_timeout(Duration::from_secs(2))
        .timeout(Duration::from_secs(2))
        .connect()
        .await;
    if let Ok(ch) = plain {
        let r = CrawlerClient::new(ch)
            .list_crawls(pb::ListCrawlsRequest::default())
            .await;
        assert!(r.is_err());
    }
    drop(client);
    server.stop().await;
}

/// Live subscribers read the newest events from memory: what they get is exactly what the
/// log holds, and readers further behind than the window are sent to the log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_memory_window_matches_the_log() {
    use peerscope::model::{EventFilter, NewPeerEvent, PeerEventKind};
    let dir = tempfile::tempdir().unwrap();
    let store = peerscope::store::Store::open(dir.path(), 100).unwrap();
    let all = EventFilter::default();
    // Nothing written yet: an up-to-date reader gets nothing, from memory.
    assert_eq!(store.recent_events_after(0, &all, 10).unwrap().0.len(), 0);
    for batch in 0..40u32 {
        let events = (0..500u32)
            .map(|i| NewPeerEvent {
                time: peerscope::model::now_millis(),
                kind: if i % 3 == 0 {
                    PeerEventKind::Connected
                } else {
                    PeerEventKind::Discovered
                },
                crawl_id: 1 + u64::from(batch % 2),
                node_id: [(i % 251) as u8; 32],
                peer_id: None,
                enr_seq: u64::from(batch * 500 + i),
                enr: None,
                error_class: None,
                detail: None,
            })
            .collect();
        store.append_events(events).unwrap();
    }
    let last = store.last_sequence();
    assert_eq!(last, 20_000);
    let crawl2 = EventFilter {
        crawl_id: Some(2),
        ..Default::default()
    };
    let mut served_from_memory = 0;
    for after in [0, 1, 3_000, 3_616, 3_617, 10_000, 19_990, 20_000] {
        for filter in [&all, &crawl2] {
            let (log, log_last) = store.events_after(after, filter, 256).unwrap();
            match store.recent_events_after(after, filter, 256) {
                Some((mem, mem_last)) => {
                    served_from_memory += 1;
                    assert_eq!(mem_last, log_last, "after {after}");
                    assert_eq!(
                        mem.iter().map(|e| e.event.clone()).collect::<Vec<_>>(),
                        log,
                        "after {after}"
                    );
                }
                // Only readers behind the window go to the log.
                None => assert!(
                    after + 16_384 < last,
                    "after {after} not served from memory"
                ),
            }
        }
    }
    assert!(served_from_memory >= 8);
    // Retention drops events from memory too.
    store.trim_events(100, 0).unwrap();
    assert!(store.recent_events_after(19_000, &all, 10).is_none());
    let (kept, _) = store.recent_events_after(19_900, &all, 1000).unwrap();
    assert_eq!(kept.len(), 100);
}

/// 100 live subscribers, one of them slow, during a crawl: every one receives every event
/// exactly once and in order, and the slow one does not hold the crawl back (it ends while
/// that reader is still far behind). Timing against a run without subscribers is measured
/// by `peerscope bench --subscribers`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hundred_subscribers_one_slow_all_get_every_event() {
    let net = Testnet::start(TestnetConfig {
        nodes: 40,
        seed: 33,
        ..TestnetConfig::default()
    })
    .await
    .unwrap();
    let server = Server::start().await;
    let channel = server.channel().await;
    let (last_tx, last_rx) = tokio::sync::watch::channel(u64::MAX);
    let mut readers = tokio::task::JoinSet::new();
    for i in 0..100 {
        let mut client = CrawlerClient::new(channel.clone());
        let mut last = last_rx.clone();
        let mut stream = client
            .stream_peer_events(pb::StreamPeerEventsRequest {
                after_sequence: Some(0),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        readers.spawn(async move {
            let slow = i == 0;
            let mut seqs = Vec::new();
            let deadline = tokio::time::Instant::now() + Duration::from_secs(240);
            while seqs.last().copied().unwrap_or(0) < *last.borrow_and_update() {
                let next = tokio::select! {
                    n = tokio::time::timeout_at(deadline, stream.next()) => n,
                    _ = last.changed() => continue,
                };
                match next {
                    Ok(Some(Ok(m))) => seqs.push(m.event.unwrap().sequence),
                    other => panic!(
                        "subscriber {i} stopped after {} events: {other:?}",
                        seqs.len()
                    ),
                }
                if slow {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            }
            (i, seqs)
        });
    }
    let mut client = server.client().await;
    let crawl = start(&mut client, oneshot(net.bootstrap_enrs())).await;
    let done = wait_final(&mut client, &crawl.id, Duration::from_secs(120)).await;
    assert_eq!(done.state, pb::CrawlState::Finished as i32);
    let written = server.engine().store().last_sequence();
    assert!(written > 200, "only {written} events written");
    last_tx.send_replace(written);
    let mut finished = 0;
    while let Some(r) = readers.join_next().await {
        let (i, seqs) = r.unwrap();
        // Events may still be written after the crawl ends (disconnects), so a fast reader
        // can be a little past `written`; what it got must still be 1, 2, 3, ... gap-free.
        assert!(
            seqs.len() as u64 >= written,
            "subscriber {i}: {} events",
            seqs.len()
        );
        assert_eq!(
            seqs,
            (1..=seqs.len() as u64).collect::<Vec<_>>(),
            "subscriber {i} did not get every event exactly once, in order"
        );
        finished += 1;
    }
    assert_eq!(finished, 100);
    server.stop().await;
}

/// With TLS configured, the HTTP endpoints are served over TLS too, so the bearer token
/// never crosses the network in the clear: a TLS client with the certificate gets
/// `/metrics`; a plaintext request gets no HTTP answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_endpoints_are_served_over_tls_when_tls_is_configured() {
    use std::sync::Arc;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let cert_pem = cert.cert.pem();
    let key_pem = cert.key_pair.serialize_pem();
    let server = Server::start_full(
        EngineConfig::default(),
        ServeOptions {
            token: Some(peerscope::api::Token::new("s3cret").unwrap()),
            tls: Some((cert_pem.clone().into_bytes(), key_pem.into_bytes())),
            sink: None,
        },
    )
    .await;
    let request = "GET /metrics HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer s3cret\r\nConnection: close\r\n\r\n";

    // Plaintext: the server answers no HTTP (it expects a TLS ClientHello).
    let mut plain = tokio::net::TcpStream::connect(server.http).await.unwrap();
    plain.write_all(request.as_bytes()).await.unwrap();
    let mut got = Vec::new();
    let _ = within(Duration::from_secs(15), plain.read_to_end(&mut got)).await;
    assert!(
        !String::from_utf8_lossy(&got).starts_with("HTTP/1.1 200"),
        "plaintext HTTP must not be served when TLS is configured"
    );

    // TLS with the server's certificate as the trust root.
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(rustls::pki_types::CertificateDer::from(
            cert.cert.der().to_vec(),
        ))
        .unwrap();
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(server.http).await.unwrap();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let mut tls = within(Duration::from_secs(10), connector.connect(name, tcp))
        .await
        .expect("TLS handshake with the HTTP endpoint");
    tls.write_all(request.as_bytes()).await.unwrap();
    let mut body = Vec::new();
    within(Duration::from_secs(10), tls.read_to_end(&mut body))
        .await
        .unwrap();
    let body = String::from_utf8_lossy(&body);
    assert!(body.starts_with("HTTP/1.1 200"), "{body}");
    assert!(body.contains("networkmonitor_peer_count"));
    server.stop().await;
}

/// `peerscope_event_subscribers` counts the open `StreamPeerEvents` streams: up as clients
/// subscribe, down as they go away.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_subscriber_gauge_follows_open_event_streams() {
    let server = Server::start().await;
    let http = server.http;
    let gauge = move || async move {
        let (code, text) = http_get(http, "/metrics", None).await;
        assert_eq!(code, 200);
        metric(&text, "peerscope_event_subscribers")
    };
    let wait_for = |want: f64| async move {
        within(Duration::from_secs(20), async {
            loop {
                if gauge().await == Some(want) {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
        .await
    };
    assert_eq!(gauge().await, Some(0.0));
    let mut streams = Vec::new();
    for _ in 0..3 {
        let mut client = server.client().await;
        let stream = client
            .stream_peer_events(pb::StreamPeerEventsRequest::default())
            .await
            .unwrap()
            .into_inner();
        streams.push((client, stream));
    }
    // Counted once the call has been answered.
    assert_eq!(gauge().await, Some(3.0));
    streams.truncate(1);
    wait_for(1.0).await;
    streams.clear();
    wait_for(0.0).await;
    server.stop().await;
}
