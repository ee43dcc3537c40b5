//! A crawl's life beyond one task and one process: a crawl that ended is let go by the
//! engine, and CONTINUOUS crawls come back by themselves after the server restarts, with
//! their address book.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use peerscope::engine::EngineConfig;
use peerscope::proto::pb;
use peerscope::proto::pb::crawler_client::CrawlerClient;
use peerscope::protocol::enr::parse_enr;
use peerscope::testnet::hostile::{HostileCounts, HostileKind};
use peerscope::testnet::TestnetConfig;
use tokio_stream::StreamExt;
use tonic::transport::Channel;

use crate::common::{get_crawl, oneshot, spawn_serve, start, testnet, wait_final, within, Server};

/// A crawl that ended by itself is no longer held by the engine (its task and live
/// snapshot are dropped); the API serves its final state from the store.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ended_crawls_are_let_go_by_the_engine() {
    let net = testnet(TestnetConfig {
        nodes: 8,
        seed: 3,
        ..TestnetConfig::default()
    })
    .await;
    let server = Server::start().await;
    let mut client = server.client().await;
    let mut ids = Vec::new();
    for _ in 0..2 {
        let (crawl, done) = server
            .crawl(
                &mut client,
                oneshot(net.bootstrap_enrs()),
                Duration::from_secs(60),
            )
            .await;
        assert_eq!(done.state, pb::CrawlState::Finished as i32);
        ids.push(crawl.id.parse::<u64>().unwrap());
    }
    within(Duration::from_secs(10), async {
        while ids
            .iter()
            .any(|id| server.engine().watch_crawl(*id).is_some())
        {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    for id in &ids {
        let c = wait_final(&mut client, &id.to_string(), Duration::from_secs(5)).await;
        assert_eq!(c.state, pb::CrawlState::Finished as i32);
        assert_eq!(c.progress.unwrap().discovered, 8);
    }
    drop(client);
    server.stop().await;
}

/// The address book's spread of overdue peers after a restart (`Policy::restart_spread`).
const RESTART_SPREAD: Duration = Duration::from_secs(60);

fn secs(s: u64) -> prost_types::Duration {
    prost_types::Duration {
        seconds: s as i64,
        nanos: 0,
    }
}

/// A CONTINUOUS crawl of `enrs` that redials vetted peers every 2 s, without the relay
/// monitor.
fn continuous(enrs: &[String]) -> pb::StartCrawlRequest {
    pb::StartCrawlRequest {
        mode: pb::CrawlMode::Continuous as i32,
        recrawl_interval: Some(secs(2)),
        min_redial_interval: Some(secs(2)),
        dial_timeout: Some(secs(1)),
        relay: Some(false),
        ..oneshot(enrs)
    }
}

fn millis(t: &Option<prost_types::Timestamp>) -> i64 {
    let t = t.as_ref().expect("a timestamp");
    t.seconds * 1000 + i64::from(t.nanos) / 1_000_000
}

/// Follows every event of crawl `id`, from the start of the log, into a shared list.
async fn follow(
    client: &mut CrawlerClient<Channel>,
    id: &str,
) -> (Arc<Mutex<Vec<pb::PeerEvent>>>, tokio::task::JoinHandle<()>) {
    let mut stream = client
        .stream_peer_events(pb::StreamPeerEventsRequest {
            after_sequence: Some(0),
            crawl_id: id.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let got: Arc<Mutex<Vec<pb::PeerEvent>>> = Arc::default();
    let task = {
        let got = got.clone();
        tokio::spawn(async move {
            while let Some(Ok(m)) = stream.next().await {
                got.lock().unwrap().push(m.event.unwrap());
            }
        })
    };
    (got, task)
}

fn is(ev: &pb::PeerEvent, kind: pb::PeerEventKind) -> bool {
    ev.kind == kind as i32
}

/// A dial's outcome: it connected or failed.
fn is_dial(ev: &pb::PeerEvent) -> bool {
    is(ev, pb::PeerEventKind::Connected) || is(ev, pb::PeerEventKind::DialFailed)
}

/// `peerscope serve` on `dir` (`extra` flags appended): the child and its client.
async fn serve(
    dir: &Path,
    run: usize,
    extra: &[&str],
) -> (tokio::process::Child, CrawlerClient<Channel>) {
    let s = spawn_serve(dir, run, extra, "info").await;
    (s.child, s.client)
}

/// A CONTINUOUS crawl with a banned impostor (a `wrong-key` node: `peer_id_mismatch`, banned
/// for an hour) and peers backing off (nodes that refuse every dial) is killed with
/// SIGKILL. After the restart the same crawl runs again by itself, with a RESUMED event;
/// the impostor is not dialed; each refusing peer waits out the backoff it had reached;
/// and the peers that fell due while the server was down are not all dialed at once but
/// spread over the restart spread.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_continuous_crawl_resumes_with_its_bans_and_backoffs() {
    let net = testnet(TestnetConfig {
        nodes: 30,
        down_fraction: 0.2,
        seed: 14,
        hostile: HostileCounts {
            wrong_key: 1,
            ..HostileCounts::default()
        },
        ..TestnetConfig::default()
    })
    .await;
    let nodes = net.nodes();
    let impostor = nodes
        .iter()
        .find(|n| n.hostile == Some(HostileKind::WrongKey))
        .expect("a wrong-key node")
        .node_id
        .clone();
    let down: HashSet<String> = nodes
        .iter()
        .filter(|n| n.hostile.is_none() && !n.up)
        .map(|n| n.node_id.clone())
        .collect();
    let up: HashSet<String> = nodes
        .iter()
        .filter(|n| n.hostile.is_none() && n.up)
        .map(|n| n.node_id.clone())
        .collect();
    assert!(
        down.len() >= 3 && up.len() >= 15,
        "{} down, {} up",
        down.len(),
        up.len()
    );

    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("db");
    let (mut child, mut client) = serve(&dir, 0, &[]).await;
    let crawl = start(&mut client, continuous(net.bootstrap_enrs())).await;
    let (before, follower) = follow(&mut client, &crawl.id).await;

    // Until the impostor is banned and a refusing peer has failed four times in a row
    // (its next dial 16-24 s later), then 4 s more: both are in the stored book by then
    // (written every 2 s).
    let failures = |evs: &[pb::PeerEvent], node: &str| -> Vec<i64> {
        evs.iter()
            .filter(|e| e.node_id == node && is(e, pb::PeerEventKind::DialFailed))
            .map(|e| millis(&e.time))
            .collect()
    };
    within(Duration::from_secs(90), async {
        loop {
            {
                let evs = before.lock().unwrap();
                let banned = evs
                    .iter()
                    .any(|e| e.node_id == impostor && is(e, pb::PeerEventKind::Banned));
                if banned && down.iter().any(|d| failures(&evs, d).len() >= 4) {
                    break;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;
    tokio::time::sleep(Duration::from_secs(4)).await;

    // SIGKILL, and the server stays down longer than the redial interval: every vetted
    // peer is overdue when it comes back.
    child.start_kill().unwrap();
    within(Duration::from_secs(10), child.wait()).await.unwrap();
    let killed_at = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let _ = within(Duration::from_secs(10), follower).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let before = std::mem::take(&mut *before.lock().unwrap());
    let banned_at = before
        .iter()
        .find(|e| e.node_id == impostor && is(e, pb::PeerEventKind::Banned))
        .map(|e| millis(&e.time))
        .unwrap();
    assert!(banned_at <= killed_at - 4_000);
    // Refusing peers whose last failure was stored (and written to the book) before the
    // kill, with when their backoff ends: base 1 s * 2^failures, plus jitter.
    let backing_off: BTreeMap<String, (usize, i64)> = down
        .iter()
        .filter_map(|d| {
            let f = failures(&before, d);
            let last = *f.last()?;
            (last <= killed_at - 4_000)
                .then(|| (d.clone(), (f.len(), last + 1_000 * (1 << f.len()))))
        })
        .collect();
    let vetted: HashSet<&String> = up
        .iter()
        .filter(|n| {
            before
                .iter()
                .any(|e| &e.node_id == *n && is(e, pb::PeerEventKind::Connected))
        })
        .collect();
    assert!(
        vetted.len() >= 15,
        "{} peers vetted before the kill",
        vetted.len()
    );

    // Restart: the crawl runs again by itself, same id.
    let (mut child, mut client) = serve(&dir, 1, &[]).await;
    let (after, follower) = follow(&mut client, &crawl.id).await;
    let resumed = within(Duration::from_secs(30), async {
        loop {
            let found = after
                .lock()
                .unwrap()
                .iter()
                .find(|e| is(e, pb::PeerEventKind::Resumed))
                .cloned();
            if let Some(ev) = found {
                return ev;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    let c = get_crawl(&mut client, &crawl.id).await;
    assert_eq!(c.state, pb::CrawlState::Running as i32, "{c:?}");
    assert_eq!(c.settings, crawl.settings);
    let listed = client
        .list_crawls(pb::ListCrawlsRequest::default())
        .await
        .unwrap()
        .into_inner()
        .crawls;
    assert_eq!(listed.len(), 1, "no new crawl: the same one goes on");
    assert!(resumed.detail.contains("1 banned"), "{}", resumed.detail);
    let resumed_at = millis(&resumed.time);
    eprintln!(
        "killed at {killed_at}, resumed {} ms later: {}",
        resumed_at - killed_at,
        resumed.detail
    );

    // Watch the restart spread go by.
    let until = Instant::now() + RESTART_SPREAD + Duration::from_secs(10);
    tokio::time::sleep_until(until.into()).await;
    let after: Vec<pb::PeerEvent> = after
        .lock()
        .unwrap()
        .iter()
        .filter(|e| e.sequence > resumed.sequence)
        .cloned()
        .collect();
    let mut first_dial: HashMap<&str, i64> = HashMap::new();
    for e in after.iter().filter(|e| is_dial(e)) {
        first_dial
            .entry(e.node_id.as_str())
            .or_insert(millis(&e.time) - resumed_at);
    }

    // The impostor's ban (an hour) holds: not dialed at all.
    assert!(
        !first_dial.contains_key(impostor.as_str()),
        "the banned impostor was dialed {} ms after resuming",
        first_dial[impostor.as_str()]
    );
    // Each refusing peer waits out its backoff, and is still tried after it.
    let mut meaningful = 0;
    for (node, (n, ends)) in &backing_off {
        let at = resumed_at
            + *first_dial
                .get(node.as_str())
                .unwrap_or_else(|| panic!("refusing peer {node} never dialed again"));
        assert!(
            at >= ends - 100,
            "peer {node}, {n} failures in a row, dialed {} ms before its backoff ended",
            ends - at
        );
        if *ends > resumed_at + 2_000 {
            meaningful += 1;
        }
    }
    assert!(
        meaningful >= 1,
        "no backoff reached past the restart: {backing_off:?}, resumed at {resumed_at}"
    );
    // No dial storm: the vetted peers (all overdue after the restart) come spread over
    // the restart spread, not at once.
    let mut offsets: Vec<i64> = vetted
        .iter()
        .map(|n| {
            *first_dial
                .get(n.as_str())
                .unwrap_or_else(|| panic!("vetted peer {n} not dialed within the spread"))
        })
        .collect();
    offsets.sort();
    eprintln!("first dials after resuming (ms): {offsets:?}");
    let spread_ms = RESTART_SPREAD.as_millis() as i64;
    assert!(
        offsets.iter().all(|o| (0..=spread_ms + 3_000).contains(o)),
        "{offsets:?}"
    );
    let busiest = (0..spread_ms / 1_000)
        .map(|s| {
            offsets
                .iter()
                .filter(|o| (s * 1_000..(s + 5) * 1_000).contains(*o))
                .count()
        })
        .max()
        .unwrap();
    assert!(
        busiest <= offsets.len() / 3,
        "{busiest} of {} first dials within 5 s: {offsets:?}",
        offsets.len()
    );
    assert!(
        offsets.last().unwrap() - offsets.first().unwrap() >= spread_ms / 2,
        "{offsets:?}"
    );

    client
        .stop_crawl(pb::StopCrawlRequest {
            crawl_id: crawl.id.clone(),
        })
        .await
        .unwrap();
    follower.abort();
    child.start_kill().unwrap();
    let _ = child.wait().await;
}

/// A deploy: the server shuts down cleanly while a CONTINUOUS crawl runs and starts again;
/// the crawl resumes (same id, RESUMED event, its book in the store while it runs). Started
/// with resuming off, the crawl is INTERRUPTED instead and its book is deleted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shutdown_resumes_continuous_crawls_unless_resuming_is_off() {
    let net = testnet(TestnetConfig {
        nodes: 12,
        seed: 6,
        ..TestnetConfig::default()
    })
    .await;
    let server = Server::start().await;
    let mut client = server.client().await;
    let crawl = start(&mut client, continuous(net.bootstrap_enrs())).await;
    let id: u64 = crawl.id.parse().unwrap();
    let oneshot_crawl = start(&mut client, oneshot(net.bootstrap_enrs())).await;
    // Every node vetted and its book entry written.
    within(Duration::from_secs(60), async {
        while server.engine().store().load_book(id).unwrap().len() < 12 {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;
    drop(client);

    let server = server.restart().await;
    let mut client = server.client().await;
    let (events, follower) = follow(&mut client, &crawl.id).await;
    within(Duration::from_secs(30), async {
        while !events
            .lock()
            .unwrap()
            .iter()
            .any(|e| is(e, pb::PeerEventKind::Resumed))
        {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    follower.abort();
    let c = get_crawl(&mut client, &crawl.id).await;
    assert_eq!(c.state, pb::CrawlState::Running as i32);
    assert!(server.engine().watch_crawl(id).is_some(), "running again");
    let resumed = events
        .lock()
        .unwrap()
        .iter()
        .find(|e| is(e, pb::PeerEventKind::Resumed))
        .cloned()
        .unwrap();
    assert!(
        resumed
            .detail
            .starts_with("address book restored: 12 peers ("),
        "{}",
        resumed.detail
    );
    // The same node as before: its node id did not change.
    let before = parse_enr(&crawl.local_enr).unwrap().node_id().raw();
    assert_eq!(resumed.node_id, hex::encode(before));
    assert_eq!(
        parse_enr(&c.local_enr).unwrap().node_id().raw(),
        before,
        "{c:?}"
    );
    // A ONESHOT crawl is not resumed: stopped by the shutdown, or finished before it.
    let o = get_crawl(&mut client, &oneshot_crawl.id).await;
    assert!(
        [
            pb::CrawlState::Stopped as i32,
            pb::CrawlState::Finished as i32
        ]
        .contains(&o.state),
        "{o:?}"
    );
    assert!(server.engine().store().load_book(id).unwrap().len() >= 12);
    drop(client);

    // Resuming off: the crawl is interrupted and its book goes.
    let tmp = server.stop().await;
    let server = Server::start_in(
        tmp,
        EngineConfig {
            resume: false,
            ..EngineConfig::default()
        },
        Default::default(),
    )
    .await;
    let mut client = server.client().await;
    let c = get_crawl(&mut client, &crawl.id).await;
    assert_eq!(c.state, pb::CrawlState::Interrupted as i32);
    assert!(server.engine().watch_crawl(id).is_none());
    assert!(server.engine().store().load_book(id).unwrap().is_empty());
    drop(client);
    server.stop().await;
}
