//! Names and bounds of the relay message counts shared by the counter, the store and the API.

/// The content-topic name of the aggregate of content topics beyond the cap. It cannot
/// collide with a Waku content topic, which always starts with `/`.
pub const OTHER_CONTENT_TOPIC: &str = "(other)";

/// Default cap on distinct content topics per pubsub topic.
pub const DEFAULT_MAX_CONTENT_TOPICS: usize = 1000;

/// Per-minute buckets older than this are dropped (7 days).
pub const BUCKET_RETENTION_MINUTES: u64 = 7 * 24 * 60;

/// The application of content topics that are not `/{application}/{version}/{name}/{encoding}`.
pub const INVALID_APPLICATION: &str = "(invalid)";

/// The application a content topic belongs to: the first segment of
/// `/{application}/{version}/{name}/{encoding}` (Waku's content-topic format), or the
/// segment after the generation of the autosharding form
/// `/{generation}/{application}/{version}/{name}/{encoding}`. The `(other)` row belongs to
/// `(other)`; anything else to [`INVALID_APPLICATION`].
pub fn application_of(content_topic: &str) -> &str {
    if content_topic == OTHER_CONTENT_TOPIC {
        return OTHER_CONTENT_TOPIC;
    }
    let Some(rest) = content_topic.strip_prefix('/') else {
        return INVALID_APPLICATION;
    };
    let parts: Vec<&str> = rest.split('/').collect();
    let app = match parts.as_slice() {
        [app, _version, _name, _encoding] => *app,
        [generation, app, _version, _name, _encoding]
            if !generation.is_empty() && generation.bytes().all(|b| b.is_ascii_digit()) =>
        {
            *app
        }
        _ => return INVALID_APPLICATION,
    };
    if app.is_empty() || parts.iter().any(|p| p.is_empty()) {
        INVALID_APPLICATION
    } else {
        app
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn applications_are_the_first_segment() {
        for (topic, app) in [
            ("/toychat/2/huilong/proto", "toychat"),
            ("/waku/2/default-content/proto", "waku"),
            ("/status/1/community/proto", "status"),
            ("/0/toychat/2/huilong/proto", "toychat"),
            ("/1/app/1/chat/proto", "app"),
            ("(other)", "(other)"),
            ("toychat/2/huilong/proto", "(invalid)"),
            ("/toychat/2/huilong", "(invalid)"),
            ("/toychat//huilong/proto", "(invalid)"),
            ("/x/toychat/2/huilong/proto", "(invalid)"),
            ("", "(invalid)"),
            ("/a/b/c/d/e/f", "(invalid)"),
        ] {
            assert_eq!(application_of(topic), app, "{topic}");
        }
    }
}
