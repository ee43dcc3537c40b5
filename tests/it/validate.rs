//! Input validation of every `peerscope.v1.Crawler` RPC, table-driven: empty, oversized,
//! malformed and out-of-range arguments against a real server (sled store in a temp dir,
//! gRPC over TCP on 127.0.0.1) must answer the code the proto documents, with a message
//! that names the field, promptly; one valid request per RPC proves each call can succeed.

use std::time::Duration;

use enr::CombinedKey;
use peerscope::engine::EngineConfig;
use peerscope::proto::pb;
use peerscope::proto::pb::crawler_client::CrawlerClient;
use peerscope::protocol::enr::Enr;
use peerscope::testnet::{Testnet, TestnetConfig};
use tokio_stream::StreamExt;
use tonic::transport::Channel;
use tonic::{Code, Status};

use crate::common::{oneshot, within, Server};

/// Time one call may take before the row counts as a hang.
const CALL_LIMIT: Duration = Duration::from_secs(20);
/// Longest status message accepted: a huge argument must not be echoed back whole.
const MAX_MESSAGE: usize = 1024;
/// One mebibyte: the size of the "huge string" arguments.
const MIB: usize = 1 << 20;

/// One RPC with its request.
enum Call {
    // Boxed: far larger than the other requests.
    StartCrawl(Box<pb::StartCrawlRequest>),
    StopCrawl(pb::StopCrawlRequest),
    GetCrawl(pb::GetCrawlRequest),
    ListCrawls(pb::ListCrawlsRequest),
    WatchCrawl(pb::WatchCrawlRequest),
    StreamPeerEvents(pb::StreamPeerEventsRequest),
    GetPeer(pb::GetPeerRequest),
    ListPeers(pb::ListPeersRequest),
    GetMessageCounts(pb::GetMessageCountsRequest),
    GetNetworkStats(pb::GetNetworkStatsRequest),
    GetSinkStatus(pb::GetSinkStatusRequest),
}

impl Call {
    fn rpc(&self) -> &'static str {
        match self {
            Call::StartCrawl(_) => "StartCrawl",
            Call::StopCrawl(_) => "StopCrawl",
            Call::GetCrawl(_) => "GetCrawl",
            Call::ListCrawls(_) => "ListCrawls",
            Call::WatchCrawl(_) => "WatchCrawl",
            Call::StreamPeerEvents(_) => "StreamPeerEvents",
            Call::GetPeer(_) => "GetPeer",
            Call::ListPeers(_) => "ListPeers",
            Call::GetMessageCounts(_) => "GetMessageCounts",
            Call::GetNetworkStats(_) => "GetNetworkStats",
            Call::GetSinkStatus(_) => "GetSinkStatus",
        }
    }
}

/// A row of the table: the call, the code it must answer and a part of the message (the
/// field name, for errors).
struct Row {
    what: String,
    call: Call,
    code: Code,
    needle: String,
}

fn row(what: impl Into<String>, call: Call, code: Code, needle: impl Into<String>) -> Row {
    Row {
        what: what.into(),
        call,
        code,
        needle: needle.into(),
    }
}

/// Runs a call to its status: unary calls by their answer, streaming calls by the call's
/// status or, once accepted, by their first item (an accepted stream that ends at once is
/// OK too).
async fn run(client: &mut CrawlerClient<Channel>, call: Call) -> Status {
    fn status<T>(r: Result<T, Status>) -> Status {
        match r {
            Ok(_) => Status::ok(""),
            Err(s) => s,
        }
    }
    let fut = async {
        match call {
            Call::StartCrawl(r) => status(client.start_crawl(*r).await),
            Call::StopCrawl(r) => status(client.stop_crawl(r).await),
            Call::GetCrawl(r) => status(client.get_crawl(r).await),
            Call::ListCrawls(r) => status(client.list_crawls(r).await),
            Call::WatchCrawl(r) => match client.watch_crawl(r).await {
                Ok(s) => status(
                    s.into_inner()
                        .next()
                        .await
                        .unwrap_or(Ok(Default::default())),
                ),
                Err(s) => s,
            },
            Call::StreamPeerEvents(r) => match client.stream_peer_events(r).await {
                Ok(s) => status(
                    s.into_inner()
                        .next()
                        .await
                        .unwrap_or(Ok(Default::default())),
                ),
                Err(s) => s,
            },
            Call::GetPeer(r) => status(client.get_peer(r).await),
            Call::ListPeers(r) => status(client.list_peers(r).await),
            Call::GetMessageCounts(r) => status(client.get_message_counts(r).await),
            Call::GetNetworkStats(r) => status(client.get_network_stats(r).await),
            Call::GetSinkStatus(r) => status(client.get_sink_status(r).await),
        }
    };
    tokio::time::timeout(CALL_LIMIT, fut)
        .await
        .unwrap_or_else(|_| Status::deadline_exceeded(format!("no answer within {CALL_LIMIT:?}")))
}

fn dur(seconds: i64, nanos: i32) -> Option<prost_types::Duration> {
    Some(prost_types::Duration { seconds, nanos })
}

fn ts(seconds: i64, nanos: i32) -> Option<prost_types::Timestamp> {
    Some(prost_types::Timestamp { seconds, nanos })
}

fn waku(cluster_id: u32, shards: Vec<u32>, preset: &str) -> Option<pb::NetworkProfile> {
    Some(pb::NetworkProfile {
        profile: Some(pb::network_profile::Profile::Waku(pb::WakuProfile {
            cluster_id,
            shards,
            preset: preset.into(),
            ..Default::default()
        })),
    })
}

fn custom(protocol_id: &str) -> Option<pb::NetworkProfile> {
    Some(pb::NetworkProfile {
        profile: Some(pb::network_profile::Profile::Custom(pb::CustomProfile {
            protocol_id: protocol_id.into(),
        })),
    })
}

fn ethereum() -> Option<pb::NetworkProfile> {
    Some(pb::NetworkProfile {
        profile: Some(pb::network_profile::Profile::Ethereum(
            pb::EthereumProfile {},
        )),
    })
}

fn seed(listen_addr: &str, advertise_ip: &str) -> Option<pb::PeerExchangeOptions> {
    Some(pb::PeerExchangeOptions {
        seed: Some(pb::SeedOptions {
            listen_addr: listen_addr.into(),
            advertise_ip: advertise_ip.into(),
            requester_interval: None,
            ..Default::default()
        }),
        ..Default::default()
    })
}

/// A signed record with ip/tcp but no UDP endpoint: nothing discv5 could query.
fn enr_without_udp() -> String {
    let mut secret = [9u8; 32];
    let key = CombinedKey::secp256k1_from_bytes(&mut secret).unwrap();
    let mut b = Enr::builder();
    b.ip4("127.0.0.1".parse().unwrap()).tcp4(60000);
    b.build(&key).unwrap().to_base64()
}

/// A valid tree URL (the EIP-1459 example key) under a domain only the test's silent
/// nameserver is asked about.
const TREE_URL: &str =
    "enrtree://AM5FCQLWIZX2QFPNJAP7VUERCCRNGRHWZG3YYHIUV7BVDQ5FDPRT2@nodes.peerscope.test";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_rpc_rejects_bad_arguments_with_the_documented_code_naming_the_field() {
    // A nameserver on loopback that never answers: tree lookups fail, and nothing leaves
    // the machine.
    let silent_dns = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let server = Server::start_with(EngineConfig {
        dns: peerscope::protocol::dns::ResolverSettings {
            nameservers: vec![silent_dns.local_addr().unwrap()],
            timeout: Duration::from_millis(300),
            ..Default::default()
        },
        ..EngineConfig::default()
    })
    .await;
    let mut client = server.client().await;
    let net = Testnet::start(TestnetConfig {
        nodes: 4,
        libp2p: false,
        ..TestnetConfig::default()
    })
    .await
    .unwrap();
    let good = pb::StartCrawlRequest {
        dial: Some(false),
        listen_addr: "127.0.0.1:0".into(),
        ..oneshot(net.bootstrap_enrs())
    };
    let enr = net.bootstrap_enrs()[0].clone();

    // A finished crawl with stored peers and events, for the valid rows.
    let (crawl, done) = server
        .crawl(&mut client, good.clone(), Duration::from_secs(60))
        .await;
    assert_eq!(done.state, pb::CrawlState::Finished as i32, "{done:?}");
    let node = net.nodes()[1].clone();
    let last_sequence = {
        let mut events = client
            .stream_peer_events(pb::StreamPeerEventsRequest {
                after_sequence: Some(0),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        let first = within(CALL_LIMIT, events.next()).await.unwrap().unwrap();
        assert!(first.event.is_some());
        server.engine().store().last_sequence()
    };
    assert!(last_sequence > 0);
    // A socket in use: StartCrawl cannot bind its discv5 socket there.
    let busy = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let busy_addr = busy.local_addr().unwrap().to_string();
    let unknown_peer_id = libp2p::identity::Keypair::generate_secp256k1()
        .public()
        .to_peer_id()
        .to_string();

    let huge = "A".repeat(MIB);
    let bad = Code::InvalidArgument;
    let ok = Code::Ok;
    let s = |r: pb::StartCrawlRequest| Call::StartCrawl(Box::new(r));
    let g = good.clone();
    let mut rows = vec![
        // ---- StartCrawl -------------------------------------------------------------
        row("valid oneshot crawl", s(g.clone()), ok, ""),
        row(
            "no profile",
            s(pb::StartCrawlRequest {
                profile: None,
                ..g.clone()
            }),
            bad,
            "profile",
        ),
        row(
            "profile with no variant",
            s(pb::StartCrawlRequest {
                profile: Some(pb::NetworkProfile { profile: None }),
                ..g.clone()
            }),
            bad,
            "profile",
        ),
        row(
            "cluster id above u16",
            s(pb::StartCrawlRequest {
                profile: waku(65536, vec![], ""),
                ..g.clone()
            }),
            bad,
            "profile.waku.cluster_id",
        ),
        row(
            "shard 1024",
            s(pb::StartCrawlRequest {
                profile: waku(1, vec![1024], ""),
                ..g.clone()
            }),
            bad,
            "profile.waku.shards[0]",
        ),
        row(
            "third shard u32::MAX",
            s(pb::StartCrawlRequest {
                profile: waku(1, vec![0, 5, u32::MAX], ""),
                ..g.clone()
            }),
            bad,
            "profile.waku.shards[2]",
        ),
        row(
            "too many shards",
            s(pb::StartCrawlRequest {
                profile: waku(1, vec![1; 2000], ""),
                ..g.clone()
            }),
            bad,
            "profile.waku.shards: 2000 entries",
        ),
        row(
            "unknown preset",
            s(pb::StartCrawlRequest {
                profile: waku(0, vec![], "nope"),
                ..g.clone()
            }),
            bad,
            "profile.waku.preset",
        ),
        row(
            "1 MiB preset",
            s(pb::StartCrawlRequest {
                profile: waku(0, vec![], &huge),
                ..g.clone()
            }),
            bad,
            "profile.waku.preset",
        ),
        row(
            "waku protocol id too short",
            s(pb::StartCrawlRequest {
                profile: Some(pb::NetworkProfile {
                    profile: Some(pb::network_profile::Profile::Waku(pb::WakuProfile {
                        cluster_id: 1,
                        protocol_id: "d5w".into(),
                        ..Default::default()
                    })),
                }),
                ..g.clone()
            }),
            bad,
            "profile.waku.protocol_id",
        ),
        row(
            "waku profile speaking discv5",
            s(pb::StartCrawlRequest {
                profile: Some(pb::NetworkProfile {
                    profile: Some(pb::network_profile::Profile::Waku(pb::WakuProfile {
                        cluster_id: 1,
                        protocol_id: "discv5".into(),
                        ..Default::default()
                    })),
                }),
                ..g.clone()
            }),
            ok,
            "",
        ),
        row(
            "allowed CIDR that is not one",
            s(pb::StartCrawlRequest {
                allowed_cidrs: vec!["127.0.0.1/32".into(), "10.0.0.0/33".into()],
                ..g.clone()
            }),
            bad,
            "allowed_cidrs[1]",
        ),
        row(
            "257 allowed CIDRs",
            s(pb::StartCrawlRequest {
                allowed_cidrs: vec!["127.0.0.1".into(); 257],
                ..g.clone()
            }),
            bad,
            "allowed_cidrs",
        ),
        row(
            "allowed CIDRs as addresses and networks",
            s(pb::StartCrawlRequest {
                allowed_cidrs: vec!["127.0.0.1".into(), "::1/128".into()],
                ..g.clone()
            }),
            ok,
            "",
        ),
        row(
            "max peers above 10 million",
            s(pb::StartCrawlRequest {
                limits: Some(pb::CrawlLimits {
                    max_peers: 10_000_001,
                    ..Default::default()
                }),
                ..g.clone()
            }),
            bad,
            "limits.max_peers",
        ),
        row(
            "no new records per responder",
            s(pb::StartCrawlRequest {
                limits: Some(pb::CrawlLimits {
                    max_new_per_responder: Some(0),
                    ..Default::default()
                }),
                ..g.clone()
            }),
            bad,
            "limits.max_new_per_responder",
        ),
        row(
            "custom protocol id too short",
            s(pb::StartCrawlRequest {
                profile: custom("dv5"),
                ..g.clone()
            }),
            bad,
            "profile.custom.protocol_id",
        ),
        row(
            "custom protocol id empty",
            s(pb::StartCrawlRequest {
                profile: custom(""),
                ..g.clone()
            }),
            bad,
            "profile.custom.protocol_id",
        ),
        row(
            "custom protocol id of 6 non-ASCII bytes",
            s(pb::StartCrawlRequest {
                profile: custom("dïsc5"),
                ..g.clone()
            }),
            bad,
            "profile.custom.protocol_id",
        ),
        row(
            "no bootstrap and no tree",
            s(pb::StartCrawlRequest {
                bootstrap_enrs: vec![],
                ..g.clone()
            }),
            bad,
            "bootstrap_enrs",
        ),
        row(
            "malformed ENR",
            s(pb::StartCrawlRequest {
                bootstrap_enrs: vec!["enr:-not-a-record".into()],
                ..g.clone()
            }),
            bad,
            "bootstrap_enrs[0]",
        ),
        row(
            "empty fourth ENR",
            s(pb::StartCrawlRequest {
                bootstrap_enrs: vec![enr.clone(), enr.clone(), enr.clone(), String::new()],
                ..g.clone()
            }),
            bad,
            "bootstrap_enrs[3]",
        ),
        row(
            "1 MiB ENR",
            s(pb::StartCrawlRequest {
                bootstrap_enrs: vec![format!("enr:{huge}")],
                ..g.clone()
            }),
            bad,
            "bootstrap_enrs[0]",
        ),
        row(
            "ENR without a UDP endpoint",
            s(pb::StartCrawlRequest {
                bootstrap_enrs: vec![enr_without_udp()],
                ..g.clone()
            }),
            bad,
            "bootstrap_enrs[0]: the record has no UDP endpoint",
        ),
        row(
            "100k short bootstrap entries",
            s(pb::StartCrawlRequest {
                bootstrap_enrs: vec!["enr:x".into(); 100_000],
                ..g.clone()
            }),
            bad,
            "bootstrap_enrs: 100000 records, at most 1024",
        ),
        row(
            "100k real ENRs (a request above 4 MiB)",
            s(pb::StartCrawlRequest {
                bootstrap_enrs: vec![enr.clone(); 100_000],
                ..g.clone()
            }),
            Code::OutOfRange,
            "message length too large",
        ),
        row(
            "tree URL with another scheme",
            s(pb::StartCrawlRequest {
                dns_tree_urls: vec!["https://nodes.peerscope.test".into()],
                ..g.clone()
            }),
            bad,
            "dns_tree_urls[0]",
        ),
        row(
            "tree URL with a bad key",
            s(pb::StartCrawlRequest {
                dns_tree_urls: vec![
                    TREE_URL.into(),
                    "enrtree://not-a-key@nodes.peerscope.test".into(),
                ],
                ..g.clone()
            }),
            bad,
            "dns_tree_urls[1]",
        ),
        row(
            "1 MiB tree URL",
            s(pb::StartCrawlRequest {
                dns_tree_urls: vec![format!("enrtree://{huge}@x.test")],
                ..g.clone()
            }),
            bad,
            "dns_tree_urls[0]",
        ),
        row(
            "65 tree URLs",
            s(pb::StartCrawlRequest {
                dns_tree_urls: vec![TREE_URL.into(); 65],
                ..g.clone()
            }),
            bad,
            "dns_tree_urls: 65 URLs",
        ),
        row(
            "64 tree URLs plus a preset",
            s(pb::StartCrawlRequest {
                profile: waku(0, vec![], "sandbox"),
                dns_tree_urls: vec![TREE_URL.into(); 64],
                ..g.clone()
            }),
            bad,
            "dns_tree_urls: 65 URLs",
        ),
        row(
            "tree that does not resolve",
            s(pb::StartCrawlRequest {
                dns_tree_urls: vec![TREE_URL.into()],
                ..g.clone()
            }),
            Code::FailedPrecondition,
            "dns_tree_urls",
        ),
        row(
            "unknown mode",
            s(pb::StartCrawlRequest {
                mode: 42,
                ..g.clone()
            }),
            bad,
            "mode",
        ),
        row(
            "negative mode",
            s(pb::StartCrawlRequest {
                mode: -1,
                ..g.clone()
            }),
            bad,
            "mode",
        ),
        row(
            "zero recrawl interval",
            s(pb::StartCrawlRequest {
                recrawl_interval: dur(0, 0),
                ..g.clone()
            }),
            bad,
            "recrawl_interval",
        ),
        row(
            "negative recrawl interval",
            s(pb::StartCrawlRequest {
                recrawl_interval: dur(-5, 0),
                ..g.clone()
            }),
            bad,
            "recrawl_interval",
        ),
        row(
            "recrawl interval of 31 days",
            s(pb::StartCrawlRequest {
                recrawl_interval: dur(31 * 86400, 0),
                ..g.clone()
            }),
            bad,
            "recrawl_interval",
        ),
        row(
            "recrawl interval with nanos out of range",
            s(pb::StartCrawlRequest {
                recrawl_interval: dur(10, 1_000_000_000),
                ..g.clone()
            }),
            bad,
            "recrawl_interval",
        ),
        row(
            "zero concurrency",
            s(pb::StartCrawlRequest {
                concurrency: Some(0),
                ..g.clone()
            }),
            bad,
            "concurrency",
        ),
        row(
            "concurrency 4097",
            s(pb::StartCrawlRequest {
                concurrency: Some(4097),
                ..g.clone()
            }),
            bad,
            "concurrency",
        ),
        row(
            "concurrency u32::MAX",
            s(pb::StartCrawlRequest {
                concurrency: Some(u32::MAX),
                ..g.clone()
            }),
            bad,
            "concurrency",
        ),
        row(
            "zero request timeout",
            s(pb::StartCrawlRequest {
                request_timeout: dur(0, 0),
                ..g.clone()
            }),
            bad,
            "request_timeout",
        ),
        row(
            "request timeout above 60s",
            s(pb::StartCrawlRequest {
                request_timeout: dur(61, 0),
                ..g.clone()
            }),
            bad,
            "request_timeout",
        ),
        row(
            "negative request timeout",
            s(pb::StartCrawlRequest {
                request_timeout: dur(0, -1),
                ..g.clone()
            }),
            bad,
            "request_timeout",
        ),
        row(
            "zero FINDNODE distances",
            s(pb::StartCrawlRequest {
                find_node_distances: Some(0),
                ..g.clone()
            }),
            bad,
            "find_node_distances",
        ),
        row(
            "257 FINDNODE distances",
            s(pb::StartCrawlRequest {
                find_node_distances: Some(257),
                ..g.clone()
            }),
            bad,
            "find_node_distances",
        ),
        row(
            "1025 random lookups",
            s(pb::StartCrawlRequest {
                random_lookups: Some(1025),
                ..g.clone()
            }),
            bad,
            "random_lookups",
        ),
        row(
            "negative max duration",
            s(pb::StartCrawlRequest {
                limits: Some(pb::CrawlLimits {
                    max_peers: 0,
                    max_duration: dur(-1, 0),
                    ..Default::default()
                }),
                ..g.clone()
            }),
            bad,
            "limits.max_duration",
        ),
        row(
            "max duration i64::MAX seconds",
            s(pb::StartCrawlRequest {
                limits: Some(pb::CrawlLimits {
                    max_peers: 0,
                    max_duration: dur(i64::MAX, 0),
                    ..Default::default()
                }),
                ..g.clone()
            }),
            bad,
            "limits.max_duration",
        ),
        row(
            "max duration of 366 days",
            s(pb::StartCrawlRequest {
                limits: Some(pb::CrawlLimits {
                    max_peers: 0,
                    max_duration: dur(366 * 86400, 0),
                    ..Default::default()
                }),
                ..g.clone()
            }),
            bad,
            "limits.max_duration",
        ),
        row(
            "name of 201 bytes",
            s(pb::StartCrawlRequest {
                name: "n".repeat(201),
                ..g.clone()
            }),
            bad,
            "name: 201 bytes",
        ),
        row(
            "1 MiB name",
            s(pb::StartCrawlRequest {
                name: huge.clone(),
                ..g.clone()
            }),
            bad,
            "name",
        ),
        row(
            "33 labels",
            s(pb::StartCrawlRequest {
                labels: (0..33)
                    .map(|i| (format!("k{i}"), "v".to_string()))
                    .collect(),
                ..g.clone()
            }),
            bad,
            "labels: 33 entries",
        ),
        row(
            "empty label key",
            s(pb::StartCrawlRequest {
                labels: [(String::new(), "v".into())].into(),
                ..g.clone()
            }),
            bad,
            "labels[\"\"]",
        ),
        row(
            "label value of 201 bytes",
            s(pb::StartCrawlRequest {
                labels: [("k".into(), "v".repeat(201))].into(),
                ..g.clone()
            }),
            bad,
            "labels[\"k\"]",
        ),
        row(
            "1 MiB label key",
            s(pb::StartCrawlRequest {
                labels: [(huge.clone(), "v".into())].into(),
                ..g.clone()
            }),
            bad,
            "labels[\"AAAA",
        ),
        row(
            "listen address without a port",
            s(pb::StartCrawlRequest {
                listen_addr: "localhost".into(),
                ..g.clone()
            }),
            bad,
            "listen_addr",
        ),
        row(
            "listen port above 65535",
            s(pb::StartCrawlRequest {
                listen_addr: "127.0.0.1:99999".into(),
                ..g.clone()
            }),
            bad,
            "listen_addr",
        ),
        row(
            "1 MiB listen address",
            s(pb::StartCrawlRequest {
                listen_addr: huge.clone(),
                ..g.clone()
            }),
            bad,
            "listen_addr",
        ),
        row(
            "listen address in use",
            s(pb::StartCrawlRequest {
                listen_addr: busy_addr.clone(),
                ..g.clone()
            }),
            Code::FailedPrecondition,
            format!("could not start discv5 on {busy_addr}"),
        ),
        row(
            "zero dial concurrency",
            s(pb::StartCrawlRequest {
                dial_concurrency: Some(0),
                ..g.clone()
            }),
            bad,
            "dial_concurrency",
        ),
        row(
            "dial concurrency 1025",
            s(pb::StartCrawlRequest {
                dial_concurrency: Some(1025),
                ..g.clone()
            }),
            bad,
            "dial_concurrency",
        ),
        row(
            "zero dials per IP",
            s(pb::StartCrawlRequest {
                dials_per_ip: Some(0),
                ..g.clone()
            }),
            bad,
            "dials_per_ip",
        ),
        row(
            "dials per IP 1025",
            s(pb::StartCrawlRequest {
                dials_per_ip: Some(1025),
                ..g.clone()
            }),
            bad,
            "dials_per_ip",
        ),
        row(
            "zero dial timeout",
            s(pb::StartCrawlRequest {
                dial_timeout: dur(0, 0),
                ..g.clone()
            }),
            bad,
            "dial_timeout",
        ),
        row(
            "dial timeout 99ms",
            s(pb::StartCrawlRequest {
                dial_timeout: dur(0, 99_000_000),
                ..g.clone()
            }),
            bad,
            "dial_timeout",
        ),
        row(
            "dial timeout above 60s",
            s(pb::StartCrawlRequest {
                dial_timeout: dur(60, 1),
                ..g.clone()
            }),
            bad,
            "dial_timeout",
        ),
        row(
            "zero redial interval",
            s(pb::StartCrawlRequest {
                min_redial_interval: dur(0, 0),
                ..g.clone()
            }),
            bad,
            "min_redial_interval",
        ),
        row(
            "relay for an Ethereum crawl",
            s(pb::StartCrawlRequest {
                profile: ethereum(),
                relay: Some(true),
                ..g.clone()
            }),
            bad,
            "relay",
        ),
        row(
            "relay without dial",
            s(pb::StartCrawlRequest {
                relay: Some(true),
                ..g.clone()
            }),
            bad,
            "relay",
        ),
        row(
            "zero relay peers",
            s(pb::StartCrawlRequest {
                relay_peers: Some(0),
                ..g.clone()
            }),
            bad,
            "relay_peers",
        ),
        row(
            "65 relay peers",
            s(pb::StartCrawlRequest {
                relay_peers: Some(65),
                ..g.clone()
            }),
            bad,
            "relay_peers",
        ),
        row(
            "65 pubsub topics",
            s(pb::StartCrawlRequest {
                pubsub_topics: vec!["/waku/2/rs/1/0".into(); 65],
                ..g.clone()
            }),
            bad,
            "pubsub_topics: 65 topics",
        ),
        row(
            "empty pubsub topic",
            s(pb::StartCrawlRequest {
                pubsub_topics: vec![String::new()],
                ..g.clone()
            }),
            bad,
            "pubsub_topics[0]",
        ),
        row(
            "second pubsub topic of 257 bytes",
            s(pb::StartCrawlRequest {
                pubsub_topics: vec!["/a".into(), "t".repeat(257)],
                ..g.clone()
            }),
            bad,
            "pubsub_topics[1]",
        ),
        row(
            "pubsub topic with NUL",
            s(pb::StartCrawlRequest {
                pubsub_topics: vec!["a\0b".into()],
                ..g.clone()
            }),
            bad,
            "pubsub_topics[0]",
        ),
        row(
            "zero peer-exchange interval",
            s(pb::StartCrawlRequest {
                peer_exchange: Some(pb::PeerExchangeOptions {
                    interval: dur(0, 0),
                    ..Default::default()
                }),
                ..g.clone()
            }),
            bad,
            "peer_exchange.interval",
        ),
        row(
            "peer-exchange interval of 31 days",
            s(pb::StartCrawlRequest {
                peer_exchange: Some(pb::PeerExchangeOptions {
                    interval: dur(31 * 86400, 0),
                    ..Default::default()
                }),
                ..g.clone()
            }),
            bad,
            "peer_exchange.interval",
        ),
        row(
            "peer-exchange client without dial",
            s(pb::StartCrawlRequest {
                peer_exchange: Some(pb::PeerExchangeOptions {
                    client: Some(true),
                    ..Default::default()
                }),
                ..g.clone()
            }),
            bad,
            "peer_exchange.client",
        ),
        row(
            "seed mode without dial",
            s(pb::StartCrawlRequest {
                peer_exchange: seed("", ""),
                ..g.clone()
            }),
            bad,
            "peer_exchange.seed",
        ),
        row(
            "seed listen address malformed",
            s(pb::StartCrawlRequest {
                dial: Some(true),
                peer_exchange: seed("nope", ""),
                ..g.clone()
            }),
            bad,
            "peer_exchange.seed.listen_addr",
        ),
        row(
            "seed advertise IP malformed",
            s(pb::StartCrawlRequest {
                dial: Some(true),
                peer_exchange: seed("", "nope"),
                ..g.clone()
            }),
            bad,
            "peer_exchange.seed.advertise_ip",
        ),
        row(
            "seed advertise IP unspecified",
            s(pb::StartCrawlRequest {
                dial: Some(true),
                peer_exchange: seed("", "0.0.0.0"),
                ..g.clone()
            }),
            bad,
            "peer_exchange.seed.advertise_ip",
        ),
        row(
            "seed listening on 0.0.0.0 with no advertise IP",
            s(pb::StartCrawlRequest {
                dial: Some(true),
                peer_exchange: seed("0.0.0.0:0", ""),
                ..g.clone()
            }),
            bad,
            "peer_exchange.seed.advertise_ip",
        ),
        row(
            "seed requester interval of 2 days",
            s(pb::StartCrawlRequest {
                dial: Some(true),
                peer_exchange: Some(pb::PeerExchangeOptions {
                    seed: Some(pb::SeedOptions {
                        requester_interval: dur(2 * 86400, 0),
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
                ..g.clone()
            }),
            bad,
            "peer_exchange.seed.requester_interval",
        ),
        row(
            "seed answering no request per IP",
            s(pb::StartCrawlRequest {
                dial: Some(true),
                peer_exchange: Some(pb::PeerExchangeOptions {
                    seed: Some(pb::SeedOptions {
                        requests_per_ip: Some(0),
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
                ..g.clone()
            }),
            bad,
            "peer_exchange.seed.requests_per_ip",
        ),
    ];

    // ---- crawl ids: StopCrawl, GetCrawl, WatchCrawl ------------------------------------
    let bad_ids: [(&str, String); 6] = [
        ("empty", String::new()),
        ("not a number", "abc".into()),
        ("zero", "0".into()),
        ("negative", "-1".into()),
        ("above u64", "18446744073709551616".into()),
        ("1 MiB", huge.clone()),
    ];
    for (what, id) in &bad_ids {
        rows.push(row(
            format!("{what} crawl id"),
            Call::StopCrawl(pb::StopCrawlRequest {
                crawl_id: id.clone(),
            }),
            bad,
            "crawl_id",
        ));
        rows.push(row(
            format!("{what} crawl id"),
            Call::GetCrawl(pb::GetCrawlRequest {
                crawl_id: id.clone(),
            }),
            bad,
            "crawl_id",
        ));
        rows.push(row(
            format!("{what} crawl id"),
            Call::WatchCrawl(pb::WatchCrawlRequest {
                crawl_id: id.clone(),
                interval: None,
            }),
            bad,
            "crawl_id",
        ));
    }
    let id = crawl.id.clone();
    rows.extend([
        row(
            "unknown crawl",
            Call::StopCrawl(pb::StopCrawlRequest {
                crawl_id: "999".into(),
            }),
            Code::NotFound,
            "crawl_id: no crawl with id 999",
        ),
        row(
            "a finished crawl (returned unchanged)",
            Call::StopCrawl(pb::StopCrawlRequest {
                crawl_id: id.clone(),
            }),
            ok,
            "",
        ),
        row(
            "unknown crawl",
            Call::GetCrawl(pb::GetCrawlRequest {
                crawl_id: "999".into(),
            }),
            Code::NotFound,
            "crawl_id: no crawl with id 999",
        ),
        row(
            "the crawl",
            Call::GetCrawl(pb::GetCrawlRequest {
                crawl_id: id.clone(),
            }),
            ok,
            "",
        ),
        // ---- ListCrawls -----------------------------------------------------------------
        row("defaults", Call::ListCrawls(Default::default()), ok, ""),
        row(
            "page size u32::MAX (treated as 1000)",
            Call::ListCrawls(pb::ListCrawlsRequest {
                page_size: u32::MAX,
                ..Default::default()
            }),
            ok,
            "",
        ),
        row(
            "malformed page token",
            Call::ListCrawls(pb::ListCrawlsRequest {
                page_token: "abc".into(),
                ..Default::default()
            }),
            bad,
            "page_token",
        ),
        row(
            "page token 0",
            Call::ListCrawls(pb::ListCrawlsRequest {
                page_token: "0".into(),
                ..Default::default()
            }),
            bad,
            "page_token",
        ),
        row(
            "1 MiB page token",
            Call::ListCrawls(pb::ListCrawlsRequest {
                page_token: huge.clone(),
                ..Default::default()
            }),
            bad,
            "page_token",
        ),
        row(
            "unknown state",
            Call::ListCrawls(pb::ListCrawlsRequest {
                state: 99,
                ..Default::default()
            }),
            bad,
            "state",
        ),
        row(
            "negative state",
            Call::ListCrawls(pb::ListCrawlsRequest {
                state: -1,
                ..Default::default()
            }),
            bad,
            "state",
        ),
        // ---- WatchCrawl -----------------------------------------------------------------
        row(
            "the finished crawl",
            Call::WatchCrawl(pb::WatchCrawlRequest {
                crawl_id: id.clone(),
                interval: None,
            }),
            ok,
            "",
        ),
        row(
            "unknown crawl",
            Call::WatchCrawl(pb::WatchCrawlRequest {
                crawl_id: "999".into(),
                interval: None,
            }),
            Code::NotFound,
            "crawl_id: no crawl with id 999",
        ),
        row(
            "zero interval",
            Call::WatchCrawl(pb::WatchCrawlRequest {
                crawl_id: id.clone(),
                interval: dur(0, 0),
            }),
            bad,
            "interval",
        ),
        row(
            "interval 49ms",
            Call::WatchCrawl(pb::WatchCrawlRequest {
                crawl_id: id.clone(),
                interval: dur(0, 49_000_000),
            }),
            bad,
            "interval",
        ),
        row(
            "interval above 1h",
            Call::WatchCrawl(pb::WatchCrawlRequest {
                crawl_id: id.clone(),
                interval: dur(3601, 0),
            }),
            bad,
            "interval",
        ),
        row(
            "negative interval",
            Call::WatchCrawl(pb::WatchCrawlRequest {
                crawl_id: id.clone(),
                interval: dur(-1, 0),
            }),
            bad,
            "interval",
        ),
    ]);

    // ---- StreamPeerEvents ------------------------------------------------------------
    let ev = |r: pb::StreamPeerEventsRequest| Call::StreamPeerEvents(r);
    let replay = pb::StreamPeerEventsRequest {
        after_sequence: Some(0),
        ..Default::default()
    };
    rows.extend([
        row("replay from the start", ev(replay.clone()), ok, ""),
        row(
            "replay of one crawl's DISCOVERED events of one node",
            ev(pb::StreamPeerEventsRequest {
                crawl_id: id.clone(),
                kinds: vec![pb::PeerEventKind::Discovered as i32],
                node_id: node.node_id.clone(),
                ..replay.clone()
            }),
            ok,
            "",
        ),
        row(
            "after_sequence beyond the last",
            ev(pb::StreamPeerEventsRequest {
                after_sequence: Some(last_sequence + 1_000_000),
                ..Default::default()
            }),
            Code::OutOfRange,
            "after_sequence",
        ),
        row(
            "after_sequence u64::MAX",
            ev(pb::StreamPeerEventsRequest {
                after_sequence: Some(u64::MAX),
                ..Default::default()
            }),
            Code::OutOfRange,
            "after_sequence",
        ),
        row(
            "UNSPECIFIED kind",
            ev(pb::StreamPeerEventsRequest {
                kinds: vec![0],
                ..replay.clone()
            }),
            bad,
            "kinds[0]",
        ),
        row(
            "unknown second kind",
            ev(pb::StreamPeerEventsRequest {
                kinds: vec![1, 99],
                ..replay.clone()
            }),
            bad,
            "kinds[1]",
        ),
        row(
            "negative kind",
            ev(pb::StreamPeerEventsRequest {
                kinds: vec![-5],
                ..replay.clone()
            }),
            bad,
            "kinds[0]",
        ),
        row(
            "65 kinds",
            ev(pb::StreamPeerEventsRequest {
                kinds: vec![1; 65],
                ..replay.clone()
            }),
            bad,
            "kinds: 65 entries",
        ),
        row(
            "malformed node id",
            ev(pb::StreamPeerEventsRequest {
                node_id: "zz".into(),
                ..replay.clone()
            }),
            bad,
            "node_id",
        ),
        row(
            "node id of 63 hex characters",
            ev(pb::StreamPeerEventsRequest {
                node_id: "a".repeat(63),
                ..replay.clone()
            }),
            bad,
            "node_id",
        ),
        row(
            "1 MiB node id",
            ev(pb::StreamPeerEventsRequest {
                node_id: huge.clone(),
                ..replay.clone()
            }),
            bad,
            "node_id",
        ),
        row(
            "malformed peer id",
            ev(pb::StreamPeerEventsRequest {
                peer_id: "not-a-peer".into(),
                ..replay.clone()
            }),
            bad,
            "peer_id",
        ),
        row(
            "malformed crawl id",
            ev(pb::StreamPeerEventsRequest {
                crawl_id: "x".into(),
                ..replay.clone()
            }),
            bad,
            "crawl_id",
        ),
        row(
            "unknown crawl",
            ev(pb::StreamPeerEventsRequest {
                crawl_id: "999".into(),
                ..replay.clone()
            }),
            Code::NotFound,
            "crawl_id: no crawl with id 999",
        ),
    ]);

    // ---- GetPeer ---------------------------------------------------------------------
    use pb::get_peer_request::Key;
    let peer = |k: Option<Key>| Call::GetPeer(pb::GetPeerRequest { key: k });
    rows.extend([
        row(
            "by node id",
            peer(Some(Key::NodeId(node.node_id.clone()))),
            ok,
            "",
        ),
        row(
            "by 0x-prefixed node id",
            peer(Some(Key::NodeId(format!("0x{}", node.node_id)))),
            ok,
            "",
        ),
        row(
            "by peer id",
            peer(Some(Key::PeerId(node.peer_id.clone()))),
            ok,
            "",
        ),
        row("no key", peer(None), bad, "key"),
        row(
            "empty node id",
            peer(Some(Key::NodeId(String::new()))),
            bad,
            "node_id",
        ),
        row(
            "malformed node id",
            peer(Some(Key::NodeId("zz".into()))),
            bad,
            "node_id",
        ),
        row(
            "node id of 62 hex characters",
            peer(Some(Key::NodeId("0".repeat(62)))),
            bad,
            "node_id",
        ),
        row(
            "1 MiB node id",
            peer(Some(Key::NodeId(huge.clone()))),
            bad,
            "node_id",
        ),
        row(
            "empty peer id",
            peer(Some(Key::PeerId(String::new()))),
            bad,
            "peer_id",
        ),
        row(
            "malformed peer id",
            peer(Some(Key::PeerId("16Uiu2HAmBogus".into()))),
            bad,
            "peer_id",
        ),
        row(
            "1 MiB peer id",
            peer(Some(Key::PeerId(huge.clone()))),
            bad,
            "peer_id",
        ),
        row(
            "unknown node id",
            peer(Some(Key::NodeId(hex::encode([7u8; 32])))),
            Code::NotFound,
            "node_id: no peer with node id 0707",
        ),
        row(
            "unknown peer id",
            peer(Some(Key::PeerId(unknown_peer_id.clone()))),
            Code::NotFound,
            "peer_id: no peer with peer id",
        ),
    ]);

    // ---- ListPeers -------------------------------------------------------------------
    let lp = |r: pb::ListPeersRequest| Call::ListPeers(r);
    let d = pb::ListPeersRequest::default;
    rows.extend([
        row("defaults", lp(d()), ok, ""),
        row(
            "one crawl's peers",
            lp(pb::ListPeersRequest {
                crawl_id: id.clone(),
                ..d()
            }),
            ok,
            "",
        ),
        row(
            "page size u32::MAX (treated as 1000)",
            lp(pb::ListPeersRequest {
                page_size: u32::MAX,
                ..d()
            }),
            ok,
            "",
        ),
        row(
            "malformed page token",
            lp(pb::ListPeersRequest {
                page_token: "garbage".into(),
                ..d()
            }),
            bad,
            "page_token",
        ),
        row(
            "1 MiB page token",
            lp(pb::ListPeersRequest {
                page_token: huge.clone(),
                ..d()
            }),
            bad,
            "page_token",
        ),
        row(
            "unknown capability",
            lp(pb::ListPeersRequest {
                capability: "teleport".into(),
                ..d()
            }),
            bad,
            "capability",
        ),
        row(
            "1 MiB capability",
            lp(pb::ListPeersRequest {
                capability: huge.clone(),
                ..d()
            }),
            bad,
            "capability",
        ),
        row(
            "cluster id above u16",
            lp(pb::ListPeersRequest {
                cluster_id: Some(65536),
                ..d()
            }),
            bad,
            "cluster_id",
        ),
        row(
            "shard 1024",
            lp(pb::ListPeersRequest {
                shard: Some(1024),
                ..d()
            }),
            bad,
            "shard",
        ),
        row(
            "malformed crawl id",
            lp(pb::ListPeersRequest {
                crawl_id: "x".into(),
                ..d()
            }),
            bad,
            "crawl_id",
        ),
        row(
            "unknown crawl",
            lp(pb::ListPeersRequest {
                crawl_id: "999".into(),
                ..d()
            }),
            Code::NotFound,
            "crawl_id: no crawl with id 999",
        ),
        row(
            "seen_since before 1970",
            lp(pb::ListPeersRequest {
                seen_since: ts(-1, 0),
                ..d()
            }),
            bad,
            "seen_since",
        ),
        row(
            "seen_since after 9999",
            lp(pb::ListPeersRequest {
                seen_since: ts(253_402_300_800, 0),
                ..d()
            }),
            bad,
            "seen_since",
        ),
        row(
            "seen_since i64::MAX",
            lp(pb::ListPeersRequest {
                seen_since: ts(i64::MAX, 0),
                ..d()
            }),
            bad,
            "seen_since",
        ),
        row(
            "seen_since with nanos out of range",
            lp(pb::ListPeersRequest {
                seen_since: ts(0, 1_000_000_000),
                ..d()
            }),
            bad,
            "seen_since",
        ),
        row(
            "protocol of 257 bytes",
            lp(pb::ListPeersRequest {
                protocol: "p".repeat(257),
                ..d()
            }),
            bad,
            "protocol",
        ),
        row(
            "1 MiB agent",
            lp(pb::ListPeersRequest {
                agent: huge.clone(),
                ..d()
            }),
            bad,
            "agent",
        ),
        row(
            "country of 257 bytes",
            lp(pb::ListPeersRequest {
                country: "c".repeat(257),
                ..d()
            }),
            bad,
            "country",
        ),
    ]);

    // ---- GetMessageCounts ------------------------------------------------------------
    let mc = |r: pb::GetMessageCountsRequest| Call::GetMessageCounts(r);
    let d = pb::GetMessageCountsRequest::default;
    rows.extend([
        row("defaults", mc(d()), ok, ""),
        row(
            "the widest window (1970 to 9999)",
            mc(pb::GetMessageCountsRequest {
                since: ts(0, 0),
                until: ts(253_402_300_799, 0),
                ..d()
            }),
            ok,
            "",
        ),
        row(
            "since after until",
            mc(pb::GetMessageCountsRequest {
                since: ts(2_000_000_000, 0),
                until: ts(1_000_000_000, 0),
                ..d()
            }),
            bad,
            "since",
        ),
        row(
            "empty window",
            mc(pb::GetMessageCountsRequest {
                since: ts(1_000_000_000, 0),
                until: ts(1_000_000_000, 0),
                ..d()
            }),
            bad,
            "since",
        ),
        row(
            "since before 1970",
            mc(pb::GetMessageCountsRequest {
                since: ts(-60, 0),
                ..d()
            }),
            bad,
            "since",
        ),
        row(
            "until after 9999",
            mc(pb::GetMessageCountsRequest {
                until: ts(i64::MAX, 0),
                ..d()
            }),
            bad,
            "until",
        ),
        row(
            "until with negative nanos",
            mc(pb::GetMessageCountsRequest {
                until: ts(1_000_000_000, -1),
                ..d()
            }),
            bad,
            "until",
        ),
        row(
            "pubsub topic of 257 bytes",
            mc(pb::GetMessageCountsRequest {
                pubsub_topic: "t".repeat(257),
                ..d()
            }),
            bad,
            "pubsub_topic",
        ),
        row(
            "1 MiB content topic prefix",
            mc(pb::GetMessageCountsRequest {
                content_topic_prefix: huge.clone(),
                ..d()
            }),
            bad,
            "content_topic_prefix",
        ),
    ]);

    // ---- GetNetworkStats -------------------------------------------------------------
    let ns = |crawl_id: &str| {
        Call::GetNetworkStats(pb::GetNetworkStatsRequest {
            crawl_id: crawl_id.into(),
        })
    };
    rows.extend([
        row("the whole store", ns(""), ok, ""),
        row("one crawl", ns(&id), ok, ""),
        row("malformed crawl id", ns("x"), bad, "crawl_id"),
        row("crawl id 0", ns("0"), bad, "crawl_id"),
        row("1 MiB crawl id", ns(&huge), bad, "crawl_id"),
        row(
            "unknown crawl",
            ns("999"),
            Code::NotFound,
            "crawl_id: no crawl with id 999",
        ),
    ]);

    // ---- GetSinkStatus ---------------------------------------------------------------
    // No arguments: a server without a sink answers `enabled: false`.
    rows.push(row(
        "a server without a sink",
        Call::GetSinkStatus(pb::GetSinkStatusRequest {}),
        ok,
        "",
    ));

    // Every RPC of the service has rows, among them a valid one.
    let rpcs: std::collections::BTreeSet<&str> = rows
        .iter()
        .filter(|r| r.code == ok)
        .map(|r| r.call.rpc())
        .collect();
    let service = pb::FILE_DESCRIPTOR_SET;
    let pool = prost_reflect::DescriptorPool::decode(service).unwrap();
    let crawler = pool.get_service_by_name("peerscope.v1.Crawler").unwrap();
    let declared: std::collections::BTreeSet<String> =
        crawler.methods().map(|m| m.name().to_string()).collect();
    assert_eq!(
        rpcs.iter()
            .map(|s| s.to_string())
            .collect::<std::collections::BTreeSet<_>>(),
        declared,
        "every RPC of peerscope.v1.Crawler has a valid row"
    );

    let total = rows.len();
    let mut failures = Vec::new();
    let mut times = Vec::new();
    for (i, r) in rows.into_iter().enumerate() {
        let rpc = r.call.rpc();
        let label = format!("row {i} {rpc} ({}):", r.what);
        let began = std::time::Instant::now();
        let status = run(&mut client, r.call).await;
        times.push((began.elapsed(), label.clone()));
        if status.code() != r.code {
            failures.push(format!(
                "{label} expected {:?}, got {:?}: {:?}",
                r.code,
                status.code(),
                shorten(status.message())
            ));
        } else if !status.message().contains(&r.needle) {
            failures.push(format!(
                "{label} message {:?} does not contain {:?}",
                shorten(status.message()),
                r.needle
            ));
        } else if status.message().len() > MAX_MESSAGE {
            failures.push(format!(
                "{label} message of {} bytes (at most {MAX_MESSAGE}): {:?}",
                status.message().len(),
                shorten(status.message())
            ));
        }
    }
    times.sort();
    for (took, label) in times.iter().rev().take(5) {
        eprintln!("slowest: {label} {took:?}");
    }
    assert!(
        failures.is_empty(),
        "{} of {total} rows failed:\n{}",
        failures.len(),
        failures.join("\n")
    );

    // Stopping a finished crawl left it as it was.
    let again = client
        .stop_crawl(pb::StopCrawlRequest {
            crawl_id: id.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .crawl
        .unwrap();
    assert_eq!(again.state, pb::CrawlState::Finished as i32);
    assert_eq!(again.finished_at, done.finished_at);
    // The server still serves after all of the above.
    let listed = client
        .list_crawls(pb::ListCrawlsRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert!(listed.crawls.iter().any(|c| c.id == id));
    drop(busy);
    drop(client);
    server.stop().await;
}

fn shorten(text: &str) -> String {
    text.chars().take(300).collect()
}
