//! Per-application and per-pubsub-topic rollups of relay message counts, over a real
//! gossipsub mesh on loopback: `GetMessageCounts.group_by`, the JSON endpoint and the
//! `peerscope_relay_application_messages_total` metric all give exactly what was published.

use std::collections::BTreeMap;

use peerscope::model::messages::application_of;
use peerscope::proto::pb;
use peerscope::testnet::{Testnet, TestnetConfig, NAMED_PUBSUB_TOPIC};
use serde_json::Value;

use crate::common::{http_get, Server};
use crate::relay::{busy_topics, cluster1_relays, settle, start_relay_crawl};

/// (pubsub topic index, content topic, messages): three applications (toychat on two
/// content topics, status, app — the last also in the autosharding form with a
/// generation), on a sharded and on the 2022 named topic.
const PLAN: [(usize, &str, u64); 7] = [
    (0, "/toychat/2/huilong/proto", 7),
    (0, "/toychat/2/other/proto", 3),
    (0, "/status/1/community/proto", 5),
    (0, "/0/app/1/chat/proto", 2),
    (1, "/toychat/2/huilong/proto", 4),
    (1, "/app/1/chat/proto", 6),
    (1, "/status/1/community/proto", 2),
];

async fn grouped(
    client: &mut pb::crawler_client::CrawlerClient<tonic::transport::Channel>,
    dims: &[pb::MessageDimension],
) -> Vec<pb::MessageCount> {
    client
        .get_message_counts(pb::GetMessageCountsRequest {
            group_by: dims.iter().map(|d| *d as i32).collect(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .counts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_roll_up_per_application_with_exact_sums() {
    let net = Testnet::start(TestnetConfig {
        nodes: 40,
        seed: 5,
        ..TestnetConfig::default()
    })
    .await
    .unwrap();
    let topics = vec![
        busy_topics(&net, 1).remove(0),
        NAMED_PUBSUB_TOPIC.to_string(),
    ];
    let server = Server::start().await;
    let mut client = server.client().await;
    start_relay_crawl(&mut client, &net, &topics).await;

    let mut n = 0;
    for (t, ct, count) in PLAN {
        let publishers = cluster1_relays(&net, &topics[t]);
        assert!(publishers.len() >= 2, "{}", topics[t]);
        for i in 0..count {
            n += 1;
            let node = publishers[(i as usize) % 2];
            net.publish(node, &topics[t], ct, format!("rollup {n}").into_bytes())
                .await
                .unwrap();
        }
    }
    let published = net.published();
    let total: u64 = PLAN.iter().map(|p| p.2).sum();
    assert_eq!(published.values().map(|v| v.0).sum::<u64>(), total);
    let stored = settle(&mut client, total).await;
    assert_eq!(stored.counts.len(), PLAN.len());

    // What each grouping must give, from what the testnet published.
    let mut by_app: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    let mut by_topic_app: BTreeMap<(String, String), (u64, u64)> = BTreeMap::new();
    let mut by_topic: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for ((pubsub, content), (m, b)) in &published {
        let app = application_of(content).to_string();
        for e in [
            by_app.entry(app.clone()).or_default(),
            by_topic_app
                .entry((pubsub.clone(), app.clone()))
                .or_default(),
            by_topic.entry(pubsub.clone()).or_default(),
        ] {
            e.0 += m;
            e.1 += b;
        }
    }
    // The plan's figures, written out: three applications, exact sums.
    let messages: BTreeMap<&str, u64> = by_app.iter().map(|(k, v)| (k.as_str(), v.0)).collect();
    assert_eq!(
        messages,
        BTreeMap::from([("app", 8), ("status", 7), ("toychat", 14)])
    );

    let rows = grouped(&mut client, &[pb::MessageDimension::Application]).await;
    let got: BTreeMap<String, (u64, u64)> = rows
        .iter()
        .map(|r| (r.application.clone(), (r.messages, r.bytes)))
        .collect();
    assert_eq!(got, by_app);
    let topics_per_app: BTreeMap<&str, u64> = rows
        .iter()
        .map(|r| (r.application.as_str(), r.content_topics))
        .collect();
    assert_eq!(
        topics_per_app,
        BTreeMap::from([("app", 2), ("status", 1), ("toychat", 2)])
    );
    assert!(rows
        .iter()
        .all(|r| r.pubsub_topic.is_empty() && r.content_topic.is_empty() && !r.other));

    let rows = grouped(
        &mut client,
        &[
            pb::MessageDimension::PubsubTopic,
            pb::MessageDimension::Application,
        ],
    )
    .await;
    let got: BTreeMap<(String, String), (u64, u64)> = rows
        .iter()
        .map(|r| {
            (
                (r.pubsub_topic.clone(), r.application.clone()),
                (r.messages, r.bytes),
            )
        })
        .collect();
    assert_eq!(got, by_topic_app);

    let rows = grouped(&mut client, &[pb::MessageDimension::PubsubTopic]).await;
    let got: BTreeMap<String, (u64, u64)> = rows
        .iter()
        .map(|r| (r.pubsub_topic.clone(), (r.messages, r.bytes)))
        .collect();
    assert_eq!(got, by_topic);
    assert_eq!(got[NAMED_PUBSUB_TOPIC].0, 12);
    assert_eq!(got[&topics[0]].0, 17);

    // The dashboard's JSON endpoint is the same call.
    let (status, body) = http_get(server.http, "/api/v1/messages?group_by=application", None).await;
    assert_eq!(status, 200, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    let got: BTreeMap<String, (u64, u64)> = v["counts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["application"].as_str().unwrap().to_string(),
                (
                    r["messages"].as_u64().unwrap(),
                    r["bytes"].as_u64().unwrap(),
                ),
            )
        })
        .collect();
    assert_eq!(got, by_app);
    let (status, body) = http_get(server.http, "/api/v1/messages?group_by=shard", None).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("group_by"), "{body}");

    // The metric counts the same messages per (pubsub topic, application).
    let (status, metrics) = http_get(server.http, "/metrics", None).await;
    assert_eq!(status, 200);
    let mut from_metric: BTreeMap<(String, String), u64> = BTreeMap::new();
    for line in metrics
        .lines()
        .filter(|l| l.starts_with("peerscope_relay_application_messages_total{"))
    {
        let (labels, value) = line.rsplit_once(' ').unwrap();
        let label = |name: &str| {
            let start = labels.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
            labels[start..].split('"').next().unwrap().to_string()
        };
        from_metric.insert(
            (label("pubsub_topic"), label("application")),
            value.parse().unwrap(),
        );
    }
    let want: BTreeMap<(String, String), u64> =
        by_topic_app.iter().map(|(k, v)| (k.clone(), v.0)).collect();
    assert_eq!(from_metric, want);

    // A bad dimension is refused, naming the entry.
    let err = client
        .get_message_counts(pb::GetMessageCountsRequest {
            group_by: vec![pb::MessageDimension::Application as i32, 0],
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::InvalidArgument);
    assert!(err.message().contains("group_by[1]"), "{}", err.message());
    drop(client);
    server.stop().await;
}
