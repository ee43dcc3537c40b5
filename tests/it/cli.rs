//! The command line as a client: `--json` output scripts can rely on, and one-line errors
//! with a non-zero exit.

use std::time::Duration;

use peerscope::testnet::{Testnet, TestnetConfig};
use serde_json::Value;

use crate::common::{within, Server};

/// Runs the binary against `server`; returns (success, stdout, stderr).
async fn cli(server: &Server, args: &[&str]) -> (bool, String, String) {
    let out = within(
        Duration::from_secs(120),
        tokio::process::Command::new(env!("CARGO_BIN_EXE_peerscope"))
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

fn json_lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_output_matches_what_the_crawl_found() {
    let net = Testnet::start(TestnetConfig {
        nodes: 30,
        down_fraction: 0.2,
        seed: 44,
        ..TestnetConfig::default()
    })
    .await
    .unwrap();
    let server = Server::start().await;
    let enr_file = server.dir().join("testnet.enr");
    std::fs::write(&enr_file, net.bootstrap_enrs().join("\n")).unwrap();

    // start --wait --json: the started crawl, then one snapshot per line, the last final.
    let (ok, out, err) = cli(
        &server,
        &[
            "crawl",
            "start",
            "--bootstrap-file",
            enr_file.to_str().unwrap(),
            "--wait",
            "--json",
        ],
    )
    .await;
    assert!(ok, "{err}");
    let snapshots = json_lines(&out);
    assert!(snapshots.len() >= 2, "{out}");
    assert_eq!(snapshots[0]["state"], "CRAWL_STATE_RUNNING");
    let done = snapshots.last().unwrap();
    assert_eq!(done["state"], "CRAWL_STATE_FINISHED");
    assert_eq!(done["progress"]["discovered"], 30);
    let id = done["id"].as_str().unwrap().to_string();

    // peers list --json: one object per peer, as many as the crawl discovered; the
    // reachable ones are what stats counts as reachable.
    let (ok, out, err) = cli(&server, &["peers", "list", "--json"]).await;
    assert!(ok, "{err}");
    let peers = json_lines(&out);
    assert_eq!(peers.len(), 30);
    let reachable = peers.iter().filter(|p| p["reachable"] == true).count();
    assert_eq!(reachable, 24);
    for p in &peers {
        assert_eq!(p["node_id"].as_str().unwrap().len(), 64, "{p}");
        assert!(p["enr"].as_str().unwrap().starts_with("enr:"), "{p}");
    }

    let (ok, out, err) = cli(&server, &["stats", "--json", "--crawl", &id]).await;
    assert!(ok, "{err}");
    let stats = json_lines(&out);
    assert_eq!(stats.len(), 1);
    assert_eq!(stats[0]["peers"], 30);
    assert_eq!(stats[0]["reachable"], reachable as u64);
    assert_eq!(stats[0]["unreachable"], 6);
    // The human table says the same.
    let (ok, out, _) = cli(&server, &["stats", "--crawl", &id]).await;
    assert!(ok);
    assert!(
        out.starts_with("30 peers: 24 reachable, 6 unreachable"),
        "{out}"
    );

    // events --json: the stored log, gap-free from 1.
    let (ok, out, err) = cli(&server, &["events", "--json"]).await;
    assert!(ok, "{err}");
    let seqs: Vec<u64> = json_lines(&out)
        .iter()
        .map(|e| e["sequence"].as_u64().unwrap())
        .collect();
    assert!(seqs.len() > 60, "{} events", seqs.len());
    assert_eq!(seqs, (1..=seqs.len() as u64).collect::<Vec<_>>());

    // Errors: one line on stderr, non-zero exit, naming what is wrong.
    let (ok, out, err) = cli(&server, &["crawl", "show", "999"]).await;
    assert!(!ok);
    assert!(out.is_empty());
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("error: NotFound"), "{err}");
    let missing = server.dir().join("none.enr");
    let (ok, _, err) = cli(
        &server,
        &[
            "crawl",
            "start",
            "--bootstrap-file",
            missing.to_str().unwrap(),
        ],
    )
    .await;
    assert!(!ok);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("--bootstrap-file"), "{err}");
    server.stop().await;
}
