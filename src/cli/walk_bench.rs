//! `peerscope bench --walk`: discovery only (no dials), peerscope's ONESHOT crawl against a
//! reference walk written directly on the discv5 crate the simple way — 17 distances per
//! node (256 down to 240, one request each), one request per node at a time, 16 nodes in
//! flight, no store — on the same testnet, alternating in one run.
//!
//! The testnet runs in a child process (`peerscope testnet`), so this process's CPU time
//! and memory are the walking side's alone. Per run it prints the wall time, the FINDNODE
//! requests per discovered node, the failed requests, the CPU-seconds this process used
//! (`/proc/self/stat`; the testnet's, answering, beside them) and its peak resident memory (`VmHWM`, reset before each run
//! through `/proc/self/clear_refs`; Linux) — for peerscope from StartCrawl to the crawl's
//! end, without opening and closing the store — then the medians of each side and the
//! ratio of the medians (peerscope / reference). peerscope runs with the settings a
//! ONESHOT crawl gets by default, dials off.
//!
//! The reference uses discv5's defaults (1 s timeout, one resend) but for the protocol id
//! and a record that never gains an address (as peerscope's); it ends a node's walk at its
//! first failed request: continuing would cost a dead node 17 × 2 s.

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use discv5::{ConfigBuilder, Discv5, ListenConfig, ProtocolIdentity};
use enr::CombinedKey;
use serde::Serialize;
use tokio::io::AsyncBufReadExt;
use tokio::task::JoinSet;

use peerscope::engine::passive_local_enr;
use peerscope::model::{CrawlSettings, CrawlState, NodeId};
use peerscope::protocol::enr::{parse_enr, Enr};

/// Distances the reference asks of every node (256 down).
pub const REFERENCE_DISTANCES: u64 = 17;
/// Nodes the reference walks at once.
pub const REFERENCE_NODES_IN_FLIGHT: usize = 16;

/// What `bench --walk` runs.
#[derive(Clone, Debug)]
pub struct WalkBenchConfig {
    pub nodes: usize,
    pub down: f64,
    pub dead: usize,
    pub libp2p: bool,
    pub rounds: usize,
    /// peerscope's crawl settings (dials off).
    pub settings: CrawlSettings,
}

/// One measured run of one side.
#[derive(Clone, Debug, Serialize)]
pub struct WalkRun {
    pub side: &'static str,
    pub secs: f64,
    pub discovered: usize,
    pub requests: u64,
    pub failed: u64,
    pub cpu_secs: f64,
    /// CPU-seconds the testnet process used during the run (answering).
    pub testnet_cpu_secs: f64,
    /// Peak resident memory during the run.
    pub peak_rss_kib: Option<u64>,
    /// Resident memory when the run started.
    pub start_rss_kib: Option<u64>,
}

impl WalkRun {
    fn requests_per_node(&self) -> f64 {
        self.requests as f64 / self.discovered.max(1) as f64
    }
}

/// Medians of one side's runs.
#[derive(Clone, Debug, Serialize)]
pub struct SideSummary {
    pub secs: f64,
    pub requests_per_node: f64,
    pub failed: f64,
    pub cpu_secs: f64,
    pub testnet_cpu_secs: f64,
    pub peak_rss_kib: f64,
    pub discovered_min: usize,
}

/// The report of `bench --walk`.
#[derive(Clone, Debug, Serialize)]
pub struct WalkReport {
    pub nodes: usize,
    pub down: f64,
    pub dead: usize,
    pub cores: usize,
    pub runs: Vec<WalkRun>,
    pub reference: SideSummary,
    pub peerscope: SideSummary,
    /// peerscope / reference, of the median wall times.
    pub ratio: f64,
    /// peerscope / reference, of the median CPU-seconds.
    pub cpu_ratio: f64,
    /// The testnet process's resident memory once up, and its peak.
    pub testnet_rss_kib: Option<u64>,
    pub testnet_peak_rss_kib: Option<u64>,
}

fn proc_field(path: &str, field: &str) -> Option<u64> {
    let s = std::fs::read_to_string(path).ok()?;
    let line = s.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// CPU-seconds (user + system) this process has used.
fn cpu_secs() -> f64 {
    process_cpu_secs("/proc/self/stat")
}

/// CPU-seconds (user + system) a process has used, from its `stat` file.
fn process_cpu_secs(path: &str) -> f64 {
    let Ok(stat) = std::fs::read_to_string(path) else {
        return 0.0;
    };
    // Fields after the command (which is in parentheses and may hold spaces).
    let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
        return 0.0;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the command.
    let ticks: u64 = [11, 12]
        .iter()
        .filter_map(|i| fields.get(*i).and_then(|f| f.parse::<u64>().ok()))
        .sum();
    // USER_HZ is 100 on Linux.
    ticks as f64 / 100.0
}

/// Resets this process's peak resident memory (`VmHWM`) to its current one.
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// The testnet child process.
struct TestnetProcess {
    child: tokio::process::Child,
    bootstrap: Vec<String>,
}

impl TestnetProcess {
    async fn start(config: &WalkBenchConfig) -> anyhow::Result<TestnetProcess> {
        let exe = std::env::current_exe().context("the peerscope binary")?;
        let mut cmd = tokio::process::Command::new(exe);
        cmd.args(["testnet", "--json", "--duration", "86400", "--nodes"])
            .arg(config.nodes.to_string())
            .arg("--down")
            .arg(config.down.to_string())
            .arg("--dead")
            .arg(config.dead.to_string());
        if !config.libp2p {
            cmd.arg("--no-libp2p");
        }
        let mut child = cmd
            .env("PEERSCOPE_LOG", "error")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .context("starting the testnet process")?;
        let stdout = child.stdout.take().context("no stdout")?;
        let mut lines = tokio::io::BufReader::new(stdout).lines();
        let first = tokio::time::timeout(Duration::from_secs(900), lines.next_line())
            .await
            .context("the testnet did not start within 15 minutes")??
            .context("the testnet process ended")?;
        let v: serde_json::Value = serde_json::from_str(&first).context("the testnet's JSON")?;
        let bootstrap: Vec<String> = v["bootstrap_enrs"]
            .as_array()
            .context("no bootstrap_enrs")?
            .iter()
            .filter_map(|e| e.as_str().map(str::to_string))
            .collect();
        // Keep reading its status lines so that it never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(TestnetProcess { child, bootstrap })
    }

    fn status(&self, field: &str) -> Option<u64> {
        let pid = self.child.id()?;
        proc_field(&format!("/proc/{pid}/status"), field)
    }

    fn cpu_secs(&self) -> f64 {
        self.child
            .id()
            .map_or(0.0, |pid| process_cpu_secs(&format!("/proc/{pid}/stat")))
    }
}

/// The reference walk: every node asked 17 distances (256 down), one request at a time,
/// 16 nodes at once, from `bootstrap`. Returns (nodes discovered, requests, failures).
pub async fn reference_walk(bootstrap: &[Enr]) -> anyhow::Result<(usize, u64, u64)> {
    let socket = tokio::net::UdpSocket::bind("127.0.0.1:0").await?;
    let key = CombinedKey::generate_secp256k1();
    let local = passive_local_enr(&key)?;
    let local_id = local.node_id().raw();
    let config = ConfigBuilder::new(ListenConfig::FromSockets {
        ipv4: Some(Arc::new(socket)),
        ipv6: None,
    })
    .protocol_identity(ProtocolIdentity {
        protocol_id: *b"d5waku",
        protocol_version: 1u16.to_be_bytes(),
    })
    // A passive crawler: its record never gains an address, so no table takes it.
    .disable_enr_update()
    .build();
    let mut discv5 = Discv5::new(local, key, config).map_err(|e| anyhow::anyhow!(e))?;
    discv5.start().await.map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let mut seen: HashSet<NodeId> = HashSet::new();
    let mut queue: VecDeque<Enr> = VecDeque::new();
    for enr in bootstrap {
        if seen.insert(enr.node_id().raw()) {
            queue.push_back(enr.clone());
        }
    }
    let (mut requests, mut failures) = (0u64, 0u64);
    let mut walks: JoinSet<(Vec<Enr>, u64, u64)> = JoinSet::new();
    loop {
        while walks.len() < REFERENCE_NODES_IN_FLIGHT {
            let Some(enr) = queue.pop_front() else { break };
            let asks: Vec<_> = (257 - REFERENCE_DISTANCES..=256)
                .rev()
                .map(|d| (d, discv5.find_node_designated_peer(enr.clone(), vec![d])))
                .collect();
            walks.spawn(async move {
                let (mut found, mut sent, mut failed) = (Vec::new(), 0, 0);
                for (_, ask) in asks {
                    sent += 1;
                    match ask.await {
                        Ok(enrs) => found.extend(enrs),
                        Err(_) => {
                            failed += 1;
                            break;
                        }
                    }
                }
                (found, sent, failed)
            });
        }
        let Some(done) = walks.join_next().await else {
            break;
        };
        let (found, sent, failed) = done?;
        requests += sent;
        failures += failed;
        for enr in found {
            let id = enr.node_id().raw();
            if id != local_id && seen.insert(id) {
                queue.push_back(enr);
            }
        }
    }
    discv5.shutdown();
    Ok((seen.len(), requests, failures))
}

/// One peerscope ONESHOT crawl (dials off) through the service, as `peerscope serve`
/// runs it; timed (wall, CPU, peak memory) from StartCrawl to its end.
async fn peerscope_walk(
    bootstrap: &[String],
    settings: &CrawlSettings,
) -> anyhow::Result<Measured> {
    let dir = super::bench::tempfile_dir().map_err(|e| anyhow::anyhow!(e))?;
    let service = super::bench::start_service(&dir)
        .await
        .map_err(|e| anyhow::anyhow!(e))?;
    let engine = service.engine();
    let mut spec = super::bench::spec_for(bootstrap.to_vec(), settings);
    spec.settings.dial.enabled = false;
    // Timed from here: opening and closing the store are not part of the crawl.
    reset_peak_rss();
    let cpu = cpu_secs();
    let t = Instant::now();
    let started = engine.start_crawl(spec).await?;
    let done = loop {
        let c = engine.get_crawl(started.id)?;
        if c.state != CrawlState::Running {
            break c;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    let secs = t.elapsed().as_secs_f64();
    let cpu = cpu_secs() - cpu;
    let peak = proc_field("/proc/self/status", "VmHWM:");
    super::bench::stop_service(service)
        .await
        .map_err(|e| anyhow::anyhow!(e))?;
    let _ = std::fs::remove_dir_all(&dir);
    if done.state != CrawlState::Finished {
        bail!("the crawl ended {:?}: {:?}", done.state, done.error);
    }
    let p = &done.progress;
    Ok(Measured {
        secs,
        discovered: p.discovered as usize,
        requests: p.find_node_requests,
        failed: p.find_node_failures,
        cpu_secs: cpu,
        peak_rss_kib: peak,
    })
}

/// What one run of a side measured.
struct Measured {
    secs: f64,
    discovered: usize,
    requests: u64,
    failed: u64,
    cpu_secs: f64,
    peak_rss_kib: Option<u64>,
}

/// Runs `bench --walk`.
pub async fn run(config: WalkBenchConfig) -> anyhow::Result<WalkReport> {
    let net = TestnetProcess::start(&config).await?;
    let bootstrap: Vec<Enr> = net
        .bootstrap
        .iter()
        .map(|t| parse_enr(t).map_err(|e| anyhow::anyhow!("{e}")))
        .collect::<Result<_, _>>()?;
    // Let the testnet's own table pings settle.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let testnet_rss_kib = net.status("VmRSS:");
    let mut runs = Vec::new();
    for _ in 0..config.rounds.max(1) {
        for side in ["reference", "peerscope"] {
            let start_rss_kib = proc_field("/proc/self/status", "VmRSS:");
            let testnet_cpu = net.cpu_secs();
            let m = if side == "reference" {
                reset_peak_rss();
                let cpu = cpu_secs();
                let t = Instant::now();
                let (discovered, requests, failed) = reference_walk(&bootstrap).await?;
                Measured {
                    secs: t.elapsed().as_secs_f64(),
                    discovered,
                    requests,
                    failed,
                    cpu_secs: cpu_secs() - cpu,
                    peak_rss_kib: proc_field("/proc/self/status", "VmHWM:"),
                }
            } else {
                peerscope_walk(&net.bootstrap, &config.settings).await?
            };
            let Measured {
                secs,
                discovered,
                requests,
                failed,
                ..
            } = m;
            let run = WalkRun {
                side,
                secs,
                discovered,
                requests,
                failed,
                cpu_secs: m.cpu_secs,
                testnet_cpu_secs: net.cpu_secs() - testnet_cpu,
                peak_rss_kib: m.peak_rss_kib,
                start_rss_kib,
            };
            eprintln!(
                "{side:>9}: {secs:6.2} s, discovered {discovered}, {requests} requests ({:.1} per node), {failed} failed, {:.2} CPU-s (testnet {:.2}), peak RSS {} KiB (at start {} KiB)",
                run.requests_per_node(),
                run.cpu_secs,
                run.testnet_cpu_secs,
                run.peak_rss_kib.unwrap_or(0),
                start_rss_kib.unwrap_or(0),
            );
            runs.push(run);
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
    let summary = |side: &str| {
        let of = |f: &dyn Fn(&WalkRun) -> f64| {
            median(runs.iter().filter(|r| r.side == side).map(f).collect())
        };
        SideSummary {
            secs: of(&|r| r.secs),
            requests_per_node: of(&|r| r.requests_per_node()),
            failed: of(&|r| r.failed as f64),
            cpu_secs: of(&|r| r.cpu_secs),
            testnet_cpu_secs: of(&|r| r.testnet_cpu_secs),
            peak_rss_kib: of(&|r| r.peak_rss_kib.unwrap_or(0) as f64),
            discovered_min: runs
                .iter()
                .filter(|r| r.side == side)
                .map(|r| r.discovered)
                .min()
                .unwrap_or(0),
        }
    };
    let reference = summary("reference");
    let peerscope = summary("peerscope");
    let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { 0.0 };
    Ok(WalkReport {
        nodes: config.nodes,
        down: config.down,
        dead: config.dead,
        cores: std::thread::available_parallelism().map_or(0, |n| n.get()),
        ratio: ratio(peerscope.secs, reference.secs),
        cpu_ratio: ratio(peerscope.cpu_secs, reference.cpu_secs),
        runs,
        reference,
        peerscope,
        testnet_rss_kib,
        testnet_peak_rss_kib: net.status("VmHWM:"),
    })
}

/// Prints the report as a table.
pub fn print(r: &WalkReport) {
    println!(
        "discovery of a {}-node testnet (--down {}, --dead {}; testnet in its own process), {} cores, {} runs per side",
        r.nodes,
        r.down,
        r.dead,
        r.cores,
        r.runs.len() / 2
    );
    println!(
        "| side | median wall | requests / node | failed | CPU-s | testnet CPU-s | peak RSS | found (min) |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for (name, s) in [
        ("reference walk", &r.reference),
        ("peerscope", &r.peerscope),
    ] {
        println!(
            "| {name} | {:.2} s | {:.1} | {:.0} | {:.2} | {:.2} | {:.1} MB | {}/{} |",
            s.secs,
            s.requests_per_node,
            s.failed,
            s.cpu_secs,
            s.testnet_cpu_secs,
            s.peak_rss_kib / 1024.0,
            s.discovered_min,
            r.nodes + r.dead
        );
    }
    println!(
        "ratio of medians (peerscope / reference): wall {:.2}, CPU {:.2}; testnet process RSS {:.1} MB (peak {:.1} MB)",
        r.ratio,
        r.cpu_ratio,
        r.testnet_rss_kib.unwrap_or(0) as f64 / 1024.0,
        r.testnet_peak_rss_kib.unwrap_or(0) as f64 / 1024.0
    );
}
