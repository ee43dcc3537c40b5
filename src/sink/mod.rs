//! The PostgreSQL sink: exports this server's store (one vantage point) into a PostgreSQL
//! database that any number of servers share, exactly once, without the crawl ever
//! waiting on the database.
//!
//! **What is exported** (tables in `migrations/0001_tables.sql`, every one keyed by
//! `(vantage, …)`): crawls, peers (upserted, with the decoded record, identify, metadata,
//! geolocation and dial state), ENR versions, visits, events, relay counts (all time and
//! per minute), undecodable counts and every relay message sighting with its message id.
//! Sessions are a view over visits. The fleet views (`migrations/0002_fleet_views.sql`)
//! compare and combine vantages.
//!
//! **Exactly once.** The sink reads from the store only: events by their sequence numbers,
//! visits, ENR versions and message sightings from the export feed, and changed mutable
//! rows from their change marks (see [`crate::store::export`]). A batch is made durable in
//! sled first (so the database never holds a row a crash could take from the store), then
//! written in one PostgreSQL transaction that also moves the vantage's two high-water
//! marks (`sink_state.event_seq`, `sink_state.feed_seq`). A crash, `kill -9` or database
//! outage leaves the marks at the last committed batch; the next attempt starts there, so
//! no row is lost and none is written twice. Upserted rows carry their current value, so
//! writing one again is harmless; change marks are removed only once committed.
//!
//! **Never blocking.** The crawl writes sled only. The sink runs in its own task: when the
//! database is unreachable it counts the error, reports it ([`SinkStatus`], the
//! `GetSinkStatus` RPC, `peerscope_sink_errors_total`), retries with exponential backoff
//! ([`DEFAULT_BACKOFF_MIN`] to [`DEFAULT_BACKOFF_MAX`]) and catches up when it can, in
//! batches of at most [`DEFAULT_BATCH`] rows per source.
//!
//! **Many vantages.** A vantage name is bound to one store (`sink_state.store_id`) and
//! written by one server at a time (a session advisory lock, waited for up to
//! [`VANTAGE_LOCK_WAIT`] so that a restart right after a crash finds it released);
//! migrations run under a transaction lock, so servers may start together.

pub mod schema;
pub mod writer;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::metrics::Metrics;
use crate::model::{now_millis, UnixMillis};
use crate::store::{Store, StoreError};

/// Default rows read per source (events, feed, changed rows) per batch.
pub const DEFAULT_BATCH: usize = 5000;
/// Default pause between two looks at the store when nothing is waiting.
pub const DEFAULT_POLL: Duration = Duration::from_millis(250);
/// Default first retry delay after a failure; it doubles per failure in a row.
pub const DEFAULT_BACKOFF_MIN: Duration = Duration::from_millis(500);
/// Default longest retry delay.
pub const DEFAULT_BACKOFF_MAX: Duration = Duration::from_secs(5);
/// Default bound on connecting to the database.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Longest vantage name.
pub const MAX_VANTAGE_LEN: usize = 64;

/// First key of the session advisory lock that binds a vantage to one server.
const VANTAGE_LOCK: i32 = 0x7073_6376; // "pscv"

/// How long a session waits for its vantage's lock before it reports the vantage busy: a
/// server of the same vantage that was just killed (or restarted) holds the lock until
/// PostgreSQL has noticed that its connection is gone.
const VANTAGE_LOCK_WAIT: Duration = Duration::from_secs(5);

/// Sink failures.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SinkError {
    /// The database refused or failed a statement, or could not be reached.
    #[error("database: {0}")]
    Db(#[from] tokio_postgres::Error),
    /// The store failed.
    #[error("store: {0}")]
    Store(#[from] StoreError),
    /// A migration failed.
    #[error("schema migration {version}: {source}")]
    Migration {
        version: i32,
        source: tokio_postgres::Error,
    },
    /// The database was migrated by a newer peerscope.
    #[error("database schema version {found} is newer than this build's {known}")]
    SchemaTooNew { found: i32, known: i32 },
    /// Another running server exports under this vantage name.
    #[error("vantage {vantage:?} is being exported by another server")]
    VantageBusy { vantage: String },
    /// The vantage name was used by another store.
    #[error(
        "vantage {vantage:?} holds the rows of another store ({found}; this one is {ours}): \
         choose another --vantage"
    )]
    StoreMismatch {
        vantage: String,
        found: String,
        ours: String,
    },
    /// The high-water marks moved under this server.
    #[error("the export marks of vantage {vantage:?} were changed by someone else")]
    Conflict { vantage: String },
    /// The connection to the database closed.
    #[error("the connection to the database closed")]
    Closed,
    /// A blocking task of the sink failed.
    #[error("sink task: {0}")]
    Task(String),
    /// A setting is invalid.
    #[error("{key}: {reason}")]
    Invalid { key: &'static str, reason: String },
}

/// Sink settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SinkConfig {
    /// Where to connect (from a `postgres://` URL or a `key=value` string), with the
    /// password when one was given apart.
    pub database: tokio_postgres::Config,
    /// This server's vantage name: every row it writes carries it. Default: the host name.
    pub vantage: String,
    /// Rows read per source per batch. Default [`DEFAULT_BATCH`].
    pub batch: usize,
    /// Pause between looks at the store when idle. Default [`DEFAULT_POLL`].
    pub poll: Duration,
    /// Retry delays. Default [`DEFAULT_BACKOFF_MIN`] doubling to [`DEFAULT_BACKOFF_MAX`].
    pub backoff_min: Duration,
    pub backoff_max: Duration,
}

impl SinkConfig {
    /// Settings from a connection string (`postgres://user@host:port/db` or
    /// `host=… user=…`), a password given apart (from a file: it wins over one in the
    /// URL) and a vantage name (`None`: the host name).
    pub fn new(
        url: &str,
        password: Option<&str>,
        vantage: Option<&str>,
    ) -> Result<SinkConfig, SinkError> {
        let mut database: tokio_postgres::Config =
            url.parse()
                .map_err(|e: tokio_postgres::Error| SinkError::Invalid {
                    key: "sink",
                    reason: e.to_string(),
                })?;
        if database.get_hosts().is_empty() {
            return Err(SinkError::Invalid {
                key: "sink",
                reason: "no host in the connection string".into(),
            });
        }
        if let Some(p) = password {
            let p = p.trim_end_matches(['\r', '\n']);
            if p.is_empty() {
                return Err(SinkError::Invalid {
                    key: "sink_password_file",
                    reason: "the password is empty".into(),
                });
            }
            database.password(p);
        }
        if database.get_connect_timeout().is_none() {
            database.connect_timeout(DEFAULT_CONNECT_TIMEOUT);
        }
        if database.get_application_name().is_none() {
            database.application_name("peerscope");
        }
        let vantage = match vantage {
            Some(v) => v.to_string(),
            None => default_vantage(),
        };
        check_vantage(&vantage).map_err(|reason| SinkError::Invalid {
            key: "vantage",
            reason,
        })?;
        Ok(SinkConfig {
            database,
            vantage,
            batch: DEFAULT_BATCH,
            poll: DEFAULT_POLL,
            backoff_min: DEFAULT_BACKOFF_MIN,
            backoff_max: DEFAULT_BACKOFF_MAX,
        })
    }

    /// The database as `user@host:port/dbname`, never with the password.
    pub fn describe(&self) -> String {
        let d = &self.database;
        let host = match d.get_hosts().first() {
            Some(tokio_postgres::config::Host::Tcp(h)) => h.clone(),
            #[cfg(unix)]
            Some(tokio_postgres::config::Host::Unix(p)) => p.display().to_string(),
            None => String::new(),
        };
        let port = d.get_ports().first().copied().unwrap_or(5432);
        format!(
            "{}@{host}:{port}/{}",
            d.get_user().unwrap_or(""),
            d.get_dbname().unwrap_or("")
        )
    }
}

/// Whether `name` can name a vantage: 1 to [`MAX_VANTAGE_LEN`] ASCII letters, digits,
/// `.`, `_` or `-` (so that it reads the same in every tool and never collides with the
/// views' `(union)`).
pub fn check_vantage(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > MAX_VANTAGE_LEN {
        return Err(format!(
            "{name:?} must be 1 to {MAX_VANTAGE_LEN} characters"
        ));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
    {
        return Err(format!(
            "{name:?} has {c:?}: use letters, digits, '.', '_' or '-'"
        ));
    }
    Ok(())
}

/// The host name (from the kernel, else `$HOSTNAME`), cut to a valid vantage name;
/// `peerscope` when there is none.
pub fn default_vantage() -> String {
    let raw = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_default();
    let name: String = raw
        .trim()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '-'
            }
        })
        .take(MAX_VANTAGE_LEN)
        .collect();
    if name.is_empty() {
        "peerscope".into()
    } else {
        name
    }
}

/// What the sink has done and how far behind it is.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SinkStatus {
    pub vantage: String,
    /// The database, without the password.
    pub database: String,
    /// Whether the sink holds a working connection (false from a failure until the next
    /// successful connection).
    pub connected: bool,
    /// The last event sequence in the database.
    pub exported_event_sequence: u64,
    /// The last event sequence stored.
    pub last_event_sequence: u64,
    /// Stored events not yet exported.
    pub lag_events: u64,
    /// Feed entries (visits, ENR versions, relay message sightings) not yet exported.
    pub lag_feed: u64,
    /// Rows marked changed (peers, crawls, relay counts) not yet exported.
    pub pending_changes: u64,
    /// Rows written per table since the server started (inserted or updated).
    pub rows: BTreeMap<String, u64>,
    /// Batches committed since start.
    pub batches: u64,
    /// Failed attempts (connecting, migrating, writing) since start.
    pub errors: u64,
    pub last_error: Option<String>,
    pub last_error_at: Option<UnixMillis>,
    /// When the last batch was committed.
    pub last_export_at: Option<UnixMillis>,
    /// Times the whole store was queued again (first export to a database, or a feed that
    /// lost entries before export).
    pub backfills: u64,
}

impl SinkStatus {
    /// Nothing is waiting: every stored event, feed entry and changed row is exported.
    pub fn caught_up(&self) -> bool {
        self.lag_events == 0 && self.lag_feed == 0 && self.pending_changes == 0
    }
}

#[derive(Default)]
struct State {
    connected: bool,
    /// The high-water marks last read from or written to the database.
    marks: Option<(u64, u64)>,
    rows: BTreeMap<String, u64>,
    batches: u64,
    errors: u64,
    last_error: Option<String>,
    last_error_at: Option<UnixMillis>,
    last_export_at: Option<UnixMillis>,
    backfills: u64,
}

struct Shared {
    store: Store,
    metrics: Metrics,
    vantage: String,
    database: String,
    state: Mutex<State>,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The high-water marks: the database's when known, else the last ones this store
    /// recorded (from an earlier run).
    fn marks(&self) -> (u64, u64) {
        self.lock()
            .marks
            .unwrap_or_else(|| self.store.export_progress())
    }

    fn event_lag(&self, event_seq: u64) -> u64 {
        self.store
            .last_stored_event()
            .map_or(0, |last| last.saturating_sub(event_seq))
    }

    fn failed(&self, e: &SinkError) {
        self.metrics.sink_error();
        let lag = self.event_lag(self.marks().0);
        self.metrics.set_sink_lag(lag);
        let mut s = self.lock();
        s.connected = false;
        s.errors += 1;
        s.last_error = Some(e.to_string());
        s.last_error_at = Some(now_millis());
    }
}

/// A running sink; cheap to clone.
#[derive(Clone)]
pub struct Sink {
    shared: Arc<Shared>,
    stop: CancellationToken,
    task: Arc<Mutex<Option<JoinHandle<()>>>>,
}

impl std::fmt::Debug for Sink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sink")
            .field("vantage", &self.shared.vantage)
            .field("database", &self.shared.database)
            .finish()
    }
}

impl Sink {
    /// Starts exporting `store` as `config.vantage`. Returns at once: connecting, migrating
    /// and exporting happen in a task of their own. The store's writes feed the export
    /// (and relay message sightings are logged to it) from now on.
    pub fn start(store: Store, metrics: Metrics, config: SinkConfig) -> Sink {
        store.set_export(true);
        store.set_message_log(true);
        let shared = Arc::new(Shared {
            vantage: config.vantage.clone(),
            database: config.describe(),
            store,
            metrics,
            state: Mutex::new(State::default()),
        });
        let stop = CancellationToken::new();
        tracing::info!(vantage = %shared.vantage, database = %shared.database, "sink starting");
        let task = tokio::spawn(run(shared.clone(), config, stop.clone()));
        Sink {
            shared,
            stop,
            task: Arc::new(Mutex::new(Some(task))),
        }
    }

    /// The vantage name.
    pub fn vantage(&self) -> &str {
        &self.shared.vantage
    }

    /// Where the export stands now (lags are counted from the store at the call).
    pub fn status(&self) -> SinkStatus {
        let sh = &self.shared;
        let (event_seq, feed_seq) = sh.marks();
        let s = sh.lock();
        SinkStatus {
            vantage: sh.vantage.clone(),
            database: sh.database.clone(),
            connected: s.connected,
            exported_event_sequence: event_seq,
            last_event_sequence: sh.store.last_stored_event().unwrap_or(0).max(event_seq),
            lag_events: sh.event_lag(event_seq),
            lag_feed: sh.store.feed_pending(feed_seq) as u64,
            pending_changes: sh.store.changes_pending() as u64,
            rows: s.rows.clone(),
            batches: s.batches,
            errors: s.errors,
            last_error: s.last_error.clone(),
            last_error_at: s.last_error_at,
            last_export_at: s.last_export_at,
            backfills: s.backfills,
        }
    }

    /// Exports what is still waiting (when connected) and stops, within `limit`; returns
    /// whether it stopped in time. Call it after the crawls have stopped, so that their
    /// last writes go out too.
    pub async fn finish(&self, limit: Duration) -> bool {
        self.stop.cancel();
        let task = self.task.lock().unwrap_or_else(|e| e.into_inner()).take();
        let mut in_time = true;
        if let Some(mut task) = task {
            if tokio::time::timeout(limit, &mut task).await.is_err() {
                tracing::warn!(?limit, "sink did not finish its last export in time");
                task.abort();
                in_time = false;
            }
        }
        self.shared.store.set_message_log(false);
        in_time
    }
}

async fn run(shared: Arc<Shared>, config: SinkConfig, stop: CancellationToken) {
    let mut backoff = config.backoff_min;
    loop {
        let mut connected = false;
        match session(&shared, &config, &stop, &mut connected).await {
            Ok(()) => return,
            Err(e) => {
                tracing::warn!(error = %e, vantage = %shared.vantage, retry_in = ?backoff, "sink failed");
                shared.failed(&e);
            }
        }
        if stop.is_cancelled() {
            return;
        }
        if connected {
            backoff = config.backoff_min;
        }
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(backoff) => {}
        }
        backoff = (backoff * 2).min(config.backoff_max);
    }
}

/// Aborts the connection task when the session ends.
struct ConnectionTask(JoinHandle<()>);

impl Drop for ConnectionTask {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// One connection: migrate, claim the vantage, export until stopped or failed.
async fn session(
    shared: &Shared,
    config: &SinkConfig,
    stop: &CancellationToken,
    connected: &mut bool,
) -> Result<(), SinkError> {
    if stop.is_cancelled() && !shared.lock().connected {
        return Ok(());
    }
    let store = &shared.store;
    let vantage = shared.vantage.as_str();
    let (mut client, connection) = config.database.connect(tokio_postgres::NoTls).await?;
    let _connection = ConnectionTask(tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::debug!(error = %e, "sink connection ended");
        }
    }));
    let applied = schema::migrate(&mut client).await?;
    if applied > 0 {
        tracing::info!(
            applied,
            version = schema::current_version(),
            "sink schema migrated"
        );
    }
    let deadline = tokio::time::Instant::now() + VANTAGE_LOCK_WAIT;
    loop {
        let locked: bool = client
            .query_one(
                "SELECT pg_try_advisory_lock($1, hashtext($2))",
                &[&VANTAGE_LOCK, &vantage],
            )
            .await?
            .get(0);
        if locked {
            break;
        }
        if tokio::time::Instant::now() >= deadline || stop.is_cancelled() {
            return Err(SinkError::VantageBusy {
                vantage: vantage.into(),
            });
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let ours = store.store_id()?;
    let row = client
        .query_opt(
            "SELECT store_id, event_seq, feed_seq FROM sink_state WHERE vantage = $1",
            &[&vantage],
        )
        .await?;
    let known = row.is_some();
    let mut marks = match row {
        Some(row) => {
            let found: String = row.get(0);
            if found != ours {
                return Err(SinkError::StoreMismatch {
                    vantage: vantage.into(),
                    found,
                    ours,
                });
            }
            (row.get::<_, i64>(1) as u64, row.get::<_, i64>(2) as u64)
        }
        None => (0, 0),
    };
    if !known || store.feed_trimmed_through() > marks.1 {
        // The database has nothing of this store yet, or the feed dropped entries it had
        // not exported: queue everything (rows already there are written as they are).
        let b = {
            // Walks every tree: off the async workers.
            let store = store.clone();
            tokio::task::spawn_blocking(move || store.backfill_export())
                .await
                .map_err(|e| SinkError::Task(e.to_string()))??
        };
        store.sync().await?;
        tracing::info!(
            vantage,
            marked = b.marked,
            fed = b.fed,
            "sink queued the whole store for export"
        );
        shared.lock().backfills += 1;
    }
    if !known {
        client
            .execute(
                "INSERT INTO sink_state (vantage, store_id, version) VALUES ($1, $2, $3)",
                &[&vantage, &ours, &env!("CARGO_PKG_VERSION")],
            )
            .await?;
        marks = (0, 0);
    }
    writer::prepare(&client).await?;
    {
        let mut s = shared.lock();
        s.connected = true;
        s.marks = Some(marks);
    }
    *connected = true;
    tracing::info!(
        vantage,
        event_seq = marks.0,
        feed_seq = marks.1,
        "sink connected"
    );

    let mut cursor: Option<Vec<u8>> = None;
    loop {
        if client.is_closed() {
            return Err(SinkError::Closed);
        }
        let mut batch = {
            // Reads and decodes up to three batches of rows: off the async workers.
            let (store, vantage, cursor, limit) = (
                store.clone(),
                vantage.to_string(),
                cursor.clone(),
                config.batch,
            );
            tokio::task::spawn_blocking(move || {
                writer::read_batch(&store, &vantage, marks.0, marks.1, cursor.as_deref(), limit)
            })
            .await
            .map_err(|e| SinkError::Task(e.to_string()))??
        };
        let full = batch.full;
        if batch.is_empty(marks.0, marks.1) {
            shared.metrics.set_sink_lag(shared.event_lag(marks.0));
            if stop.is_cancelled() {
                return Ok(());
            }
            tokio::select! {
                _ = stop.cancelled() => {}
                _ = tokio::time::sleep(config.poll) => {}
            }
            continue;
        }
        // Everything read is durable in the store before the database holds it.
        store.sync().await?;
        let next = (batch.event_seq, batch.feed_seq);
        let changes = std::mem::take(&mut batch.changes);
        let read = batch.read;
        let written = writer::write_batch(&mut client, vantage, marks, batch).await?;
        marks = next;
        store.clear_changes(&changes)?;
        store.trim_feed_through(marks.1)?;
        store.set_export_progress(marks.0, marks.1)?;
        cursor = changes.last().map(|c| c.stored_key());
        shared.metrics.set_sink_lag(shared.event_lag(marks.0));
        {
            let mut s = shared.lock();
            s.marks = Some(marks);
            s.batches += 1;
            s.last_export_at = Some(now_millis());
            for (table, n) in &written {
                *s.rows.entry(table.to_string()).or_default() += n;
                shared.metrics.sink_rows(table, *n);
            }
        }
        tracing::debug!(
            read,
            ?written,
            event_seq = marks.0,
            feed_seq = marks.1,
            "sink batch"
        );
        if !full && !stop.is_cancelled() {
            tokio::select! {
                _ = stop.cancelled() => {}
                _ = tokio::time::sleep(config.poll) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_unreachable_database_is_reported_and_retried_without_blocking_writes() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), 100).unwrap();
        let event = |n: u8| crate::model::NewPeerEvent {
            time: 1,
            kind: crate::model::PeerEventKind::Discovered,
            crawl_id: 1,
            node_id: [n; 32],
            peer_id: None,
            enr_seq: 1,
            enr: None,
            error_class: None,
            detail: None,
        };
        store.append_events(vec![event(1), event(2)]).unwrap();
        // A loopback port nothing listens on.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut config = SinkConfig::new(
            &format!("postgres://u@127.0.0.1:{port}/db"),
            None,
            Some("t"),
        )
        .unwrap();
        config.backoff_min = Duration::from_millis(10);
        config.backoff_max = Duration::from_millis(20);
        let metrics = Metrics::new();
        let sink = Sink::start(store.clone(), metrics.clone(), config);
        assert!(
            store.message_log(),
            "sightings are logged while a sink runs"
        );
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while sink.status().errors < 3 {
            assert!(std::time::Instant::now() < deadline, "{:?}", sink.status());
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        // Writers never wait: more events go in while the sink fails.
        store.append_events(vec![event(3)]).unwrap();
        let s = sink.status();
        assert!(!s.connected);
        assert_eq!(s.lag_events, 3);
        assert!(!s.caught_up());
        assert_eq!(s.batches, 0);
        assert!(s.last_error.unwrap().starts_with("database"));
        assert_eq!(s.database, format!("u@127.0.0.1:{port}/db"));
        let text = metrics.render();
        assert!(text.contains("peerscope_sink_errors_total "), "{text}");
        assert!(!text.contains("peerscope_sink_errors_total 0\n"), "{text}");
        sink.finish(Duration::from_secs(1)).await;
        assert!(!store.message_log());
    }

    #[test]
    fn vantage_names_are_checked_and_the_default_is_valid() {
        assert!(check_vantage("eu-west-1.a_b").is_ok());
        for bad in ["", "(union)", "a b", "x/y", &"v".repeat(65)] {
            assert!(check_vantage(bad).is_err(), "{bad:?}");
        }
        assert!(check_vantage(&default_vantage()).is_ok());
    }

    #[test]
    fn config_takes_the_password_apart_and_never_shows_it() {
        let c = SinkConfig::new(
            "postgres://peer@127.0.0.1:5433/fleet",
            Some("s3cret\n"),
            Some("a"),
        )
        .unwrap();
        assert_eq!(c.database.get_password(), Some(&b"s3cret"[..]));
        assert_eq!(c.describe(), "peer@127.0.0.1:5433/fleet");
        assert_eq!(c.vantage, "a");
        let kv = SinkConfig::new(
            "host=127.0.0.1 user=u password=hunter2 dbname=d",
            None,
            Some("b"),
        )
        .unwrap();
        assert_eq!(kv.describe(), "u@127.0.0.1:5432/d");
        assert!(SinkConfig::new("postgres://h/db", Some("\n"), Some("a")).is_err());
        assert!(SinkConfig::new("not a url ://", None, Some("a")).is_err());
        assert!(SinkConfig::new("postgres://h/db", None, Some("bad name")).is_err());
    }
}
