//! The web dashboard in a real (headless) browser against a server that crawled a
//! testnet, its JSON endpoints and token rules, and the Grafana dashboard's queries
//! against a real server's /metrics.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use peerscope::api::{ServeOptions, Token};
use peerscope::engine::geo::GeoConfig;
use peerscope::engine::EngineConfig;
use peerscope::proto::pb;
use peerscope::testnet::cometbft::{CometTestnet, CometTestnetConfig};
use peerscope::testnet::geo::{GeoStandIn, StandInConfig};
use peerscope::testnet::{Testnet, TestnetConfig, CONTENT_TOPICS, NAMED_PUBSUB_TOPIC};
use serde_json::Value;

use crate::browser::{screenshot_dir, Browser};
use crate::cometbft::{request as cometbft_request, CHAIN_A, CHAIN_B};
use crate::common::{http_get, oneshot, start, wait_final, Server};
use crate::relay::{busy_topics, cluster1_relays, settle, start_relay_crawl};

const TOKEN: &str = "dashboard-test-token";

/// A number as the dashboard prints it ("1,234").
fn number(v: &Value) -> u64 {
    v.as_str()
        .unwrap_or_else(|| panic!("not text: {v}"))
        .replace(',', "")
        .trim()
        .parse()
        .unwrap_or_else(|e| panic!("{v}: {e}"))
}

/// `{key: count}` of one of the dashboard's bar lists.
const BARS: &str = "return Object.fromEntries(Array.from(document.querySelectorAll('#ID .bar'))\
    .map(b => [b.dataset.key, b.querySelector('.n').textContent]));";

/// Opens one of the dashboard's views (`#/name`) and waits until it has loaded.
async fn open_view(browser: &Browser, base: &str, name: &str) {
    browser.goto(&format!("{base}/#/{name}")).await;
    browser
        .wait_for(
            &format!("the {name} view"),
            Duration::from_secs(30),
            &format!("return (document.body.dataset.loaded || '').includes('{name}');"),
        )
        .await;
}

fn bars(v: &Value) -> BTreeMap<String, u64> {
    v.as_object()
        .unwrap()
        .iter()
        .map(|(k, n)| (k.clone(), number(n)))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_shows_what_the_api_reports() {
    let net = Testnet::start(TestnetConfig {
        nodes: 40,
        seed: 5,
        down_fraction: 0.2,
        ..TestnetConfig::default()
    })
    .await
    .unwrap();
    let shots = screenshot_dir();
    let browser = Browser::start().await;

    // A server with a token: everything refused without it; a browser signs in.
    let locked = Server::start_full(
        EngineConfig::default(),
        ServeOptions {
            token: Token::new(TOKEN),
            tls: None,
            sink: None,
        },
    )
    .await;
    for path in [
        "/",
        "/api/v1/stats",
        "/api/v1/events/stream",
        "/assets/dashboard.js",
        "/metrics",
    ] {
        let (status, _) = http_get(locked.http, path, None).await;
        assert_eq!(status, 401, "{path}");
        let (status, _) = http_get(locked.http, path, Some("wrong")).await;
        assert_eq!(status, 401, "{path}");
    }
    let (status, body) = http_get(locked.http, "/api/v1/stats", Some(TOKEN)).await;
    assert_eq!(status, 200, "{body}");
    browser.goto(&format!("http://{}/", locked.http)).await;
    browser
        .wait_for(
            "the sign-in form",
            Duration::from_secs(20),
            "return document.querySelector('#login') !== null;",
        )
        .await;
    let refused = browser
        .eval("return fetch('/api/v1/stats').then(r => r.status);")
        .await;
    assert_eq!(refused, 401);
    browser.screenshot(&shots.join("sign-in.png")).await;
    browser
        .eval("document.querySelector('#token').value = 'wrong'; document.querySelector('#login').submit(); return true;")
        .await;
    browser
        .wait_for(
            "the wrong token to be refused",
            Duration::from_secs(20),
            "return document.querySelector('#login-error') !== null;",
        )
        .await;
    browser
        .eval(&format!("document.querySelector('#token').value = '{TOKEN}'; document.querySelector('#login').submit(); return true;"))
        .await;
    browser
        .wait_for(
            "the dashboard after signing in",
            Duration::from_secs(30),
            "return (document.body.dataset.loaded || '').includes('network');",
        )
        .await;
    let allowed = browser
        .eval("return fetch('/api/v1/stats').then(r => r.status);")
        .await;
    assert_eq!(allowed, 200);
    let token: tonic::metadata::MetadataValue<_> = format!("Bearer {TOKEN}").parse().unwrap();
    let mut locked_client = pb::crawler_client::CrawlerClient::with_interceptor(
        locked.channel().await,
        move |mut r: tonic::Request<()>| {
            r.metadata_mut().insert("authorization", token.clone());
            Ok(r)
        },
    );
    let empty = locked_client
        .get_network_stats(pb::GetNetworkStatsRequest::default())
        .await
        .unwrap()
        .into_inner();
    let shown = browser
        .eval("return document.querySelector('#net-peers').textContent;")
        .await;
    assert_eq!(number(&shown), empty.peers);
    drop(locked_client);
    locked.stop().await;

    // A server that crawled a testnet (no token from here on).
    let server = Server::start().await;
    let mut client = server.client().await;

    // Crawl 1: a relay crawl of the testnet; messages on a shard and on the named topic.
    let topics = vec![
        busy_topics(&net, 1).remove(0),
        NAMED_PUBSUB_TOPIC.to_string(),
    ];
    let crawl1 = start_relay_crawl(&mut client, &net, &topics).await;
    let mut n = 0u64;
    for topic in &topics {
        let node = cluster1_relays(&net, topic)[0];
        for ct in &CONTENT_TOPICS[..3] {
            for _ in 0..4 {
                n += 1;
                net.publish(node, topic, ct, format!("dashboard {n}").into_bytes())
                    .await
                    .unwrap();
            }
        }
    }
    settle(&mut client, n).await;
    // Let every discovered peer be dialed, then freeze the figures by stopping the crawl.
    tokio::time::sleep(Duration::from_secs(3)).await;
    client
        .stop_crawl(pb::StopCrawlRequest {
            crawl_id: crawl1.clone(),
        })
        .await
        .unwrap();
    let stats = client
        .get_network_stats(pb::GetNetworkStatsRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert!(stats.peers >= 40 && stats.reachable > 0 && stats.unreachable > 0);
    let counts = client
        .get_message_counts(pb::GetMessageCountsRequest {
            group_by: vec![pb::MessageDimension::Application as i32],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let crawl = wait_final(&mut client, &crawl1, Duration::from_secs(30)).await;

    let base = format!("http://{}", server.http);

    // Network: peer counts and capability counts as GetNetworkStats reports them.
    open_view(&browser, &base, "network").await;
    let tile = |id: &str| format!("return document.querySelector('#{id}').textContent;");
    assert_eq!(number(&browser.eval(&tile("net-peers")).await), stats.peers);
    assert_eq!(
        number(&browser.eval(&tile("net-reachable")).await),
        stats.reachable
    );
    assert_eq!(
        number(&browser.eval(&tile("net-unreachable")).await),
        stats.unreachable
    );
    let caps = bars(&browser.eval(&BARS.replace("ID", "bars-capability")).await);
    let want: BTreeMap<String, u64> = stats
        .by_capability
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(k, n)| (k.clone(), *n))
        .collect();
    assert_eq!(caps, want);
    let classes = bars(&browser.eval(&BARS.replace("ID", "bars-error-class")).await);
    assert_eq!(classes, stats.by_error_class.clone().into_iter().collect());
    let agents = bars(&browser.eval(&BARS.replace("ID", "bars-agent")).await);
    assert_eq!(agents, stats.by_agent.clone().into_iter().collect());
    // The charts are drawn (uPlot canvases).
    browser
        .wait_for(
            "the peers-over-time and RTT charts",
            Duration::from_secs(20),
            "return document.querySelectorAll('#chart-peers canvas, #chart-rtt canvas').length >= 2;",
        )
        .await;
    browser.screenshot(&shots.join("network.png")).await;

    // Peers: one row per peer (all fit on the first page), reachability as stored.
    browser.goto(&format!("{base}/#/peers")).await;
    let rows = browser
        .wait_for(
            "the peers table",
            Duration::from_secs(30),
            "const rows = Array.from(document.querySelectorAll('#peers-table tbody tr')); \
             return (document.body.dataset.loaded || '').includes('peers') && rows.length > 0 && \
             [rows.length, rows.filter(r => r.children[2].textContent === 'yes').length];",
        )
        .await;
    assert_eq!(rows[0].as_u64().unwrap(), stats.peers);
    assert_eq!(rows[1].as_u64().unwrap(), stats.reachable);
    browser.screenshot(&shots.join("peers.png")).await;

    // Messages: totals and the per-application table as GetMessageCounts reports them.
    open_view(&browser, &base, "messages").await;
    assert_eq!(number(&browser.eval(&tile("msg-total")).await), n);
    let apps = browser
        .eval(
            "return Object.fromEntries(Array.from(document.querySelectorAll('#msg-app-table tbody tr'))\
             .map(r => [r.dataset.application, r.querySelector('.messages').textContent]));",
        )
        .await;
    let want: BTreeMap<String, u64> = counts
        .counts
        .iter()
        .map(|r| (r.application.clone(), r.messages))
        .collect();
    assert_eq!(bars(&apps), want);
    assert_eq!(want.len(), 3);
    browser.screenshot(&shots.join("messages.png")).await;

    // Crawls: the stopped crawl with its figures.
    browser.goto(&format!("{base}/#/crawls")).await;
    let row = browser
        .wait_for(
            "the crawl row",
            Duration::from_secs(30),
            &format!(
                "const r = document.querySelector('tr[data-crawl-id=\"{crawl1}\"]'); \
                 return r && [r.querySelector('.state').textContent, r.querySelector('.discovered').textContent, r.querySelector('.connected').textContent];"
            ),
        )
        .await;
    let p = crawl.progress.clone().unwrap();
    assert_eq!(row[0], "stopped");
    assert_eq!(number(&row[1]), p.discovered);
    assert_eq!(number(&row[2]), p.connected);

    // Events: the feed replays the newest stored events, then grows while a crawl runs.
    browser.goto(&format!("{base}/#/events")).await;
    let before = browser
        .wait_for(
            "the event feed",
            Duration::from_secs(30),
            "const n = Number(document.querySelector('#events-count').textContent); return n > 0 && n;",
        )
        .await
        .as_u64()
        .unwrap();
    let crawl2 = start(&mut client, oneshot(net.bootstrap_enrs())).await;
    let grown = browser
        .wait_for(
            "events of the second crawl in the feed",
            Duration::from_secs(60),
            &format!(
                "const n = Number(document.querySelector('#events-count').textContent); \
                 const mine = Array.from(document.querySelectorAll('#event-feed li[data-kind=\"DISCOVERED\"]')).filter(li => li.textContent.includes(' crawl {} ')).length; \
                 return mine >= 10 && n;",
                crawl2.id
            ),
        )
        .await
        .as_u64()
        .unwrap();
    assert!(grown >= before + 10, "{before} -> {grown}");
    // Kinds filter: only DIAL_FAILED left.
    browser
        .eval(
            "for (const i of document.querySelectorAll('#events-kinds input')) i.checked = i.value === 'DIAL_FAILED'; \
             document.querySelector('#events-kinds').dispatchEvent(new Event('change')); return true;",
        )
        .await;
    let kinds = browser
        .wait_for(
            "the filtered feed",
            Duration::from_secs(30),
            "const k = Array.from(document.querySelectorAll('#event-feed li')).map(li => li.dataset.kind); \
             return k.length > 0 && Array.from(new Set(k));",
        )
        .await;
    assert_eq!(kinds, serde_json::json!(["DIAL_FAILED"]));
    wait_final(&mut client, &crawl2.id, Duration::from_secs(120)).await;
    browser.screenshot(&shots.join("events.png")).await;

    // A peer's page: what GetPeer returns, and its visits.
    let reachable = client
        .list_peers(pb::ListPeersRequest {
            reachable: Some(true),
            page_size: 1,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .peers
        .remove(0);
    browser
        .goto(&format!("{base}/#/peer/{}", reachable.node_id))
        .await;
    let fields = browser
        .wait_for(
            "the peer page",
            Duration::from_secs(30),
            "const f = (k) => { const r = document.querySelector(`#peer-fields tr[data-field=\"${k}\"] td`); return r && r.textContent; }; \
             const v = document.querySelectorAll('#peer-visits tbody tr').length; \
             return f('agent_version') !== null && [f('node_id'), f('agent_version'), f('dial_attempts'), v, document.querySelectorAll('#peer-timeline circle.visit').length];",
        )
        .await;
    let peer = client
        .get_peer(pb::GetPeerRequest {
            key: Some(pb::get_peer_request::Key::NodeId(reachable.node_id.clone())),
        })
        .await
        .unwrap()
        .into_inner()
        .peer
        .unwrap();
    assert_eq!(fields[0], peer.node_id.as_str());
    assert_eq!(fields[1], peer.agent_version.as_str());
    assert_eq!(number(&fields[2]), peer.dial_attempts);
    assert_eq!(fields[3].as_u64().unwrap(), peer.dial_attempts.min(100));
    assert_eq!(fields[4], fields[3]);
    browser.screenshot(&shots.join("peer.png")).await;

    // Back to the network view after the second crawl, for the README's picture.
    browser.goto(&format!("{base}/#/network")).await;
    browser
        .wait_for(
            "the network view",
            Duration::from_secs(30),
            "return (document.body.dataset.loaded || '').includes('network') && document.querySelectorAll('#chart-peers canvas').length > 0;",
        )
        .await;
    browser.screenshot(&shots.join("dashboard.png")).await;
    browser.close().await;
    drop(client);
    server.stop().await;
}

/// A CometBFT crawl on the dashboard: the network view shows the chain ids, reachability per
/// chain, software and protocol versions as GetNetworkStats reports them, and the peers view
/// filtered by a chain id lists that chain's peers with their chain id and version.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_shows_cometbft_chains_and_versions() {
    let net = CometTestnet::start(CometTestnetConfig {
        nodes: 40,
        chain_b: 8,
        down: 4,
        degree: 6,
        seed: 11,
        ..CometTestnetConfig::default()
    })
    .await
    .unwrap();
    let server = Server::start().await;
    let mut client = server.client().await;
    let crawl = client
        .start_crawl(cometbft_request(&net, pb::CrawlMode::Oneshot, None))
        .await
        .unwrap()
        .into_inner()
        .crawl
        .unwrap();
    let done = wait_final(&mut client, &crawl.id, Duration::from_secs(120)).await;
    assert_eq!(done.state, pb::CrawlState::Finished as i32, "{done:?}");
    let stats = client
        .get_network_stats(pb::GetNetworkStatsRequest::default())
        .await
        .unwrap()
        .into_inner();
    // The testnet's shape, as the API reports it: both chains, the versions it runs.
    assert!(
        stats.by_chain_id.get(CHAIN_A).is_some_and(|n| *n > 0),
        "{stats:?}"
    );
    assert!(
        stats.by_chain_id.get(CHAIN_B).is_some_and(|n| *n > 0),
        "{stats:?}"
    );
    assert!(!stats.by_software_version.is_empty(), "{stats:?}");
    let chain_b: Vec<String> = net
        .nodes()
        .iter()
        .filter(|n| {
            n.chain_id == CHAIN_B && n.kind == peerscope::testnet::cometbft::CometKind::Normal
        })
        .map(|n| n.id.clone())
        .collect();
    assert_eq!(stats.by_chain_id[CHAIN_B], chain_b.len() as u64);

    let browser = Browser::start().await;
    let base = format!("http://{}", server.http);
    open_view(&browser, &base, "network").await;
    let shown = |id: &str| BARS.replace("ID", id);
    let as_map = |m: &std::collections::HashMap<String, u64>| -> BTreeMap<String, u64> {
        m.iter()
            .filter(|(_, n)| **n > 0)
            .map(|(k, n)| (k.clone(), *n))
            .collect()
    };
    assert_eq!(
        bars(&browser.eval(&shown("bars-chain-id")).await),
        as_map(&stats.by_chain_id)
    );
    assert_eq!(
        bars(&browser.eval(&shown("bars-reachable-chain-id")).await),
        as_map(&stats.reachable_by_chain_id)
    );
    assert_eq!(
        bars(&browser.eval(&shown("bars-software-version")).await),
        as_map(&stats.by_software_version)
    );
    let mut versions: BTreeMap<String, u64> = BTreeMap::new();
    for (v, n) in &stats.by_p2p_version {
        versions.insert(format!("p2p {v}"), *n);
    }
    for (v, n) in &stats.by_block_version {
        versions.insert(format!("block {v}"), *n);
    }
    assert_eq!(
        bars(&browser.eval(&shown("bars-protocol-version")).await),
        versions
    );
    browser
        .screenshot(&screenshot_dir().join("network-cometbft.png"))
        .await;

    // The peers view filtered by the other chain's id: exactly its nodes, labelled.
    open_view(&browser, &base, "peers").await;
    browser
        .eval(&format!(
            "document.querySelector('#peers-filter [name=chain_id]').value = '{CHAIN_B}'; \
             document.querySelector('#peers-filter').requestSubmit(); return true;"
        ))
        .await;
    let rows = browser
        .wait_for(
            "the filtered peers table",
            Duration::from_secs(30),
            &format!(
                "const rows = Array.from(document.querySelectorAll('#peers-table tbody tr')); \
                 return rows.length === {} && rows.map(r => [r.dataset.nodeId, r.querySelector('td.chain').textContent]);",
                chain_b.len()
            ),
        )
        .await;
    let mut listed: Vec<String> = Vec::new();
    for row in rows.as_array().unwrap() {
        let node_id = row[0].as_str().unwrap();
        let label = row[1].as_str().unwrap();
        assert!(label.starts_with(&format!("{CHAIN_B} / ")), "{label}");
        listed.push(node_id[..40].to_string());
    }
    listed.sort();
    let mut want = chain_b.clone();
    want.sort();
    assert_eq!(listed, want);
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_endpoints_answer_as_the_rpcs_and_stream_events() {
    let net = Testnet::start(TestnetConfig {
        nodes: 20,
        seed: 9,
        down_fraction: 0.25,
        ..TestnetConfig::default()
    })
    .await
    .unwrap();
    let server = Server::start().await;
    let mut client = server.client().await;
    let crawl = start(&mut client, oneshot(net.bootstrap_enrs())).await;
    wait_final(&mut client, &crawl.id, Duration::from_secs(120)).await;

    let get = |path: &'static str| async move {
        let (status, body) = http_get(server.http, path, None).await;
        assert_eq!(status, 200, "{path}: {body}");
        serde_json::from_str::<Value>(&body).unwrap_or_else(|e| panic!("{path}: {e}"))
    };
    let stats = client
        .get_network_stats(pb::GetNetworkStatsRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        get("/api/v1/stats").await,
        peerscope::proto::to_json(&stats, "peerscope.v1.GetNetworkStatsResponse")
    );
    let crawls = get("/api/v1/crawls").await;
    assert_eq!(crawls["crawls"][0]["id"], crawl.id.as_str());
    assert_eq!(crawls["crawls"][0]["state"], "CRAWL_STATE_FINISHED");
    let peers = get("/api/v1/peers?page_size=100&reachable=false").await;
    assert_eq!(
        peers["peers"].as_array().unwrap().len() as u64,
        stats.unreachable
    );
    let rtt = get("/api/v1/rtt").await;
    assert_eq!(rtt["peers"], stats.peers);
    let in_buckets: u64 = rtt["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["peers"].as_u64().unwrap())
        .sum();
    assert_eq!(in_buckets, rtt["peers_with_rtt"].as_u64().unwrap());
    assert_eq!(in_buckets, stats.reachable);
    // A peer and its visits, by node id and by peer id.
    let p = &peers["peers"][0];
    let node = p["node_id"].as_str().unwrap().to_string();
    let peer_id = p["peer_id"].as_str().unwrap().to_string();
    for id in [&node, &peer_id] {
        let (status, body) = http_get(server.http, &format!("/api/v1/peers/{id}"), None).await;
        assert_eq!(status, 200, "{body}");
        let v: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["peer"]["node_id"], node.as_str());
        let (status, body) =
            http_get(server.http, &format!("/api/v1/peers/{id}/visits"), None).await;
        assert_eq!(status, 200, "{body}");
        let v: Value = serde_json::from_str(&body).unwrap();
        let visits = v["visits"].as_array().unwrap();
        assert_eq!(visits.len() as u64, p["dial_attempts"].as_u64().unwrap());
        assert!(visits
            .iter()
            .all(|v| v["reachable"] == false && v["error_class"].is_string()));
    }
    // Errors are the RPC's, as HTTP statuses.
    let (status, body) = http_get(server.http, "/api/v1/crawls/999", None).await;
    assert_eq!(status, 404, "{body}");
    assert!(body.contains("NotFound"), "{body}");
    let (status, _) = http_get(
        server.http,
        &format!("/api/v1/peers/{}", "ab".repeat(32)),
        None,
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = http_get(server.http, "/api/v1/peers?cluster_id=x", None).await;
    assert_eq!(status, 400);

    // The event stream: the stored log replayed as server-sent events, ids = sequences.
    let last = server.engine().store().last_sequence();
    let events = sse_events(
        server.http,
        "/api/v1/events/stream?after=0&kinds=discovered",
        20,
    )
    .await;
    assert_eq!(events.len(), 20);
    let mut seqs = BTreeSet::new();
    for (id, data) in &events {
        let v: Value = serde_json::from_str(data).unwrap();
        assert_eq!(v["kind"], "PEER_EVENT_KIND_DISCOVERED");
        assert_eq!(v["sequence"].as_u64().unwrap(), *id);
        assert!(*id <= last);
        seqs.insert(*id);
    }
    assert_eq!(seqs.len(), 20);
    let tail = sse_events(server.http, "/api/v1/events/stream?tail=5", 5).await;
    let ids: Vec<u64> = tail.iter().map(|(id, _)| *id).collect();
    assert_eq!(ids, ((last - 4)..=last).collect::<Vec<_>>());
    drop(client);
    server.stop().await;
}

/// Reads the first `n` events of a server-sent event stream: (id, data).
async fn sse_events(addr: std::net::SocketAddr, path: &str, n: usize) -> Vec<(u64, String)> {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(
        format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nAccept: text/event-stream\r\n\r\n")
            .as_bytes(),
    )
    .await
    .unwrap();
    let mut lines = BufReader::new(s).lines();
    let mut out = Vec::new();
    let mut id = None;
    crate::common::within(Duration::from_secs(30), async {
        while out.len() < n {
            let line = lines
                .next_line()
                .await
                .unwrap()
                .expect("stream ended early");
            // Chunk-size lines of the chunked encoding are skipped with the rest.
            if let Some(v) = line
                .strip_prefix("id: ")
                .or_else(|| line.strip_prefix("id:"))
            {
                id = v.trim().parse().ok();
            } else if let Some(d) = line
                .strip_prefix("data: ")
                .or_else(|| line.strip_prefix("data:"))
            {
                out.push((id.take().expect("an id before the data"), d.to_string()));
            }
        }
    })
    .await;
    out
}

/// Metric names a PromQL expression refers to (peerscope's and the seed monitor's).
fn metric_names(expr: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for c in expr.chars().chain([' ']) {
        if c.is_ascii_alphanumeric() || c == '_' || c == ':' {
            cur.push(c);
        } else {
            if cur.starts_with("peerscope_") || cur.starts_with("networkmonitor_") {
                out.push(std::mem::take(&mut cur));
            }
            cur.clear();
        }
    }
    out
}

/// Label names an expression and its legend use: `by (a, b)`, `{a="x"}` and `{{a}}`.
fn label_names(expr: &str, legend: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let split = |s: &str| -> Vec<String> {
        s.split(',')
            .map(|x| x.trim().to_string())
            .filter(|x| !x.is_empty())
            .collect()
    };
    for (i, _) in expr.match_indices("by (") {
        let rest = &expr[i + 4..];
        out.extend(split(&rest[..rest.find(')').unwrap()]));
    }
    for (i, _) in expr.match_indices('{') {
        let rest = &expr[i + 1..];
        for m in rest[..rest.find('}').unwrap()].split(',') {
            if let Some((name, _)) = m.split_once('=') {
                out.insert(name.trim_end_matches(['!', '=', '~']).trim().to_string());
            }
        }
    }
    for (i, _) in legend.match_indices("{{") {
        let rest = &legend[i + 2..];
        out.insert(rest[..rest.find("}}").unwrap()].trim().to_string());
    }
    out.remove("le");
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grafana_queries_name_exported_metrics() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/dashboards/grafana/peerscope.json"
    ))
    .unwrap();
    let dash: Value = serde_json::from_str(&text).expect("the dashboard is JSON");
    assert_eq!(dash["uid"], "peerscope");
    // Importable as is: the data source is a variable, no hard-coded uid.
    assert_eq!(dash["templating"]["list"][0]["type"], "datasource");

    // A server that did everything the dashboard charts, so every labelled family has
    // samples: a relay crawl with peer exchange and seed mode (asked by a requester),
    // geolocation (loopback labels, through the ip-api stand-in), and an Ethereum crawl.
    let net = Testnet::start(TestnetConfig {
        nodes: 40,
        seed: 5,
        down_fraction: 0.2,
        peer_exchange: true,
        ..TestnetConfig::default()
    })
    .await
    .unwrap();
    let eth = Testnet::start(TestnetConfig {
        nodes: 12,
        seed: 6,
        eth2: true,
        libp2p: false,
        protocol_id: *b"discv5",
        ..TestnetConfig::default()
    })
    .await
    .unwrap();
    let standin = GeoStandIn::start(0, StandInConfig::default())
        .await
        .unwrap();
    let server = Server::start_with(EngineConfig {
        geo: Some(GeoConfig {
            base_url: standin.base_url(),
            ..GeoConfig::default()
        }),
        ..EngineConfig::default()
    })
    .await;
    let mut client = server.client().await;
    let topics = vec![busy_topics(&net, 1).remove(0)];
    start_relay_crawl(&mut client, &net, &topics).await;
    let node = net.relay_nodes_on(&topics[0])[0];
    for i in 0..5 {
        net.publish(
            node,
            &topics[0],
            CONTENT_TOPICS[i % 2],
            format!("grafana {i}").into_bytes(),
        )
        .await
        .unwrap();
    }
    net.publish_garbage(node, &topics[0], vec![0xff, 0x01])
        .await
        .unwrap();
    settle(&mut client, 5).await;
    let seed = start(
        &mut client,
        pb::StartCrawlRequest {
            mode: pb::CrawlMode::Continuous as i32,
            relay: Some(false),
            peer_exchange: Some(pb::PeerExchangeOptions {
                seed: Some(pb::SeedOptions::default()),
                ..Default::default()
            }),
            ..oneshot(net.bootstrap_enrs())
        },
    )
    .await;
    let local = peerscope::protocol::enr::DecodedEnr::from_enr(
        &peerscope::protocol::enr::parse_enr(&seed.local_enr).unwrap(),
    );
    let seed_addr: std::net::SocketAddr = seed.seed_addr.parse().unwrap();
    let mut requester = crate::px::Client::connect(
        local.peer_id.clone().unwrap().parse().unwrap(),
        format!("/ip4/127.0.0.1/tcp/{}", seed_addr.port())
            .parse()
            .unwrap(),
        1,
    )
    .await;
    requester.ask(10).await;
    let ethereum = start(
        &mut client,
        pb::StartCrawlRequest {
            profile: Some(pb::NetworkProfile {
                profile: Some(pb::network_profile::Profile::Ethereum(
                    pb::EthereumProfile {},
                )),
            }),
            ..oneshot(eth.bootstrap_enrs())
        },
    )
    .await;
    wait_final(&mut client, &ethereum.id, Duration::from_secs(120)).await;
    let geo = server.engine().geolocator().unwrap().clone();
    crate::common::wait_until(Duration::from_secs(30), "geolocation", || {
        geo.backlog() == 0
    })
    .await;
    // The store-derived gauges are cached for 5 s.
    tokio::time::sleep(peerscope::metrics::STATS_TTL).await;
    let (status, scrape) = http_get(server.http, "/metrics", None).await;
    assert_eq!(status, 200);

    // Families (from `# TYPE`) and the label names of their samples.
    let mut families: BTreeMap<String, String> = BTreeMap::new();
    let mut labels: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for line in scrape.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap();
            families.insert(name.to_string(), kind.to_string());
        } else if !line.starts_with('#') && !line.is_empty() {
            let name_end = line.find(['{', ' ']).unwrap();
            let sample = &line[..name_end];
            let set = labels.entry(sample.to_string()).or_default();
            if let Some(body) = line[name_end..].strip_prefix('{') {
                for pair in body[..body.find('}').unwrap()].split("\",") {
                    if let Some((k, _)) = pair.split_once('=') {
                        set.insert(k.trim().to_string());
                    }
                }
            }
        }
    }
    // A sample name as PromQL sees it: counters end in _total, histograms have
    // _bucket/_sum/_count.
    let exported = |name: &str| -> Option<String> {
        for (family, kind) in &families {
            let names: Vec<String> = match kind.as_str() {
                "counter" => vec![format!("{family}_total")],
                "histogram" => ["_bucket", "_sum", "_count"]
                    .iter()
                    .map(|s| format!("{family}{s}"))
                    .collect(),
                _ => vec![family.clone()],
            };
            if names.iter().any(|n| n == name) {
                return Some(family.clone());
            }
        }
        None
    };

    let mut checked = 0;
    let mut used = BTreeSet::new();
    for panel in dash["panels"].as_array().unwrap() {
        for t in panel["targets"].as_array().into_iter().flatten() {
            let expr = t["expr"].as_str().expect("every target has a PromQL expr");
            let legend = t["legendFormat"].as_str().unwrap_or("");
            let names = metric_names(expr);
            assert!(!names.is_empty(), "{expr} names no peerscope metric");
            let wanted = label_names(expr, legend);
            for name in names {
                assert!(
                    exported(&name).is_some(),
                    "panel {:?}: {name} is not exported\n{scrape}",
                    panel["title"]
                );
                used.insert(name.clone());
                // Labels the query uses exist on the metric's samples (when it has any).
                if let Some(have) = labels.get(&name) {
                    for l in &wanted {
                        assert!(
                            have.contains(l),
                            "panel {:?}: {name} has no label {l} ({have:?})",
                            panel["title"]
                        );
                    }
                }
            }
            checked += 1;
        }
    }
    assert!(checked >= 20, "{checked} queries");
    // The application and ping families are among those charted, with samples.
    // Every metric charted had samples to check its labels against.
    for name in &used {
        assert!(labels.contains_key(name), "{name} has no samples\n{scrape}");
    }
    for name in [
        "peerscope_relay_application_messages_total",
        "networkmonitor_peer_ping_bucket",
        "networkmonitor_peer_country_count",
        "peerscope_peers_by_fork_digest",
        "peerscope_px_served_total",
    ] {
        assert!(used.contains(name), "{name} is not charted");
    }
    // Geolocation labelled loopback peers without asking ip-api.
    assert!(standin.requests().is_empty());
    drop(client);
    server.stop().await;
}
