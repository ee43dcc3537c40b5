//! The `geo_cache` tree: geolocation answers per IP, so that a restart or another crawl
//! does not ask the service again. [`Store::cached_geo`] ignores entries older than the
//! caller's TTL; the next lookup overwrites them.

use crate::model::{GeoInfo, UnixMillis};
use crate::store::keys::{decode, encode, ip_key};
use crate::store::{Store, StoreError};

impl Store {
    /// The cached geolocation of `ip` if it was fetched at or after `fresh_since`.
    pub fn cached_geo(
        &self,
        ip: std::net::IpAddr,
        fresh_since: UnixMillis,
    ) -> Result<Option<GeoInfo>, StoreError> {
        let Some(v) = self.geo_cache.get(ip_key(ip))? else {
            return Ok(None);
        };
        let geo: GeoInfo = decode("geo_cache", &v)?;
        Ok((geo.looked_up_at >= fresh_since).then_some(geo))
    }

    /// Caches the geolocation of `ip`.
    pub fn put_cached_geo(&self, ip: std::net::IpAddr, geo: &GeoInfo) -> Result<(), StoreError> {
        self.geo_cache.insert(ip_key(ip), encode(geo))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

    use crate::model::GeoInfo;
    use crate::store::test_support::temp_store;

    fn answer(ip: &str, country: &str, at: u64) -> GeoInfo {
        GeoInfo {
            ip: ip.into(),
            country: country.into(),
            country_code: "DE".into(),
            asn: "AS64500 Example".into(),
            looked_up_at: at,
            ..GeoInfo::default()
        }
    }

    #[test]
    fn cached_answers_expire_with_the_ttl() {
        let (_dir, store) = temp_store();
        let ip: IpAddr = "127.0.0.2".parse().unwrap();
        assert_eq!(store.cached_geo(ip, 0).unwrap(), None);
        store
            .put_cached_geo(ip, &answer("127.0.0.2", "Germany", 1_000))
            .unwrap();
        // Fresh at the boundary, stale one millisecond after.
        assert_eq!(
            store.cached_geo(ip, 1_000).unwrap(),
            Some(answer("127.0.0.2", "Germany", 1_000))
        );
        assert_eq!(store.cached_geo(ip, 1_001).unwrap(), None);
        // A new lookup overwrites the stale entry.
        store
            .put_cached_geo(ip, &answer("127.0.0.2", "France", 9_000))
            .unwrap();
        assert_eq!(
            store.cached_geo(ip, 1_001).unwrap().unwrap().country,
            "France"
        );
    }

    #[test]
    fn v4_and_v6_addresses_are_cached_apart() {
        let (_dir, store) = temp_store();
        let v4: IpAddr = "127.0.0.1".parse().unwrap();
        let v6: IpAddr = "::1".parse().unwrap();
        let mapped: IpAddr = "::ffff:127.0.0.1".parse().unwrap();
        store
            .put_cached_geo(v4, &answer("127.0.0.1", "loopback", 5))
            .unwrap();
        assert_eq!(store.cached_geo(v6, 0).unwrap(), None);
        assert_eq!(store.cached_geo(mapped, 0).unwrap(), None);
        store
            .put_cached_geo(v6, &answer("::1", "loopback6", 5))
            .unwrap();
        assert_eq!(
            store.cached_geo(v4, 0).unwrap().unwrap().country,
            "loopback"
        );
        assert_eq!(
            store.cached_geo(v6, 0).unwrap().unwrap().country,
            "loopback6"
        );
    }
}
