//! The PostgreSQL sink against a real PostgreSQL: a throwaway cluster of the test's own
//! (initdb into a temp dir, a free port on 127.0.0.1, run as the `postgres` user when the
//! test runs as root), `peerscope serve --sink` processes crawling a loopback testnet, and
//! comparisons of the database with each server's API and with its sled store.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use peerscope::model::{PeerFilter, PeerRecord};
use peerscope::proto::pb;
use peerscope::proto::pb::crawler_client::CrawlerClient;
use peerscope::store::Store;
use peerscope::testnet::{Testnet, TestnetConfig};
use tonic::transport::Channel;

use crate::common::ServeProcess as Serve;
use crate::common::{
    all_peers, get_crawl, http_get, oneshot, publish_steadily, spawn_serve, start, wait_final,
    within,
};
use crate::relay::publish_grid;

// ---- a throwaway PostgreSQL cluster ----------------------------------------------------

/// The newest PostgreSQL found under /usr/lib/postgresql/*/bin.
fn pg_bin() -> PathBuf {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v: u32 = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((v, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, b)| b).expect(
        "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb): apt-get install postgresql",
    )
}

fn is_root() -> bool {
    std::fs::metadata("/proc/self")
        .map(|m| m.uid() == 0)
        .unwrap_or(false)
}

fn id_of(flag: &str) -> u32 {
    let out = Command::new("id")
        .args([flag, "postgres"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "running as root needs a `postgres` user to run PostgreSQL"
    );
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
}

/// A PostgreSQL cluster in a temp dir on 127.0.0.1; stopped when dropped (also on panic).
pub struct Postgres {
    dir: tempfile::TempDir,
    bin: PathBuf,
    pub port: u16,
    running: bool,
}

impl Postgres {
    pub fn start() -> Postgres {
        let bin = pg_bin();
        let dir = tempfile::tempdir().unwrap();
        if is_root() {
            std::os::unix::fs::chown(dir.path(), Some(id_of("-u")), Some(id_of("-g"))).unwrap();
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut pg = Postgres {
            dir,
            bin,
            port,
            running: false,
        };
        let data = pg.data();
        pg.run(
            "initdb",
            &[
                "-D",
                data.to_str().unwrap(),
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--no-sync",
            ],
        );
        pg.resume();
        pg
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn run(&self, tool: &str, args: &[&str]) {
        let exe = self.bin.join(tool);
        let mut cmd = if is_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&exe);
            c
        } else {
            Command::new(&exe)
        };
        let out = cmd.args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{tool} {args:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Starts (again) on the same port.
    pub fn resume(&mut self) {
        let opts = format!(
            "-p {} -c listen_addresses=127.0.0.1 -c unix_socket_directories={} -c fsync=off -c full_page_writes=off -c max_connections=40",
            self.port,
            self.dir.path().display()
        );
        let data = self.data();
        let log = self.dir.path().join("log");
        self.run(
            "pg_ctl",
            &[
                "-D",
                data.to_str().unwrap(),
                "-l",
                log.to_str().unwrap(),
                "-w",
                "-t",
                "60",
                "-o",
                &opts,
                "start",
            ],
        );
        self.running = true;
    }

    /// Stops (fast shutdown: connections are closed).
    pub fn pause(&mut self) {
        let data = self.data();
        self.run(
            "pg_ctl",
            &["-D", data.to_str().unwrap(), "-m", "fast", "-w", "stop"],
        );
        self.running = false;
    }

    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    pub async fn client(&self) -> tokio_postgres::Client {
        let (client, conn) = tokio_postgres::connect(&self.url(), tokio_postgres::NoTls)
            .await
            .expect("connect to the test cluster");
        tokio::spawn(conn);
        client
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        if self.running {
            let data = self.data();
            let exe = self.bin.join("pg_ctl");
            let mut cmd = if is_root() {
                let mut c = Command::new("runuser");
                c.args(["-u", "postgres", "--"]).arg(&exe);
                c
            } else {
                Command::new(&exe)
            };
            let _ = cmd
                .args(["-D", data.to_str().unwrap(), "-m", "immediate", "stop"])
                .output();
        }
    }
}

// ---- `peerscope serve --sink` ------------------------------------------------------------

/// Starts `peerscope serve` on `dir` exporting to `pg` as `vantage`.
async fn serve(dir: &Path, vantage: &str, pg: &str, run: usize) -> Serve {
    serve_with(dir, vantage, pg, run, &[]).await
}

/// [`serve`] with `extra` flags.
async fn serve_with(dir: &Path, vantage: &str, pg: &str, run: usize, extra: &[&str]) -> Serve {
    let mut args = vec!["--sink", pg, "--vantage", vantage];
    args.extend(extra);
    spawn_serve(dir, run, &args, "info,peerscope::sink=debug").await
}

impl Serve {
    /// `peerscope sink` against this server: what it prints.
    fn sink_cli(&self) -> String {
        let out = Command::new(env!("CARGO_BIN_EXE_peerscope"))
            .args(["sink", "--server", &self.grpc])
            .env_remove("PEERSCOPE_TOKEN")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// SIGKILL.
    async fn kill9(mut self) {
        self.child.start_kill().unwrap();
        within(Duration::from_secs(10), self.child.wait())
            .await
            .unwrap();
    }

    /// SIGTERM, as an operator stops it: crawls stop, the sink exports what is left.
    async fn stop(mut self) {
        let pid = self.child.id().unwrap().to_string();
        assert!(Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success());
        let status = within(Duration::from_secs(40), self.child.wait())
            .await
            .unwrap();
        assert!(status.success(), "serve exited with {status}");
    }
}

async fn sink_status(client: &mut CrawlerClient<Channel>) -> pb::GetSinkStatusResponse {
    client
        .get_sink_status(pb::GetSinkStatusRequest {})
        .await
        .unwrap()
        .into_inner()
}

/// Polls GetSinkStatus until the sink is connected and has exported everything.
async fn caught_up(
    client: &mut CrawlerClient<Channel>,
    limit: Duration,
) -> pb::GetSinkStatusResponse {
    within(limit, async {
        loop {
            let s = sink_status(client).await;
            if s.connected && s.caught_up {
                return s;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    })
    .await
}

/// The value of an unlabelled metric (or the sum over its labels).
async fn metric(http: SocketAddr, name: &str) -> f64 {
    let (code, body) = http_get(http, "/metrics", None).await;
    assert_eq!(code, 200);
    body.lines()
        .filter(|l| l.starts_with(name) && !l.starts_with('#'))
        .filter(|l| l[name.len()..].starts_with([' ', '{']))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

// ---- the database against the store -----------------------------------------------------

/// Rows of `SELECT exprs FROM table WHERE vantage = $1`, each as its columns' text joined
/// with `|` (NULL as `-`), sorted.
async fn pg_rows(
    pg: &tokio_postgres::Client,
    table: &str,
    exprs: &[&str],
    vantage: &str,
) -> Vec<String> {
    let cols: Vec<String> = exprs
        .iter()
        .map(|e| format!("coalesce(({e})::text, '-')"))
        .collect();
    let sql = format!(
        "SELECT concat_ws('|', {}) FROM {table} WHERE vantage = $1",
        cols.join(", ")
    );
    let mut out: Vec<String> = pg
        .query(&sql, &[&vantage])
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .iter()
        .map(|r| r.get(0))
        .collect();
    out.sort();
    out
}

fn ms(col: &str) -> String {
    format!("(extract(epoch FROM {col}) * 1000)::bigint")
}

fn o<T: std::fmt::Display>(x: Option<T>) -> String {
    x.map_or("-".to_string(), |x| x.to_string())
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

fn store_peers(store: &Store) -> Vec<PeerRecord> {
    let mut out = Vec::new();
    let mut after = None;
    loop {
        let (page, more) = store
            .list_peers(&PeerFilter::default(), after, 1000)
            .unwrap();
        after = page.last().map(|p| p.enr.node_id);
        out.extend(page);
        if !more {
            return out;
        }
    }
}

/// Asserts that every exported table holds exactly the store's rows of `vantage`: same
/// rows, no more, none twice. Returns the number of rows compared.
async fn assert_tables_equal_store(
    pg: &tokio_postgres::Client,
    vantage: &str,
    store: &Store,
) -> usize {
    let mut compared = 0;
    let mut check = |what: &str, db: Vec<String>, sled: Vec<String>| {
        let db_set: BTreeSet<_> = db.iter().collect();
        assert_eq!(
            db_set.len(),
            db.len(),
            "{what}: a row is in the database twice"
        );
        if db != sled {
            let missing: Vec<_> = sled.iter().filter(|r| !db.contains(r)).take(5).collect();
            let extra: Vec<_> = db.iter().filter(|r| !sled.contains(r)).take(5).collect();
            panic!(
                "{what}: database ({}) and store ({}) differ; missing {missing:?}; extra {extra:?}",
                db.len(),
                sled.len()
            );
        }
        compared += db.len();
    };

    let peers = store_peers(store);
    let db = pg_rows(
        pg,
        "peers",
        &[
            "encode(node_id, 'hex')",
            "enr_seq",
            "enr",
            &ms("first_seen"),
            &ms("last_seen"),
            "crawls",
            "enr_versions",
            "state",
            "reachable",
            "attempts",
            &ms("last_dial"),
            "rtt_avg_us",
            "sessions",
            "uptime_ms",
            &ms("up_since"),
            "agent_version",
            "jsonb_array_length(sources)",
        ],
        vantage,
    )
    .await;
    let sled = sorted(
        peers
            .iter()
            .map(|p| {
                let d = &p.dial;
                let crawls: Vec<String> = p.crawls.iter().map(|c| c.to_string()).collect();
                [
                    hex::encode(p.enr.node_id),
                    p.enr.seq.to_string(),
                    p.enr.text.clone(),
                    p.first_seen.to_string(),
                    p.last_seen.to_string(),
                    format!("{{{}}}", crawls.join(",")),
                    p.enr_versions.to_string(),
                    d.state.as_str().to_string(),
                    o(d.reachable),
                    d.attempts.to_string(),
                    o(d.last_dial),
                    o(d.rtt_avg_us),
                    d.sessions.to_string(),
                    d.uptime_ms.to_string(),
                    o(d.up_since),
                    o(d.identify.as_ref().map(|i| i.agent_version.clone())),
                    p.sources.len().to_string(),
                ]
                .join("|")
            })
            .collect(),
    );
    check("peers", db, sled);

    let db = pg_rows(
        pg,
        "visits",
        &[
            "encode(node_id, 'hex')",
            &ms("started"),
            "crawl_id",
            "duration_ms",
            "reachable",
            "error_class",
            "rtt_us",
            "address",
        ],
        vantage,
    )
    .await;
    let sled = sorted(
        store
            .all_visits()
            .unwrap()
            .iter()
            .map(|v| {
                [
                    hex::encode(v.node_id),
                    v.started.to_string(),
                    v.crawl_id.to_string(),
                    v.duration_ms.to_string(),
                    v.reachable().to_string(),
                    o(v.error_class.map(|c| c.as_str())),
                    o(v.rtt_us),
                    o(v.address.clone()),
                ]
                .join("|")
            })
            .collect(),
    );
    check("visits", db, sled);

    let db = pg_rows(
        pg,
        "enr_versions",
        &["encode(node_id, 'hex')", "seq", "enr"],
        vantage,
    )
    .await;
    let sled = sorted(
        store
            .all_enr_versions()
            .unwrap()
            .iter()
            .map(|(n, s, e)| format!("{}|{s}|{e}", hex::encode(n)))
            .collect(),
    );
    check("enr_versions", db, sled);

    let db = pg_rows(
        pg,
        "events",
        &[
            "sequence",
            "replace(kind, '_', '')",
            "encode(node_id, 'hex')",
            &ms("time"),
            "crawl_id",
            "enr_seq",
            "error_class",
        ],
        vantage,
    )
    .await;
    let (events, _) = store
        .events_after(0, &Default::default(), usize::MAX)
        .unwrap();
    let sled = sorted(
        events
            .iter()
            .map(|e| {
                let x = &e.event;
                [
                    e.sequence.to_string(),
                    format!("{:?}", x.kind).to_lowercase(),
                    hex::encode(x.node_id),
                    x.time.to_string(),
                    x.crawl_id.to_string(),
                    x.enr_seq.to_string(),
                    o(x.error_class.map(|c| c.as_str())),
                ]
                .join("|")
            })
            .collect(),
    );
    check("events", db, sled);

    let db = pg_rows(
        pg,
        "crawls",
        &[
            "crawl_id",
            "state",
            "discovered",
            "dials",
            &ms("created_at"),
            &ms("finished_at"),
        ],
        vantage,
    )
    .await;
    let sled = sorted(
        store
            .list_crawls(None, None, usize::MAX)
            .unwrap()
            .iter()
            .map(|c| {
                [
                    c.id.to_string(),
                    format!("{:?}", c.state).to_lowercase(),
                    c.progress.discovered.to_string(),
                    c.progress.dials.to_string(),
                    c.created_at.to_string(),
                    o(c.finished_at),
                ]
                .join("|")
            })
            .collect(),
    );
    check("crawls", db, sled);

    let db = pg_rows(
        pg,
        "relay_counts",
        &[
            "pubsub_topic",
            "content_topic",
            "messages",
            "bytes",
            &ms("first_seen"),
            &ms("last_seen"),
        ],
        vantage,
    )
    .await;
    let sled = sorted(
        store
            .message_counts("", "")
            .unwrap()
            .iter()
            .map(|r| {
                format!(
                    "{}|{}|{}|{}|{}|{}",
                    r.pubsub_topic, r.content_topic, r.messages, r.bytes, r.first_seen, r.last_seen
                )
            })
            .collect(),
    );
    check("relay_counts", db, sled);

    let db = pg_rows(
        pg,
        "relay_buckets",
        &[
            "pubsub_topic",
            "content_topic",
            "(extract(epoch FROM minute) / 60)::bigint",
            "messages",
            "bytes",
        ],
        vantage,
    )
    .await;
    let sled = sorted(
        store
            .message_buckets()
            .unwrap()
            .iter()
            .map(|b| {
                format!(
                    "{}|{}|{}|{}|{}",
                    b.pubsub_topic, b.content_topic, b.minute, b.messages, b.bytes
                )
            })
            .collect(),
    );
    check("relay_buckets", db, sled);

    let db = pg_rows(
        pg,
        "relay_undecodable",
        &["pubsub_topic", "messages", "bytes"],
        vantage,
    )
    .await;
    let sled = sorted(
        store
            .undecodable_counts("")
            .unwrap()
            .iter()
            .map(|u| format!("{}|{}|{}", u.pubsub_topic, u.messages, u.bytes))
            .collect(),
    );
    check("relay_undecodable", db, sled);

    // Sessions, derived in SQL from the exported visits, agree with the store's per-peer
    // session count, closed uptime and open session.
    let db = pg_rows(
        pg,
        "(SELECT vantage, node_id, count(*) AS n, coalesce(sum(duration_ms), 0) AS up, \
           max(started) FILTER (WHERE ended IS NULL) AS open FROM sessions \
           GROUP BY vantage, node_id) s",
        &["encode(node_id, 'hex')", "n", "up", &ms("open")],
        vantage,
    )
    .await;
    let sled = sorted(
        peers
            .iter()
            .filter(|p| p.dial.sessions > 0)
            .map(|p| {
                format!(
                    "{}|{}|{}|{}",
                    hex::encode(p.enr.node_id),
                    p.dial.sessions,
                    p.dial.uptime_ms,
                    o(p.dial.up_since)
                )
            })
            .collect(),
    );
    check("sessions", db, sled);

    // Relay message sightings live in the database only (the store keeps counts): one
    // per message the store counted. A message delivered again after a restart (gossip
    // from a fresh process) is counted, and sighted, twice.
    let sightings: i64 = pg
        .query_one(
            "SELECT count(*) FROM relay_messages WHERE vantage = $1",
            &[&vantage],
        )
        .await
        .unwrap()
        .get(0);
    let counted: u64 = store
        .message_counts("", "")
        .unwrap()
        .iter()
        .map(|r| r.messages)
        .sum::<u64>()
        + store
            .undecodable_counts("")
            .unwrap()
            .iter()
            .map(|u| u.messages)
            .sum::<u64>();
    assert_eq!(
        sightings as u64, counted,
        "relay message sightings vs counts"
    );
    compared += sightings as usize;
    compared
}

// ---- helpers for crawls ----------------------------------------------------------------

/// The pubsub topics of cluster 1 with at least two relay nodes, most populated first.
fn busy_topics(net: &Testnet, n: usize) -> Vec<String> {
    let mut topics: Vec<(usize, String)> = (0..8)
        .map(|s| format!("/waku/2/rs/1/{s}"))
        .map(|t| (net.relay_nodes_on(&t).len(), t))
        .filter(|(k, _)| *k >= 2)
        .collect();
    topics.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    topics.into_iter().take(n).map(|(_, t)| t).collect()
}

fn continuous(net: &Testnet, relay_topics: &[String], every_secs: i64) -> pb::StartCrawlRequest {
    pb::StartCrawlRequest {
        mode: pb::CrawlMode::Continuous as i32,
        recrawl_interval: Some(prost_types::Duration {
            seconds: every_secs,
            nanos: 0,
        }),
        min_redial_interval: Some(prost_types::Duration {
            seconds: every_secs,
            nanos: 0,
        }),
        relay: Some(!relay_topics.is_empty()),
        relay_peers: (!relay_topics.is_empty()).then_some(64),
        pubsub_topics: relay_topics.to_vec(),
        ..oneshot(net.bootstrap_enrs())
    }
}

async fn crawl_progress(client: &mut CrawlerClient<Channel>, id: &str) -> pb::CrawlProgress {
    get_crawl(client, id).await.progress.unwrap()
}

async fn message_total(client: &mut CrawlerClient<Channel>) -> u64 {
    client
        .get_message_counts(pb::GetMessageCountsRequest::default())
        .await
        .unwrap()
        .into_inner()
        .counts
        .iter()
        .map(|r| r.messages)
        .sum()
}

// ---- the tests ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_vantages_export_into_one_database_and_a_message_counts_once() {
    let pg = Postgres::start();
    let tmp = tempfile::tempdir().unwrap();
    let net = Testnet::start(TestnetConfig {
        nodes: 40,
        seed: 5,
        ..TestnetConfig::default()
    })
    .await
    .unwrap();
    let topics = busy_topics(&net, 2);
    assert!(!topics.is_empty(), "the seeded testnet has relay topics");

    let mut servers = Vec::new();
    for v in ["a", "b"] {
        servers.push((v, serve(&tmp.path().join(v), v, &pg.url(), 0).await));
    }
    let mut crawls = Vec::new();
    for (_, s) in &mut servers {
        let c = start(&mut s.client, continuous(&net, &topics, 600)).await;
        crawls.push(c.id);
    }
    // Both relay monitors are in a mesh on every topic before anything is published.
    within(Duration::from_secs(90), async {
        for ((_, s), id) in servers.iter_mut().zip(&crawls) {
            while crawl_progress(&mut s.client, id).await.relay_mesh_peers < 1 {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    })
    .await;
    let n = publish_grid(&net, &topics, 2, 2, 3).await;
    let published = net.published();
    let total: u64 = published.values().map(|v| v.0).sum();
    assert_eq!(total, u64::from(n));
    // Every vantage received every message.
    within(Duration::from_secs(60), async {
        for (_, s) in &mut servers {
            while message_total(&mut s.client).await < total {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    })
    .await;
    for ((_, s), id) in servers.iter_mut().zip(&crawls) {
        s.client
            .stop_crawl(pb::StopCrawlRequest {
                crawl_id: id.clone(),
            })
            .await
            .unwrap();
        wait_final(&mut s.client, id, Duration::from_secs(30)).await;
    }

    let db = pg.client().await;
    let node_ids: BTreeSet<String> = net.nodes().into_iter().map(|n| n.node_id).collect();
    let mut reached_by_api: BTreeMap<String, usize> = BTreeMap::new();
    for ((v, s), id) in servers.iter_mut().zip(&crawls) {
        let status = caught_up(&mut s.client, Duration::from_secs(60)).await;
        assert_eq!(status.vantage, *v);
        assert_eq!(status.errors, 0, "{}", status.last_error);
        assert!(status.rows.get("peers").copied().unwrap_or(0) >= node_ids.len() as u64);
        let listed = all_peers(&mut s.client, "", 1000).await;
        for p in &listed {
            if p.reachable == Some(true) {
                *reached_by_api.entry(p.node_id.clone()).or_default() += 1;
            }
        }
        let api_peers: BTreeSet<String> = listed.into_iter().map(|p| p.node_id).collect();
        let db_peers: BTreeSet<String> = db
            .query(
                "SELECT encode(node_id, 'hex') FROM peers WHERE vantage = $1",
                &[v],
            )
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        assert_eq!(db_peers, api_peers, "vantage {v}: peers in the database");
        assert_eq!(api_peers, node_ids, "vantage {v} found every testnet node");

        // vantage_peers equals GetNetworkStats; crawl_sizes equals it per crawl.
        let stats = s
            .client
            .get_network_stats(pb::GetNetworkStatsRequest::default())
            .await
            .unwrap()
            .into_inner();
        let row = db
            .query_one(
                "SELECT peers, reachable, unreachable, not_dialed FROM vantage_peers WHERE vantage = $1",
                &[v],
            )
            .await
            .unwrap();
        let got: [i64; 4] = [row.get(0), row.get(1), row.get(2), row.get(3)];
        let want = [
            stats.peers,
            stats.reachable,
            stats.unreachable,
            stats.not_dialed,
        ]
        .map(|x| x as i64);
        assert_eq!(got, want, "vantage {v}: vantage_peers vs GetNetworkStats");
        let crawl_stats = s
            .client
            .get_network_stats(pb::GetNetworkStatsRequest {
                crawl_id: id.clone(),
            })
            .await
            .unwrap()
            .into_inner();
        let row = db
            .query_one(
                "SELECT peers, state FROM crawl_sizes WHERE vantage = $1 AND crawl_id = $2",
                &[v, &id.parse::<i64>().unwrap()],
            )
            .await
            .unwrap();
        assert_eq!(row.get::<_, i64>(0), crawl_stats.peers as i64);
        assert_eq!(row.get::<_, String>(1), "stopped");

        // relay_counts equals GetMessageCounts, row for row.
        let counts = s
            .client
            .get_message_counts(pb::GetMessageCountsRequest::default())
            .await
            .unwrap()
            .into_inner();
        let api: BTreeMap<(String, String), (i64, i64)> = counts
            .counts
            .iter()
            .map(|r| {
                (
                    (r.pubsub_topic.clone(), r.content_topic.clone()),
                    (r.messages as i64, r.bytes as i64),
                )
            })
            .collect();
        let in_db: BTreeMap<(String, String), (i64, i64)> = db
            .query(
                "SELECT pubsub_topic, content_topic, messages, bytes FROM relay_counts WHERE vantage = $1",
                &[v],
            )
            .await
            .unwrap()
            .iter()
            .map(|r| ((r.get(0), r.get(1)), (r.get(2), r.get(3))))
            .collect();
        assert_eq!(in_db, api, "vantage {v}: relay_counts vs GetMessageCounts");
        let sightings: i64 = db
            .query_one(
                "SELECT count(*) FROM relay_messages WHERE vantage = $1",
                &[v],
            )
            .await
            .unwrap()
            .get(0);
        assert_eq!(
            sightings, total as i64,
            "vantage {v}: one sighting per message"
        );
    }

    // Every peer under both vantages.
    let rows = db
        .query(
            "SELECT seen_by, vantages, seen_from FROM peer_reachability",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(rows.len(), node_ids.len());
    for r in &rows {
        assert_eq!(r.get::<_, i64>(0), 2);
        assert_eq!(r.get::<_, i64>(1), 2);
        assert_eq!(r.get::<_, Vec<String>>(2), vec!["a", "b"]);
    }
    let reached: i64 = db
        .query_one(
            "SELECT count(*) FROM peer_reachability WHERE reached_by = 2",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(
        reached as usize,
        reached_by_api.values().filter(|&&k| k == 2).count(),
        "peers reached from 2 of 2 vantages, as their APIs tell"
    );

    // The union counts a message seen by both vantages once, per topic; the sightings
    // count it twice.
    let union: BTreeMap<(String, String), (i64, i64, i64, i64)> = db
        .query(
            "SELECT pubsub_topic, content_topic, messages, bytes, sightings, max_vantages FROM relay_topic_totals",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| ((r.get(0), r.get(1)), (r.get(2), r.get(3), r.get(4), r.get(5))))
        .collect();
    let want: BTreeMap<(String, String), (i64, i64, i64, i64)> = published
        .iter()
        .map(|(k, (m, b))| (k.clone(), (*m as i64, *b as i64, 2 * *m as i64, 2)))
        .collect();
    assert_eq!(
        union, want,
        "relay_topic_totals: union vs what was published"
    );
    let per_minute: i64 = db
        .query_one("SELECT sum(messages)::bigint FROM relay_message_rates", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(per_minute, total as i64);

    // Network size: the union of two vantages that saw the same network is that network
    // (checked when the test did not straddle an hour).
    let sizes = db
        .query(
            "SELECT hour, vantage, peers FROM network_size ORDER BY hour, vantage",
            &[],
        )
        .await
        .unwrap();
    let sizes: Vec<(std::time::SystemTime, String, i64)> = sizes
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    let n = node_ids.len() as i64;
    let hours: BTreeSet<_> = sizes.iter().map(|s| s.0).collect();
    if hours.len() == 1 {
        let got: Vec<(String, i64)> = sizes.into_iter().map(|s| (s.1, s.2)).collect();
        assert_eq!(
            got,
            vec![("(union)".into(), n), ("a".into(), n), ("b".into(), n)]
        );
    } else {
        for h in hours {
            let at: BTreeMap<&str, i64> = sizes
                .iter()
                .filter(|s| s.0 == h)
                .map(|s| (s.1.as_str(), s.2))
                .collect();
            assert!(at["(union)"] >= at.get("a").copied().unwrap_or(0));
            assert!(at["(union)"] >= at.get("b").copied().unwrap_or(0));
            assert!(at["(union)"] <= n);
        }
    }

    for (_, s) in servers {
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_mid_export_then_restart_leaves_tables_equal_to_the_store() {
    let pg = Postgres::start();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("db");
    let net = std::sync::Arc::new(
        Testnet::start(TestnetConfig {
            nodes: 120,
            seed: 21,
            down_fraction: 0.1,
            ..TestnetConfig::default()
        })
        .await
        .unwrap(),
    );
    let topics = busy_topics(&net, 2);
    // Relay traffic all along: 20 messages a second.
    let publisher = publish_steadily(net.clone(), topics.clone(), "kill test");
    let seed: u64 = rand::random();
    eprintln!("kill schedule seed {seed}");
    let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(seed);
    const KILLS: usize = 4;
    let mut mid_export = 0;
    // Killed crawls are marked INTERRUPTED at the next start instead of resuming, so
    // that after the last restart the store stops changing and the database can be
    // compared with it.
    let url = pg.url();
    let serve = |run| serve_with(&dir, "a", &url, run, &["--no-resume"]);
    for run in 0..KILLS {
        let mut s = serve(run).await;
        start(&mut s.client, continuous(&net, &topics, 1)).await;
        // Kill while a batch is being exported or waiting: the sink has committed at
        // least one batch and is behind.
        let at_least = Duration::from_millis(rand::Rng::gen_range(&mut rng, 1_500..5_000));
        let started = Instant::now();
        let mut behind = false;
        while started.elapsed() < at_least || !behind {
            let st = sink_status(&mut s.client).await;
            behind = st.batches > 0 && !st.caught_up;
            if started.elapsed() > Duration::from_secs(30) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(rand::Rng::gen_range(&mut rng, 5..60))).await;
        }
        mid_export += usize::from(behind);
        eprintln!(
            "run {run}: kill -9 after {:?} (sink behind: {behind})",
            started.elapsed()
        );
        s.kill9().await;
    }
    publisher.abort();
    assert!(
        mid_export >= KILLS / 2,
        "only {mid_export} of {KILLS} kills hit an export in progress"
    );

    // Restart on the same store: the sink resumes from its marks and catches up.
    let mut s = serve(KILLS).await;
    let status = caught_up(&mut s.client, Duration::from_secs(120)).await;
    assert_eq!(status.errors, 0, "{}", status.last_error);
    assert_eq!(status.lag_events, 0);
    assert_eq!(
        status.backfills, 0,
        "resumed from the marks, not from scratch"
    );
    s.kill9().await;

    let store = Store::open(&dir, 100).unwrap();
    let db = pg.client().await;
    let compared = assert_tables_equal_store(&db, "a", &store).await;
    eprintln!("{compared} rows equal");
    let visits: i64 = db
        .query_one("SELECT count(*) FROM visits", &[])
        .await
        .unwrap()
        .get(0);
    assert!(visits >= 100, "only {visits} visits exported");
    let messages: i64 = db
        .query_one("SELECT count(*) FROM relay_messages", &[])
        .await
        .unwrap()
        .get(0);
    assert!(messages > 0, "no relay message sightings exported");
    let interrupted: i64 = db
        .query_one(
            "SELECT count(*) FROM crawls WHERE state = 'interrupted'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(
        interrupted as usize, KILLS,
        "every killed crawl, as the store marked it"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn database_down_for_20_s_never_slows_the_crawl_and_the_export_catches_up_once() {
    let mut pg = Postgres::start();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("db");
    let net = Testnet::start(TestnetConfig {
        nodes: 100,
        seed: 9,
        down_fraction: 0.1,
        ..TestnetConfig::default()
    })
    .await
    .unwrap();
    let mut s = serve(&dir, "outage", &pg.url(), 0).await;

    // A crawl with the database up, for comparison.
    let c = start(&mut s.client, oneshot(net.bootstrap_enrs())).await;
    let t = Instant::now();
    wait_final(&mut s.client, &c.id, Duration::from_secs(120)).await;
    let with_db = t.elapsed();
    caught_up(&mut s.client, Duration::from_secs(60)).await;

    // The database goes away; the same crawl again.
    pg.pause();
    let down = Instant::now();
    let c = start(&mut s.client, oneshot(net.bootstrap_enrs())).await;
    let done = wait_final(&mut s.client, &c.id, Duration::from_secs(120)).await;
    let without_db = down.elapsed();
    assert_eq!(done.state, pb::CrawlState::Finished as i32);
    eprintln!("crawl with the database up: {with_db:?}; down: {without_db:?}");
    assert!(
        without_db < Duration::from_secs(20),
        "the crawl waited for the database: {without_db:?}"
    );
    assert!(
        without_db <= with_db * 2 + Duration::from_secs(3),
        "the crawl slowed down without the database: {without_db:?} vs {with_db:?}"
    );
    // Lag and errors are reported while it is down.
    let st = within(Duration::from_secs(20), async {
        loop {
            let st = sink_status(&mut s.client).await;
            if st.errors > 0 && !st.connected {
                return st;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    })
    .await;
    assert!(st.lag_events > 0 && !st.caught_up, "{st:?}");
    assert!(!st.last_error.is_empty());
    assert!(metric(s.http, "peerscope_sink_errors_total").await >= 1.0);
    assert!(metric(s.http, "peerscope_sink_lag_events").await >= 1.0);
    let rows_before = metric(s.http, "peerscope_sink_rows_total").await;
    let printed = s.sink_cli();
    assert!(
        printed.contains("vantage outage -> postgres@127.0.0.1")
            && printed.contains("not connected"),
        "{printed}"
    );
    assert!(printed.contains("last error: "), "{printed}");

    let left = Duration::from_secs(20).saturating_sub(down.elapsed());
    tokio::time::sleep(left).await;
    pg.resume();
    let back = Instant::now();
    let st = caught_up(&mut s.client, Duration::from_secs(60)).await;
    eprintln!(
        "caught up {:?} after the database returned; {} errors while it was down",
        back.elapsed(),
        st.errors
    );
    assert!(metric(s.http, "peerscope_sink_lag_events").await == 0.0);
    let printed = s.sink_cli();
    assert!(
        printed.contains(": connected") && printed.contains("(caught up)"),
        "{printed}"
    );
    assert!(metric(s.http, "peerscope_sink_rows_total").await > rows_before);
    s.stop().await;

    // Exactly once: the database holds the store, row for row.
    let store = Store::open(&dir, 100).unwrap();
    let db = pg.client().await;
    let compared = assert_tables_equal_store(&db, "outage", &store).await;
    eprintln!("{compared} rows equal");
    let crawls: i64 = db
        .query_one("SELECT count(*) FROM crawls WHERE state = 'finished'", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(crawls, 2);
}
