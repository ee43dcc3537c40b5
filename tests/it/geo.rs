//! Geolocation against the ip-api stand-in on 127.0.0.1 (`peerscope::testnet::geo`).
//!
//! Every testnet node lives on 127.0.0.1, which is loopback and never sent anywhere. To
//! exercise real lookups, these tests hand the geolocator public-looking addresses directly
//! (peers stored with such an IP in their ENR, or bare addresses): they are only *payload*
//! of requests to the stand-in on 127.0.0.1, and nothing ever connects to them. The crawl
//! test checks the other half: loopback peers are labelled and nothing is sent.

use std::collections::{BTreeMap, HashSet};
use std::net::IpAddr;
use std::time::Duration;

use enr::CombinedKey;
use peerscope::engine::geo::{GeoConfig, Geolocator};
use peerscope::engine::EngineConfig;
use peerscope::model::{now_millis, NodeId};
use peerscope::proto::pb;
use peerscope::protocol::enr::{DecodedEnr, Enr};
use peerscope::store::Store;
use peerscope::testnet::geo::{fake_answer, Endpoint, GeoStandIn, StandInConfig};
use peerscope::testnet::{Testnet, TestnetConfig};
use tokio_util::sync::CancellationToken;

use crate::common::{all_peers, http_get, oneshot, wait_until, Server};

/// Public-looking IPv4 and IPv6 addresses (never contacted; see the module comment).
fn public_ips(n: usize) -> Vec<IpAddr> {
    (0..n)
        .map(|i| {
            if i % 4 == 3 {
                format!("2a01:4f8:{:x}::1", i + 1).parse().unwrap()
            } else {
                format!("81.2.{}.{}", 60 + i / 200, 1 + i % 200)
                    .parse()
                    .unwrap()
            }
        })
        .collect()
}

fn node(i: usize) -> NodeId {
    let mut id = [0u8; 32];
    id[..8].copy_from_slice(&(i as u64 + 1).to_be_bytes());
    id
}

fn config(standin: &GeoStandIn) -> GeoConfig {
    GeoConfig {
        base_url: standin.base_url(),
        ..GeoConfig::default()
    }
}

async fn drained(geo: &Geolocator) {
    wait_until(Duration::from_secs(60), "the geolocator to finish", || {
        geo.backlog() == 0
    })
    .await;
}

/// Every address the stand-in was asked about.
fn asked(standin: &GeoStandIn) -> Vec<String> {
    standin
        .requests()
        .into_iter()
        .flat_map(|r| r.queries)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lookups_stay_within_each_endpoints_window() {
    let window = Duration::from_secs(2);
    let standin = GeoStandIn::start(
        0,
        StandInConfig {
            single_limit: 2,
            batch_limit: 2,
            window,
        },
    )
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), 100).unwrap();
    let cancel = CancellationToken::new();
    let geo = Geolocator::start(
        GeoConfig {
            single_limit: 2,
            batch_limit: 2,
            window,
            batch_size: 3,
            ..config(&standin)
        },
        store.clone(),
        cancel.clone(),
    )
    .unwrap();
    let ips = public_ips(20);
    for (i, ip) in ips.iter().enumerate() {
        assert!(geo.submit(node(i), *ip));
    }
    drained(&geo).await;

    let log = standin.requests();
    // Never refused: the client kept within both endpoints' limits in every window.
    assert!(log.iter().all(|r| r.status == 200), "{log:#?}");
    // Several addresses pending: the batch endpoint carried most of them, 3 at most each.
    let batches: Vec<_> = log
        .iter()
        .filter(|r| r.endpoint == Endpoint::Batch)
        .collect();
    assert!(!batches.is_empty(), "{log:#?}");
    assert!(batches.iter().all(|r| r.queries.len() <= 3), "{log:#?}");
    // Each address asked once, and each answered and cached as served.
    let all = asked(&standin);
    assert_eq!(all.len(), ips.len(), "{all:?}");
    assert_eq!(all.iter().collect::<HashSet<_>>().len(), ips.len());
    for ip in &ips {
        let g = store.cached_geo(*ip, 0).unwrap().expect("cached");
        let want = fake_answer(&ip.to_string());
        assert_eq!(g.country, want["country"], "{ip}");
        assert_eq!(g.city, want["city"], "{ip}");
        assert_eq!(g.asn, want["as"], "{ip}");
    }
    // 20 addresses at 2 × 3 (batch) + 2 (single) per window need at least 3 windows.
    let span = log.last().unwrap().at - log.first().unwrap().at;
    assert!(span >= window * 2 - Duration::from_millis(50), "{span:?}");
    let stats = geo.stats();
    assert_eq!(stats.rate_limited, 0);
    assert_eq!(stats.looked_up, 20);
    cancel.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_blocks_the_endpoint_until_its_window_resets() {
    let window = Duration::from_secs(2);
    let standin = GeoStandIn::start(
        0,
        StandInConfig {
            single_limit: 3,
            batch_limit: 3,
            window,
        },
    )
    .await
    .unwrap();
    // Someone else behind the same address used both windows up: the first request of
    // either kind gets 429.
    standin.exhaust(Endpoint::Single);
    standin.exhaust(Endpoint::Batch);
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), 100).unwrap();
    let cancel = CancellationToken::new();
    // The client believes ip-api's real limits (45 and 15 per minute): only the answers'
    // status, X-Rl and X-Ttl can hold it back.
    let geo = Geolocator::start(
        GeoConfig {
            batch_size: 2,
            ..config(&standin)
        },
        store.clone(),
        cancel.clone(),
    )
    .unwrap();
    let ips = public_ips(16);
    for (i, ip) in ips.iter().enumerate() {
        geo.submit(node(i), *ip);
    }
    drained(&geo).await;

    let log = standin.requests();
    let refused: Vec<_> = log.iter().filter(|r| r.status == 429).collect();
    assert!(!refused.is_empty(), "the 429 path was not taken: {log:#?}");
    // After a 429 nothing goes to that endpoint before its window resets (X-Ttl).
    for r in &refused {
        for later in log
            .iter()
            .filter(|l| l.endpoint == r.endpoint && l.at > r.at)
        {
            assert!(
                later.at >= r.window_end,
                "request {:?} after a 429 came {:?} before the reset\n{log:#?}",
                later.endpoint,
                r.window_end - later.at
            );
        }
    }
    // At most one refusal per endpoint: afterwards X-Rl: 0 kept the client out of every
    // exhausted window before it was refused again.
    for e in [Endpoint::Single, Endpoint::Batch] {
        let n = refused.iter().filter(|r| r.endpoint == e).count();
        assert!(n <= 1, "{e:?} refused {n} times\n{log:#?}");
    }
    // Everything was answered in the end.
    for ip in &ips {
        assert!(store.cached_geo(*ip, 0).unwrap().is_some(), "{ip}");
    }
    assert_eq!(geo.stats().rate_limited as usize, refused.len());
    cancel.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cached_answers_are_reused_without_a_request() {
    let standin = GeoStandIn::start(0, StandInConfig::default())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), 100).unwrap();
    let ips = public_ips(6);
    let cancel = CancellationToken::new();
    let geo = Geolocator::start(config(&standin), store.clone(), cancel.clone()).unwrap();
    for (i, ip) in ips.iter().enumerate() {
        geo.submit(node(i), *ip);
    }
    drained(&geo).await;
    let sent = standin.requests().len();
    assert!(sent >= 1);
    assert_eq!(asked(&standin).len(), ips.len());

    // The same addresses again, for the same and for other peers: all from the cache.
    for (i, ip) in ips.iter().enumerate() {
        geo.submit(node(i), *ip);
        geo.submit(node(100 + i), *ip);
    }
    drained(&geo).await;
    assert_eq!(
        standin.requests().len(),
        sent,
        "a cached address was asked again"
    );
    assert_eq!(geo.stats().cache_hits, 12);
    cancel.cancel();

    // A new geolocator on the same store (a restart, then a re-crawl): still nothing sent.
    let cancel = CancellationToken::new();
    let geo = Geolocator::start(config(&standin), store.clone(), cancel.clone()).unwrap();
    for (i, ip) in ips.iter().enumerate() {
        geo.submit(node(200 + i), *ip);
    }
    drained(&geo).await;
    assert_eq!(standin.requests().len(), sent);
    assert_eq!(geo.stats().cache_hits, 6);
    cancel.cancel();

    // Once the TTL has passed, addresses are asked again.
    tokio::time::sleep(Duration::from_millis(20)).await;
    let cancel = CancellationToken::new();
    let geo = Geolocator::start(
        GeoConfig {
            cache_ttl: Duration::from_millis(10),
            ..config(&standin)
        },
        store.clone(),
        cancel.clone(),
    )
    .unwrap();
    geo.submit(node(0), ips[0]);
    drained(&geo).await;
    assert_eq!(asked(&standin).len(), ips.len() + 1);
    assert_eq!(geo.stats().cache_hits, 0);
    cancel.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn non_public_addresses_are_labelled_and_never_sent() {
    let standin = GeoStandIn::start(0, StandInConfig::default())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), 100).unwrap();
    let cancel = CancellationToken::new();
    let geo = Geolocator::start(config(&standin), store.clone(), cancel.clone()).unwrap();
    let non_public = [
        ("127.0.0.1", "loopback"),
        ("127.0.5.9", "loopback"),
        ("10.1.2.3", "private"),
        ("172.20.0.7", "private"),
        ("192.168.1.1", "private"),
        ("169.254.3.4", "link-local"),
        ("100.64.9.9", "cgnat"),
        ("0.0.0.0", "unspecified"),
        ("::1", "loopback"),
        ("fe80::1", "link-local"),
        ("fd00::5", "unique-local"),
        ("::ffff:10.0.0.1", "private"),
    ];
    let public: IpAddr = "81.2.69.142".parse().unwrap();
    // Stored peers, so the labels can be read back from their records.
    let mut peers = Vec::new();
    for (i, (ip, _)) in non_public.iter().enumerate() {
        let id = stored_peer(&store, i, Some(ip.parse().unwrap()));
        peers.push(id);
        geo.submit(id, ip.parse().unwrap());
    }
    geo.submit(node(999), public);
    drained(&geo).await;

    assert_eq!(asked(&standin), vec![public.to_string()]);
    for ((ip, label), id) in non_public.iter().zip(&peers) {
        let g = store.get_peer(id).unwrap().unwrap().geo.expect("labelled");
        assert!(g.private, "{ip}");
        assert_eq!(g.country, *label, "{ip}");
        assert_eq!(g.ip, ip.parse::<IpAddr>().unwrap().to_string());
        assert!(g.city.is_empty() && g.asn.is_empty() && g.country_code.is_empty());
    }
    assert_eq!(geo.stats().non_public, non_public.len() as u64);
    cancel.cancel();
}

/// Stores a peer with `ip` (if any) in its ENR and returns its node id.
fn stored_peer(store: &Store, i: usize, ip: Option<IpAddr>) -> NodeId {
    let mut secret = [7u8; 32];
    secret[..8].copy_from_slice(&(i as u64 + 1).to_be_bytes());
    let key = CombinedKey::secp256k1_from_bytes(&mut secret).unwrap();
    let mut b = Enr::builder();
    match ip {
        Some(IpAddr::V4(v4)) => {
            b.ip4(v4).udp4(9000).tcp4(60000);
        }
        Some(IpAddr::V6(v6)) => {
            b.ip6(v6).udp6(9000).tcp6(60000);
        }
        None => {}
    }
    let enr = b.build(&key).unwrap();
    let decoded = DecodedEnr::from_enr(&enr);
    store.upsert_peer(1, &decoded, now_millis()).unwrap();
    decoded.node_id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn geolocation_reaches_get_peer_list_peers_stats_and_http() {
    let standin = GeoStandIn::start(0, StandInConfig::default())
        .await
        .unwrap();
    let server = Server::start_with(EngineConfig {
        geo: Some(config(&standin)),
        ..EngineConfig::default()
    })
    .await;
    let store = server.engine().store().clone();
    let geo = server
        .engine()
        .geolocator()
        .expect("geolocation on")
        .clone();
    // Peers as a crawl would store them, with public-looking IPs (no crawl runs: nothing
    // dials them), submitted the way the crawl submits what it discovers.
    let ips = public_ips(12);
    let mut ids = Vec::new();
    for (i, ip) in ips.iter().enumerate() {
        let id = stored_peer(&store, i, Some(*ip));
        geo.submit(id, *ip);
        ids.push(id);
    }
    let private_id = stored_peer(&store, 50, Some("10.9.8.7".parse().unwrap()));
    geo.submit(private_id, "10.9.8.7".parse().unwrap());
    drained(&geo).await;

    let mut client = server.client().await;
    let mut want_by_country: BTreeMap<String, u64> = BTreeMap::new();
    for (id, ip) in ids.iter().zip(&ips) {
        let want = fake_answer(&ip.to_string());
        let peer = client
            .get_peer(pb::GetPeerRequest {
                key: Some(pb::get_peer_request::Key::NodeId(hex::encode(id))),
            })
            .await
            .unwrap()
            .into_inner()
            .peer
            .unwrap();
        let g = peer.geo.expect("geolocated");
        assert_eq!(g.ip, ip.to_string());
        assert_eq!(g.country, want["country"].as_str().unwrap());
        assert_eq!(g.country_code, want["countryCode"].as_str().unwrap());
        assert_eq!(g.city, want["city"].as_str().unwrap());
        assert_eq!(g.asn, want["as"].as_str().unwrap());
        assert_eq!(g.isp, want["isp"].as_str().unwrap());
        assert!(!g.private && g.error.is_empty() && g.looked_up_at.is_some());
        *want_by_country.entry(g.country.clone()).or_default() += 1;
    }
    *want_by_country.entry("private".into()).or_default() += 1;
    assert!(want_by_country.len() >= 3, "{want_by_country:?}");

    let stats = client
        .get_network_stats(pb::GetNetworkStatsRequest::default())
        .await
        .unwrap()
        .into_inner();
    let got: BTreeMap<String, u64> = stats.by_country.into_iter().collect();
    assert_eq!(got, want_by_country);

    // ListPeers filters by country name or ISO code.
    let (country, n) = want_by_country
        .iter()
        .find(|(c, _)| c.as_str() != "private")
        .unwrap();
    let code = fake_answer(&ips[0].to_string())["countryCode"]
        .as_str()
        .unwrap()
        .to_string();
    let listed = client
        .list_peers(pb::ListPeersRequest {
            country: country.to_lowercase(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .peers;
    assert_eq!(listed.len() as u64, *n);
    assert!(listed
        .iter()
        .all(|p| p.geo.as_ref().unwrap().country == *country));
    let by_code = client
        .list_peers(pb::ListPeersRequest {
            country: code.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .peers;
    assert!(!by_code.is_empty());
    assert!(by_code
        .iter()
        .all(|p| p.geo.as_ref().unwrap().country_code == code));

    // The seed monitor's metric and JSON.
    let (status, metrics) = http_get(server.http, "/metrics", None).await;
    assert_eq!(status, 200);
    for (c, n) in &want_by_country {
        let line = format!("networkmonitor_peer_country_count{{country=\"{c}\"}} {n}");
        assert!(metrics.contains(&line), "{line} missing");
    }
    let (status, body) = http_get(server.http, "/allpeersinfo", None).await;
    assert_eq!(status, 200);
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    let first = fake_answer(&ips[0].to_string());
    let entry = json
        .as_array()
        .or_else(|| json["peers"].as_array())
        .expect("a list of peers")
        .iter()
        .find(|p| p["ip"] == ips[0].to_string())
        .expect("the first peer");
    assert_eq!(entry["country"], first["country"]);
    assert_eq!(entry["city"], first["city"]);

    // Submitting them again (as a re-crawl does) sends nothing.
    let before = standin.requests().len();
    for (id, ip) in ids.iter().zip(&ips) {
        geo.submit(*id, *ip);
    }
    drained(&geo).await;
    assert_eq!(standin.requests().len(), before);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crawled_loopback_peers_are_labelled_and_nothing_is_sent() {
    let standin = GeoStandIn::start(0, StandInConfig::default())
        .await
        .unwrap();
    let net = Testnet::start(TestnetConfig {
        nodes: 24,
        seed: 11,
        ..TestnetConfig::default()
    })
    .await
    .unwrap();
    let server = Server::start_with(EngineConfig {
        geo: Some(config(&standin)),
        ..EngineConfig::default()
    })
    .await;
    let mut client = server.client().await;
    let (crawl, done) = server
        .crawl(
            &mut client,
            oneshot(net.bootstrap_enrs()),
            Duration::from_secs(120),
        )
        .await;
    assert_eq!(done.progress.unwrap().discovered, 24);
    let geo = server.engine().geolocator().unwrap().clone();
    drained(&geo).await;

    let peers = all_peers(&mut client, &crawl.id, 100).await;
    assert_eq!(peers.len(), 24);
    for p in &peers {
        let g = p.geo.as_ref().expect("every peer labelled");
        assert!(g.private, "{g:?}");
        assert_eq!(g.country, "loopback");
        assert_eq!(g.ip, "127.0.0.1");
    }
    assert!(standin.requests().is_empty(), "{:#?}", standin.requests());
    let stats = client
        .get_network_stats(pb::GetNetworkStatsRequest {
            crawl_id: crawl.id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(stats.by_country.get("loopback"), Some(&24));
    let (_, metrics) = http_get(server.http, "/metrics", None).await;
    assert!(
        metrics.contains("networkmonitor_peer_country_count{country=\"loopback\"} 24"),
        "{metrics}"
    );
    server.stop().await;
}
