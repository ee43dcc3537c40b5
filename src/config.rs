//! Settings of `peerscope serve`.
//!
//! Sources, highest precedence first: command-line flags, `PEERSCOPE_*` environment
//! variables, the TOML file given with `--config`, then the defaults below. One struct,
//! [`ServeArgs`], is both the command line (clap) and the file (serde): every setting is an
//! `Option`, a layer's unset settings are taken from the layer below ([`ServeArgs::or`]),
//! and [`ServeConfig::resolve`] validates the result and fills in the defaults.
//! [`ServeConfig::service`] turns it into what [`crate::service::Service::start`] takes.
//!
//! Every key of the file has the name of its flag with `_` for `-` (`dns_nameservers` is
//! the list of `--dns-nameserver`); unknown keys are an error:
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
//! geo_db = "/var/lib/GeoIP/GeoLite2-City.mmdb"   # offline; ip-api is then not used
//! dns_nameservers = ["127.0.0.1:53"]
//! no_resume = false
//! sink = "postgres://peerscope@db.example:5432/peerscope"
//! sink_password_file = "/etc/peerscope/db-password"
//! vantage = "eu-west"
//! ```

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::api::{ServeOptions, Token};
use crate::engine::EngineConfig;
use crate::service::ServiceConfig;

/// Default gRPC address: loopback only, so the control plane is not exposed by accident.
pub const DEFAULT_GRPC_ADDR: &str = "127.0.0.1:50051";
/// Default time allowed for crawls and streams to end on shutdown.
pub use crate::service::DEFAULT_SHUTDOWN_GRACE;

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

/// Declares a struct of optional settings and its [`or`](ServeArgs::or), which keeps every
/// setting of `self` that is set and takes the rest from `lower`: a field added to the
/// struct is merged with no further code.
macro_rules! layered_settings {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $(
                $(#[$field_meta:meta])*
                pub $field:ident: Option<$ty:ty>,
            )*
        }
    ) => {
        $(#[$meta])*
        pub struct $name {
            $(
                $(#[$field_meta])*
                pub $field: Option<$ty>,
            )*
        }

        impl $name {
            /// Every setting of `self` that is set, the others from `lower`.
            pub fn or(self, lower: $name) -> $name {
                $name {
                    $($field: self.$field.or(lower.$field),)*
                }
            }
        }
    };
}

layered_settings! {
    /// The settings of `peerscope serve` as one layer: the command line (clap fills in flags,
    /// then `PEERSCOPE_*` variables) or the TOML file (serde; the same names with `_`).
    /// Unset means "from the next layer down"; [`ServeArgs::resolve`] stacks the layers and
    /// applies the defaults. Unknown keys in the file are an error, so typos do not pass
    /// silently.
    // The field docs are the `--help` text too, so URLs stay bare.
    #[allow(rustdoc::bare_urls)]
    #[derive(Clone, Debug, Default, Deserialize, clap::Args)]
    #[serde(deny_unknown_fields)]
    pub struct ServeArgs {
        /// TOML configuration file (flags and environment override it).
        #[arg(long, env = "PEERSCOPE_CONFIG")]
        #[serde(skip)]
        pub config: Option<PathBuf>,
        /// Database directory [default: $XDG_DATA_HOME/peerscope or ~/.local/share/peerscope].
        #[arg(long, env = "PEERSCOPE_DATA_DIR")]
        pub data_dir: Option<PathBuf>,
        /// gRPC listen address; port 0 picks a free port [default: 127.0.0.1:50051].
        #[arg(long, env = "PEERSCOPE_GRPC_ADDR")]
        pub grpc_addr: Option<SocketAddr>,
        /// Default UDP address of crawls' discv5 sockets [default: 0.0.0.0:0].
        #[arg(long, env = "PEERSCOPE_DISCV5_ADDR")]
        pub discv5_addr: Option<SocketAddr>,
        /// Log format [default: text]. The level comes from PEERSCOPE_LOG or RUST_LOG (default
        /// info).
        #[arg(long, env = "PEERSCOPE_LOG_FORMAT", value_enum)]
        pub log_format: Option<LogFormat>,
        /// Interval of the store's background fsync, in milliseconds [default: 500].
        #[arg(long, env = "PEERSCOPE_FLUSH_EVERY_MS")]
        pub flush_every_ms: Option<u64>,
        /// sled page cache in MiB; resident memory stays near it as the database grows
        /// [default: 64].
        #[arg(long, env = "PEERSCOPE_STORE_CACHE_MB")]
        pub store_cache_mb: Option<u64>,
        /// Seconds allowed for crawls and streams to end at shutdown [default: 10].
        #[arg(long, env = "PEERSCOPE_SHUTDOWN_GRACE_SECS")]
        pub shutdown_grace_secs: Option<u64>,
        /// Distinct content topics counted per pubsub topic; further ones are summed under
        /// "(other)" [default: 1000].
        #[arg(long, env = "PEERSCOPE_MAX_CONTENT_TOPICS")]
        pub max_content_topics: Option<usize>,
        /// HTTP address of /metrics, /allpeersinfo and /contenttopics [default:
        /// 127.0.0.1:8008].
        #[arg(long, env = "PEERSCOPE_HTTP_ADDR")]
        pub http_addr: Option<SocketAddr>,
        /// Bearer token required on every gRPC call (except health) and HTTP request.
        #[arg(long, env = "PEERSCOPE_TOKEN", hide_env_values = true)]
        pub token: Option<String>,
        /// File holding the bearer token.
        #[arg(long, env = "PEERSCOPE_TOKEN_FILE")]
        pub token_file: Option<PathBuf>,
        /// PEM certificate chain: serve gRPC over TLS (with --tls-key).
        #[arg(long, env = "PEERSCOPE_TLS_CERT")]
        pub tls_cert: Option<PathBuf>,
        /// PEM private key of --tls-cert.
        #[arg(long, env = "PEERSCOPE_TLS_KEY")]
        pub tls_key: Option<PathBuf>,
        /// Peer events kept in the log; older ones are dropped [default: 10000000].
        #[arg(long, env = "PEERSCOPE_EVENT_RETENTION")]
        pub event_retention: Option<u64>,
        /// Peer events older than this many days are dropped [default: 30].
        #[arg(long, env = "PEERSCOPE_EVENT_MAX_AGE_DAYS")]
        pub event_max_age_days: Option<u64>,
        /// Nameserver (ip:port) for EIP-1459 trees; repeat for several [default: the
        /// system's].
        #[arg(
            long = "dns-nameserver",
            env = "PEERSCOPE_DNS_NAMESERVERS",
            value_delimiter = ','
        )]
        pub dns_nameservers: Option<Vec<SocketAddr>>,
        /// Geolocate peers' IPs through ip-api (true or false) [default: true].
        #[arg(long, env = "PEERSCOPE_GEOLOCATION", action = clap::ArgAction::Set)]
        pub geolocation: Option<bool>,
        /// Base URL of the ip-api service, http:// only [default: http://ip-api.com].
        #[arg(long, env = "PEERSCOPE_GEO_BASE_URL")]
        pub geo_base_url: Option<String>,
        /// Hours a cached geolocation is used before the address is looked up again
        /// [default: 168].
        #[arg(long, env = "PEERSCOPE_GEO_CACHE_TTL_HOURS")]
        pub geo_cache_ttl_hours: Option<u64>,
        /// Do not resume the CONTINUOUS crawls the previous run left running (crash, kill or
        /// shutdown); they are marked INTERRUPTED instead [default: false: they resume with
        /// their address book].
        #[arg(
            long,
            env = "PEERSCOPE_NO_RESUME",
            num_args = 0..=1,
            default_missing_value = "true",
            action = clap::ArgAction::Set
        )]
        pub no_resume: Option<bool>,
        /// MaxMind-format database (GeoLite2 or DB-IP Lite .mmdb) to geolocate from, offline;
        /// when given, no address is sent to ip-api.
        #[arg(long, env = "PEERSCOPE_GEO_DB")]
        pub geo_db: Option<PathBuf>,
        /// Export the store into this PostgreSQL database, e.g.
        /// postgres://peerscope@db.example:5432/peerscope (or host=… user=… dbname=…)
        /// [default: off].
        #[arg(long, env = "PEERSCOPE_SINK", hide_env_values = true)]
        pub sink: Option<String>,
        /// File holding the database password for --sink (wins over one in the URL).
        #[arg(long, env = "PEERSCOPE_SINK_PASSWORD_FILE")]
        pub sink_password_file: Option<PathBuf>,
        /// This server's vantage name in the database: letters, digits, '.', '_', '-'
        /// [default: the host name].
        #[arg(long, env = "PEERSCOPE_VANTAGE")]
        pub vantage: Option<String>,
    }
}

impl ServeArgs {
    /// Reads and parses a TOML file.
    pub fn load(path: &Path) -> Result<ServeArgs, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        toml::from_str(&text).map_err(|e| ConfigError::Parse {
            path: path.to_owned(),
            message: e.to_string(),
        })
    }

    /// The effective settings: these (flags over environment, as clap resolved them) over
    /// the file they name, over the defaults.
    pub fn resolve(self) -> Result<ServeConfig, ConfigError> {
        let file = match &self.config {
            Some(path) => ServeArgs::load(path)?,
            None => ServeArgs::default(),
        };
        ServeConfig::resolve(self.or(file))
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
    /// Resume the CONTINUOUS crawls the previous run left running. Default true
    /// (`--no-resume` turns it off).
    pub resume: bool,
    /// Export to PostgreSQL; `None` = off (the default).
    pub sink: Option<crate::sink::SinkConfig>,
}

impl ServeConfig {
    /// What [`Service::start`](crate::service::Service::start) takes from these settings
    /// (the TLS files are read here).
    pub fn service(&self) -> Result<ServiceConfig, ConfigError> {
        let read = |path: &PathBuf| {
            std::fs::read(path).map_err(|source| ConfigError::Read {
                path: path.clone(),
                source,
            })
        };
        let tls = match &self.tls {
            Some((cert, key)) => Some((read(cert)?, read(key)?)),
            None => None,
        };
        Ok(ServiceConfig {
            data_dir: self.data_dir.clone(),
            flush_every_ms: self.flush_every_ms,
            store_cache_mb: self.store_cache_mb,
            engine: EngineConfig {
                default_discv5_addr: self.discv5_addr,
                max_content_topics: self.max_content_topics,
                event_retention: self.event_retention,
                event_max_age: self.event_max_age,
                dns: crate::protocol::dns::ResolverSettings {
                    nameservers: self.dns_nameservers.clone(),
                    ..crate::protocol::dns::ResolverSettings::default()
                },
                geo: self.geo.clone(),
                resume: self.resume,
                ..EngineConfig::default()
            },
            api: ServeOptions {
                token: self.token.as_deref().and_then(Token::new),
                tls,
                // Filled in by the service with the sink it starts from `sink`.
                sink: None,
            },
            shutdown_grace: self.shutdown_grace,
            sink: self.sink.clone(),
        })
    }
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
    /// Validates the stacked layers `s` and fills in the defaults.
    pub fn resolve(s: ServeArgs) -> Result<ServeConfig, ConfigError> {
        let data_dir = match s.data_dir {
            Some(d) => d,
            None => default_data_dir().ok_or(ConfigError::NoDataDir)?,
        };
        let flush_every_ms = s
            .flush_every_ms
            .unwrap_or(crate::store::DEFAULT_FLUSH_EVERY_MS);
        if flush_every_ms == 0 || flush_every_ms > 60_000 {
            return Err(ConfigError::Invalid {
                key: "flush_every_ms",
                reason: format!("{flush_every_ms} is not in 1..=60000"),
            });
        }
        let store_cache_mb = s.store_cache_mb.unwrap_or(crate::store::DEFAULT_CACHE_MB);
        if store_cache_mb == 0 || store_cache_mb > 1 << 20 {
            return Err(ConfigError::Invalid {
                key: "store_cache_mb",
                reason: format!("{store_cache_mb} is not in 1..=1048576"),
            });
        }
        let max_content_topics = s
            .max_content_topics
            .unwrap_or(crate::model::messages::DEFAULT_MAX_CONTENT_TOPICS);
        if max_content_topics == 0 || max_content_topics > 1_000_000 {
            return Err(ConfigError::Invalid {
                key: "max_content_topics",
                reason: format!("{max_content_topics} is not in 1..=1000000"),
            });
        }
        let token = match (s.token, s.token_file) {
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
        let tls = match (s.tls_cert, s.tls_key) {
            (Some(c), Some(k)) => Some((c, k)),
            (None, None) => None,
            _ => {
                return Err(ConfigError::Invalid {
                    key: "tls_cert",
                    reason: "set both tls_cert and tls_key, or neither".into(),
                })
            }
        };
        let event_retention = s
            .event_retention
            .unwrap_or(crate::engine::DEFAULT_EVENT_RETENTION);
        if event_retention == 0 {
            return Err(ConfigError::Invalid {
                key: "event_retention",
                reason: "must keep at least one event".into(),
            });
        }
        let event_max_age = match s.event_max_age_days {
            Some(0) => {
                return Err(ConfigError::Invalid {
                    key: "event_max_age_days",
                    reason: "must be at least 1".into(),
                })
            }
            Some(d) => Duration::from_secs(d.saturating_mul(24 * 3600)),
            None => crate::engine::DEFAULT_EVENT_MAX_AGE,
        };
        let geo = if s.geolocation.unwrap_or(true) {
            let base_url = s
                .geo_base_url
                .unwrap_or_else(|| crate::engine::geo::DEFAULT_BASE_URL.to_string());
            let base_url = crate::engine::geo::check_base_url(&base_url).map_err(|e| {
                ConfigError::Invalid {
                    key: "geo_base_url",
                    reason: e.to_string(),
                }
            })?;
            let cache_ttl = match s.geo_cache_ttl_hours {
                Some(h) => Duration::from_secs(h.saturating_mul(3600)),
                None => crate::engine::geo::DEFAULT_CACHE_TTL,
            };
            let database = s.geo_db;
            if let Some(path) = &database {
                if !path.is_file() {
                    return Err(ConfigError::Invalid {
                        key: "geo_db",
                        reason: format!("{} is not a readable file", path.display()),
                    });
                }
            }
            Some(crate::engine::geo::GeoConfig {
                base_url,
                cache_ttl,
                database,
                ..crate::engine::geo::GeoConfig::default()
            })
        } else {
            None
        };
        let sink = resolve_sink(s.sink, s.sink_password_file, s.vantage)?;
        Ok(ServeConfig {
            sink,
            geo,
            resume: !s.no_resume.unwrap_or(false),
            dns_nameservers: s.dns_nameservers.unwrap_or_default(),
            event_retention,
            event_max_age,
            http_addr: s
                .http_addr
                .unwrap_or_else(|| DEFAULT_HTTP_ADDR.parse().expect("valid literal")),
            token,
            tls,
            max_content_topics,
            data_dir,
            grpc_addr: s
                .grpc_addr
                .unwrap_or_else(|| DEFAULT_GRPC_ADDR.parse().expect("valid literal")),
            discv5_addr: s.discv5_addr.unwrap_or_else(|| {
                crate::engine::DEFAULT_DISCV5_ADDR
                    .parse()
                    .expect("valid literal")
            }),
            log_format: s.log_format.unwrap_or_default(),
            flush_every_ms,
            store_cache_mb,
            shutdown_grace: s
                .shutdown_grace_secs
                .map(Duration::from_secs)
                .unwrap_or(DEFAULT_SHUTDOWN_GRACE),
        })
    }
}

/// The sink's settings from its URL, password file and vantage name (the last two need
/// the URL).
fn resolve_sink(
    url: Option<String>,
    password_file: Option<PathBuf>,
    vantage: Option<String>,
) -> Result<Option<crate::sink::SinkConfig>, ConfigError> {
    let Some(url) = url else {
        if password_file.is_some() || vantage.is_some() {
            return Err(ConfigError::Invalid {
                key: "sink",
                reason: "vantage and sink_password_file need a sink".into(),
            });
        }
        return Ok(None);
    };
    let password = match password_file {
        Some(path) => Some(
            std::fs::read_to_string(&path).map_err(|source| ConfigError::Read { path, source })?,
        ),
        None => None,
    };
    let config = crate::sink::SinkConfig::new(&url, password.as_deref(), vantage.as_deref());
    config.map(Some).map_err(|e| match e {
        crate::sink::SinkError::Invalid { key, reason } => ConfigError::Invalid { key, reason },
        e => ConfigError::Invalid {
            key: "sink",
            reason: e.to_string(),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{Args, Command, FromArgMatches};

    /// Parses flags only: every `PEERSCOPE_*` variable of the process is ignored, so the
    /// tests do not depend on the environment they run in.
    fn flags(args: &[&str]) -> ServeArgs {
        let mut cmd = ServeArgs::augment_args(Command::new("serve"));
        let ids: Vec<_> = cmd.get_arguments().map(|a| a.get_id().clone()).collect();
        for id in ids {
            cmd = cmd.mut_arg(id, |a| a.env(None::<&str>));
        }
        let matches = cmd
            .try_get_matches_from(std::iter::once("serve").chain(args.iter().copied()))
            .unwrap();
        ServeArgs::from_arg_matches(&matches).unwrap()
    }

    fn file(text: &str) -> ServeArgs {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn flags_win_over_file_and_file_over_defaults() {
        let file = file(
            "data_dir = \"/tmp/from-file\"\ngrpc_addr = \"127.0.0.1:7000\"\nlog_format = \"json\"",
        );
        let cli = flags(&["--grpc-addr", "127.0.0.1:9000"]);
        let c = ServeConfig::resolve(cli.or(file)).unwrap();
        assert_eq!(c.grpc_addr, "127.0.0.1:9000".parse().unwrap());
        assert_eq!(c.data_dir, PathBuf::from("/tmp/from-file"));
        assert_eq!(c.log_format, LogFormat::Json);
        assert_eq!(c.flush_every_ms, crate::store::DEFAULT_FLUSH_EVERY_MS);
        assert_eq!(c.shutdown_grace, DEFAULT_SHUTDOWN_GRACE);
        assert_eq!(c.http_addr, DEFAULT_HTTP_ADDR.parse().unwrap());
    }

    /// Every setting can come from either layer, under the same name, and the merge takes
    /// each one from the higher layer when it is set there.
    #[test]
    fn every_setting_merges_from_either_layer() {
        let all = file(
            r#"
            data_dir = "/tmp/f"
            grpc_addr = "127.0.0.2:1"
            discv5_addr = "127.0.0.2:2"
            log_format = "json"
            flush_every_ms = 7
            store_cache_mb = 8
            shutdown_grace_secs = 9
            max_content_topics = 10
            http_addr = "127.0.0.2:3"
            token = "file token"
            token_file = "/tmp/token"
            tls_cert = "/tmp/cert.pem"
            tls_key = "/tmp/key.pem"
            event_retention = 11
            event_max_age_days = 12
            dns_nameservers = ["127.0.0.2:53", "127.0.0.3:53"]
            geolocation = false
            geo_base_url = "http://127.0.0.2:4"
            geo_cache_ttl_hours = 13
            no_resume = true
            sink = "postgres://f@127.0.0.2:5/f"
            sink_password_file = "/tmp/f-password"
            vantage = "file-vantage"
            "#,
        );
        let dir = tempfile::tempdir().unwrap();
        let password = dir.path().join("password");
        std::fs::write(&password, "cli password\n").unwrap();
        let password_flag = format!("--sink-password-file={}", password.display());
        let cli = flags(&[
            "--data-dir=/tmp/c",
            "--grpc-addr=127.0.0.4:1",
            "--discv5-addr=127.0.0.4:2",
            "--log-format=text",
            "--flush-every-ms=17",
            "--store-cache-mb=18",
            "--shutdown-grace-secs=19",
            "--max-content-topics=20",
            "--http-addr=127.0.0.4:3",
            "--token=cli token",
            "--token-file=/tmp/cli-token",
            "--tls-cert=/tmp/c.pem",
            "--tls-key=/tmp/k.pem",
            "--event-retention=21",
            "--event-max-age-days=22",
            "--dns-nameserver=127.0.0.4:53",
            "--dns-nameserver=127.0.0.5:53,127.0.0.6:53",
            "--geolocation=true",
            "--geo-base-url=http://127.0.0.4:4",
            "--geo-cache-ttl-hours=23",
            "--no-resume=false",
            "--sink=postgres://c@127.0.0.4:5/c",
            &password_flag,
            "--vantage=cli-vantage",
        ]);
        // Over an empty layer, either layer comes through whole.
        let dbg = |a: &ServeArgs| format!("{a:?}");
        assert_eq!(dbg(&all.clone().or(ServeArgs::default())), dbg(&all));
        assert_eq!(dbg(&ServeArgs::default().or(all.clone())), dbg(&all));
        // Every flag is set, so none of the file's values is left.
        assert_eq!(dbg(&cli.clone().or(all.clone())), dbg(&cli));
        let c = ServeConfig::resolve(cli.or(all)).unwrap();
        assert_eq!(c.data_dir, PathBuf::from("/tmp/c"));
        assert_eq!(c.discv5_addr, "127.0.0.4:2".parse().unwrap());
        assert_eq!(c.log_format, LogFormat::Text);
        assert_eq!(c.flush_every_ms, 17);
        assert_eq!(c.store_cache_mb, 18);
        assert_eq!(c.shutdown_grace, Duration::from_secs(19));
        assert_eq!(c.max_content_topics, 20);
        assert_eq!(c.token.as_deref(), Some("cli token"));
        assert_eq!(
            c.tls,
            Some((PathBuf::from("/tmp/c.pem"), PathBuf::from("/tmp/k.pem")))
        );
        assert_eq!(c.event_retention, 21);
        assert_eq!(c.event_max_age, Duration::from_secs(22 * 24 * 3600));
        assert_eq!(
            c.dns_nameservers,
            ["127.0.0.4:53", "127.0.0.5:53", "127.0.0.6:53"]
                .map(|a| a.parse::<SocketAddr>().unwrap())
        );
        let g = c.geo.expect("the flag turns geolocation back on");
        assert_eq!(g.base_url, "http://127.0.0.4:4");
        assert_eq!(g.cache_ttl, Duration::from_secs(23 * 3600));
        assert!(c.resume, "the flag turns resuming back on");
        let sink = c.sink.expect("sink on");
        assert_eq!(sink.describe(), "c@127.0.0.4:5/c");
        assert_eq!(sink.database.get_password(), Some(&b"cli password"[..]));
        assert_eq!(sink.vantage, "cli-vantage");
    }

    #[test]
    fn no_resume_is_a_bare_flag_a_value_or_a_file_key() {
        let base = || flags(&["--data-dir", "/tmp/x"]);
        let resume = |a: ServeArgs| ServeConfig::resolve(a).unwrap().service().unwrap();
        assert!(resume(base()).engine.resume, "on by default");
        assert!(
            !resume(flags(&["--data-dir", "/tmp/x", "--no-resume"]))
                .engine
                .resume
        );
        assert!(
            resume(flags(&["--data-dir", "/tmp/x", "--no-resume=false"]))
                .engine
                .resume
        );
        assert!(!resume(base().or(file("no_resume = true"))).engine.resume);
        let err = toml::from_str::<ServeArgs>("no_resume = \"yes\"").unwrap_err();
        assert!(err.to_string().contains("no_resume"), "{err}");
    }

    #[test]
    fn a_file_names_its_settings_like_the_flags() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("peerscope.toml");
        std::fs::write(
            &path,
            "data_dir = \"/tmp/from-file\"\nhttp_addr = \"127.0.0.2:8008\"\n",
        )
        .unwrap();
        let path_arg = path.to_str().unwrap();
        let c = flags(&["--config", path_arg, "--flush-every-ms", "40"])
            .resolve()
            .unwrap();
        assert_eq!(c.data_dir, PathBuf::from("/tmp/from-file"));
        assert_eq!(c.http_addr, "127.0.0.2:8008".parse().unwrap());
        assert_eq!(c.flush_every_ms, 40);
        let missing = dir.path().join("none.toml");
        let err = flags(&["--config", missing.to_str().unwrap()])
            .resolve()
            .unwrap_err();
        assert!(matches!(err, ConfigError::Read { .. }), "{err}");
    }

    #[test]
    fn geolocation_settings_resolve_and_validate() {
        let base = || ServeArgs {
            data_dir: Some("/tmp/x".into()),
            ..ServeArgs::default()
        };
        let c = ServeConfig::resolve(base()).unwrap();
        let g = c.geo.expect("on by default");
        assert_eq!(g.base_url, crate::engine::geo::DEFAULT_BASE_URL);
        assert_eq!(g.cache_ttl, crate::engine::geo::DEFAULT_CACHE_TTL);
        let f = file("geo_base_url = \"http://127.0.0.1:9/\"\ngeo_cache_ttl_hours = 2");
        let g = ServeConfig::resolve(base().or(f)).unwrap().geo.unwrap();
        assert_eq!(g.base_url, "http://127.0.0.1:9");
        assert_eq!(g.cache_ttl, Duration::from_secs(7200));
        let off = flags(&["--geolocation", "false"]);
        assert!(ServeConfig::resolve(off.or(base())).unwrap().geo.is_none());
        let https = ServeArgs {
            geo_base_url: Some("https://pro.ip-api.com".into()),
            ..base()
        };
        let err = ServeConfig::resolve(https).unwrap_err();
        assert!(err.to_string().contains("geo_base_url"), "{err}");
        // A database file: taken from the file config, and it must exist.
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("GeoLite2-City.mmdb");
        let f = file(&format!("geo_db = {:?}", db.display().to_string()));
        let err = ServeConfig::resolve(base().or(f.clone())).unwrap_err();
        assert!(err.to_string().contains("geo_db"), "{err}");
        std::fs::write(&db, b"x").unwrap();
        let g = ServeConfig::resolve(base().or(f)).unwrap().geo.unwrap();
        assert_eq!(g.database, Some(db));
    }

    #[test]
    fn sink_settings_resolve_with_the_password_from_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let pw = dir.path().join("pw");
        std::fs::write(&pw, "from-file\n").unwrap();
        let from_file = file(&format!(
            "sink = \"postgres://peer:in-url@127.0.0.1:5999/fleet\"\nsink_password_file = {:?}\nvantage = \"eu-west\"",
            pw.display().to_string()
        ));
        let base = || flags(&["--data-dir", "/tmp/x"]);
        let c =
            ServeConfig::resolve(flags(&["--data-dir", "/tmp/x", "--vantage", "a"]).or(from_file))
                .unwrap();
        let sink = c.sink.expect("sink on");
        assert_eq!(sink.vantage, "a", "the flag wins over the file");
        assert_eq!(sink.database.get_password(), Some(&b"from-file"[..]));
        assert_eq!(sink.describe(), "peer@127.0.0.1:5999/fleet");
        // Through to what the service takes.
        let service = ServeConfig::resolve(flags(&[
            "--data-dir",
            "/tmp/x",
            "--sink",
            "postgres://127.0.0.1/x",
        ]))
        .unwrap()
        .service()
        .unwrap();
        assert_eq!(
            service.sink.map(|s| s.describe()),
            Some("@127.0.0.1:5432/x".into())
        );
        assert!(ServeConfig::resolve(base()).unwrap().sink.is_none());
        let orphan = flags(&["--data-dir", "/tmp/x", "--vantage", "a"]);
        let err = ServeConfig::resolve(orphan).unwrap_err();
        assert!(err.to_string().contains("sink"), "{err}");
        let bad = flags(&[
            "--data-dir",
            "/tmp/x",
            "--sink",
            "postgres://127.0.0.1/x",
            "--vantage",
            "(union)",
        ]);
        let err = ServeConfig::resolve(bad).unwrap_err();
        assert!(err.to_string().starts_with("vantage"), "{err}");
        let missing = base().or(file(
            "sink = \"postgres://127.0.0.1/x\"\nsink_password_file = \"/nonexistent/pw\"",
        ));
        let err = ServeConfig::resolve(missing).unwrap_err();
        assert!(matches!(err, ConfigError::Read { .. }), "{err}");
    }

    #[test]
    fn unknown_file_keys_are_rejected() {
        let err = toml::from_str::<ServeArgs>("grpc_adr = \"127.0.0.1:1\"").unwrap_err();
        assert!(err.to_string().contains("grpc_adr"), "{err}");
        // `config` is a flag only: a file cannot name another file.
        let err = toml::from_str::<ServeArgs>("config = \"/tmp/other.toml\"").unwrap_err();
        assert!(err.to_string().contains("config"), "{err}");
        // Flag spellings are not file keys.
        assert!(toml::from_str::<ServeArgs>("grpc-addr = \"127.0.0.1:1\"").is_err());
    }

    #[test]
    fn zero_flush_interval_is_rejected() {
        let cli = ServeArgs {
            data_dir: Some("/tmp/x".into()),
            flush_every_ms: Some(0),
            ..ServeArgs::default()
        };
        let err = ServeConfig::resolve(cli).unwrap_err();
        assert!(err.to_string().contains("flush_every_ms"), "{err}");
    }

    #[test]
    fn tls_needs_both_files_and_the_service_reads_them() {
        let dir = tempfile::tempdir().unwrap();
        let cert = dir.path().join("cert.pem");
        let key = dir.path().join("key.pem");
        std::fs::write(&cert, "cert bytes").unwrap();
        std::fs::write(&key, "key bytes").unwrap();
        let base = || flags(&["--data-dir", "/tmp/x"]);
        let half = ServeArgs {
            tls_cert: Some(cert.clone()),
            ..base()
        };
        let err = ServeConfig::resolve(half).unwrap_err();
        assert!(err.to_string().contains("tls_cert"), "{err}");
        let both = ServeArgs {
            tls_cert: Some(cert),
            tls_key: Some(key.clone()),
            token: Some("  secret\n".into()),
            ..base()
        };
        let s = ServeConfig::resolve(both).unwrap().service().unwrap();
        assert_eq!(
            s.api.tls,
            Some((b"cert bytes".to_vec(), b"key bytes".to_vec()))
        );
        assert!(s.api.token.expect("a token").matches("secret"));
        std::fs::remove_file(&key).unwrap();
        let gone = ServeArgs {
            tls_cert: Some(dir.path().join("cert.pem")),
            tls_key: Some(key),
            ..base()
        };
        let err = ServeConfig::resolve(gone).unwrap().service().unwrap_err();
        assert!(matches!(err, ConfigError::Read { .. }), "{err}");
    }

    #[test]
    fn the_service_gets_the_engine_settings() {
        let c = ServeConfig::resolve(flags(&[
            "--data-dir=/tmp/x",
            "--discv5-addr=127.0.0.2:0",
            "--max-content-topics=5",
            "--event-retention=6",
            "--event-max-age-days=2",
            "--dns-nameserver=127.0.0.2:53",
            "--geolocation=false",
            "--shutdown-grace-secs=3",
            "--flush-every-ms=20",
            "--store-cache-mb=4",
        ]))
        .unwrap();
        let s = c.service().unwrap();
        assert_eq!(s.data_dir, PathBuf::from("/tmp/x"));
        assert_eq!(s.flush_every_ms, 20);
        assert_eq!(s.store_cache_mb, 4);
        assert_eq!(s.shutdown_grace, Duration::from_secs(3));
        assert_eq!(s.engine.default_discv5_addr, "127.0.0.2:0".parse().unwrap());
        assert_eq!(s.engine.max_content_topics, 5);
        assert_eq!(s.engine.event_retention, 6);
        assert_eq!(s.engine.event_max_age, Duration::from_secs(2 * 24 * 3600));
        assert_eq!(
            s.engine.dns.nameservers,
            vec!["127.0.0.2:53".parse::<SocketAddr>().unwrap()]
        );
        assert!(s.engine.geo.is_none());
        assert!(s.api.token.is_none() && s.api.tls.is_none());
    }

    #[test]
    fn the_command_line_is_well_formed() {
        ServeArgs::augment_args(Command::new("serve")).debug_assert();
    }
}
