//! Settings of `peerscope serve`.
//!
//! Sources, highest precedence first: command-line flags, `PEERSCOPE_*` environment
//! variables, the TOML file given with `--config`, then the defaults below. Every key of
//! the file has the name of its flag with `_` for `-`:
//!
//! ```toml
//! data_dir = "/var/lib/peerscope"
//! grpc_addr = "127.0.0.1:50051"
//! discv5_addr = "0.0.0.0:0"
//! log_format = "json"
//! flush_every_ms = 500
//! store_cache_mb = 64
//! shutdown_grace_secs = 10
//! max_content_topics = 1000
//! http_addr = "127.0.0.1:8008"
//! token_file = "/etc/peerscope/token"
//! tls_cert = "/etc/peerscope/cert.pem"
//! tls_key = "/etc/peerscope/key.pem"
//! geolocation = true
//! geo_base_url = "http://ip-api.com"
//! geo_cache_ttl_hours = 168
//! sink = "postgres://peerscope@db.example:5432/peerscope"
//! sink_password_file = "/etc/peerscope/db-password"
//! vantage = "eu-west"
//! ```

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

/// Default gRPC address: loopback only, so the control plane is not exposed by accident.
pub const DEFAULT_GRPC_ADDR: &str = "127.0.0.1:50051";
/// Default time allowed for crawls and streams to end on shutdown.
pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Log output format.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// Configuration errors.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read.
    #[error("reading {path}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The file is not valid TOML or has unknown keys or wrong types.
    #[error("parsing {path}: {message}")]
    Parse { path: PathBuf, message: String },
    /// A value is out of range.
    #[error("{key}: {reason}")]
    Invalid { key: &'static str, reason: String },
    /// No data directory was given and none could be derived ($HOME is unset).
    #[error("no data directory: set --data-dir or PEERSCOPE_DATA_DIR (HOME is not set)")]
    NoDataDir,
}

/// The optional TOML file. Unknown keys are an error, so typos do not pass silently.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub data_dir: Option<PathBuf>,
    pub grpc_addr: Option<SocketAddr>,
    pub discv5_addr: Option<SocketAddr>,
    pub log_format: Option<LogFormat>,
    pub flush_every_ms: Option<u64>,
    pub store_cache_mb: Option<u64>,
    pub shutdown_grace_secs: Option<u64>,
    pub max_content_topics: Option<usize>,
    pub http_addr: Option<SocketAddr>,
    pub token: Option<String>,
    pub token_file: Option<PathBuf>,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    pub event_retention: Option<u64>,
    pub event_max_age_days: Option<u64>,
    /// Nameservers for EIP-1459 trees; empty = the system's.
    pub dns_nameservers: Option<Vec<SocketAddr>>,
    /// Geolocate peers' IPs (default true).
    pub geolocation: Option<bool>,
    /// Base URL of the ip-api service (http:// only).
    pub geo_base_url: Option<String>,
    /// Hours a cached geolocation is used before the address is looked up again.
    pub geo_cache_ttl_hours: Option<u64>,
    /// PostgreSQL to export into (`postgres://user@host:port/db` or `host=… user=…`).
    pub sink: Option<String>,
    /// File holding the database password (wins over one in `sink`).
    pub sink_password_file: Option<PathBuf>,
    /// This server's vantage name in the database (default: the host name).
    pub vantage: Option<String>,
}

impl FileConfig {
    /// Reads and parses a TOML file.
    pub fn load(path: &Path) -> Result<FileConfig, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        toml::from_str(&text).map_err(|e| ConfigError::Parse {
            path: path.to_owned(),
            message: e.to_string(),
        })
    }
}

/// Effective settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServeConfig {
    /// sled database directory. Default: `$XDG_DATA_HOME/peerscope`, else
    /// `$HOME/.local/share/peerscope`.
    pub data_dir: PathBuf,
    /// gRPC listen address (port 0 picks a free port; the bound address is logged).
    pub grpc_addr: SocketAddr,
    /// Default UDP address of a crawl's discv5 socket. Default `0.0.0.0:0`.
    pub discv5_addr: SocketAddr,
    /// Log format. Default text.
    pub log_format: LogFormat,
    /// sled fsync interval. Default 500 ms.
    pub flush_every_ms: u64,
    /// sled page cache, in MiB. Default 64: resident memory stays near this however large
    /// the database grows.
    pub store_cache_mb: u64,
    /// Time allowed for crawls and streams to end on shutdown. Default 10 s.
    pub shutdown_grace: Duration,
    /// Distinct content topics counted per pubsub topic; the rest go to "(other)".
    /// Default 1000.
    pub max_content_topics: usize,
    /// HTTP address of `/metrics`, `/allpeersinfo`, `/contenttopics`. Default
    /// 127.0.0.1:8008.
    pub http_addr: SocketAddr,
    /// Bearer token required on gRPC (except health) and HTTP; none by default.
    pub token: Option<String>,
    /// TLS certificate chain and key (PEM files) for gRPC; plaintext by default.
    pub tls: Option<(PathBuf, PathBuf)>,
    /// Events kept in the log. Default 10,000,000.
    pub event_retention: u64,
    /// Events older than this are dropped. Default 30 days.
    pub event_max_age: Duration,
    /// Nameservers for EIP-1459 trees; empty = the system's (/etc/resolv.conf).
    pub dns_nameservers: Vec<SocketAddr>,
    /// Geolocation of peers' IPs through ip-api; `None` = off. Default on, with
    /// `http://ip-api.com` and a 7-day cache.
    pub geo: Option<crate::engine::geo::GeoConfig>,
    /// Export to PostgreSQL; `None` = off (the default).
    pub sink: Option<crate::sink::SinkConfig>,
}

/// Default HTTP address (metrics and JSON), loopback only.
pub const DEFAULT_HTTP_ADDR: &str = "127.0.0.1:8008";

/// The default data directory, from `XDG_DATA_HOME` or `HOME`.
pub fn default_data_dir() -> Option<PathBuf> {
    if let Some(x) = std::env::var_os("XDG_DATA_HOME").filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(x).join("peerscope"));
    }
    std::env::var_os("HOME")
        .filter(|v| !v.is_empty())
        .map(|h| PathBuf::from(h).join(".local/share/peerscope"))
}

impl ServeConfig {
    /// Merges flag/env values (`cli`, already resolved by clap) over the file over defaults.
    pub fn resolve(cli: FileConfig, file: FileConfig) -> Result<ServeConfig, ConfigError> {
        let data_dir = match cli.data_dir.or(file.data_dir) {
            Some(d) => d,
            None => default_data_dir().ok_or(ConfigError::NoDataDir)?,
        };
        let flush_every_ms = cli
            .flush_every_ms
            .or(file.flush_every_ms)
            .unwrap_or(crate::store::DEFAULT_FLUSH_EVERY_MS);
        if flush_every_ms == 0 || flush_every_ms > 60_000 {
            return Err(ConfigError::Invalid {
                key: "flush_every_ms",
                reason: format!("{flush_every_ms} is not in 1..=60000"),
            });
        }
        let store_cache_mb = cli
            .store_cache_mb
            .or(file.store_cache_mb)
            .unwrap_or(crate::store::DEFAULT_CACHE_MB);
        if store_cache_mb == 0 || store_cache_mb > 1 << 20 {
            return Err(ConfigError::Invalid {
                key: "store_cache_mb",
                reason: format!("{store_cache_mb} is not in 1..=1048576"),
            });
        }
        let max_content_topics = cli
            .max_content_topics
            .or(file.max_content_topics)
            .unwrap_or(crate::model::messages::DEFAULT_MAX_CONTENT_TOPICS);
        if max_content_topics == 0 || max_content_topics > 1_000_000 {
            return Err(ConfigError::Invalid {
                key: "max_content_topics",
                reason: format!("{max_content_topics} is not in 1..=1000000"),
            });
        }
        let token = match (cli.token.or(file.token), cli.token_file.or(file.token_file)) {
            (Some(t), _) => Some(t),
            (None, Some(path)) => Some(
                std::fs::read_to_string(&path)
                    .map_err(|source| ConfigError::Read { path, source })?,
            ),
            (None, None) => None,
        };
        if token.as_ref().is_some_and(|t| t.trim().is_empty()) {
            return Err(ConfigError::Invalid {
                key: "token",
                reason: "the token is empty".into(),
            });
        }
        let tls = match (cli.tls_cert.or(file.tls_cert), cli.tls_key.or(file.tls_key)) {
            (Some(c), Some(k)) => Some((c, k)),
            (None, None) => None,
            _ => {
                return Err(ConfigError::Invalid {
                    key: "tls_cert",
                    reason: "set both tls_cert and tls_key, or neither".into(),
                })
            }
        };
        let event_retention = cli
            .event_retention
            .or(file.event_retention)
            .unwrap_or(crate::engine::DEFAULT_EVENT_RETENTION);
        if event_retention == 0 {
            return Err(ConfigError::Invalid {
                key: "event_retention",
                reason: "must keep at least one event".into(),
            });
        }
        let event_max_age = match cli.event_max_age_days.or(file.event_max_age_days) {
            Some(0) => {
                return Err(ConfigError::Invalid {
                    key: "event_max_age_days",
                    reason: "must be at least 1".into(),
                })
            }
            Some(d) => Duration::from_secs(d.saturating_mul(24 * 3600)),
            None => crate::engine::DEFAULT_EVENT_MAX_AGE,
        };
        let geo = if cli.geolocation.or(file.geolocation).unwrap_or(true) {
            let base_url = cli
                .geo_base_url
                .or(file.geo_base_url)
                .unwrap_or_else(|| crate::engine::geo::DEFAULT_BASE_URL.to_string());
            let base_url = crate::engine::geo::check_base_url(&base_url).map_err(|e| {
                ConfigError::Invalid {
                    key: "geo_base_url",
                    reason: e.to_string(),
                }
            })?;
            let cache_ttl = match cli.geo_cache_ttl_hours.or(file.geo_cache_ttl_hours) {
                Some(h) => Duration::from_secs(h.saturating_mul(3600)),
                None => crate::engine::geo::DEFAULT_CACHE_TTL,
            };
            Some(crate::engine::geo::GeoConfig {
                base_url,
                cache_ttl,
                ..crate::engine::geo::GeoConfig::default()
            })
        } else {
            None
        };
        let password_file = cli.sink_password_file.or(file.sink_password_file);
        let vantage = cli.vantage.or(file.vantage);
        let sink = match cli.sink.or(file.sink) {
            Some(url) => {
                let password =
                    match &password_file {
                        Some(path) => Some(std::fs::read_to_string(path).map_err(|source| {
                            ConfigError::Read {
                                path: path.clone(),
                                source,
                            }
                        })?),
                        None => None,
                    };
                let sink =
                    crate::sink::SinkConfig::new(&url, password.as_deref(), vantage.as_deref())
                        .map_err(|e| ConfigError::Invalid {
                            key: match &e {
                                crate::sink::SinkError::Invalid { key, .. } => key,
                                _ => "sink",
                            },
                            reason: match e {
                                crate::sink::SinkError::Invalid { reason, .. } => reason,
                                e => e.to_string(),
                            },
                        })?;
                Some(sink)
            }
            None if password_file.is_some() || vantage.is_some() => {
                return Err(ConfigError::Invalid {
                    key: "sink",
                    reason: "vantage and sink_password_file need a sink".into(),
                })
            }
            None => None,
        };
        Ok(ServeConfig {
            sink,
            geo,
            dns_nameservers: cli
                .dns_nameservers
                .filter(|v| !v.is_empty())
                .or(file.dns_nameservers)
                .unwrap_or_default(),
            event_retention,
            event_max_age,
            http_addr: cli
                .http_addr
                .or(file.http_addr)
                .unwrap_or_else(|| DEFAULT_HTTP_ADDR.parse().expect("valid literal")),
            token,
            tls,
            max_content_topics,
            data_dir,
            grpc_addr: cli
                .grpc_addr
                .or(file.grpc_addr)
                .unwrap_or_else(|| DEFAULT_GRPC_ADDR.parse().expect("valid literal")),
            discv5_addr: cli.discv5_addr.or(file.discv5_addr).unwrap_or_else(|| {
                crate::engine::DEFAULT_DISCV5_ADDR
                    .parse()
                    .expect("valid literal")
            }),
            log_format: cli.log_format.or(file.log_format).unwrap_or_default(),
            flush_every_ms,
            store_cache_mb,
            shutdown_grace: cli
                .shutdown_grace_secs
                .or(file.shutdown_grace_secs)
                .map(Duration::from_secs)
                .unwrap_or(DEFAULT_SHUTDOWN_GRACE),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_win_over_file_and_file_over_defaults() {
        let file: FileConfig = toml::from_str(
            "data_dir = \"/tmp/from-file\"\ngrpc_addr = \"127.0.0.1:7000\"\nlog_format = \"json\"",
        )
        .unwrap();
        let cli = FileConfig {
            grpc_addr: Some("127.0.0.1:9000".parse().unwrap()),
            ..FileConfig::default()
        };
        let c = ServeConfig::resolve(cli, file).unwrap();
        assert_eq!(c.grpc_addr, "127.0.0.1:9000".parse().unwrap());
        assert_eq!(c.data_dir, PathBuf::from("/tmp/from-file"));
        assert_eq!(c.log_format, LogFormat::Json);
        assert_eq!(c.flush_every_ms, crate::store::DEFAULT_FLUSH_EVERY_MS);
        assert_eq!(c.shutdown_grace, DEFAULT_SHUTDOWN_GRACE);
    }

    #[test]
    fn geolocation_settings_resolve_and_validate() {
        let base = || FileConfig {
            data_dir: Some("/tmp/x".into()),
            ..FileConfig::default()
        };
        let c = ServeConfig::resolve(base(), FileConfig::default()).unwrap();
        let g = c.geo.expect("on by default");
        assert_eq!(g.base_url, crate::engine::geo::DEFAULT_BASE_URL);
        assert_eq!(g.cache_ttl, crate::engine::geo::DEFAULT_CACHE_TTL);
        let file: FileConfig =
            toml::from_str("geo_base_url = \"http://127.0.0.1:9/\"\ngeo_cache_ttl_hours = 2")
                .unwrap();
        let g = ServeConfig::resolve(base(), file).unwrap().geo.unwrap();
        assert_eq!(g.base_url, "http://127.0.0.1:9");
        assert_eq!(g.cache_ttl, Duration::from_secs(7200));
        let off = FileConfig {
            geolocation: Some(false),
            ..base()
        };
        assert!(ServeConfig::resolve(off, FileConfig::default())
            .unwrap()
            .geo
            .is_none());
        let https = FileConfig {
            geo_base_url: Some("https://pro.ip-api.com".into()),
            ..base()
        };
        let err = ServeConfig::resolve(https, FileConfig::default()).unwrap_err();
        assert!(err.to_string().contains("geo_base_url"), "{err}");
    }

    #[test]
    fn sink_settings_resolve_with_the_password_from_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let pw = dir.path().join("pw");
        std::fs::write(&pw, "from-file\n").unwrap();
        let file: FileConfig = toml::from_str(&format!(
            "sink = \"postgres://peer:in-url@127.0.0.1:5999/fleet\"\nsink_password_file = {:?}\nvantage = \"eu-west\"",
            pw.display().to_string()
        ))
        .unwrap();
        let cli = FileConfig {
            data_dir: Some("/tmp/x".into()),
            vantage: Some("a".into()),
            ..FileConfig::default()
        };
        let c = ServeConfig::resolve(cli, file).unwrap();
        let sink = c.sink.expect("sink on");
        assert_eq!(sink.vantage, "a", "the flag wins over the file");
        assert_eq!(sink.database.get_password(), Some(&b"from-file"[..]));
        assert_eq!(sink.describe(), "peer@127.0.0.1:5999/fleet");
        let none = FileConfig {
            data_dir: Some("/tmp/x".into()),
            ..FileConfig::default()
        };
        assert!(ServeConfig::resolve(none, FileConfig::default())
            .unwrap()
            .sink
            .is_none());
        let orphan = FileConfig {
            data_dir: Some("/tmp/x".into()),
            vantage: Some("a".into()),
            ..FileConfig::default()
        };
        let err = ServeConfig::resolve(orphan, FileConfig::default()).unwrap_err();
        assert!(err.to_string().contains("sink"), "{err}");
        let bad = FileConfig {
            data_dir: Some("/tmp/x".into()),
            sink: Some("postgres://127.0.0.1/x".into()),
            vantage: Some("(union)".into()),
            ..FileConfig::default()
        };
        let err = ServeConfig::resolve(bad, FileConfig::default()).unwrap_err();
        assert!(err.to_string().starts_with("vantage"), "{err}");
    }

    #[test]
    fn unknown_file_keys_are_rejected() {
        let err = toml::from_str::<FileConfig>("grpc_adr = \"127.0.0.1:1\"").unwrap_err();
        assert!(err.to_string().contains("grpc_adr"), "{err}");
    }

    #[test]
    fn zero_flush_interval_is_rejected() {
        let cli = FileConfig {
            data_dir: Some("/tmp/x".into()),
            flush_every_ms: Some(0),
            ..FileConfig::default()
        };
        let err = ServeConfig::resolve(cli, FileConfig::default()).unwrap_err();
        assert!(err.to_string().contains("flush_every_ms"), "{err}");
    }
}
