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

/// Starts `peerscope serve` with exactly `env` as its environment; returns the child and
/// the addresses it printed (gRPC, HTTP).
async fn serve_with_env(
    args: &[&std::ffi::OsStr],
    env: &[(&str, &str)],
) -> (tokio::process::Child, String, String) {
    use tokio::io::AsyncBufReadExt;
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_peerscope"))
        .arg("serve")
        .args(args)
        .env_clear()
        .envs(env.iter().copied())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let (grpc, http) = within(Duration::from_secs(30), async {
        let mut grpc = None;
        loop {
            let line = lines
                .next_line()
                .await
                .unwrap()
                .expect("serve exited before listening");
            if let Some(a) = line.strip_prefix("grpc listening on ") {
                grpc = Some(a.to_string());
            } else if let Some(a) = line.strip_prefix("http listening on ") {
                return (grpc.expect("the gRPC line comes first"), a.to_string());
            }
        }
    })
    .await;
    (child, grpc, http)
}

/// Each setting of `serve` comes from the flag, else the environment, else the file: the
/// loopback address each server binds (127.0.0.1 from a flag, .2 from the environment, .3
/// from the file) shows where its setting came from. SIGTERM then stops the service in
/// order and the command exits 0.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_takes_flags_over_environment_over_the_file_and_stops_on_sigterm() {
    let tmp = tempfile::tempdir().unwrap();
    let data_dir = tmp.path().join("from-file");
    let file = tmp.path().join("peerscope.toml");
    std::fs::write(
        &file,
        format!(
            "data_dir = {:?}\ngrpc_addr = \"127.0.0.3:0\"\nhttp_addr = \"127.0.0.3:0\"\n\
             discv5_addr = \"127.0.0.3:0\"\ngeolocation = false\n",
            data_dir.to_str().unwrap()
        ),
    )
    .unwrap();
    let (child, grpc, http) = serve_with_env(
        &[
            "--config".as_ref(),
            file.as_os_str(),
            "--grpc-addr".as_ref(),
            "127.0.0.1:0".as_ref(),
        ],
        &[
            ("PEERSCOPE_GRPC_ADDR", "127.0.0.2:0"),
            ("PEERSCOPE_HTTP_ADDR", "127.0.0.2:0"),
            ("PEERSCOPE_LOG", "info"),
        ],
    )
    .await;
    assert!(
        grpc.starts_with("127.0.0.1:"),
        "flag over env and file: {grpc}"
    );
    assert!(http.starts_with("127.0.0.2:"), "env over file: {http}");
    assert!(data_dir.is_dir(), "the data dir comes from the file");
    // The service answers.
    let mut client =
        peerscope::proto::pb::crawler_client::CrawlerClient::connect(format!("http://{grpc}"))
            .await
            .unwrap();
    let crawls = client
        .list_crawls(peerscope::proto::pb::ListCrawlsRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert!(crawls.crawls.is_empty());
    drop(client);

    let pid = child.id().unwrap().to_string();
    let kill = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(kill.success());
    let out = within(Duration::from_secs(60), child.wait_with_output())
        .await
        .unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{:?}\n{log}", out.status);
    assert!(log.contains("shutting down"), "{log}");
    assert!(log.contains("stopped"), "{log}");
    // Every step finished within the grace period and no server failed.
    assert!(
        !log.contains("grace period") && !log.contains("failed"),
        "{log}"
    );
}

/// A typo in the file stops `serve` before it binds anything, with an error naming the key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_refuses_a_file_with_an_unknown_key() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("peerscope.toml");
    std::fs::write(&file, "grpc_adr = \"127.0.0.1:0\"\n").unwrap();
    let out = within(
        Duration::from_secs(60),
        tokio::process::Command::new(env!("CARGO_BIN_EXE_peerscope"))
            .args(["serve", "--config"])
            .arg(&file)
            .env_clear()
            .output(),
    )
    .await
    .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(out.stdout.is_empty(), "nothing was served");
    assert!(err.starts_with("error: parsing "), "{err}");
    assert!(err.contains("unknown field `grpc_adr`"), "{err}");
}

/// `peerscope events | head -1`: the client ends quietly when its output is closed, with
/// nothing on stderr, instead of panicking on the broken pipe.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_commands_end_quietly_when_their_output_is_closed() {
    use peerscope::model::{NewPeerEvent, PeerEventKind};
    use std::process::Stdio;
    use tokio::io::{AsyncBufReadExt, AsyncReadExt};
    // A log far larger than a pipe's buffer (64 KiB), so the client is still writing when
    // the reader goes away.
    let tmp = tempfile::tempdir().unwrap();
    {
        let store =
            peerscope::store::Store::open(&crate::common::data_dir(tmp.path()), 100).unwrap();
        let events = (0..5_000u32)
            .map(|i| NewPeerEvent {
                time: peerscope::model::now_millis(),
                kind: PeerEventKind::Discovered,
                crawl_id: 1,
                node_id: [(i % 251) as u8; 32],
                peer_id: None,
                enr_seq: u64::from(i),
                enr: None,
                error_class: None,
                detail: None,
            })
            .collect();
        store.append_events(events).unwrap();
        store.flush().await.unwrap();
    }
    let server = Server::start_in(tmp, Default::default(), Default::default()).await;
    for args in [
        &["events", "--after", "0", "--json"][..],
        &["events", "--after", "0"][..],
    ] {
        let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_peerscope"))
            .args(args)
            .args(["--server", &format!("http://{}", server.addr)])
            .env_remove("PEERSCOPE_TOKEN")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let mut out = tokio::io::BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        within(Duration::from_secs(30), out.read_line(&mut first))
            .await
            .unwrap();
        assert!(!first.is_empty(), "{args:?} printed a first line");
        drop(out);
        let status = within(Duration::from_secs(30), child.wait()).await.unwrap();
        let mut err = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .await
            .unwrap();
        assert!(err.is_empty(), "{args:?}: nothing on stderr, got {err:?}");
        assert_ne!(status.code(), Some(101), "{args:?}: no panic");
    }
    server.stop().await;
}
