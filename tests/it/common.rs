//! Shared helpers: an in-process server on loopback (started as `peerscope serve` starts
//! it), a testnet crawled once, and a crawl driver.

use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use peerscope::api::ServeOptions;
use peerscope::engine::{Engine, EngineConfig};
use peerscope::proto::pb;
use peerscope::proto::pb::crawler_client::CrawlerClient;
use peerscope::service::{Listeners, Service, ServiceConfig, ServiceHandle};
use peerscope::testnet::{Testnet, TestnetConfig};
use tempfile::TempDir;
use tokio_util::sync::CancellationToken;
use tonic::transport::Channel;

/// The store's fsync interval in tests.
const FLUSH_EVERY_MS: u64 = 100;
/// Time each shutdown step is allowed in tests; overrunning it fails the test.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(20);

/// The database directory inside a server's temp dir (the rest is free for test files).
pub fn data_dir(tmp: &Path) -> PathBuf {
    tmp.join("db")
}

/// A running server: gRPC and HTTP on 127.0.0.1, crawls bound to 127.0.0.1, its database
/// in a temp dir it owns (removed once the server is dropped or stopped).
pub struct Server {
    pub addr: SocketAddr,
    pub http: SocketAddr,
    service: ServiceHandle,
    engine_config: EngineConfig,
    options: ServeOptions,
    /// Declared last: removed after the service.
    tmp: TempDir,
}

impl Server {
    pub async fn start() -> Server {
        Server::start_with(EngineConfig::default()).await
    }

    /// A server with engine settings of the test's choosing (the discv5 address is always
    /// 127.0.0.1).
    pub async fn start_with(config: EngineConfig) -> Server {
        Server::start_full(config, ServeOptions::default()).await
    }

    /// A server with engine settings and gRPC/HTTP security options.
    pub async fn start_full(config: EngineConfig, options: ServeOptions) -> Server {
        let tmp = tempfile::tempdir().expect("temp dir");
        Server::start_in(tmp, config, options).await
    }

    /// A server on a temp dir the test prepared: its database is [`data_dir`] of it.
    pub async fn start_in(tmp: TempDir, config: EngineConfig, options: ServeOptions) -> Server {
        let service = Service::start(
            ServiceConfig {
                flush_every_ms: FLUSH_EVERY_MS,
                engine: EngineConfig {
                    default_discv5_addr: "127.0.0.1:0".parse().unwrap(),
                    ..config.clone()
                },
                api: options.clone(),
                shutdown_grace: SHUTDOWN_GRACE,
                ..ServiceConfig::new(data_dir(tmp.path()))
            },
            Listeners::loopback().await.expect("loopback listeners"),
            CancellationToken::new(),
        )
        .expect("service");
        Server {
            addr: service.grpc_addr(),
            http: service.http_addr(),
            service,
            engine_config: config,
            options,
            tmp,
        }
    }

    /// The server's engine (for what tests feed it directly, e.g. the geolocator).
    pub fn engine(&self) -> &Engine {
        self.service.engine()
    }

    /// The server's temp dir, for the test's own files (the database is in `db/`).
    pub fn dir(&self) -> &Path {
        self.tmp.path()
    }

    pub async fn client(&self) -> CrawlerClient<Channel> {
        CrawlerClient::connect(format!("http://{}", self.addr))
            .await
            .expect("connect")
    }

    pub async fn channel(&self) -> Channel {
        Channel::from_shared(format!("http://{}", self.addr))
            .unwrap()
            .connect()
            .await
            .expect("connect")
    }

    /// Starts `req` and waits up to `limit` for it to end; returns the crawl as started
    /// and as it ended.
    pub async fn crawl(
        &self,
        client: &mut CrawlerClient<Channel>,
        req: pb::StartCrawlRequest,
        limit: Duration,
    ) -> (pb::Crawl, pb::Crawl) {
        let crawl = start(client, req).await;
        let done = wait_final(client, &crawl.id, limit).await;
        (crawl, done)
    }

    /// Graceful stop, as on SIGTERM: crawls stop, streams end, the store is flushed and
    /// released; the test fails if a step overruns or a server failed. Returns the temp
    /// dir, which is removed once dropped.
    pub async fn stop(self) -> TempDir {
        let Server { service, tmp, .. } = self;
        let report = within(SHUTDOWN_GRACE * 4, service.shutdown())
            .await
            .expect("store flushed");
        assert!(report.is_clean(), "shutdown: {report:?}");
        tmp
    }

    /// Stops the server and starts it again on the same database with the same settings.
    pub async fn restart(self) -> Server {
        let (config, options) = (self.engine_config.clone(), self.options.clone());
        let tmp = self.stop().await;
        Server::start_in(tmp, config, options).await
    }
}

/// A testnet and a server that crawled it once (ONESHOT Waku, from its bootstrap ENRs).
pub struct Crawled {
    pub net: Testnet,
    pub server: Server,
    pub client: CrawlerClient<Channel>,
    /// The crawl as StartCrawl returned it.
    pub crawl: pb::Crawl,
    /// The crawl once it ended.
    pub done: pb::Crawl,
}

/// Starts a testnet (fails the test if it cannot).
pub async fn testnet(config: TestnetConfig) -> Testnet {
    Testnet::start(config).await.expect("testnet")
}

/// Starts a testnet as `config` says, a server, and a ONESHOT crawl of the testnet
/// (`tweak` adjusts the request), and waits up to `limit` for the crawl to end.
pub async fn crawl_testnet_with(
    config: TestnetConfig,
    tweak: impl FnOnce(pb::StartCrawlRequest) -> pb::StartCrawlRequest,
    limit: Duration,
) -> Crawled {
    let net = testnet(config).await;
    let server = Server::start().await;
    let mut client = server.client().await;
    let (crawl, done) = server
        .crawl(&mut client, tweak(oneshot(net.bootstrap_enrs())), limit)
        .await;
    Crawled {
        net,
        server,
        client,
        crawl,
        done,
    }
}

/// [`crawl_testnet_with`] the plain [`oneshot`] request.
pub async fn crawl_testnet(config: TestnetConfig, limit: Duration) -> Crawled {
    crawl_testnet_with(config, |req| req, limit).await
}

/// Awaits `fut`, failing the test if it takes longer than `limit`.
pub async fn within<F: Future>(limit: Duration, fut: F) -> F::Output {
    tokio::time::timeout(limit, fut)
        .await
        .unwrap_or_else(|_| panic!("did not finish within {limit:?}"))
}

/// A ONESHOT Waku crawl request bootstrapped from `enrs`.
pub fn oneshot(enrs: &[String]) -> pb::StartCrawlRequest {
    pb::StartCrawlRequest {
        profile: Some(pb::NetworkProfile {
            profile: Some(pb::network_profile::Profile::Waku(pb::WakuProfile {
                cluster_id: 1,
                shards: vec![],
                preset: String::new(),
                ..Default::default()
            })),
        }),
        bootstrap_enrs: enrs.to_vec(),
        mode: pb::CrawlMode::Oneshot as i32,
        name: "test".into(),
        dial: std::env::var("NODIAL").ok().map(|_| false),
        ..Default::default()
    }
}

/// GetCrawl of crawl `id` (which must exist).
pub async fn get_crawl(client: &mut CrawlerClient<Channel>, id: &str) -> pb::Crawl {
    client
        .get_crawl(pb::GetCrawlRequest {
            crawl_id: id.into(),
        })
        .await
        .unwrap()
        .into_inner()
        .crawl
        .unwrap()
}

/// Polls GetCrawl until the crawl leaves RUNNING; returns the final crawl.
pub async fn wait_final(
    client: &mut CrawlerClient<Channel>,
    id: &str,
    limit: Duration,
) -> pb::Crawl {
    within(limit, async {
        loop {
            let c = get_crawl(client, id).await;
            if c.state != pb::CrawlState::Running as i32 {
                return c;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await
}

/// Every peer of a crawl, through ListPeers pages of `page_size`.
pub async fn all_peers(
    client: &mut CrawlerClient<Channel>,
    crawl_id: &str,
    page_size: u32,
) -> Vec<pb::Peer> {
    let mut out = Vec::new();
    let mut token = String::new();
    loop {
        let page = client
            .list_peers(pb::ListPeersRequest {
                page_size,
                page_token: token.clone(),
                crawl_id: crawl_id.into(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        assert!(page.peers.len() <= page_size as usize);
        out.extend(page.peers);
        if page.next_page_token.is_empty() {
            return out;
        }
        token = page.next_page_token;
    }
}

/// A plain HTTP/1.1 GET on loopback; returns the status code and body.
pub async fn http_get(addr: SocketAddr, path: &str, token: Option<&str>) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let req = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n{auth}Connection: close\r\n\r\n");
    s.write_all(req.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    within(Duration::from_secs(20), s.read_to_end(&mut buf))
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&buf).into_owned();
    let status: u16 = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .expect("an HTTP status line");
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(body)
    } else {
        body.to_string()
    };
    (status, body)
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        body = rest[n..].trim_start_matches("\r\n");
    }
    out
}

/// Starts a crawl and returns it (the test fails if the server refuses).
pub async fn start(client: &mut CrawlerClient<Channel>, req: pb::StartCrawlRequest) -> pb::Crawl {
    client
        .start_crawl(req)
        .await
        .expect("StartCrawl accepted")
        .into_inner()
        .crawl
        .expect("a crawl in the response")
}

/// Polls `cond` every 50 ms until it holds; fails the test after `limit`.
pub async fn wait_until<F: FnMut() -> bool>(limit: Duration, what: &str, mut cond: F) {
    let deadline = tokio::time::Instant::now() + limit;
    while !cond() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out after {limit:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Identify's protocol list, as the crawler stored it, is exactly what the testnet node
/// serves (relay included: testnet nodes list it on every connection, as nwaku does).
pub fn assert_identified_protocols(got: &[String], served: &[String], what: &str) {
    let mut got = got.to_vec();
    got.sort();
    let mut served = served.to_vec();
    served.sort();
    assert_eq!(got, served, "{what}");
}

/// A TCP listener on 127.0.0.1 that accepts and never sends a byte, holding every
/// connection until the returned task is aborted.
pub async fn silent_listener() -> (std::net::SocketAddr, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let hold = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = listener.accept().await {
            held.push(s);
        }
    });
    (addr, hold)
}

/// Dials `addrs` as `peer` with the crawler's dialer (`timeout` per phase) and returns the
/// visit.
pub async fn visit(
    peer: libp2p::PeerId,
    addrs: Vec<libp2p::Multiaddr>,
    timeout: Duration,
) -> peerscope::model::VisitReport {
    use peerscope::engine::dialer::{Dialer, DialerConfig, DialerEvent};
    let mut dialer = Dialer::new(
        DialerConfig {
            dial_timeout: timeout,
            visit_timeout: timeout,
            agent_version: "peerscope-test".into(),
            metadata: None,
            px_client: false,
            px_interval: Duration::from_secs(300),
            px_serve: false,
        },
        libp2p::identity::Keypair::generate_secp256k1(),
    )
    .unwrap();
    dialer.dial(1, [0u8; 32], peer, addrs);
    within(timeout * 4 + Duration::from_secs(5), async {
        loop {
            if let DialerEvent::Done(report) = dialer.next().await {
                return report;
            }
        }
    })
    .await
}

/// The stored events of crawl `crawl_id` (of `kinds`, or all when empty), replayed from
/// the start of the log until the stream has been quiet for a moment (at most `limit`).
pub async fn stored_events(
    client: &mut CrawlerClient<Channel>,
    crawl_id: &str,
    kinds: &[pb::PeerEventKind],
    limit: usize,
) -> Vec<pb::PeerEvent> {
    use futures::StreamExt;
    let mut stream = client
        .stream_peer_events(pb::StreamPeerEventsRequest {
            after_sequence: Some(0),
            crawl_id: crawl_id.into(),
            kinds: kinds.iter().map(|k| *k as i32).collect(),
            ..Default::default()
        })
        .await
        .expect("StreamPeerEvents accepted")
        .into_inner();
    let mut out = Vec::new();
    while out.len() < limit {
        match tokio::time::timeout(Duration::from_millis(1500), stream.next()).await {
            Ok(Some(Ok(m))) => out.extend(m.event),
            _ => break,
        }
    }
    out
}

/// A `peerscope serve` child process (the real binary), for tests that kill and restart it.
pub struct ServeProcess {
    pub child: tokio::process::Child,
    pub client: CrawlerClient<Channel>,
    /// `http://host:port` of its gRPC endpoint.
    pub grpc: String,
    pub http: SocketAddr,
}

/// Starts `peerscope serve` on `dir` with gRPC, HTTP and discv5 on free loopback ports, no
/// geolocation, a 100 ms flush interval (unless `extra` sets one) and `extra` flags; stderr
/// goes to `serve-{run}.log` beside `dir`, `PEERSCOPE_LOG` is `log`. The child is killed
/// when dropped.
pub async fn spawn_serve(dir: &Path, run: usize, extra: &[&str], log: &str) -> ServeProcess {
    use tokio::io::AsyncBufReadExt;
    let log_file = std::fs::File::create(dir.with_extension(format!("serve-{run}.log"))).unwrap();
    let mut args = vec![
        "--grpc-addr",
        "127.0.0.1:0",
        "--http-addr",
        "127.0.0.1:0",
        "--discv5-addr",
        "127.0.0.1:0",
        "--geolocation",
        "false",
    ];
    if !extra.contains(&"--flush-every-ms") {
        args.extend(["--flush-every-ms", "100"]);
    }
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_peerscope"))
        .args(["serve", "--data-dir"])
        .arg(dir)
        .args(args)
        .args(extra)
        .env_remove("PEERSCOPE_TOKEN")
        .env_remove("PEERSCOPE_CONFIG")
        .env_remove("PEERSCOPE_NO_RESUME")
        .env_remove("PEERSCOPE_SINK_PASSWORD_FILE")
        .env("PEERSCOPE_LOG", log)
        .stdout(std::process::Stdio::piped())
        .stderr(log_file)
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = tokio::io::BufReader::new(stdout).lines();
    let (mut grpc, mut http) = (None, None);
    within(Duration::from_secs(30), async {
        while grpc.is_none() || http.is_none() {
            let line = lines
                .next_line()
                .await
                .unwrap()
                .expect("serve exited before listening");
            if let Some(a) = line.strip_prefix("grpc listening on ") {
                grpc = Some(a.to_string());
            }
            if let Some(a) = line.strip_prefix("http listening on ") {
                http = Some(a.parse::<SocketAddr>().unwrap());
            }
        }
    })
    .await;
    // Keep draining stdout so the server never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    let grpc = format!("http://{}", grpc.unwrap());
    let client = CrawlerClient::connect(grpc.clone()).await.unwrap();
    ServeProcess {
        child,
        client,
        grpc,
        http: http.unwrap(),
    }
}

/// Publishes `label n` messages on `topics` for up to 10 minutes, 20 a second, from the
/// relay nodes of each topic in turn and over the testnet's content topics: relay traffic
/// all along a test. Abort the handle to stop it.
pub fn publish_steadily(
    net: std::sync::Arc<Testnet>,
    topics: Vec<String>,
    label: &'static str,
) -> tokio::task::JoinHandle<()> {
    use peerscope::testnet::CONTENT_TOPICS;
    tokio::spawn(async move {
        for n in 0u64..20 * 600 {
            let topic = &topics[n as usize % topics.len()];
            let nodes = net.relay_nodes_on(topic);
            let node = nodes[(n as usize / topics.len()) % nodes.len()];
            let ct = CONTENT_TOPICS[n as usize % CONTENT_TOPICS.len()];
            let _ = net
                .publish(node, topic, ct, format!("{label} {n}").into_bytes())
                .await;
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
}
