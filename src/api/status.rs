//! The one place where errors become gRPC statuses.

use tonic::Status;

use crate::engine::EngineError;
use crate::store::{StoreError, SubscribeError};

/// A request that cannot be served as asked.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum RequestError {
    /// A field is missing, malformed or out of range.
    #[error("{field}: {reason}")]
    Invalid { field: String, reason: String },
    /// The request asks for something this server cannot do yet.
    #[error("{0}")]
    Unimplemented(String),
    /// A resume point outside what the server holds.
    #[error("{0}")]
    OutOfRange(String),
    /// The request names a crawl or peer the server does not have.
    #[error("{field}: {reason}")]
    NotFound { field: String, reason: String },
}

impl RequestError {
    /// An invalid-argument error naming `field`.
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> RequestError {
        RequestError::Invalid {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// A not-found error naming `field`.
    pub fn not_found(field: impl Into<String>, reason: impl Into<String>) -> RequestError {
        RequestError::NotFound {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

/// Maps an engine error of a call whose crawl id came from `field`: an unknown crawl is
/// NOT_FOUND naming that field, everything else as the `From<EngineError>` impl maps it.
pub fn engine_error_for(field: &str, e: EngineError) -> Status {
    match e {
        EngineError::UnknownCrawl(id) => {
            RequestError::not_found(field, format!("no crawl with id {id}")).into()
        }
        e => e.into(),
    }
}

/// Maps a `StreamPeerEvents` start the store refused: a start past the last event or
/// before the retention edge is OUT_OF_RANGE naming `after_sequence`.
pub fn resume_error(e: SubscribeError) -> Status {
    match e {
        SubscribeError::Beyond { after, last } => RequestError::OutOfRange(format!(
            "after_sequence: {after} is beyond the last event sequence {last}"
        ))
        .into(),
        SubscribeError::Trimmed { oldest } => RequestError::OutOfRange(format!(
            "after_sequence: events up to {} were dropped by retention; the oldest stored is \
             {oldest} (resume with after_sequence >= {})",
            oldest.saturating_sub(1),
            oldest.saturating_sub(1)
        ))
        .into(),
        SubscribeError::Store(e) => e.into(),
    }
}

impl From<RequestError> for Status {
    fn from(e: RequestError) -> Status {
        match &e {
            RequestError::Invalid { .. } => Status::invalid_argument(e.to_string()),
            RequestError::Unimplemented(_) => Status::unimplemented(e.to_string()),
            RequestError::OutOfRange(_) => Status::out_of_range(e.to_string()),
            RequestError::NotFound { .. } => Status::not_found(e.to_string()),
        }
    }
}

impl From<EngineError> for Status {
    fn from(e: EngineError) -> Status {
        match e {
            EngineError::UnknownCrawl(_) => Status::not_found(e.to_string()),
            EngineError::Start { .. } | EngineError::Listen { .. } => {
                Status::failed_precondition(e.to_string())
            }
            EngineError::DnsTree { .. } | EngineError::EmptyDnsTrees { .. } => {
                Status::failed_precondition(format!("dns_tree_urls: {e}"))
            }
            EngineError::ShuttingDown => Status::unavailable(e.to_string()),
            EngineError::Store(e) => e.into(),
            EngineError::Geo(e) => Status::internal(e.to_string()),
        }
    }
}

impl From<StoreError> for Status {
    fn from(e: StoreError) -> Status {
        tracing::error!(error = %e, "store failure while serving a request");
        Status::internal("internal error: the store failed (see server log)")
    }
}
