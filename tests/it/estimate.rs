//! WatchCrawl's completion estimate (`CrawlProgress.estimated_remaining`).

use std::time::Duration;

use peerscope::proto::pb;
use peerscope::testnet::{Testnet, TestnetConfig};
use tokio_stream::StreamExt;

use crate::common::{oneshot, start, within, Server};

/// Every snapshot WatchCrawl sends until the stream ends (or `max` of them).
async fn watch_all(
    client: &mut pb::crawler_client::CrawlerClient<tonic::transport::Channel>,
    id: &str,
    max: usize,
) -> Vec<pb::Crawl> {
    let mut stream = client
        .watch_crawl(pb::WatchCrawlRequest {
            crawl_id: id.into(),
            interval: Some(prost_types::Duration {
                seconds: 0,
                nanos: 50_000_000,
            }),
        })
        .await
        .unwrap()
        .into_inner();
    let mut out = Vec::new();
    within(Duration::from_secs(180), async {
        while let Some(msg) = stream.next().await {
            out.push(msg.unwrap().crawl.unwrap());
            if out.len() >= max {
                break;
            }
        }
    })
    .await;
    out
}

fn estimate(c: &pb::Crawl) -> Option<prost_types::Duration> {
    c.progress.as_ref().and_then(|p| p.estimated_remaining)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oneshot_crawls_estimate_their_completion_until_the_summary() {
    let net = Testnet::start(TestnetConfig {
        nodes: 80,
        seed: 5,
        ..TestnetConfig::default()
    })
    .await
    .unwrap();
    let server = Server::start().await;
    let mut client = server.client().await;
    // Few requests and one dial at a time, so the crawl runs for seconds.
    let crawl = start(
        &mut client,
        pb::StartCrawlRequest {
            concurrency: Some(2),
            dial_concurrency: Some(1),
            dial: Some(true),
            ..oneshot(net.bootstrap_enrs())
        },
    )
    .await;
    let snapshots = watch_all(&mut client, &crawl.id, usize::MAX).await;
    let last = snapshots.last().expect("snapshots");
    assert_eq!(last.state, pb::CrawlState::Finished as i32);
    assert_eq!(estimate(last), None, "the summary carries no estimate");
    let running: Vec<_> = snapshots
        .iter()
        .filter(|c| c.state == pb::CrawlState::Running as i32)
        .collect();
    let estimates: Vec<_> = running.iter().filter_map(|c| estimate(c)).collect();
    assert!(
        !estimates.is_empty(),
        "no estimate in {} running snapshots",
        running.len()
    );
    for e in &estimates {
        assert!(e.seconds >= 0 && e.nanos >= 0, "{e:?}");
    }
    // Running, before the end: the estimate still has work to cover.
    assert!(
        estimates.iter().any(|e| e.seconds > 0 || e.nanos > 0),
        "{estimates:?}"
    );
    let stored = client
        .get_crawl(pb::GetCrawlRequest {
            crawl_id: crawl.id.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .crawl
        .unwrap();
    assert_eq!(estimate(&stored), None);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn continuous_crawls_have_no_estimate() {
    let net = Testnet::start(TestnetConfig {
        nodes: 40,
        seed: 6,
        ..TestnetConfig::default()
    })
    .await
    .unwrap();
    let server = Server::start().await;
    let mut client = server.client().await;
    let crawl = start(
        &mut client,
        pb::StartCrawlRequest {
            mode: pb::CrawlMode::Continuous as i32,
            concurrency: Some(2),
            dial_concurrency: Some(1),
            relay: Some(false),
            ..oneshot(net.bootstrap_enrs())
        },
    )
    .await;
    // Watch through the first round and beyond.
    let mut stream = client
        .watch_crawl(pb::WatchCrawlRequest {
            crawl_id: crawl.id.clone(),
            interval: Some(prost_types::Duration {
                seconds: 0,
                nanos: 50_000_000,
            }),
        })
        .await
        .unwrap()
        .into_inner();
    let mut seen = 0;
    within(Duration::from_secs(120), async {
        while let Some(msg) = stream.next().await {
            let c = msg.unwrap().crawl.unwrap();
            assert_eq!(estimate(&c), None, "{:?}", c.progress);
            seen += 1;
            if c.progress.as_ref().is_some_and(|p| p.rounds >= 1) && seen >= 20 {
                break;
            }
        }
    })
    .await;
    assert!(seen >= 20);
    client
        .stop_crawl(pb::StopCrawlRequest {
            crawl_id: crawl.id.clone(),
        })
        .await
        .unwrap();
    server.stop().await;
}
