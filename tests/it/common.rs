//! Shared helpers: an in-process server on loopback and a crawl driver.

use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use peerscope::api::ServeOptions;
use peerscope::engine::{Engine, EngineConfig};
use peerscope::proto::pb;
use peerscope::proto::pb::crawler_client::CrawlerClient;
use peerscope::store::Store;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tonic::transport::Channel;

/// A running server: gRPC on 127.0.0.1, crawls bound to 127.0.0.1.
pub struct Server {
    pub addr: SocketAddr,
    pub http: SocketAddr,
    root: CancellationToken,
    engine: Engine,
    task: JoinHandle<()>,
}

impl Server {
    pub async fn start(dir: &Path) -> Server {
        Server::start_with(dir, EngineConfig::default()).await
    }

    /// A server with engine settings of the test's choosing (the discv5 address is always
    /// 127.0.0.1).
    pub async fn start_with(dir: &Path, config: EngineConfig) -> Server {
        Server::start_full(dir, config, ServeOptions::default()).await
    }

    /// A server with engine settings and gRPC/HTTP security options.
    pub async fn start_full(dir: &Path, config: EngineConfig, options: ServeOptions) -> Server {
        let store = Store::open(dir, 100).expect("open store");
        let root = CancellationToken::new();
        let engine = Engine::new(
            store,
            EngineConfig {
                default_discv5_addr: "127.0.0.1:0".parse().unwrap(),
                ..config
            },
            root.clone(),
        )
        .expect("engine");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let http_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let http = http_listener.local_addr().unwrap();
        tokio::spawn(peerscope::api::serve_http(
            http_listener,
            engine.clone(),
            options.token.clone(),
            root.clone(),
        ));
        let task = tokio::spawn({
            let engine = engine.clone();
            let root = root.clone();
            async move {
                peerscope::api::serve_with(listener, engine, root, options)
                    .await
                    .expect("serve");
            }
        });
        Server {
            addr,
            http,
            root,
            engine,
            task,
        }
    }

    /// The server's engine (for what tests feed it directly, e.g. the geolocator).
    pub fn engine(&self) -> &Engine {
        &self.engine
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

    /// Graceful stop, as on SIGTERM: crawls stop, streams end, the store is flushed and
    /// released.
    pub async fn stop(self) {
        self.root.cancel();
        within(Duration::from_secs(20), self.engine.shutdown()).await;
        within(Duration::from_secs(20), self.task).await.unwrap();
        let store = self.engine.store().clone();
        store.flush().await.unwrap();
    }
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
            })),
        }),
        bootstrap_enrs: enrs.to_vec(),
        mode: pb::CrawlMode::Oneshot as i32,
        name: "test".into(),
        dial: std::env::var("NODIAL").ok().map(|_| false),
        ..Default::default()
    }
}

/// Polls GetCrawl until the crawl leaves RUNNING; returns the final crawl.
pub async fn wait_final(
    client: &mut CrawlerClient<Channel>,
    id: &str,
    limit: Duration,
) -> pb::Crawl {
    within(limit, async {
        loop {
            let c = client
                .get_crawl(pb::GetCrawlRequest {
                    crawl_id: id.into(),
                })
                .await
                .unwrap()
                .into_inner()
                .crawl
                .unwrap();
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
