//! Names and bounds of the relay message counts shared by the counter, the store and the API.

/// The content-topic name of the aggregate of content topics beyond the cap. It cannot
/// collide with a Waku content topic, which always starts with `/`.
pub const OTHER_CONTENT_TOPIC: &str = "(other)";

/// Default cap on distinct content topics per pubsub topic.
pub const DEFAULT_MAX_CONTENT_TOPICS: usize = 1000;

/// Per-minute buckets older than this are dropped (7 days).
pub const BUCKET_RETENTION_MINUTES: u64 = 7 * 24 * 60;
