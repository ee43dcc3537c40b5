//! The command line for people: tables with headers, `stats` trimmed to the top entries,
//! `crawl start --wait` as a progress bar on a terminal and plain lines otherwise, and a
//! quiet testnet.

use std::collections::BTreeMap;
use std::time::Duration;

use peerscope::proto::pb;
use peerscope::testnet::{Testnet, TestnetConfig, AGENTS};

use crate::common::{within, Server};

const BIN: &str = env!("CARGO_BIN_EXE_peerscope");

/// Runs the binary against `server` (no terminal); returns (success, stdout, stderr).
async fn cli(server: &Server, args: &[&str]) -> (bool, String, String) {
    let out = within(
        Duration::from_secs(120),
        tokio::process::Command::new(BIN)
            .args(args)
            .args(["--server", &format!("http://{}", server.addr)])
            .env_remove("PEERSCOPE_TOKEN")
            .output(),
    )
    .await
    .unwrap();
    (
        out.status.success(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// A table's rows as maps from column title to cell (cells never hold two spaces in a row,
/// and empty ones print as `-`).
fn table(text: &str) -> Vec<BTreeMap<String, String>> {
    let split = |l: &str| -> Vec<String> {
        l.split("  ")
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(String::from)
            .collect()
    };
    let mut lines = text.lines();
    let header = split(lines.next().expect("a header line"));
    lines
        .map(|l| {
            let cells = split(l);
            assert_eq!(cells.len(), header.len(), "{l:?} under {header:?}");
            header.iter().cloned().zip(cells).collect()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn peers_list_and_stats_print_tables_with_headers() {
    let net = Testnet::start(TestnetConfig {
        nodes: 30,
        down_fraction: 0.2,
        seed: 44,
        ..TestnetConfig::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let enr_file = dir.path().join("testnet.enr");
    std::fs::write(&enr_file, net.bootstrap_enrs().join("\n")).unwrap();
    let server = Server::start().await;

    // --wait without a terminal: plain progress lines, no bar, the final line last.
    let (ok, out, err) = cli(
        &server,
        &[
            "crawl",
            "start",
            "--bootstrap-file",
            enr_file.to_str().unwrap(),
            "--wait",
        ],
    )
    .await;
    assert!(ok, "{err}");
    assert!(!out.contains('\r') && !out.contains('\x1b'), "{out:?}");
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with("crawl 1 started"), "{out}");
    assert!(lines.len() >= 2, "{out}");
    assert!(
        lines[1..].iter().all(|l| l.starts_with("crawl 1 ")),
        "{out}"
    );
    assert!(lines.last().unwrap().contains("finished"), "{out}");

    // peers list: a header, then one row per peer with reachability, agent, RTT and the
    // class of the last error.
    let (ok, out, err) = cli(&server, &["peers", "list"]).await;
    assert!(ok, "{err}");
    assert!(err.contains("30 peers"), "{err}");
    let header = out.lines().next().unwrap();
    for col in [
        "NODE ID",
        "PEER ID",
        "ADDRESS",
        "REACHABLE",
        "AGENT",
        "RTT",
        "LAST ERROR",
        "COUNTRY",
        "CLUSTER/SHARDS",
        "CAPABILITIES",
    ] {
        assert!(header.contains(col), "{col} missing: {header}");
    }
    let rows = table(&out);
    assert_eq!(rows.len(), 30);
    let reachable: Vec<_> = rows.iter().filter(|r| r["REACHABLE"] == "yes").collect();
    let unreachable: Vec<_> = rows.iter().filter(|r| r["REACHABLE"] == "no").collect();
    assert_eq!((reachable.len(), unreachable.len()), (24, 6));
    for r in &reachable {
        assert!(AGENTS.contains(&r["AGENT"].as_str()), "{r:?}");
        assert!(r["RTT"].ends_with("ms"), "{r:?}");
        assert_eq!(r["LAST ERROR"], "-", "{r:?}");
        assert!(r["ADDRESS"].starts_with("127.0.0.1:"), "{r:?}");
    }
    for r in &unreachable {
        // A testnet node that is down advertises a TCP port nothing listens on.
        assert_eq!(r["LAST ERROR"], "refused", "{r:?}");
        assert_eq!(
            (r["AGENT"].as_str(), r["RTT"].as_str()),
            ("-", "-"),
            "{r:?}"
        );
    }
    // The same peers the API lists, in the same order.
    let mut client = server.client().await;
    let api = client
        .list_peers(pb::ListPeersRequest {
            page_size: 100,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .peers;
    let ids: Vec<&str> = rows.iter().map(|r| r["NODE ID"].as_str()).collect();
    let want: Vec<&str> = api.iter().map(|p| &p.node_id[..16]).collect();
    assert_eq!(ids, want);

    // crawl list: a table too.
    let (ok, out, _) = cli(&server, &["crawl", "list"]).await;
    assert!(ok);
    let crawls = table(&out);
    assert_eq!(crawls.len(), 1);
    assert_eq!(crawls[0]["STATE"], "finished");
    assert_eq!(crawls[0]["DISCOVERED"], "30");

    // stats: the top entries of each section, and how many more; --all prints them all.
    let stats = client
        .get_network_stats(pb::GetNetworkStatsRequest::default())
        .await
        .unwrap()
        .into_inner();
    let shards = stats.by_shard.len();
    assert!(shards > 5, "the seeded testnet spans many shards");
    let section = |out: &str, title: &str| -> Vec<String> {
        out.lines()
            .skip_while(|l| !l.starts_with(title))
            .skip(1)
            .take_while(|l| l.starts_with("  "))
            .map(String::from)
            .collect()
    };
    let (ok, out, _) = cli(&server, &["stats"]).await;
    assert!(ok);
    assert!(
        out.starts_with("30 peers: 24 reachable, 6 unreachable"),
        "{out}"
    );
    assert!(out.contains(&format!("shards (ENR, cluster/shard) ({shards} distinct):")));
    let top = section(&out, "shards (ENR");
    assert_eq!(top.len(), 6, "{top:?}");
    assert!(
        top[5].contains(&format!("… {} more (--all shows every entry)", shards - 5)),
        "{top:?}"
    );
    // Largest first.
    let counts: Vec<u64> = top[..5]
        .iter()
        .map(|l| l.split_whitespace().next().unwrap().parse().unwrap())
        .collect();
    assert!(counts.windows(2).all(|w| w[0] >= w[1]), "{counts:?}");
    let (ok, out, _) = cli(&server, &["stats", "--all"]).await;
    assert!(ok);
    let all = section(&out, "shards (ENR");
    assert_eq!(all.len(), shards, "{all:?}");
    assert!(!out.contains("more (--all"), "{out}");
    drop(client);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_draws_a_progress_bar_on_a_terminal() {
    let net = Testnet::start(TestnetConfig {
        nodes: 30,
        down_fraction: 0.2,
        seed: 45,
        ..TestnetConfig::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let enr_file = dir.path().join("testnet.enr");
    std::fs::write(&enr_file, net.bootstrap_enrs().join("\n")).unwrap();
    let server = Server::start().await;
    // `script` runs the command on a pseudo-terminal and copies what it draws.
    let command = format!(
        "{BIN} crawl start --bootstrap-file {} --wait --server http://{}",
        enr_file.display(),
        server.addr
    );
    let out = within(
        Duration::from_secs(120),
        tokio::process::Command::new("script")
            .args(["-qefc", &command, "/dev/null"])
            .env("TERM", "xterm-256color")
            .env_remove("PEERSCOPE_TOKEN")
            .output(),
    )
    .await
    .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "{text}");
    // The bar: redrawn in place (escape sequences), with its template's words.
    assert!(text.contains('\x1b'), "no terminal drawing: {text:?}");
    assert!(text.contains("walked"), "{text:?}");
    assert!(text.contains("] ["), "no bar: {text:?}");
    // It is cleared at the end and the final line printed.
    let last = text
        .lines()
        .rev()
        .map(|l| l.trim())
        .find(|l| !l.is_empty())
        .unwrap();
    assert!(last.contains("crawl 1 finished"), "{last:?}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn testnet_logs_dependencies_at_warn_unless_rust_log_says_otherwise() {
    let run = |rust_log: Option<&'static str>| async move {
        let mut cmd = tokio::process::Command::new(BIN);
        cmd.args(["testnet", "--nodes", "12", "--duration", "2"])
            .env_remove("RUST_LOG")
            .env_remove("PEERSCOPE_LOG");
        if let Some(v) = rust_log {
            cmd.env("RUST_LOG", v);
        }
        let out = within(Duration::from_secs(120), cmd.output())
            .await
            .unwrap();
        assert!(out.status.success());
        (
            String::from_utf8_lossy(&out.stdout).to_string(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    let (stdout, stderr) = run(None).await;
    assert!(stdout.contains("testnet: 12 discv5 nodes"), "{stdout}");
    assert!(!stderr.contains("Discv5 Service started"), "{stderr}");
    assert!(!stderr.contains("local_peer_id"), "{stderr}");
    assert!(
        !stderr
            .lines()
            .any(|l| l.contains("INFO") && !l.contains("peerscope")),
        "{stderr}"
    );
    let (_, stderr) = run(Some("info")).await;
    assert!(
        stderr.matches("Discv5 Service started").count() >= 12,
        "{stderr}"
    );
}
