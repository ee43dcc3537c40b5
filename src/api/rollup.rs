//! Rollups of relay message counts: the per-(pubsub topic, content topic) rows the store
//! keeps, summed by the dimensions `GetMessageCountsRequest.group_by` names — pubsub topic,
//! application (the first segment of `/{application}/{version}/{name}/{encoding}`, see
//! [`crate::model::messages::application_of`]) and content topic.
//!
//! Sums are exact: every stored row lands in exactly one group, so the groups of any
//! grouping add up to the same totals (messages, bytes, window counts) as the rows.

use std::collections::BTreeMap;

use crate::api::status::RequestError;
use crate::model::messages::{application_of, OTHER_CONTENT_TOPIC};
use crate::proto::pb;

/// Entries `group_by` may hold.
pub const MAX_DIMENSIONS: usize = 3;

/// Which dimensions a grouping keeps (the others are summed over).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Grouping {
    /// One group per pubsub topic.
    pub pubsub_topic: bool,
    /// One group per application.
    pub application: bool,
    /// One group per content topic (implies the application).
    pub content_topic: bool,
}

impl Grouping {
    /// The stored grouping: one row per (pubsub topic, content topic).
    pub const STORED: Grouping = Grouping {
        pubsub_topic: true,
        application: true,
        content_topic: true,
    };

    /// Reads `group_by`: empty means [`Grouping::STORED`]; repeats are allowed;
    /// `UNSPECIFIED` or an unknown value fails naming the entry.
    pub fn from_request(group_by: &[i32]) -> Result<Grouping, RequestError> {
        if group_by.is_empty() {
            return Ok(Grouping::STORED);
        }
        if group_by.len() > MAX_DIMENSIONS {
            return Err(RequestError::invalid(
                "group_by",
                format!("{} entries, at most {MAX_DIMENSIONS}", group_by.len()),
            ));
        }
        let mut g = Grouping::default();
        for (i, value) in group_by.iter().enumerate() {
            match pb::MessageDimension::try_from(*value) {
                Ok(pb::MessageDimension::PubsubTopic) => g.pubsub_topic = true,
                Ok(pb::MessageDimension::Application) => g.application = true,
                Ok(pb::MessageDimension::ContentTopic) => {
                    g.content_topic = true;
                    g.application = true;
                }
                Ok(pb::MessageDimension::Unspecified) | Err(_) => {
                    return Err(RequestError::invalid(
                        format!("group_by[{i}]"),
                        format!(
                            "{value} is not a dimension (PUBSUB_TOPIC, APPLICATION or CONTENT_TOPIC)"
                        ),
                    ))
                }
            }
        }
        Ok(g)
    }
}

/// Sums `rows` (one per stored (pubsub topic, content topic)) into the groups of
/// `grouping`, ordered by (pubsub topic, application, content topic). Dimensions not
/// grouped by are left empty in the result; `content_topics` counts the distinct content
/// topics a group holds (not counting `(other)`), and `other` is true for a group made of
/// `(other)` rows only.
pub fn group(rows: Vec<pb::MessageCount>, grouping: Grouping) -> Vec<pb::MessageCount> {
    if grouping == Grouping::STORED {
        return rows
            .into_iter()
            .map(|mut r| {
                r.application = application_of(&r.content_topic).to_string();
                r.content_topics = u64::from(r.content_topic != OTHER_CONTENT_TOPIC);
                r
            })
            .collect();
    }
    let mut groups: BTreeMap<(String, String, String), (pb::MessageCount, bool)> = BTreeMap::new();
    let mut topics: BTreeMap<(String, String, String), std::collections::BTreeSet<String>> =
        BTreeMap::new();
    for r in rows {
        let key = (
            if grouping.pubsub_topic {
                r.pubsub_topic.clone()
            } else {
                String::new()
            },
            if grouping.application {
                application_of(&r.content_topic).to_string()
            } else {
                String::new()
            },
            if grouping.content_topic {
                r.content_topic.clone()
            } else {
                String::new()
            },
        );
        if r.content_topic != OTHER_CONTENT_TOPIC {
            topics
                .entry(key.clone())
                .or_default()
                .insert(r.content_topic.clone());
        }
        let is_other = r.content_topic == OTHER_CONTENT_TOPIC;
        let (g, all_other) = groups.entry(key.clone()).or_insert_with(|| {
            (
                pb::MessageCount {
                    pubsub_topic: key.0.clone(),
                    application: key.1.clone(),
                    content_topic: key.2.clone(),
                    first_seen: r.first_seen,
                    last_seen: r.last_seen,
                    ..Default::default()
                },
                true,
            )
        });
        *all_other &= is_other;
        g.messages += r.messages;
        g.bytes += r.bytes;
        g.window_messages += r.window_messages;
        g.window_bytes += r.window_bytes;
        g.messages_per_minute += r.messages_per_minute;
        g.first_seen = min_time(g.first_seen, r.first_seen);
        g.last_seen = max_time(g.last_seen, r.last_seen);
    }
    groups
        .into_iter()
        .map(|(key, (mut g, all_other))| {
            g.other = all_other;
            g.content_topics = topics.get(&key).map_or(0, |s| s.len() as u64);
            g
        })
        .collect()
}

fn key(t: &prost_types::Timestamp) -> (i64, i32) {
    (t.seconds, t.nanos)
}

fn min_time(
    a: Option<prost_types::Timestamp>,
    b: Option<prost_types::Timestamp>,
) -> Option<prost_types::Timestamp> {
    match (a, b) {
        (Some(a), Some(b)) => Some(if key(&b) < key(&a) { b } else { a }),
        (a, b) => a.or(b),
    }
}

fn max_time(
    a: Option<prost_types::Timestamp>,
    b: Option<prost_types::Timestamp>,
) -> Option<prost_types::Timestamp> {
    match (a, b) {
        (Some(a), Some(b)) => Some(if key(&b) > key(&a) { b } else { a }),
        (a, b) => a.or(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: i64) -> Option<prost_types::Timestamp> {
        Some(prost_types::Timestamp {
            seconds: s,
            nanos: 0,
        })
    }

    fn row(pubsub: &str, content: &str, messages: u64, bytes: u64, t: i64) -> pb::MessageCount {
        pb::MessageCount {
            pubsub_topic: pubsub.into(),
            content_topic: content.into(),
            messages,
            bytes,
            first_seen: ts(t),
            last_seen: ts(t + 10),
            other: content == OTHER_CONTENT_TOPIC,
            window_messages: messages / 2,
            window_bytes: bytes / 2,
            messages_per_minute: messages as f64 / 10.0,
            ..Default::default()
        }
    }

    fn rows() -> Vec<pb::MessageCount> {
        vec![
            row(
                "/waku/2/default-waku/proto",
                "/toychat/2/huilong/proto",
                4,
                400,
                100,
            ),
            row(
                "/waku/2/default-waku/proto",
                "/status/1/a/proto",
                6,
                600,
                50,
            ),
            row("/waku/2/rs/1/0", "/status/1/b/proto", 10, 1000, 200),
            row("/waku/2/rs/1/0", "/status/1/a/proto", 2, 200, 300),
            row("/waku/2/rs/1/0", OTHER_CONTENT_TOPIC, 7, 70, 10),
            row("/waku/2/rs/1/1", "not-a-topic", 1, 10, 400),
        ]
    }

    #[test]
    fn group_by_application_sums_across_pubsub_topics() {
        let g = group(
            rows(),
            Grouping::from_request(&[pb::MessageDimension::Application as i32]).unwrap(),
        );
        let got: Vec<_> = g
            .iter()
            .map(|r| {
                (
                    r.application.as_str(),
                    r.messages,
                    r.bytes,
                    r.content_topics,
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                ("(invalid)", 1, 10, 1),
                ("(other)", 7, 70, 0),
                ("status", 18, 1800, 2),
                ("toychat", 4, 400, 1),
            ]
        );
        let status = &g[2];
        assert_eq!(status.pubsub_topic, "");
        assert_eq!(status.content_topic, "");
        assert_eq!(status.first_seen, ts(50));
        assert_eq!(status.last_seen, ts(310));
        assert_eq!(status.window_messages, 3 + 5 + 1);
        assert!((status.messages_per_minute - 1.8).abs() < 1e-9);
        assert!(g[1].other && !status.other);
        // Every grouping keeps the totals.
        let total: u64 = rows().iter().map(|r| r.messages).sum();
        for dims in [
            vec![pb::MessageDimension::PubsubTopic as i32],
            vec![
                pb::MessageDimension::PubsubTopic as i32,
                pb::MessageDimension::Application as i32,
            ],
            vec![pb::MessageDimension::ContentTopic as i32],
            vec![],
        ] {
            let g = group(rows(), Grouping::from_request(&dims).unwrap());
            assert_eq!(g.iter().map(|r| r.messages).sum::<u64>(), total, "{dims:?}");
        }
    }

    #[test]
    fn group_by_pubsub_topic_and_application() {
        let g = group(
            rows(),
            Grouping::from_request(&[
                pb::MessageDimension::Application as i32,
                pb::MessageDimension::PubsubTopic as i32,
            ])
            .unwrap(),
        );
        let got: Vec<_> = g
            .iter()
            .map(|r| (r.pubsub_topic.as_str(), r.application.as_str(), r.messages))
            .collect();
        assert_eq!(
            got,
            vec![
                ("/waku/2/default-waku/proto", "status", 6),
                ("/waku/2/default-waku/proto", "toychat", 4),
                ("/waku/2/rs/1/0", "(other)", 7),
                ("/waku/2/rs/1/0", "status", 12),
                ("/waku/2/rs/1/1", "(invalid)", 1),
            ]
        );
        let by_topic = group(
            rows(),
            Grouping::from_request(&[pb::MessageDimension::PubsubTopic as i32]).unwrap(),
        );
        let got: Vec<_> = by_topic
            .iter()
            .map(|r| {
                (
                    r.pubsub_topic.as_str(),
                    r.messages,
                    r.content_topics,
                    r.other,
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                ("/waku/2/default-waku/proto", 10, 2, false),
                ("/waku/2/rs/1/0", 19, 2, false),
                ("/waku/2/rs/1/1", 1, 1, false),
            ]
        );
    }

    #[test]
    fn stored_rows_gain_their_application_and_bad_dimensions_are_refused() {
        let g = group(rows(), Grouping::from_request(&[]).unwrap());
        assert_eq!(g.len(), rows().len());
        assert_eq!(g[0].application, "toychat");
        assert_eq!(g[4].application, "(other)");
        assert_eq!(g[4].content_topics, 0);
        let e = Grouping::from_request(&[2, 0]).unwrap_err();
        assert!(e.to_string().contains("group_by[1]"), "{e}");
        assert!(Grouping::from_request(&[99]).is_err());
    }
}
