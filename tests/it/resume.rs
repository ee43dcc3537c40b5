//! A crawl's life beyond one task and one process: a crawl that ended is let go by the
//! engine, and CONTINUOUS crawls come back by themselves after the server restarts, with
//! their address book.

use std::time::Duration;

use peerscope::proto::pb;
use peerscope::testnet::TestnetConfig;

use crate::common::{oneshot, testnet, wait_final, within, Server};

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
