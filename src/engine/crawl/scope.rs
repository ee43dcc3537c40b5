//! The crawl side of the address-scope policy ([`crate::model::scope`]): which records a
//! crawl may contact, which of a record's dial addresses are kept, and the filter that
//! keeps discv5's own queries (random lookups) inside the scope.
//!
//! A record is **in scope** when every IP it names in `ip` and `ip6` is permitted; a record
//! that names no IP is in scope (there is nothing to send to, and its `multiaddrs` are
//! filtered one by one where they are dialed). A record out of scope is never sent a
//! FINDNODE, never dialed, and never handed to discv5.
//!
//! **discv5's queries.** A random lookup asks whatever nodes the answers name, so discv5
//! itself must leave out-of-scope records alone. Its only hook is the table filter, a plain
//! `fn(&Enr) -> bool` that also decides which records a lookup may query. A plain function
//! cannot hold a crawl's scope, so each running crawl takes one of [`SLOTS`] slots: a
//! global scope cell and a filter function that reads that cell. The slot is freed when the
//! crawl's [`TableFilter`] is dropped. With every slot taken, a crawl gets a filter that
//! admits nothing: its lookups then query nobody (the walk, which checks the scope itself,
//! is unaffected).

use std::net::IpAddr;
use std::sync::{Arc, Mutex, RwLock};

use libp2p::Multiaddr;

use super::dials::ip_of;
use crate::model::scope::AddressScope;
use crate::protocol::enr::Enr;

/// The first IP a record names (`ip`, then `ip6`) that `scope` does not permit.
pub(super) fn out_of_scope_ip(scope: &AddressScope, enr: &Enr) -> Option<IpAddr> {
    [enr.ip4().map(IpAddr::V4), enr.ip6().map(IpAddr::V6)]
        .into_iter()
        .flatten()
        .find(|ip| !scope.permits(*ip))
}

/// Whether `scope` permits a dial address (one that starts with no IP, e.g. a DNS name,
/// is not: the crawler dials plain TCP addresses only).
pub(super) fn permits_addr(scope: &AddressScope, addr: &Multiaddr) -> bool {
    ip_of(addr).is_some_and(|ip| scope.permits(ip))
}

/// Crawls that can run with a working table filter at once.
pub const SLOTS: usize = 64;

/// Each slot's scope; `None` while the slot is free.
static SCOPES: [RwLock<Option<Arc<AddressScope>>>; SLOTS] = [const { RwLock::new(None) }; SLOTS];
/// Which slots are taken.
static TAKEN: Mutex<[bool; SLOTS]> = Mutex::new([false; SLOTS]);

/// The table filter of slot `I`: the record is in that slot's scope.
fn slot_filter<const I: usize>(enr: &Enr) -> bool {
    let scope = SCOPES[I].read().unwrap_or_else(|e| e.into_inner());
    scope
        .as_ref()
        .is_some_and(|s| out_of_scope_ip(s, enr).is_none())
}

/// The filter of a crawl that found no free slot.
fn admit_nothing(_: &Enr) -> bool {
    false
}

macro_rules! slot_filters {
    ($($i:literal)*) => { [$(slot_filter::<$i> as fn(&Enr) -> bool),*] };
}

/// Slot `i`'s filter function.
static FILTERS: [fn(&Enr) -> bool; SLOTS] = slot_filters!(0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31 32 33 34 35 36 37 38 39 40 41 42 43 44 45 46 47 48 49 50 51 52 53 54 55 56 57 58 59 60 61 62 63);

/// One crawl's discv5 table filter; frees its slot when dropped.
pub(crate) struct TableFilter {
    slot: Option<usize>,
}

impl TableFilter {
    /// Takes a free slot for `scope`.
    pub(crate) fn new(scope: Arc<AddressScope>) -> TableFilter {
        let mut taken = TAKEN.lock().unwrap_or_else(|e| e.into_inner());
        let slot = taken.iter().position(|t| !t);
        match slot {
            Some(i) => {
                taken[i] = true;
                *SCOPES[i].write().unwrap_or_else(|e| e.into_inner()) = Some(scope);
            }
            None => tracing::warn!(
                slots = SLOTS,
                "every discv5 scope filter slot is taken: this crawl's random lookups query nobody"
            ),
        }
        TableFilter { slot }
    }

    /// The function to give discv5 as its table filter.
    pub(crate) fn function(&self) -> fn(&Enr) -> bool {
        match self.slot {
            Some(i) => FILTERS[i],
            None => admit_nothing,
        }
    }
}

impl Drop for TableFilter {
    fn drop(&mut self) {
        if let Some(i) = self.slot {
            *SCOPES[i].write().unwrap_or_else(|e| e.into_inner()) = None;
            TAKEN.lock().unwrap_or_else(|e| e.into_inner())[i] = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::{Ipv4Addr, Ipv6Addr};

    use enr::CombinedKey;

    use super::*;
    use crate::model::scope::parse_cidr;

    fn record(ip4: Option<[u8; 4]>, ip6: Option<Ipv6Addr>) -> Enr {
        let key = CombinedKey::generate_secp256k1();
        let mut b = Enr::builder();
        if let Some(ip) = ip4 {
            b.ip4(Ipv4Addr::from(ip)).udp4(9000);
        }
        if let Some(ip) = ip6 {
            b.ip6(ip).udp6(9000);
        }
        b.build(&key).unwrap()
    }

    fn only_127_0_0_1() -> Arc<AddressScope> {
        Arc::new(AddressScope::allow(vec![
            parse_cidr("127.0.0.1/32").unwrap()
        ]))
    }

    #[test]
    fn a_record_is_in_scope_when_every_ip_it_names_is() {
        let scope = only_127_0_0_1();
        assert_eq!(
            out_of_scope_ip(&scope, &record(Some([127, 0, 0, 1]), None)),
            None
        );
        assert_eq!(
            out_of_scope_ip(&scope, &record(Some([127, 0, 0, 2]), None)),
            Some("127.0.0.2".parse().unwrap())
        );
        // One address out is enough.
        assert_eq!(
            out_of_scope_ip(
                &scope,
                &record(Some([127, 0, 0, 1]), Some(Ipv6Addr::LOCALHOST))
            ),
            Some("::1".parse().unwrap())
        );
        // Nothing to contact: nothing out of scope.
        assert_eq!(out_of_scope_ip(&scope, &record(None, None)), None);
        assert!(permits_addr(
            &scope,
            &"/ip4/127.0.0.1/tcp/1".parse().unwrap()
        ));
        assert!(!permits_addr(
            &scope,
            &"/ip4/127.0.0.2/tcp/1".parse().unwrap()
        ));
        assert!(!permits_addr(
            &scope,
            &"/dns4/localhost/tcp/1".parse().unwrap()
        ));
    }

    #[test]
    fn each_crawl_gets_its_own_filter_and_frees_it() {
        let inside = record(Some([127, 0, 0, 1]), None);
        let outside = record(Some([127, 0, 0, 2]), None);
        let a = TableFilter::new(only_127_0_0_1());
        let b = TableFilter::new(Arc::new(AddressScope::of_bootstrap(["127.0.0.2"
            .parse()
            .unwrap()])));
        let (fa, fb) = (a.function(), b.function());
        assert!(fa(&inside) && !fa(&outside));
        // Loopback scope: both.
        assert!(fb(&inside) && fb(&outside));
        let slot = a.slot.unwrap();
        drop(a);
        // The freed slot admits nothing until it is taken again.
        assert!(!FILTERS[slot](&inside));
        assert!(fb(&outside));
    }
}
