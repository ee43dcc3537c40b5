//! Offline geolocation from a MaxMind-format database (`.mmdb`): GeoLite2 City or Country,
//! DB-IP Lite City or Country, or any file with their record layout, read with the
//! `maxminddb` crate. Lookups stay in the process: no address is sent anywhere.
//!
//! The file is read into memory once, when the geolocator starts. Records give the
//! country (`country.iso_code`, `country.names.en`, falling back to `registered_country`)
//! and the city (`city.names.en`); DB-IP's city names lose the district it adds in
//! brackets. An ASN database's `autonomous_system_number` and
//! `autonomous_system_organization` fill `asn` and `org` when present.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::model::{now_millis, GeoInfo};

/// Failures to open a database.
#[derive(Debug, thiserror::Error)]
#[error("geolocation database {path}: {reason}")]
pub struct GeoDbError {
    pub path: PathBuf,
    pub reason: String,
}

/// An open database.
pub struct GeoDb {
    reader: maxminddb::Reader<Vec<u8>>,
    path: PathBuf,
}

impl std::fmt::Debug for GeoDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GeoDb")
            .field("path", &self.path)
            .field("type", &self.database_type())
            .finish()
    }
}

#[derive(Default, Deserialize)]
struct Names {
    #[serde(default)]
    names: BTreeMap<String, String>,
}

#[derive(Default, Deserialize)]
struct Country {
    #[serde(default)]
    iso_code: Option<String>,
    #[serde(default)]
    names: BTreeMap<String, String>,
}

/// The fields read from a record (every other field is skipped).
#[derive(Default, Deserialize)]
struct Record {
    #[serde(default)]
    country: Option<Country>,
    #[serde(default)]
    registered_country: Option<Country>,
    #[serde(default)]
    city: Option<Names>,
    #[serde(default)]
    autonomous_system_number: Option<u32>,
    #[serde(default)]
    autonomous_system_organization: Option<String>,
}

/// The English name, else any.
fn name(names: &BTreeMap<String, String>) -> String {
    names
        .get("en")
        .or_else(|| names.values().next())
        .cloned()
        .unwrap_or_default()
}

/// A city as people say it: DB-IP writes some with the district in brackets,
/// e.g. "Toronto (Old Toronto)".
fn city_name(raw: &str) -> String {
    match raw.find(" (") {
        Some(i) if raw.ends_with(')') => raw[..i].to_string(),
        _ => raw.to_string(),
    }
}

impl GeoDb {
    /// Reads the database at `path` into memory.
    pub fn open(path: &Path) -> Result<GeoDb, GeoDbError> {
        let err = |reason: String| GeoDbError {
            path: path.to_owned(),
            reason,
        };
        let bytes = std::fs::read(path).map_err(|e| err(e.to_string()))?;
        let reader = maxminddb::Reader::from_source(bytes).map_err(|e| err(e.to_string()))?;
        Ok(GeoDb {
            reader,
            path: path.to_owned(),
        })
    }

    /// The file's `database_type`, e.g. `GeoLite2-City` or `DBIP-City-Lite`.
    pub fn database_type(&self) -> &str {
        &self.reader.metadata().database_type
    }

    /// The file it was read from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// What the database says of `ip`. An address it does not hold, or cannot look up (an
    /// IPv6 address in an IPv4-only file), gets `error` set and counts as `unknown`.
    pub fn lookup(&self, ip: IpAddr) -> GeoInfo {
        let mut geo = GeoInfo {
            ip: ip.to_string(),
            looked_up_at: now_millis(),
            ..GeoInfo::default()
        };
        let record = match self.reader.lookup(ip).and_then(|r| r.decode::<Record>()) {
            Ok(Some(r)) => r,
            Ok(None) => {
                geo.error = Some("not in the geolocation database".into());
                return geo;
            }
            Err(e) => {
                geo.error = Some(format!("geolocation database: {e}"));
                return geo;
            }
        };
        let country = record.country.or(record.registered_country);
        if let Some(c) = country {
            geo.country = name(&c.names);
            geo.country_code = c.iso_code.unwrap_or_default();
        }
        if let Some(city) = record.city {
            geo.city = city_name(&name(&city.names));
        }
        if let Some(n) = record.autonomous_system_number {
            geo.asn = format!("AS{n}");
            if let Some(org) = &record.autonomous_system_organization {
                geo.asn = format!("AS{n} {org}");
            }
        }
        geo.org = record.autonomous_system_organization.unwrap_or_default();
        if geo.country.is_empty() && geo.city.is_empty() && geo.asn.is_empty() {
            geo.error = Some("no location in the geolocation database".into());
        }
        geo
    }
}

#[cfg(all(test, feature = "testnet"))]
mod tests {
    use super::*;
    use crate::testnet::mmdb;

    #[test]
    fn looks_up_countries_and_cities_of_both_families() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("test.mmdb");
        let bytes = mmdb::write(
            &[
                (
                    "81.2.69.0".parse().unwrap(),
                    24,
                    mmdb::city_record("GB", "United Kingdom", "London"),
                ),
                (
                    "2a01:4f8::".parse().unwrap(),
                    32,
                    mmdb::city_record("DE", "Germany", "Falkenstein"),
                ),
                (
                    "89.160.20.0".parse().unwrap(),
                    25,
                    mmdb::city_record("SE", "Sweden", "Linköping (Innerstaden)"),
                ),
            ],
            "GeoLite2-City",
        );
        std::fs::write(&path, bytes).unwrap();
        let db = GeoDb::open(&path).unwrap();
        assert_eq!(db.database_type(), "GeoLite2-City");
        let g = db.lookup("81.2.69.142".parse().unwrap());
        assert_eq!(
            (g.country.as_str(), g.country_code.as_str(), g.city.as_str()),
            ("United Kingdom", "GB", "London")
        );
        assert_eq!(g.error, None);
        let g = db.lookup("2a01:4f8:10a::1".parse().unwrap());
        assert_eq!(
            (g.country.as_str(), g.city.as_str()),
            ("Germany", "Falkenstein")
        );
        let g = db.lookup("89.160.20.100".parse().unwrap());
        assert_eq!(g.city, "Linköping");
        // Outside every network: unknown, with a reason.
        for ip in ["89.160.20.200", "81.2.70.1", "2a02::1"] {
            let g = db.lookup(ip.parse().unwrap());
            assert!(g.error.is_some(), "{ip}");
            assert_eq!(g.country_key(), "unknown");
        }
        // A file that is not a database fails to open, naming it.
        std::fs::write(&path, b"not a database").unwrap();
        let e = GeoDb::open(&path).unwrap_err();
        assert!(e.to_string().contains("test.mmdb"), "{e}");
    }
}
