//! `peerscope testnet --cometbft` (a loopback CometBFT network) and `peerscope bench
//! --cometbft` (the CometBFT driver's ONESHOT crawl against a bare baseline).
//!
//! The baseline is a reference crawl written directly on the same crates and the same
//! visit (TCP, SecretConnection, NodeInfo, one PEX request): breadth first from the
//! bootstrap, every address visited once, the same number of visits in flight, no store,
//! no events, no address book, no scope or abuse checks beyond what the visit does. Runs
//! alternate (baseline, crawl, …) in one process against one testnet; the report gives
//! every run's wall time, nodes found and connected, CPU-seconds and peak RSS, the medians
//! and their ratio.

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::bench::{median, proc_status, tempfile_dir, RssSampler};
use peerscope::engine::cometbft::conn::LocalNode;
use peerscope::engine::cometbft::local_info;
use peerscope::engine::cometbft::visit::{visit, PexOutcome, VisitSettings};
use peerscope::engine::{Engine, EngineConfig};
use peerscope::model::{
    CometBftSettings, CrawlMode, CrawlSettings, CrawlSpec, CrawlState, DialSettings, Profile,
};
use peerscope::protocol::cometbft::pex::{self, MAX_GET_SELECTION};
use peerscope::protocol::cometbft::{CometId, PeerAddr};
use peerscope::store::Store;
use peerscope::testnet::cometbft::{CometTestnet, CometTestnetConfig};

/// The testnet shape of `peerscope testnet --cometbft`.
#[derive(Clone, Debug)]
pub struct TestnetShape {
    pub nodes: usize,
    pub chain_b: usize,
    pub down: usize,
    pub abusive: usize,
    pub degree: usize,
    pub seed: u64,
}

/// Runs a CometBFT testnet until Ctrl-C or `duration`, printing its addresses.
pub async fn testnet(
    shape: TestnetShape,
    json: bool,
    duration: Option<Duration>,
) -> anyhow::Result<()> {
    let net = CometTestnet::start(CometTestnetConfig {
        nodes: shape.nodes,
        chain_b: shape.chain_b,
        down: shape.down,
        abusive: shape.abusive,
        degree: shape.degree,
        seed: shape.seed,
        ..CometTestnetConfig::default()
    })
    .await
    .map_err(|e| anyhow::anyhow!(e))?;
    if json {
        println!(
            "{}",
            serde_json::json!({ "bootstrap": net.bootstrap(), "nodes": net.nodes() })
        );
    } else {
        let chains: std::collections::BTreeMap<&str, usize> =
            net.nodes().iter().fold(Default::default(), |mut m, n| {
                *m.entry(n.chain_id.as_str()).or_default() += 1;
                m
            });
        println!(
            "testnet: {} CometBFT nodes on 127.0.0.1, per chain {chains:?}",
            net.nodes().len()
        );
        println!("bootstrap: {}", net.bootstrap());
        for n in net.nodes() {
            println!(
                "  {} {} {} {} {}",
                n.address,
                n.chain_id,
                n.kind.as_str(),
                n.version,
                n.moniker
            );
        }
    }
    match duration {
        Some(d) => tokio::time::sleep(d).await,
        None => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
    net.stop();
    Ok(())
}

/// One measured run.
#[derive(Clone, Debug, Serialize)]
pub struct Run {
    pub kind: &'static str,
    pub secs: f64,
    /// Distinct nodes learned.
    pub found: usize,
    /// Visits that got a compatible NodeInfo.
    pub connected: usize,
    pub cpu_secs: Option<f64>,
    pub peak_rss_kib: Option<u64>,
}

/// The report.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub nodes: usize,
    pub concurrency: u32,
    pub runs: Vec<Run>,
    pub baseline_median_secs: f64,
    pub crawl_median_secs: f64,
    /// crawl / baseline.
    pub ratio: f64,
    pub testnet_rss_kib: Option<u64>,
}

/// CPU time (user + system) of this process so far, from `/proc/self/stat` (Linux).
fn cpu_secs() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = s.rsplit_once(')')?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    // USER_HZ is 100 on Linux.
    Some(ticks / 100.0)
}

fn visit_settings() -> VisitSettings {
    VisitSettings {
        connect_timeout: Duration::from_secs(2),
        exchange_timeout: Duration::from_secs(3),
        max_addrs: MAX_GET_SELECTION,
    }
}

/// The reference crawl: breadth first, every address once, `concurrency` in flight.
async fn baseline(net: &CometTestnet, chain: &str, concurrency: usize) -> (usize, usize) {
    let local = Arc::new(LocalNode::generate(local_info(&CometBftSettings {
        chain_id: chain.into(),
        ..CometBftSettings::default()
    })));
    let start: PeerAddr = net.bootstrap().parse().expect("valid bootstrap");
    let mut seen: HashSet<CometId> = HashSet::from([start.id]);
    let mut queue = VecDeque::from([start]);
    let mut jobs = JoinSet::new();
    let mut connected = 0;
    loop {
        while jobs.len() < concurrency {
            let Some(a) = queue.pop_front() else { break };
            jobs.spawn(visit(a, local.clone(), visit_settings()));
        }
        let Some(done) = jobs.join_next().await else {
            break;
        };
        let Ok(v) = done else { continue };
        if let Ok((_, outcome)) = v.result {
            connected += 1;
            if let PexOutcome::Addrs(list) = outcome {
                if let Ok(valid) = pex::validate(&list, MAX_GET_SELECTION) {
                    for a in valid.addrs {
                        if seen.insert(a.id) {
                            queue.push_back(a);
                        }
                    }
                }
            }
        }
    }
    (seen.len(), connected)
}

/// peerscope's ONESHOT CometBFT crawl through the engine, with a store in a temp dir.
async fn crawl(
    net: &CometTestnet,
    chain: &str,
    concurrency: u32,
) -> Result<(usize, usize, f64), String> {
    let dir = tempfile_dir()?;
    let store = Store::open(&dir, 500).map_err(|e| e.to_string())?;
    let engine = Engine::new(
        store,
        EngineConfig {
            default_discv5_addr: "127.0.0.1:0".parse().expect("valid literal"),
            ..EngineConfig::default()
        },
        CancellationToken::new(),
    )
    .map_err(|e| e.to_string())?;
    let v = visit_settings();
    let spec = CrawlSpec {
        name: "bench-cometbft".into(),
        labels: Default::default(),
        profile: Profile::CometBft(Box::new(CometBftSettings {
            chain_id: chain.into(),
            peers: vec![net.bootstrap()],
            exchange_timeout: v.exchange_timeout,
            ..CometBftSettings::default()
        })),
        bootstrap_enrs: Vec::new(),
        dns_tree_urls: Vec::new(),
        dns_from: None,
        mode: CrawlMode::Oneshot,
        settings: CrawlSettings {
            dial: DialSettings {
                concurrency,
                timeout: v.connect_timeout,
                ..DialSettings::default()
            },
            ..CrawlSettings::default()
        },
        listen_addr: None,
    };
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
    engine.shutdown().await;
    drop(engine);
    let _ = std::fs::remove_dir_all(&dir);
    Ok((
        done.progress.discovered as usize,
        done.progress.connected as usize,
        secs,
    ))
}

/// Runs the benchmark on a testnet of `nodes` (5% on another chain, 5% down).
pub async fn run(nodes: usize, rounds: usize, concurrency: u32) -> Result<Report, String> {
    let chain = "bench-chain";
    let net = CometTestnet::start(CometTestnetConfig {
        nodes,
        chain_b: nodes / 20,
        down: nodes / 20,
        degree: 8,
        chain_a: chain.into(),
        ..CometTestnetConfig::default()
    })
    .await?;
    let testnet_rss_kib = proc_status("VmRSS:");
    let mut runs = Vec::new();
    for _ in 0..rounds.max(1) {
        for kind in ["baseline", "crawl"] {
            let sampler = RssSampler::start();
            let cpu0 = cpu_secs();
            let t = Instant::now();
            let (found, connected, secs) = if kind == "baseline" {
                let (f, c) = baseline(&net, chain, concurrency as usize).await;
                (f, c, t.elapsed().as_secs_f64())
            } else {
                crawl(&net, chain, concurrency).await?
            };
            let run = Run {
                kind,
                secs,
                found,
                connected,
                cpu_secs: cpu_secs().zip(cpu0).map(|(a, b)| a - b),
                peak_rss_kib: sampler.peak(),
            };
            eprintln!(
                "{kind:>8}: {secs:.2}s, found {found}/{nodes}, connected {connected}, CPU {:.2}s, peak RSS {} KiB",
                run.cpu_secs.unwrap_or(0.0),
                run.peak_rss_kib.map(|k| k.to_string()).unwrap_or_else(|| "?".into())
            );
            runs.push(run);
            tokio::time::sleep(Duration::from_millis(500)).await;
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
    net.stop();
    Ok(Report {
        nodes,
        concurrency,
        runs,
        baseline_median_secs: b,
        crawl_median_secs: c,
        ratio: if b > 0.0 { c / b } else { 0.0 },
        testnet_rss_kib,
    })
}
