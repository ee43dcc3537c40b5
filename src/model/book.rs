//! The stored form of a crawl's address book: one [`BookEntry`] per peer, so that a crawl
//! resumed after a restart keeps its bans, `bad` marks and backoffs.
//!
//! An entry mirrors the engine's in-memory book entry (`engine::schedule::Entry`) field for
//! field, with its instants as wall-clock Unix milliseconds (monotonic instants do not
//! survive a restart). The store keeps entries per crawl ([`crate::store::Store`]'s
//! `put_book_entries`, `load_book`, `delete_book`); the engine decides when to save them
//! and how to restore them (overdue peers spread over the policy's `restart_spread`).

use serde::{Deserialize, Serialize};

use crate::model::{NodeId, PeerState, UnixMillis};

/// One peer of a crawl's address book, as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookEntry {
    /// The peer.
    pub node_id: NodeId,
    /// Its place in the book (new, vetted, failing, bad, banned).
    pub state: PeerState,
    /// Consecutive failed dials (failures in a row; reset by a success, a ban expiry or a
    /// newer record).
    pub attempts: u32,
    /// When it was last dialed.
    #[serde(default)]
    pub last_dial: Option<UnixMillis>,
    /// When it may be dialed next. `None`: never (a `bad` peer), banned (see
    /// `ban_until`), or a dial was in flight when the entry was saved.
    #[serde(default)]
    pub next_due: Option<UnixMillis>,
    /// When its ban ends (banned peers only).
    #[serde(default)]
    pub ban_until: Option<UnixMillis>,
    /// A dial was in flight when the entry was saved; its outcome is unknown, so a restored
    /// entry is due again (after the restart spread).
    #[serde(default)]
    pub in_flight: bool,
}
