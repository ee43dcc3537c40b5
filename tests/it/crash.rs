//! Crash safety: `peerscope serve` killed with SIGKILL at random moments of a CONTINUOUS
//! crawl, restarted on the same data directory each time. After every restart, everything
//! the API had shown more than one flush interval (plus the disk's write time, as the
//! README says) before the kill is still there, sequence numbers are never reused, the
//! killed crawl is marked interrupted, and the API serves.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use peerscope::proto::pb;
use peerscope::proto::pb::crawler_client::CrawlerClient;
use peerscope::testnet::{Testnet, TestnetConfig};
use rand::{Rng, SeedableRng};
use tokio_stream::StreamExt;
use tonic::transport::Channel;

use crate::common::{
    all_peers, oneshot, publish_steadily, spawn_serve, start, within, ServeProcess,
};

/// The store's flush interval in this test.
const FLUSH_EVERY_MS: u64 = 100;
/// What the disk may add to the flush interval (README, "Flush policy"): sled writes out
/// its log buffer once per interval, or, when the disk is slower than that, as soon as the
/// previous write and fsync are done.
const DISK_ALLOWANCE_MS: u64 = 100;
/// What the API showed this long before a kill must survive it: one flush interval plus
/// the disk's allowance.
const DURABLE_AFTER: Duration = Duration::from_millis(FLUSH_EVERY_MS + DISK_ALLOWANCE_MS);
const KILLS: usize = 10;

/// Starts `peerscope serve` on `dir`. Each run starts a crawl of its own; the killed one
/// stays interrupted (resuming is `resume.rs`'s subject).
async fn serve(dir: &Path, run: usize) -> ServeProcess {
    let flush = FLUSH_EVERY_MS.to_string();
    spawn_serve(
        dir,
        run,
        &["--flush-every-ms", &flush, "--no-resume"],
        "info",
    )
    .await
}

/// When a run was killed, and when each peer and event was first shown to the test.
type Shown = (Instant, BTreeMap<String, Instant>, BTreeMap<u64, Instant>);

/// What the API showed at one moment.
#[derive(Clone, Debug, Default)]
struct Snapshot {
    at: Option<Instant>,
    peers: BTreeSet<String>,
    counts: BTreeMap<(String, String), (u64, u64)>,
}

async fn snapshot(client: &mut CrawlerClient<Channel>) -> Snapshot {
    let peers = all_peers(client, "", 1000)
        .await
        .into_iter()
        .map(|p| p.node_id)
        .collect();
    let counts = client
        .get_message_counts(pb::GetMessageCountsRequest::default())
        .await
        .unwrap()
        .into_inner()
        .counts
        .into_iter()
        .map(|r| ((r.pubsub_topic, r.content_topic), (r.messages, r.bytes)))
        .collect();
    Snapshot {
        at: Some(Instant::now()),
        peers,
        counts,
    }
}

/// Every stored event, read from the start of the log until it goes quiet.
async fn stored_events(client: &mut CrawlerClient<Channel>) -> BTreeMap<u64, pb::PeerEvent> {
    let mut stream = client
        .stream_peer_events(pb::StreamPeerEventsRequest {
            after_sequence: Some(0),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let mut out = BTreeMap::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        match tokio::time::timeout(Duration::from_millis(700), stream.next()).await {
            Ok(Some(Ok(m))) => {
                let ev = m.event.unwrap();
                out.insert(ev.sequence, ev);
            }
            Ok(other) => panic!("event stream ended: {other:?}"),
            Err(_) => break,
        }
    }
    out
}

/// The pubsub topics of cluster 1 with at least two relay nodes.
fn relay_topics(net: &Testnet) -> Vec<String> {
    (0..8)
        .map(|s| format!("/waku/2/rs/1/{s}"))
        .filter(|t| net.relay_nodes_on(t).len() >= 2)
        .take(3)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_loop_loses_no_acknowledged_record() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("db");
    let net = Arc::new(
        Testnet::start(TestnetConfig {
            nodes: 40,
            down_fraction: 0.1,
            seed: 21,
            ..TestnetConfig::default()
        })
        .await
        .unwrap(),
    );
    let topics = relay_topics(&net);
    assert!(!topics.is_empty(), "the seeded testnet has relay topics");
    // Relay traffic all along: 20 messages per second over the topics.
    let publisher = publish_steadily(net.clone(), topics.clone(), "crash test");

    let seed: u64 = rand::random();
    eprintln!("kill schedule seed {seed}");
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    // Over all runs: every event any subscriber received (even one lost in a crash later),
    // and what survived the checks.
    let mut received: BTreeMap<u64, pb::PeerEvent> = BTreeMap::new();
    let mut durable_events_checked = 0usize;
    let mut max_peers_checked = 0usize;
    let mut max_messages_checked = 0u64;
    let mut last: Option<(String, Snapshot, u64)> = None;
    // What the last run showed, and when first: to report the age of the oldest write lost.
    let mut shown: Option<Shown> = None;

    for run in 0..=KILLS {
        let mut s = serve(&dir, run).await;
        let client = &mut s.client;

        // 1. Checks against what the previous run acknowledged.
        let stored = stored_events(client).await;
        for (seq, ev) in &stored {
            if let Some(seen) = received.get(seq) {
                assert_eq!(ev, seen, "run {run}: sequence {seq} was reused");
            }
        }
        if let Some((crawl_id, durable, durable_seq)) = last.take() {
            let c = client
                .get_crawl(pb::GetCrawlRequest {
                    crawl_id: crawl_id.clone(),
                })
                .await
                .unwrap()
                .into_inner()
                .crawl
                .unwrap();
            assert_eq!(
                c.state,
                pb::CrawlState::Interrupted as i32,
                "run {run}: the killed crawl {crawl_id} is marked interrupted"
            );
            for (seq, ev) in received.range(..=durable_seq) {
                assert_eq!(
                    stored.get(seq),
                    Some(ev),
                    "run {run}: acknowledged event {seq} is gone"
                );
                durable_events_checked += 1;
            }
            let now = snapshot(client).await;
            let lost: Vec<_> = durable.peers.difference(&now.peers).collect();
            assert!(
                lost.is_empty(),
                "run {run}: acknowledged peers lost: {lost:?}"
            );
            for (key, (m, b)) in &durable.counts {
                let (m2, b2) = now.counts.get(key).copied().unwrap_or_default();
                assert!(
                    m2 >= *m && b2 >= *b,
                    "run {run}: counts of {key:?} went from {m}/{b} to {m2}/{b2}"
                );
            }
            if let Some((killed, peers, events)) = shown.take() {
                let age = |t: &Instant| killed.saturating_duration_since(*t);
                let lost_peer = peers
                    .iter()
                    .filter(|(p, _)| !now.peers.contains(*p))
                    .map(|(_, t)| age(t))
                    .max();
                let lost_event = events
                    .iter()
                    .filter(|(seq, _)| !stored.contains_key(seq))
                    .map(|(_, t)| age(t))
                    .max();
                eprintln!(
                    "run {run}: oldest lost write shown {lost_peer:?} (peer) / {lost_event:?} (event) \
                     before the kill; allowed {DURABLE_AFTER:?}"
                );
            }
            max_peers_checked = max_peers_checked.max(durable.peers.len());
            max_messages_checked =
                max_messages_checked.max(durable.counts.values().map(|v| v.0).sum());
        }
        // Events streamed after the last acknowledged one may be lost; their numbers
        // stay taken (`max_seen`).
        let max_seen = received.keys().next_back().copied().unwrap_or(0);
        received.retain(|seq, _| stored.contains_key(seq));
        if run == KILLS {
            break;
        }

        // 2. A CONTINUOUS crawl with the relay monitor, a subscriber, and snapshots.
        let crawl = start(
            client,
            pb::StartCrawlRequest {
                mode: pb::CrawlMode::Continuous as i32,
                recrawl_interval: Some(prost_types::Duration {
                    seconds: 1,
                    nanos: 0,
                }),
                min_redial_interval: Some(prost_types::Duration {
                    seconds: 1,
                    nanos: 0,
                }),
                relay: Some(true),
                pubsub_topics: topics.clone(),
                ..oneshot(net.bootstrap_enrs())
            },
        )
        .await;
        let got: Arc<Mutex<Vec<(Instant, pb::PeerEvent)>>> = Arc::default();
        let mut stream = client
            .stream_peer_events(pb::StreamPeerEventsRequest {
                after_sequence: Some(stored.keys().next_back().copied().unwrap_or(0)),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        let sub = {
            let got = got.clone();
            tokio::spawn(async move {
                while let Some(Ok(m)) = stream.next().await {
                    got.lock().unwrap().push((Instant::now(), m.event.unwrap()));
                }
            })
        };
        let kill_after = Duration::from_millis(rng.gen_range(2_000..6_000));
        let started = Instant::now();
        let mut snaps = Vec::new();
        while started.elapsed() < kill_after {
            snaps.push(snapshot(client).await);
            tokio::time::sleep(Duration::from_millis(200)).await;
        }

        // 3. SIGKILL.
        s.child.start_kill().unwrap();
        let killed = Instant::now();
        within(Duration::from_secs(10), s.child.wait())
            .await
            .unwrap();
        let _ = within(Duration::from_secs(10), sub).await;

        let cutoff = killed - DURABLE_AFTER;
        let mut first_shown = BTreeMap::new();
        for snap in &snaps {
            for p in &snap.peers {
                first_shown.entry(p.clone()).or_insert(snap.at.unwrap());
            }
        }
        let durable = snaps
            .into_iter()
            .rev()
            .find(|s| s.at.is_some_and(|t| t < cutoff))
            .unwrap_or_default();
        let got = std::mem::take(&mut *got.lock().unwrap());
        let received_at = got.iter().map(|(t, ev)| (ev.sequence, *t)).collect();
        shown = Some((killed, first_shown, received_at));
        let mut durable_seq = 0;
        for (t, ev) in got {
            assert!(
                ev.sequence > max_seen,
                "run {run}: sequence {} given again after a restart (seen up to {max_seen})",
                ev.sequence
            );
            if t < cutoff {
                durable_seq = durable_seq.max(ev.sequence);
            }
            assert!(
                received.insert(ev.sequence, ev.clone()).is_none(),
                "run {run}: sequence {} streamed twice",
                ev.sequence
            );
        }
        eprintln!(
            "run {run}: killed after {kill_after:?}; {} peers, {} messages and events up to {durable_seq} acknowledged",
            durable.peers.len(),
            durable.counts.values().map(|v| v.0).sum::<u64>()
        );
        // Events streamed before the cutoff but lost would be a bug; events before them
        // that this subscriber never saw were checked in earlier runs.
        last = Some((crawl.id, durable, durable_seq));
    }
    publisher.abort();

    // The checks had something to check.
    assert!(
        durable_events_checked >= 100,
        "only {durable_events_checked} acknowledged events checked"
    );
    assert!(max_peers_checked >= 30, "{max_peers_checked} peers checked");
    assert!(max_messages_checked > 0, "no relay counts were checked");
}
