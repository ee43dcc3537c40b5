//! `peerscope bench`: a ONESHOT crawl of an in-process testnet against a bare baseline
//! that does the same discv5 queries and libp2p handshakes at the same concurrency with no
//! bookkeeping (no store, no events, no address book), in the same process and run.
//!
//! Runs alternate (baseline, crawl, baseline, crawl, …) so drift on a noisy machine hits
//! both sides; the report gives every time, the medians and their ratio, and the peak
//! resident memory of each phase (Linux: `VmRSS` sampled every 20 ms during the phase).
//!
//! `--sink` instead compares crawls with and without the PostgreSQL sink exporting the
//! store as it fills (in the crawl's process), and reports the sink's export throughput.
//!
//! The crawl side, `--subscribers` and `--sink` start the service as `peerscope serve` does
//! ([`Service::start`]), on loopback listeners and a temporary data directory.

use std::collections::HashSet;

use anyhow::Context;
use std::time::{Duration, Instant};

use discv5::{Discv5, ListenConfig};
use enr::CombinedKey;
use serde::Serialize;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use peerscope::config::LogFormat;
use peerscope::engine::dialer::{Dialer, DialerConfig, DialerEvent};
use peerscope::engine::{discv5_config, passive_local_enr, EngineConfig};
use peerscope::model::{
    CrawlMode, CrawlSettings, CrawlSpec, CrawlState, DialSettings, NodeId, Profile,
};
use peerscope::protocol::enr::{DecodedEnr, Enr};
use peerscope::protocol::waku::WakuMetadata;
use peerscope::service::{Listeners, Service, ServiceConfig, ServiceHandle};
use peerscope::testnet::{Testnet, TestnetConfig};

/// Benchmark settings.
#[derive(Clone, Debug)]
pub struct BenchConfig {
    pub nodes: usize,
    pub rounds: usize,
    pub settings: CrawlSettings,
}

/// One measured run.
#[derive(Clone, Debug, Serialize)]
pub struct Run {
    pub kind: &'static str,
    pub secs: f64,
    pub discovered: usize,
    pub identified: usize,
    /// FINDNODE requests that failed (timeouts, mostly).
    pub find_node_failures: u64,
    pub peak_rss_kib: Option<u64>,
}

/// The report.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub nodes: usize,
    pub concurrency: u32,
    pub dial_concurrency: u32,
    pub runs: Vec<Run>,
    pub baseline_median_secs: f64,
    pub crawl_median_secs: f64,
    /// crawl / baseline.
    pub ratio: f64,
    /// Resident memory with the testnet up, before any run.
    pub testnet_rss_kib: Option<u64>,
}

pub(crate) fn proc_status(field: &str) -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Samples `VmRSS` every 20 ms until dropped; `peak()` is the largest sample.
pub(crate) struct RssSampler {
    peak: std::sync::Arc<std::sync::atomic::AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl RssSampler {
    pub(crate) fn start() -> RssSampler {
        let peak = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let p = peak.clone();
        let task = tokio::spawn(async move {
            loop {
                if let Some(kib) = proc_status("VmRSS:") {
                    p.fetch_max(kib, std::sync::atomic::Ordering::Relaxed);
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        });
        RssSampler { peak, task }
    }

    pub(crate) fn peak(self) -> Option<u64> {
        self.task.abort();
        let v = self.peak.load(std::sync::atomic::Ordering::Relaxed);
        (v > 0).then_some(v)
    }
}

pub(crate) fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// The bare baseline: walk every node with the same FINDNODE requests (distance 0, then
/// 256 down) and dial it with identify + metadata + ping, bounded the same way.
async fn baseline(net: &Testnet, settings: &CrawlSettings) -> Result<(usize, usize, u64), String> {
    let socket = tokio::net::UdpSocket::bind("127.0.0.1:0")
        .await
        .map_err(|e| e.to_string())?;
    let key = CombinedKey::generate_secp256k1();
    let local = passive_local_enr(&key).map_err(|e| e.to_string())?;
    let local_id = local.node_id();
    let mut discv5 = Discv5::new(
        local,
        key,
        discv5_config(
            ListenConfig::FromSockets {
                ipv4: Some(std::sync::Arc::new(socket)),
                ipv6: None,
            },
            *b"d5waku",
            settings.request_timeout,
        ),
    )
    .map_err(|e| e.to_string())?;
    discv5.start().await.map_err(|e| e.to_string())?;
    let mut dialer = Dialer::new(
        DialerConfig {
            dial_timeout: settings.dial.timeout,
            visit_timeout: settings.dial.timeout,
            agent_version: "baseline".into(),
            metadata: Some(WakuMetadata {
                cluster_id: Some(1),
                shards: vec![],
            }),
            px_client: false,
            px_interval: Duration::from_secs(300),
            px_serve: false,
        },
        libp2p::identity::Keypair::generate_secp256k1(),
    )
    .map_err(|e| e.to_string())?;
    let lowest = 257 - u64::from(settings.find_node_distances);
    let distances: Vec<u64> = std::iter::once(0).chain((lowest..=256).rev()).collect();
    let mut seen: HashSet<NodeId> = HashSet::new();
    let mut requests: Vec<(Enr, u64, u8)> = Vec::new();
    let mut to_dial: Vec<Enr> = Vec::new();
    for text in net.bootstrap_enrs() {
        let enr: Enr = text.parse().map_err(|e: String| e)?;
        seen.insert(enr.node_id().raw());
        for d in &distances {
            requests.push((enr.clone(), *d, 1));
        }
        to_dial.push(enr);
    }
    let mut jobs = JoinSet::new();
    let mut identified = 0usize;
    let mut dialing = 0usize;
    let mut failures = 0u64;
    loop {
        while jobs.len() < settings.concurrency as usize {
            let Some((enr, d, attempt)) = requests.pop() else {
                break;
            };
            let fut = discv5.find_node_designated_peer(enr.clone(), vec![d]);
            jobs.spawn(async move { (enr, d, attempt, fut.await) });
        }
        while dialing < settings.dial.concurrency as usize {
            let Some(enr) = to_dial.pop() else { break };
            let d = DecodedEnr::from_enr(&enr);
            let (Some(peer), Some(ip), Some(tcp)) = (d.peer_id, d.ip4, d.tcp4) else {
                continue;
            };
            let Ok(peer) = peer.parse() else { continue };
            let addr = format!("/ip4/{ip}/tcp/{tcp}")
                .parse()
                .map_err(|e| format!("{e}"))?;
            dialer.dial(0, d.node_id, peer, vec![addr]);
            dialing += 1;
        }
        if jobs.is_empty() && requests.is_empty() && dialing == 0 && to_dial.is_empty() {
            break;
        }
        tokio::select! {
            Some(done) = jobs.join_next(), if !jobs.is_empty() => {
                let Ok((enr, d, attempt, result)) = done else { continue };
                match result {
                    Ok(found) => {
                        for e in found {
                            let id = e.node_id();
                            if id != local_id && seen.insert(id.raw()) {
                                for d in &distances {
                                    requests.push((e.clone(), *d, 1));
                                }
                                to_dial.push(e);
                            }
                        }
                    }
                    // One retry, as the crawler.
                    Err(_) if attempt < 2 => {
                        failures += 1;
                        requests.push((enr, d, attempt + 1));
                    }
                    Err(_) => failures += 1,
                }
            }
            ev = dialer.next() => {
                if let DialerEvent::Done(r) = ev {
                    dialing -= 1;
                    if r.identify.is_some() {
                        identified += 1;
                    }
                }
            }
        }
    }
    discv5.shutdown();
    Ok((seen.len(), identified, failures))
}

/// The service on loopback listeners with its database in `dir`, crawls bound to 127.0.0.1.
pub(super) async fn start_service(dir: &std::path::Path) -> Result<ServiceHandle, String> {
    start_service_with_sink(dir, None).await
}

/// [`start_service`], exporting to PostgreSQL when `sink` is given.
async fn start_service_with_sink(
    dir: &std::path::Path,
    sink: Option<peerscope::sink::SinkConfig>,
) -> Result<ServiceHandle, String> {
    let config = ServiceConfig {
        flush_every_ms: 500,
        engine: EngineConfig {
            default_discv5_addr: "127.0.0.1:0".parse().expect("valid literal"),
            ..EngineConfig::default()
        },
        sink,
        ..ServiceConfig::new(dir)
    };
    let listeners = Listeners::loopback().await.map_err(|e| e.to_string())?;
    Service::start(config, listeners, CancellationToken::new()).map_err(|e| e.to_string())
}

/// Stops the service as `peerscope serve` does; the benchmark fails if it does not stop
/// cleanly.
pub(super) async fn stop_service(service: ServiceHandle) -> Result<(), String> {
    let report = service.shutdown().await.map_err(|e| e.to_string())?;
    if report.is_clean() {
        Ok(())
    } else {
        Err(format!("the service did not stop cleanly: {report:?}"))
    }
}

async fn crawl(
    net: &Testnet,
    settings: &CrawlSettings,
) -> Result<(usize, usize, u64, f64), String> {
    let dir = tempfile_dir()?;
    let service = start_service(&dir).await?;
    let engine = service.engine();
    let spec = bench_spec(net, settings);
    // Timed from here: opening and flushing the store are not part of the crawl.
    let t = Instant::now();
    let started = engine.start_crawl(spec).await.map_err(|e| e.to_string())?;
    let done = loop {
        let c = engine.get_crawl(started.id).map_err(|e| e.to_string())?;
        if c.state != CrawlState::Running {
            break c;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    let secs = t.elapsed().as_secs_f64();
    stop_service(service).await?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok((
        done.progress.discovered as usize,
        done.progress.identified as usize,
        done.progress.find_node_failures,
        secs,
    ))
}

/// The ONESHOT Waku crawl every benchmark runs.
fn bench_spec(net: &Testnet, settings: &CrawlSettings) -> CrawlSpec {
    spec_for(net.bootstrap_enrs().to_vec(), settings)
}

/// The ONESHOT Waku crawl of the benchmarks, from `bootstrap_enrs`.
pub(super) fn spec_for(bootstrap_enrs: Vec<String>, settings: &CrawlSettings) -> CrawlSpec {
    CrawlSpec {
        name: "bench".into(),
        labels: Default::default(),
        profile: Profile::Waku {
            cluster_id: 1,
            shards: vec![],
            protocol_id: peerscope::model::WAKU_PROTOCOL_ID,
        },
        bootstrap_enrs,
        dns_tree_urls: Vec::new(),
        dns_from: None,
        mode: CrawlMode::Oneshot,
        settings: settings.clone(),
        listen_addr: None,
    }
}

pub(crate) fn tempfile_dir() -> Result<std::path::PathBuf, String> {
    let dir = std::env::temp_dir().join(format!(
        "peerscope-bench-{}-{}",
        std::process::id(),
        rand::random::<u64>()
    ));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    Ok(dir)
}

/// Runs the benchmark.
pub async fn run(config: BenchConfig) -> Result<Report, String> {
    let net = Testnet::start(TestnetConfig {
        nodes: config.nodes,
        ..TestnetConfig::default()
    })
    .await
    .map_err(|e| e.to_string())?;
    // Let the testnet's own table pings settle.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let testnet_rss_kib = proc_status("VmRSS:");
    let mut runs = Vec::new();
    for _ in 0..config.rounds.max(1) {
        for kind in ["baseline", "crawl"] {
            let sampler = RssSampler::start();
            let t = Instant::now();
            let (discovered, identified, find_node_failures, secs) = if kind == "baseline" {
                let (d, i, f) = baseline(&net, &config.settings).await?;
                (d, i, f, t.elapsed().as_secs_f64())
            } else {
                crawl(&net, &config.settings).await?
            };
            let run = Run {
                kind,
                secs,
                discovered,
                identified,
                find_node_failures,
                peak_rss_kib: sampler.peak(),
            };
            eprintln!(
                "{kind:>8}: {secs:.2}s, discovered {discovered}/{}, identified {identified}, FINDNODE failures {find_node_failures}, peak RSS {} KiB",
                config.nodes,
                run.peak_rss_kib.map(|k| k.to_string()).unwrap_or_else(|| "?".into())
            );
            runs.push(run);
            // Let connections from the previous run close.
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
    let times = |k: &str| -> Vec<f64> {
        runs.iter()
            .filter(|r| r.kind == k)
            .map(|r| r.secs)
            .collect()
    };
    let b = median(times("baseline"));
    let c = median(times("crawl"));
    Ok(Report {
        nodes: config.nodes,
        concurrency: config.settings.concurrency,
        dial_concurrency: config.settings.dial.concurrency,
        runs,
        baseline_median_secs: b,
        crawl_median_secs: c,
        ratio: if b > 0.0 { c / b } else { 0.0 },
        testnet_rss_kib,
    })
}

/// Default settings of the benchmark: the crawl defaults, without random lookups (the
/// baseline does none) and without the per-IP dial limit (every testnet node shares
/// 127.0.0.1, so the politeness limit would otherwise cap dials at `per_ip`, not at the
/// dial concurrency the baseline uses).
pub fn default_settings() -> CrawlSettings {
    let dial = DialSettings::default();
    CrawlSettings {
        random_lookups: 0,
        dial: DialSettings {
            per_ip: dial.concurrency,
            ..dial
        },
        ..CrawlSettings::default()
    }
}

/// Connects `count` StreamPeerEvents subscribers to the server at `url`, each replaying the
/// log from its start; subscriber 0 reads deliberately slowly (2 ms per event). Every
/// subscriber stops once it has seen the sequence `target` holds (or after 5 minutes) and
/// returns how many events it received. Returns once all are connected.
pub async fn subscribe(
    url: &str,
    count: usize,
    target: tokio::sync::watch::Receiver<u64>,
) -> Result<JoinSet<u64>, String> {
    use futures::StreamExt;
    use peerscope::proto::pb;
    use peerscope::proto::pb::crawler_client::CrawlerClient;

    let mut subs = JoinSet::new();
    for i in 0..count {
        let mut target = target.clone();
        let mut client = CrawlerClient::connect(url.to_string())
            .await
            .map_err(|e| e.to_string())?;
        let mut stream = client
            .stream_peer_events(pb::StreamPeerEventsRequest {
                after_sequence: Some(0),
                ..Default::default()
            })
            .await
            .map_err(|e| e.to_string())?
            .into_inner();
        subs.spawn(async move {
            let slow = i == 0;
            let mut got = 0u64;
            let mut last = 0u64;
            let deadline = tokio::time::Instant::now() + Duration::from_secs(300);
            loop {
                if last >= *target.borrow_and_update() {
                    return got;
                }
                let next = tokio::select! {
                    n = tokio::time::timeout_at(deadline, stream.next()) => n,
                    // The target moved: check it again.
                    _ = target.changed() => continue,
                };
                match next {
                    Ok(Some(Ok(m))) => {
                        got += 1;
                        last = m.event.map(|e| e.sequence).unwrap_or(last);
                        if slow {
                            tokio::time::sleep(Duration::from_millis(2)).await;
                        }
                    }
                    _ => return got,
                }
            }
        });
    }
    Ok(subs)
}

/// What each subscriber of [`subscribe`] received, once all have stopped.
pub async fn received(mut subs: JoinSet<u64>) -> Vec<u64> {
    let mut out = Vec::new();
    while let Some(r) = subs.join_next().await {
        out.push(r.unwrap_or(0));
    }
    out
}

/// Subscribers in a child process (`peerscope bench-subscribers`) run at the lowest CPU
/// priority (`nice -n 19`), standing in for clients on other machines: the crawl then
/// pays only for what the server does for them.
struct ChildSubscribers {
    child: tokio::process::Child,
    lines: tokio::io::Lines<tokio::io::BufReader<tokio::process::ChildStdout>>,
}

impl ChildSubscribers {
    async fn start(url: &str, count: usize) -> Result<ChildSubscribers, String> {
        use tokio::io::AsyncBufReadExt;
        let exe = std::env::current_exe().map_err(|e| e.to_string())?;
        let mut child = tokio::process::Command::new("nice")
            .args(["-n", "19"])
            .arg(exe)
            .args(["bench-subscribers", "--url", url, "--count"])
            .arg(count.to_string())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("starting the subscriber process: {e}"))?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let mut lines = tokio::io::BufReader::new(stdout).lines();
        match tokio::time::timeout(Duration::from_secs(120), lines.next_line()).await {
            Ok(Ok(Some(l))) if l == "ready" => Ok(ChildSubscribers { child, lines }),
            other => Err(format!("the subscriber process did not start: {other:?}")),
        }
    }

    async fn finish(mut self, target: u64) -> Result<Vec<u64>, String> {
        use tokio::io::AsyncWriteExt;
        let mut stdin = self.child.stdin.take().ok_or("no stdin")?;
        stdin
            .write_all(format!("{target}\n").as_bytes())
            .await
            .map_err(|e| e.to_string())?;
        drop(stdin);
        let line = tokio::time::timeout(Duration::from_secs(330), self.lines.next_line())
            .await
            .map_err(|_| "the subscriber process did not finish".to_string())?
            .map_err(|e| e.to_string())?
            .ok_or("the subscriber process printed no result")?;
        let _ = self.child.wait().await;
        serde_json::from_str(&line).map_err(|e| format!("{e}: {line}"))
    }
}

/// One crawl served over gRPC with `subscribers` StreamPeerEvents clients (one of them
/// slow) attached, in this process or in a child process.
async fn crawl_with_subscribers(
    net: &Testnet,
    settings: &CrawlSettings,
    subscribers: usize,
    in_process: bool,
) -> Result<SubscribedCrawl, String> {
    let dir = tempfile_dir()?;
    let service = start_service(&dir).await?;
    let engine = service.engine();
    let addr = service.grpc_addr();
    let url = format!("http://{addr}");
    // Subscribers stop once they have seen `target` (set when the crawl ends).
    let (target_tx, target_rx) = tokio::sync::watch::channel(u64::MAX);
    let (local, child) = match (subscribers, in_process) {
        (0, _) => (None, None),
        (n, true) => (Some(subscribe(&url, n, target_rx).await?), None),
        (n, false) => (None, Some(ChildSubscribers::start(&url, n).await?)),
    };
    let spec = bench_spec(net, settings);
    let t = Instant::now();
    let started = engine.start_crawl(spec).await.map_err(|e| e.to_string())?;
    loop {
        let c = engine.get_crawl(started.id).map_err(|e| e.to_string())?;
        if c.state != CrawlState::Running {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let secs = t.elapsed().as_secs_f64();
    let written = service.store().last_sequence();
    target_tx.send_replace(written);
    let received = match (local, child) {
        (Some(subs), _) => received(subs).await,
        (_, Some(child)) => child.finish(written).await?,
        _ => Vec::new(),
    };
    // Every subscriber has stopped: each had the last event (or gave up, which
    // `received` shows).
    let delivered_secs = t.elapsed().as_secs_f64();
    stop_service(service).await?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(SubscribedCrawl {
        secs,
        delivered_secs,
        written,
        received,
    })
}

/// One crawl of [`crawl_with_subscribers`].
struct SubscribedCrawl {
    /// From StartCrawl to the crawl's end.
    secs: f64,
    /// From StartCrawl to the moment the last subscriber had the last event (the crawl's
    /// time when there are none).
    delivered_secs: f64,
    /// Events the crawl wrote.
    written: u64,
    /// Events each subscriber received.
    received: Vec<u64>,
}

/// Subscriber report.
#[derive(Clone, Debug, Serialize)]
pub struct SubscriberReport {
    pub nodes: usize,
    pub subscribers: usize,
    /// The subscribers ran in the crawl's process (else in a child process at the lowest
    /// CPU priority).
    pub in_process: bool,
    /// Crawl times without subscribers.
    pub without_secs: Vec<f64>,
    /// Crawl times with subscribers (StartCrawl to the crawl's end).
    pub with_secs: Vec<f64>,
    /// With subscribers: StartCrawl to the moment the last subscriber had the last event
    /// (what a user watching the events waits for).
    pub with_delivered_secs: Vec<f64>,
    /// median(with) / median(without): what serving subscribers costs the crawl.
    pub ratio: f64,
    /// median(with_delivered) / median(without): how much later than a crawl without
    /// subscribers ends the last subscriber has everything.
    pub delivered_ratio: f64,
    /// Every subscriber of every run received every event written.
    pub all_received: bool,
    pub events_per_run: Vec<u64>,
}

/// Crawls with and without `subscribers` event subscribers (alternating).
pub async fn run_subscribers(
    config: BenchConfig,
    subscribers: usize,
    in_process: bool,
) -> Result<SubscriberReport, String> {
    let net = Testnet::start(TestnetConfig {
        nodes: config.nodes,
        ..TestnetConfig::default()
    })
    .await
    .map_err(|e| e.to_string())?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    // One crawl to warm up (caches, the testnet's sessions), not counted: the first crawl
    // of a process is much slower than the rest on either side.
    let warm = crawl_with_subscribers(&net, &config.settings, 0, in_process).await?;
    eprintln!("warm-up crawl (not counted): {:.2}s", warm.secs);
    let mut without = Vec::new();
    let mut with = Vec::new();
    let mut delivered = Vec::new();
    let mut all_received = true;
    let mut events = Vec::new();
    for _ in 0..config.rounds.max(1) {
        for n in [0, subscribers] {
            let run = crawl_with_subscribers(&net, &config.settings, n, in_process).await?;
            let ok = run.received.iter().all(|r| *r == run.written);
            all_received &= ok;
            eprintln!(
                "{n:>4} subscribers: crawl {:.2}s, last subscriber has the last event at {:.2}s, {} events, every subscriber got all: {ok}",
                run.secs, run.delivered_secs, run.written
            );
            events.push(run.written);
            if n == 0 {
                without.push(run.secs);
            } else {
                with.push(run.secs);
                delivered.push(run.delivered_secs);
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
    let (a, b, d) = (
        median(without.clone()),
        median(with.clone()),
        median(delivered.clone()),
    );
    let ratio = |x: f64| if a > 0.0 { x / a } else { 0.0 };
    Ok(SubscriberReport {
        nodes: config.nodes,
        subscribers,
        in_process,
        without_secs: without,
        with_secs: with,
        with_delivered_secs: delivered,
        ratio: ratio(b),
        delivered_ratio: ratio(d),
        all_received,
        events_per_run: events,
    })
}

/// One crawl of the sink comparison.
#[derive(Clone, Debug, Serialize)]
pub struct SinkRun {
    pub sink: bool,
    /// Crawl time (start to FINISHED).
    pub secs: f64,
    pub discovered: u64,
    /// Rows the sink had written when the crawl finished.
    pub rows_during_crawl: u64,
    /// Rows written in all, once caught up.
    pub rows: u64,
    /// Time from the crawl's end until the database held everything.
    pub catch_up_secs: f64,
    /// Sink off: rows a sink started after the crawl exported from the finished store
    /// (a backlog, as after an outage or when a database is first attached).
    pub backlog_rows: u64,
    /// Time that took, from the sink's start (connecting included).
    pub backlog_secs: f64,
}

/// Sink comparison report.
#[derive(Clone, Debug, Serialize)]
pub struct SinkReport {
    pub nodes: usize,
    pub runs: Vec<SinkRun>,
    pub without_median_secs: f64,
    pub with_median_secs: f64,
    /// median(with) / median(without).
    pub ratio: f64,
    /// Median over sink runs of rows written during the crawl / crawl time.
    pub rows_per_sec_during_crawl: f64,
    /// Median over sink runs of all rows / (crawl time + catch-up time).
    pub rows_per_sec_to_caught_up: f64,
    /// Median over sink-off runs of backlog rows / backlog time: what the sink can export
    /// when rows wait, rather than the rate a crawl produces them.
    pub backlog_rows_per_sec: f64,
}

/// Rows a sink has written since it started.
fn sink_rows(s: &peerscope::sink::Sink) -> u64 {
    s.status().rows.values().sum::<u64>()
}

/// Waits (up to `limit`) until `s` is connected, has caught up and has written at least
/// `min_batches` batches.
async fn sink_caught_up(
    s: &peerscope::sink::Sink,
    min_batches: u64,
    limit: Duration,
    what: &str,
) -> Result<(), String> {
    let t = Instant::now();
    loop {
        let st = s.status();
        if st.connected && st.caught_up() && st.batches >= min_batches {
            return Ok(());
        }
        if t.elapsed() > limit {
            return Err(format!(
                "{what} within {limit:?}: {}",
                st.last_error.unwrap_or_default()
            ));
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// One ONESHOT crawl in a fresh store, exporting to `sink` (as a vantage of its own)
/// when given; with `backlog`, a sink started after the crawl then exports the finished
/// store.
async fn crawl_with_sink(
    net: &Testnet,
    settings: &CrawlSettings,
    sink: Option<peerscope::sink::SinkConfig>,
    backlog: Option<peerscope::sink::SinkConfig>,
) -> Result<SinkRun, String> {
    let dir = tempfile_dir()?;
    let with_sink = sink.is_some();
    let service = start_service_with_sink(&dir, sink).await?;
    let engine = service.engine();
    if let Some(s) = service.sink() {
        // Connected and migrated before the clock starts.
        let t = Instant::now();
        while !s.status().connected {
            if t.elapsed() > Duration::from_secs(30) {
                return Err(format!(
                    "the sink did not connect: {}",
                    s.status().last_error.unwrap_or_default()
                ));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    let t = Instant::now();
    let started = engine
        .start_crawl(bench_spec(net, settings))
        .await
        .map_err(|e| e.to_string())?;
    let done = loop {
        let c = engine.get_crawl(started.id).map_err(|e| e.to_string())?;
        if c.state != CrawlState::Running {
            break c;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    let secs = t.elapsed().as_secs_f64();
    let mut run = SinkRun {
        sink: with_sink,
        secs,
        discovered: done.progress.discovered,
        rows_during_crawl: service.sink().map(sink_rows).unwrap_or(0),
        rows: 0,
        catch_up_secs: 0.0,
        backlog_rows: 0,
        backlog_secs: 0.0,
    };
    if let Some(s) = service.sink() {
        let t = Instant::now();
        sink_caught_up(s, 0, Duration::from_secs(300), "the sink did not catch up").await?;
        run.catch_up_secs = t.elapsed().as_secs_f64();
        run.rows = sink_rows(s);
    }
    if let Some(config) = backlog {
        let t = Instant::now();
        let s =
            peerscope::sink::Sink::start(service.store().clone(), engine.metrics().clone(), config);
        let caught_up = sink_caught_up(
            &s,
            1,
            Duration::from_secs(300),
            "the backlog was not exported",
        )
        .await;
        run.backlog_secs = t.elapsed().as_secs_f64();
        run.backlog_rows = sink_rows(&s);
        s.finish(Duration::from_secs(10)).await;
        caught_up?;
    }
    stop_service(service).await?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(run)
}

/// Crawls with and without the sink (alternating), each sink run under a vantage of its
/// own (`bench-<pid>-<n>`) in the database of `sink`.
pub async fn run_sink(
    config: BenchConfig,
    sink: peerscope::sink::SinkConfig,
) -> Result<SinkReport, String> {
    let net = Testnet::start(TestnetConfig {
        nodes: config.nodes,
        ..TestnetConfig::default()
    })
    .await
    .map_err(|e| e.to_string())?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let vantage = |n: usize| peerscope::sink::SinkConfig {
        vantage: format!("bench-{}-{n}", std::process::id()),
        ..sink.clone()
    };
    let backlog = |n: usize| peerscope::sink::SinkConfig {
        vantage: format!("bench-{}-{n}-backlog", std::process::id()),
        ..sink.clone()
    };
    // Warm-up, not counted (the first crawl of a process is slower, and the first sink
    // run creates the schema).
    let w = crawl_with_sink(&net, &config.settings, Some(vantage(0)), None).await?;
    eprintln!("warm-up crawl with the sink (not counted): {:.2}s", w.secs);
    let mut runs = Vec::new();
    for round in 0..config.rounds.max(1) {
        for on in [false, true] {
            let run = crawl_with_sink(
                &net,
                &config.settings,
                on.then(|| vantage(round + 1)),
                (!on).then(|| backlog(round + 1)),
            )
            .await?;
            if on {
                eprintln!(
                    "sink on : {:.2}s, discovered {}/{}, rows during the crawl {}, rows {} (caught up {:.2}s after)",
                    run.secs,
                    run.discovered,
                    config.nodes,
                    run.rows_during_crawl,
                    run.rows,
                    run.catch_up_secs
                );
            } else {
                eprintln!(
                    "sink off: {:.2}s, discovered {}/{}; then the finished store exported: {} rows in {:.2}s",
                    run.secs,
                    run.discovered,
                    config.nodes,
                    run.backlog_rows,
                    run.backlog_secs
                );
            }
            runs.push(run);
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
    let secs = |on: bool| {
        median(
            runs.iter()
                .filter(|r| r.sink == on)
                .map(|r| r.secs)
                .collect(),
        )
    };
    let (without, with) = (secs(false), secs(true));
    let on: Vec<&SinkRun> = runs.iter().filter(|r| r.sink).collect();
    Ok(SinkReport {
        nodes: config.nodes,
        without_median_secs: without,
        with_median_secs: with,
        ratio: if without > 0.0 { with / without } else { 0.0 },
        rows_per_sec_during_crawl: median(
            on.iter()
                .map(|r| r.rows_during_crawl as f64 / r.secs.max(1e-9))
                .collect(),
        ),
        backlog_rows_per_sec: median(
            runs.iter()
                .filter(|r| !r.sink)
                .map(|r| r.backlog_rows as f64 / r.backlog_secs.max(1e-9))
                .collect(),
        ),
        rows_per_sec_to_caught_up: median(
            on.iter()
                .map(|r| r.rows as f64 / (r.secs + r.catch_up_secs).max(1e-9))
                .collect(),
        ),
        runs,
    })
}

/// Options of `peerscope bench`.
#[derive(clap::Args)]
pub struct BenchArgs {
    /// Testnet size.
    #[arg(long, default_value_t = 1000)]
    pub nodes: usize,
    /// Runs of each side (alternating).
    #[arg(long, default_value_t = 3)]
    pub rounds: usize,
    /// discv5 requests in flight.
    #[arg(long, default_value_t = peerscope::model::DEFAULT_CONCURRENCY)]
    pub concurrency: u32,
    /// Dials in flight.
    #[arg(long, default_value_t = peerscope::model::DEFAULT_DIAL_CONCURRENCY)]
    pub dial_concurrency: u32,
    /// Instead: compare crawls with and without this many StreamPeerEvents subscribers
    /// (one of them slow) attached over gRPC.
    #[arg(long)]
    pub subscribers: Option<usize>,
    /// With --subscribers: run the subscribers in the crawl's own process, competing with
    /// it for CPU, instead of in a child process at the lowest CPU priority (which stands
    /// in for clients on other machines).
    #[arg(long, requires = "subscribers")]
    pub subscribers_in_process: bool,
    /// Instead: discovery only (no dials), peerscope's ONESHOT crawl against a reference
    /// walk written directly on discv5 (17 distances per node, one request per node at a
    /// time, 16 nodes in flight, no store), alternating, on a testnet in a child process.
    #[arg(long, conflicts_with = "subscribers")]
    pub walk: bool,
    /// With --walk: share of testnet nodes whose TCP port is closed.
    #[arg(long, default_value_t = 0.0, requires = "walk")]
    pub down: f64,
    /// With --walk: records of nodes that never answer in the testnet's tables.
    #[arg(long, default_value_t = 0, requires = "walk")]
    pub dead: usize,
    /// With --walk: a discv5-only testnet (no libp2p, no TCP in the records).
    #[arg(long, requires = "walk")]
    pub no_libp2p: bool,
    /// Instead: compare crawls with and without the PostgreSQL sink exporting into this
    /// database (use a scratch one: every sink run writes under a vantage of its own).
    #[arg(long, conflicts_with_all = ["subscribers", "cometbft", "walk"])]
    pub sink: Option<String>,
    /// File holding the password for --sink.
    #[arg(long, requires = "sink")]
    pub sink_password_file: Option<std::path::PathBuf>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// Instead: the CometBFT driver's ONESHOT crawl against a bare reference crawl on a
    /// CometBFT testnet (5% of the nodes on another chain, 5% down); `--dial-concurrency`
    /// visits in flight on both sides.
    #[arg(long)]
    pub cometbft: bool,
}

/// Options of `peerscope bench-subscribers`.
#[derive(clap::Args)]
pub struct BenchSubscribersArgs {
    /// The server's gRPC URL.
    #[arg(long)]
    pub url: String,
    /// Subscribers to connect.
    #[arg(long)]
    pub count: usize,
}

/// Connects the subscribers, prints `ready`, reads the last sequence to wait for from
/// stdin, then prints what each subscriber received as a JSON array.
pub async fn run_subscriber_process(args: BenchSubscribersArgs) -> anyhow::Result<()> {
    use tokio::io::AsyncBufReadExt;
    let (target_tx, target_rx) = tokio::sync::watch::channel(u64::MAX);
    let subs = subscribe(&args.url, args.count, target_rx)
        .await
        .map_err(|e| anyhow::anyhow!(e))?;
    println!("ready");
    let mut line = String::new();
    tokio::io::BufReader::new(tokio::io::stdin())
        .read_line(&mut line)
        .await
        .context("reading the target sequence")?;
    let target: u64 = line
        .trim()
        .parse()
        .with_context(|| format!("{line:?} is not a sequence number"))?;
    target_tx.send_replace(target);
    let received = received(subs).await;
    println!("{}", serde_json::to_string(&received)?);
    Ok(())
}

/// Runs the benchmark and prints its report.
pub async fn run_command(args: BenchArgs) -> anyhow::Result<()> {
    crate::init_tracing(LogFormat::Text, crate::DEFAULT_LOG);
    if args.cometbft {
        let r = crate::cli::cometbft::run(args.nodes, args.rounds, args.dial_concurrency)
            .await
            .map_err(|e| anyhow::anyhow!(e))?;
        if args.json {
            println!("{}", serde_json::to_string_pretty(&r)?);
        } else {
            let peak = |k: &str| {
                r.runs
                    .iter()
                    .filter(|x| x.kind == k)
                    .filter_map(|x| x.peak_rss_kib)
                    .max()
                    .unwrap_or(0)
            };
            let cpu = |k: &str| {
                median(
                    r.runs
                        .iter()
                        .filter(|x| x.kind == k)
                        .filter_map(|x| x.cpu_secs)
                        .collect(),
                )
            };
            println!(
                "ONESHOT CometBFT crawl of {} nodes (handshake + NodeInfo + PEX), {} visits in flight",
                r.nodes, r.concurrency
            );
            println!(
                "baseline (bare PEX walk on the same crates): median {:.2}s, CPU {:.2}s; peerscope crawl: median {:.2}s, CPU {:.2}s; ratio {:.2}",
                r.baseline_median_secs,
                cpu("baseline"),
                r.crawl_median_secs,
                cpu("crawl"),
                r.ratio
            );
            println!(
                "peak RSS: testnet alone {} KiB, baseline phase {} KiB, crawl phase {} KiB",
                r.testnet_rss_kib.unwrap_or(0),
                peak("baseline"),
                peak("crawl")
            );
        }
        return Ok(());
    }
    let mut settings = default_settings();
    settings.concurrency = args.concurrency;
    settings.dial.concurrency = args.dial_concurrency;
    settings.dial.per_ip = args.dial_concurrency;
    if args.walk {
        let mut settings = CrawlSettings {
            concurrency: args.concurrency,
            random_lookups: peerscope::model::DEFAULT_ONESHOT_RANDOM_LOOKUPS,
            ..CrawlSettings::default()
        };
        settings.dial.enabled = false;
        let report = super::walk_bench::run(super::walk_bench::WalkBenchConfig {
            nodes: args.nodes,
            down: args.down,
            dead: args.dead,
            libp2p: !args.no_libp2p,
            rounds: args.rounds,
            settings,
        })
        .await?;
        if args.json {
            println!("{}", serde_json::to_string_pretty(&report)?);
        } else {
            super::walk_bench::print(&report);
        }
        return Ok(());
    }
    let config = BenchConfig {
        nodes: args.nodes,
        rounds: args.rounds,
        settings,
    };
    if let Some(url) = &args.sink {
        let password = match &args.sink_password_file {
            Some(p) => Some(
                std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?,
            ),
            None => None,
        };
        let sink = peerscope::sink::SinkConfig::new(url, password.as_deref(), Some("bench"))?;
        let r = run_sink(config, sink)
            .await
            .map_err(|e| anyhow::anyhow!(e))?;
        if args.json {
            println!("{}", serde_json::to_string_pretty(&r)?);
        } else {
            let times = |on: bool| -> Vec<String> {
                r.runs
                    .iter()
                    .filter(|x| x.sink == on)
                    .map(|x| format!("{:.2}", x.secs))
                    .collect()
            };
            println!(
                "ONESHOT crawl of {} nodes with dials: sink off {:?} s, sink on {:?} s; ratio of medians {:.3}",
                r.nodes,
                times(false),
                times(true),
                r.ratio
            );
            println!(
                "export: {:.0} rows/s during the crawl, {:.0} rows/s until caught up ({} rows per crawl, caught up {:.2} s after it ended); a finished crawl's store as a backlog: {:.0} rows/s",
                r.rows_per_sec_during_crawl,
                r.rows_per_sec_to_caught_up,
                r.runs.iter().filter(|x| x.sink).map(|x| x.rows).max().unwrap_or(0),
                r.runs
                    .iter()
                    .filter(|x| x.sink)
                    .map(|x| x.catch_up_secs)
                    .fold(0.0, f64::max),
                r.backlog_rows_per_sec
            );
        }
        return Ok(());
    }
    if let Some(n) = args.subscribers {
        let r = run_subscribers(config, n, args.subscribers_in_process)
            .await
            .map_err(|e| anyhow::anyhow!(e))?;
        if args.json {
            println!("{}", serde_json::to_string_pretty(&r)?);
        } else {
            println!(
                "ONESHOT crawl of {} nodes served over gRPC: without subscribers {:?} s, with {} subscribers (one slow, {}) {:?} s, the last subscriber having the last event at {:?} s; ratios of medians to the crawl without subscribers: crawl {:.3}, last event delivered {:.3}; every subscriber received every event: {}",
                r.nodes,
                r.without_secs,
                r.subscribers,
                if r.in_process { "in process" } else { "in a child process at nice 19" },
                r.with_secs,
                r.with_delivered_secs,
                r.ratio,
                r.delivered_ratio,
                r.all_received
            );
        }
        anyhow::ensure!(r.all_received, "a subscriber missed events");
        return Ok(());
    }
    let report = run(config).await.map_err(|e| anyhow::anyhow!(e))?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!(
            "ONESHOT crawl of {} nodes (discover + dial + identify + metadata), concurrency {} / dials {}",
            report.nodes, report.concurrency, report.dial_concurrency
        );
        println!(
            "baseline (bare discv5 + libp2p): median {:.2}s; peerscope crawl: median {:.2}s; ratio {:.2}",
            report.baseline_median_secs, report.crawl_median_secs, report.ratio
        );
        let peak = |k: &str| {
            report
                .runs
                .iter()
                .filter(|r| r.kind == k)
                .filter_map(|r| r.peak_rss_kib)
                .max()
                .unwrap_or(0)
        };
        println!(
            "peak RSS: testnet alone {} KiB, baseline phase {} KiB, crawl phase {} KiB",
            report.testnet_rss_kib.unwrap_or(0),
            peak("baseline"),
            peak("crawl")
        );
    }
    Ok(())
}
