//! Key and value encodings of the store's trees.
//!
//! Integer parts of keys are big-endian, so that sled's byte order equals numeric order and
//! ranges and pages are plain key scans. Composite keys concatenate fixed-width parts (node
//! ids are 32 bytes, integers 8); the topic keys separate their text parts with a 0 byte.
//! Values are JSON, except the per-minute message buckets (two big-endian `u64`s).

use serde::{de::DeserializeOwned, Serialize};

use crate::model::{CrawlId, NodeId, UnixMillis};
use crate::store::StoreError;

/// `n` as a big-endian key part.
pub(crate) fn be(n: u64) -> [u8; 8] {
    n.to_be_bytes()
}

/// The big-endian `u64` at the start of `bytes`, `None` when shorter than 8 bytes.
pub(crate) fn u64_key(bytes: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(bytes.get(..8)?.try_into().ok()?))
}

/// Decodes a JSON value of `tree`.
pub(crate) fn decode<T: DeserializeOwned>(
    tree: &'static str,
    bytes: &[u8],
) -> Result<T, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| StoreError::Corrupt {
        tree,
        reason: e.to_string(),
    })
}

/// Encodes a value as JSON.
pub(crate) fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    // Serializing these plain data types to JSON cannot fail (no maps with non-string keys,
    // no custom serializers that error).
    serde_json::to_vec(value).expect("domain types serialize to JSON")
}

/// `enrs`: node id ‖ seq.
pub(crate) fn enr_key(node: &NodeId, seq: u64) -> Vec<u8> {
    let mut key = Vec::with_capacity(40);
    key.extend_from_slice(node);
    key.extend_from_slice(&be(seq));
    key
}

/// `crawl_peers`: crawl id ‖ node id.
pub(crate) fn crawl_peer_key(crawl: CrawlId, node: &NodeId) -> Vec<u8> {
    let mut key = Vec::with_capacity(40);
    key.extend_from_slice(&be(crawl));
    key.extend_from_slice(node);
    key
}

/// `visits`: node id ‖ start time ‖ crawl id.
pub(crate) fn visit_key(node: &NodeId, started: UnixMillis, crawl: CrawlId) -> Vec<u8> {
    let mut key = Vec::with_capacity(48);
    key.extend_from_slice(node);
    key.extend_from_slice(&be(started));
    key.extend_from_slice(&be(crawl));
    key
}

/// `msg_counts`: pubsub ‖ 0 ‖ content. With an empty `content`, the prefix of every row of
/// `pubsub`.
pub(crate) fn topic_key(pubsub: &str, content: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(pubsub.len() + content.len() + 1);
    k.extend_from_slice(pubsub.as_bytes());
    k.push(0);
    k.extend_from_slice(content.as_bytes());
    k
}

/// `msg_buckets`: the prefix of one (pubsub, content) row's buckets, pubsub ‖ 0 ‖ content ‖ 0.
pub(crate) fn bucket_prefix(pubsub: &str, content: &str) -> Vec<u8> {
    let mut k = topic_key(pubsub, content);
    k.push(0);
    k
}

/// `msg_buckets`: pubsub ‖ 0 ‖ content ‖ 0 ‖ minute.
pub(crate) fn bucket_key(pubsub: &str, content: &str, minute: u64) -> Vec<u8> {
    let mut k = bucket_prefix(pubsub, content);
    k.extend_from_slice(&be(minute));
    k
}

/// A bucket value: messages ‖ bytes.
pub(crate) fn bucket_value(messages: u64, bytes: u64) -> Vec<u8> {
    let mut v = be(messages).to_vec();
    v.extend_from_slice(&be(bytes));
    v
}

/// Messages and bytes of a bucket value; `None` for a value that is not 16 bytes.
pub(crate) fn parse_bucket(value: &[u8]) -> Option<(u64, u64)> {
    (value.len() == 16).then(|| {
        (
            u64_key(&value[..8]).unwrap_or(0),
            u64_key(&value[8..]).unwrap_or(0),
        )
    })
}

/// `geo_cache`: the IP's octets (4 or 16 bytes).
pub(crate) fn ip_key(ip: std::net::IpAddr) -> Vec<u8> {
    match ip {
        std::net::IpAddr::V4(v4) => v4.octets().to_vec(),
        std::net::IpAddr::V6(v6) => v6.octets().to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn big_endian_keys_sort_numerically() {
        let mut numbers = [0u64, 1, 255, 256, 65_535, 1 << 40, u64::MAX - 1, u64::MAX];
        let mut keys: Vec<[u8; 8]> = numbers.iter().map(|&n| be(n)).collect();
        keys.sort();
        numbers.sort();
        let back: Vec<u64> = keys.iter().map(|k| u64_key(k).unwrap()).collect();
        assert_eq!(back, numbers);
        assert_eq!(u64_key(&[1, 2, 3]), None);
        assert_eq!(u64_key(&[0, 0, 0, 0, 0, 0, 0, 7, 99]), Some(7));
    }

    #[test]
    fn composite_keys_group_by_their_first_part() {
        let a = [1u8; 32];
        let b = [2u8; 32];
        assert!(enr_key(&a, u64::MAX) < enr_key(&b, 0));
        assert!(enr_key(&a, 9) < enr_key(&a, 10));
        assert!(crawl_peer_key(1, &b) < crawl_peer_key(2, &a));
        assert!(visit_key(&a, 5, 9) < visit_key(&a, 6, 1));
        assert!(visit_key(&a, u64::MAX, u64::MAX) < visit_key(&b, 0, 0));
        assert_eq!(&enr_key(&a, 3)[32..], &be(3));
        assert_eq!(&crawl_peer_key(7, &a)[8..], &a);
    }

    #[test]
    fn topic_keys_do_not_mix_topics() {
        // "a" / "bc" and "ab" / "c" must be different rows, and the prefix of "a" must not
        // cover the rows of "ab".
        assert_ne!(topic_key("a", "bc"), topic_key("ab", "c"));
        assert!(!topic_key("ab", "c").starts_with(&topic_key("a", "")));
        assert!(topic_key("a", "bc").starts_with(&topic_key("a", "")));
        let key = bucket_key("p", "c", 42);
        assert!(key.starts_with(&bucket_prefix("p", "c")));
        assert_eq!(&key[key.len() - 8..], &be(42));
        assert!(bucket_key("p", "c", 1) < bucket_key("p", "c", 2));
    }

    #[test]
    fn bucket_values_round_trip() {
        assert_eq!(parse_bucket(&bucket_value(3, 1 << 33)), Some((3, 1 << 33)));
        assert_eq!(parse_bucket(&[0; 15]), None);
    }

    #[test]
    fn ip_keys_are_the_octets() {
        assert_eq!(ip_key("127.0.0.1".parse().unwrap()), vec![127, 0, 0, 1]);
        assert_eq!(ip_key("::1".parse().unwrap()).len(), 16);
    }

    #[test]
    fn corrupt_values_name_their_tree() {
        let err = decode::<u64>("crawls", b"not json").unwrap_err();
        assert!(
            matches!(err, StoreError::Corrupt { tree: "crawls", .. }),
            "{err}"
        );
        assert_eq!(decode::<u64>("crawls", &encode(&17u64)).unwrap(), 17);
    }
}
