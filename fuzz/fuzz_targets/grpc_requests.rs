//! gRPC requests: every `peerscope.v1.Crawler` request message decoded from arbitrary
//! bytes, then turned into domain types by the same `api::convert` calls the service makes.
//! Bad input must come back as an error, never a panic, and what is accepted must be usable
//! by the engine (a deadline `now + duration` never overflows).
#![no_main]

use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use peerscope::api::convert;
use peerscope::model::CrawlSpec;
use peerscope::proto::pb;
use peerscope::protocol::enr::parse_enr;
use prost::Message;

fn usable(what: &str, d: Duration) {
    assert!(
        Instant::now().checked_add(d).is_some(),
        "{what} = {d:?} overflows a deadline"
    );
    assert!(
        i64::try_from(convert::to_pb_duration(d).seconds).is_ok_and(|s| s >= 0),
        "{what} = {d:?} does not go back on the wire"
    );
}

/// Milliseconds since the epoch of a wire timestamp (nanoseconds clamped as the API does).
fn millis(t: &prost_types::Timestamp) -> u128 {
    let secs = u128::try_from(t.seconds).expect("accepted times are not before 1970");
    secs * 1000 + u128::try_from(t.nanos.clamp(0, 999_999_999)).unwrap_or(0) / 1_000_000
}

fn check_spec(spec: &CrawlSpec) {
    let s = &spec.settings;
    usable("request_timeout", s.request_timeout);
    usable("recrawl_interval", s.recrawl_interval);
    if let Some(d) = s.max_duration {
        usable("max_duration", d);
    }
    usable("dial.timeout", s.dial.timeout);
    if let Some(d) = s.dial.min_redial {
        usable("dial.min_redial", d);
    }
    usable("peer_exchange.interval", s.peer_exchange.interval);
    if let Some(seed) = &s.peer_exchange.seed {
        usable(
            "peer_exchange.seed.requester_interval",
            seed.requester_interval,
        );
    }
    for text in &spec.bootstrap_enrs {
        parse_enr(text).expect("accepted bootstrap records are stored in canonical form");
    }
    for url in &spec.dns_tree_urls {
        url.parse::<peerscope::protocol::dns::TreeUrl>()
            .expect("accepted URLs parse");
    }
    // The spec is stored as JSON with the crawl.
    let json = serde_json::to_vec(spec).expect("serializes");
    let back: CrawlSpec = serde_json::from_slice(&json).expect("deserializes");
    assert_eq!(&back, spec);
}

fuzz_target!(|data: &[u8]| {
    if let Ok(req) = pb::StartCrawlRequest::decode(data) {
        if let Ok(spec) = convert::crawl_spec(req) {
            check_spec(&spec);
        }
    }
    if let Ok(req) = pb::StopCrawlRequest::decode(data) {
        if let Ok(id) = convert::crawl_id("crawl_id", &req.crawl_id) {
            assert!(id > 0);
        }
    }
    if let Ok(req) = pb::GetCrawlRequest::decode(data) {
        let _ = convert::crawl_id("crawl_id", &req.crawl_id);
    }
    if let Ok(req) = pb::ListCrawlsRequest::decode(data) {
        let limit = convert::page_size(req.page_size, 50, 1000);
        assert!((1..=1000).contains(&limit));
        let _ = convert::optional_crawl_id("page_token", &req.page_token);
        let _ = convert::state_filter(req.state);
    }
    if let Ok(req) = pb::WatchCrawlRequest::decode(data) {
        let _ = convert::crawl_id("crawl_id", &req.crawl_id);
        if let Some(d) = &req.interval {
            if let Ok(d) = convert::duration_in(
                "interval",
                d,
                Duration::from_millis(50),
                Duration::from_secs(3600),
            ) {
                assert!(d >= Duration::from_millis(50) && d <= Duration::from_secs(3600));
            }
        }
    }
    if let Ok(req) = pb::StreamPeerEventsRequest::decode(data) {
        if let Ok(filter) = convert::event_filter(&req) {
            assert_eq!(filter.kinds.len(), req.kinds.len());
        }
    }
    if let Ok(req) = pb::GetPeerRequest::decode(data) {
        let _ = convert::peer_key(req);
    }
    if let Ok(req) = pb::ListPeersRequest::decode(data) {
        if let Ok((filter, _after)) = convert::peer_query(&req) {
            assert!(filter.shard.is_none_or(|s| s <= 1023));
            // An accepted time is the time that was sent, in milliseconds.
            if let (Some(ms), Some(t)) = (filter.seen_since, &req.seen_since) {
                assert_eq!(u128::from(ms), millis(t), "seen_since {t:?}");
            }
        }
        let limit = convert::page_size(req.page_size, 100, 1000);
        assert!((1..=1000).contains(&limit));
    }
    if let Ok(req) = pb::GetMessageCountsRequest::decode(data) {
        if let Ok((from, to)) = convert::count_window(&req) {
            // The service divides by `to - from`.
            assert!(from <= to, "window {from}..{to}");
            if let Some(t) = &req.since {
                assert_eq!(u128::from(from), millis(t) / 60_000, "since {t:?}");
            }
            if let Some(t) = &req.until {
                assert_eq!(u128::from(to), millis(t).div_ceil(60_000), "until {t:?}");
            }
        }
        // Any accepted grouping keeps the totals of the rows it sums.
        if let Ok(grouping) = peerscope::api::rollup::Grouping::from_request(&req.group_by) {
            let rows: Vec<pb::MessageCount> = ["/a/1/x/proto", "/0/b/1/y/proto", "(other)", "junk"]
                .iter()
                .enumerate()
                .map(|(i, ct)| pb::MessageCount {
                    pubsub_topic: format!("/waku/2/rs/1/{}", i % 2),
                    content_topic: ct.to_string(),
                    messages: i as u64 + 1,
                    ..Default::default()
                })
                .collect();
            let grouped = peerscope::api::rollup::group(rows, grouping);
            assert_eq!(grouped.iter().map(|r| r.messages).sum::<u64>(), 10);
        }
    }
    if let Ok(req) = pb::GetNetworkStatsRequest::decode(data) {
        let _ = convert::optional_crawl_id("crawl_id", &req.crawl_id);
    }
});
