//! Offline geolocation from a MaxMind-format database the test writes itself
//! (`peerscope::testnet::mmdb`), with the ip-api stand-in configured too: the file wins and
//! not one HTTP request is made.
//!
//! As in the ip-api tests, the public addresses are only data (stored in ENRs and looked
//! up in the file); nothing connects to them.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Duration;

use enr::CombinedKey;
use peerscope::engine::geo::GeoConfig;
use peerscope::engine::EngineConfig;
use peerscope::model::{now_millis, NodeId};
use peerscope::proto::pb;
use peerscope::protocol::enr::{DecodedEnr, Enr};
use peerscope::store::Store;
use peerscope::testnet::geo::{GeoStandIn, StandInConfig};
use peerscope::testnet::mmdb;

use crate::common::{wait_until, Server};

/// Stores a peer with `ip` in its ENR and returns its node id.
fn stored_peer(store: &Store, i: usize, ip: IpAddr) -> NodeId {
    let mut secret = [9u8; 32];
    secret[..8].copy_from_slice(&(i as u64 + 1).to_be_bytes());
    let key = CombinedKey::secp256k1_from_bytes(&mut secret).unwrap();
    let mut b = Enr::builder();
    match ip {
        IpAddr::V4(v4) => b.ip4(v4).udp4(9000).tcp4(60000),
        IpAddr::V6(v6) => b.ip6(v6).udp6(9000).tcp6(60000),
    };
    let enr = b.build(&key).unwrap();
    let decoded = DecodedEnr::from_enr(&enr);
    store.upsert_peer(1, &decoded, now_millis()).unwrap();
    decoded.node_id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn geo_db_locates_peers_offline_without_http() {
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("GeoLite2-City-test.mmdb");
    std::fs::write(
        &db_path,
        mmdb::write(
            &[
                (
                    "81.2.69.0".parse().unwrap(),
                    24,
                    mmdb::city_record("GB", "United Kingdom", "London"),
                ),
                (
                    "5.9.0.0".parse().unwrap(),
                    16,
                    mmdb::city_record("DE", "Germany", "Nuremberg"),
                ),
                (
                    "2a01:4f8::".parse().unwrap(),
                    32,
                    mmdb::city_record("DE", "Germany", "Falkenstein"),
                ),
                (
                    "175.45.176.0".parse().unwrap(),
                    22,
                    mmdb::city_record("KP", "North Korea", ""),
                ),
            ],
            "GeoLite2-City",
        ),
    )
    .unwrap();
    // ip-api's stand-in is configured as well: it must not hear a thing.
    let standin = GeoStandIn::start(0, StandInConfig::default())
        .await
        .unwrap();
    let server = Server::start_with(EngineConfig {
        geo: Some(GeoConfig {
            base_url: standin.base_url(),
            database: Some(db_path.clone()),
            ..GeoConfig::default()
        }),
        ..EngineConfig::default()
    })
    .await;
    let store = server.engine().store().clone();
    let geo = server
        .engine()
        .geolocator()
        .expect("geolocation on")
        .clone();
    // (address, country, ISO code, city); the last is in no network of the file.
    let want: [(&str, &str, &str, &str); 6] = [
        ("81.2.69.142", "United Kingdom", "GB", "London"),
        ("81.2.69.7", "United Kingdom", "GB", "London"),
        ("5.9.100.3", "Germany", "DE", "Nuremberg"),
        ("2a01:4f8:c17:1::1", "Germany", "DE", "Falkenstein"),
        ("175.45.177.1", "North Korea", "KP", ""),
        ("81.3.1.1", "", "", ""),
    ];
    let mut nodes = HashMap::new();
    for (i, (ip, ..)) in want.iter().enumerate() {
        let ip: IpAddr = ip.parse().unwrap();
        let node = stored_peer(&store, i, ip);
        assert!(geo.submit(node, ip));
        nodes.insert(want[i].0, node);
    }
    // A loopback peer is still labelled without a lookup.
    let local = stored_peer(&store, 99, "127.0.0.1".parse().unwrap());
    geo.submit(local, "127.0.0.1".parse().unwrap());
    wait_until(Duration::from_secs(30), "the geolocator to finish", || {
        geo.backlog() == 0
    })
    .await;

    let mut client = server.client().await;
    for (ip, country, code, city) in want {
        let node = nodes[ip];
        let peer = client
            .get_peer(pb::GetPeerRequest {
                key: Some(pb::get_peer_request::Key::NodeId(hex::encode(node))),
            })
            .await
            .unwrap()
            .into_inner()
            .peer
            .unwrap();
        let g = peer.geo.unwrap_or_else(|| panic!("{ip} not geolocated"));
        assert_eq!(
            (g.country.as_str(), g.country_code.as_str(), g.city.as_str()),
            (country, code, city),
            "{ip}"
        );
        assert_eq!(g.error.is_empty(), !country.is_empty(), "{ip}: {}", g.error);
        assert!(!g.private);
    }
    let stats = client
        .get_network_stats(pb::GetNetworkStatsRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(stats.by_country["United Kingdom"], 2);
    assert_eq!(stats.by_country["Germany"], 2);
    assert_eq!(stats.by_country["North Korea"], 1);
    assert_eq!(stats.by_country["unknown"], 1);
    assert_eq!(stats.by_country["loopback"], 1);
    let s = geo.stats();
    assert_eq!((s.db_lookups, s.looked_up, s.non_public), (6, 6, 1));
    assert_eq!(s.single_requests + s.batch_requests, 0);
    // No HTTP request was made.
    assert!(standin.requests().is_empty(), "{:?}", standin.requests());
    drop(client);
    server.stop().await;
}
