//! The address-scope policy: which IP addresses a crawl may contact.
//!
//! A record names whatever address its signer likes. On a public network some records
//! carry 10.x, 192.168.x, 127.x or 169.254.x addresses; a crawler that sends FINDNODE or
//! dials them scans private ranges from wherever it is hosted. So a crawl contacts only
//! addresses in its scope, decided once when it starts:
//!
//! - **By default, the scope of its bootstrap.** Every bootstrap address (ENRs and DNS-tree
//!   records) is put in a [`IpClass`]; the crawl may contact addresses of those classes
//!   only. Public bootstrap → public addresses only; loopback bootstrap → loopback;
//!   private bootstrap → private (and so on for a mix).
//! - **An explicit allow-list** of CIDRs (`StartCrawlRequest.allowed_cidrs`) replaces the
//!   default: an address is contacted exactly when some CIDR contains it.
//!
//! Link-local, unspecified, multicast, broadcast and documentation addresses are never in a
//! default scope, even when a bootstrap record names one; only an allow-list can admit them.
//! Records outside the scope are stored (with the error class `out_of_scope`) and never
//! contacted.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

/// The kind of an IP address, for the default scope.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IpClass {
    /// 127.0.0.0/8, ::1.
    Loopback,
    /// 10/8, 172.16/12, 192.168/16, 100.64/10 (carrier-grade NAT), fc00::/7.
    Private,
    /// 169.254/16, fe80::/10: never in a default scope.
    LinkLocal,
    /// Unspecified, broadcast, multicast, documentation, benchmarking and reserved ranges:
    /// never in a default scope.
    Special,
    /// Everything else.
    Public,
}

impl IpClass {
    /// The class of `ip` (IPv4-mapped IPv6 addresses count as their IPv4 address).
    pub fn of(ip: IpAddr) -> IpClass {
        match ip {
            IpAddr::V4(v4) => class_v4(v4),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => class_v4(v4),
                None => class_v6(v6),
            },
        }
    }

    /// Whether a bootstrap address of this class puts the class in the default scope.
    fn may_be_default(self) -> bool {
        matches!(self, IpClass::Loopback | IpClass::Private | IpClass::Public)
    }

    /// The name used in logs and errors.
    pub fn as_str(self) -> &'static str {
        match self {
            IpClass::Loopback => "loopback",
            IpClass::Private => "private",
            IpClass::LinkLocal => "link_local",
            IpClass::Special => "special",
            IpClass::Public => "public",
        }
    }
}

fn class_v4(ip: Ipv4Addr) -> IpClass {
    let o = ip.octets();
    if ip.is_loopback() {
        IpClass::Loopback
    } else if ip.is_private() || (o[0] == 100 && (o[1] & 0xc0) == 64) {
        IpClass::Private
    } else if ip.is_link_local() {
        IpClass::LinkLocal
    } else if ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || o[0] == 0
        || o[0] >= 240
        || (o[0] == 198 && (o[1] & 0xfe) == 18)
        || (o[0] == 192 && o[1] == 0 && o[2] == 0)
    {
        IpClass::Special
    } else {
        IpClass::Public
    }
}

fn class_v6(ip: Ipv6Addr) -> IpClass {
    let s = ip.segments();
    if ip.is_loopback() {
        IpClass::Loopback
    } else if (s[0] & 0xfe00) == 0xfc00 {
        IpClass::Private
    } else if (s[0] & 0xffc0) == 0xfe80 {
        IpClass::LinkLocal
    } else if ip.is_unspecified() || ip.is_multicast() || (s[0] == 0x2001 && s[1] == 0x0db8) {
        IpClass::Special
    } else {
        IpClass::Public
    }
}

/// Which addresses a crawl may contact.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AddressScope {
    /// Addresses of these classes (the default, from the bootstrap).
    Classes(Vec<IpClass>),
    /// Addresses inside one of these networks (an explicit allow-list).
    Allow(Vec<IpNet>),
}

impl Default for AddressScope {
    /// Public addresses only: the safe choice when nothing else is known.
    fn default() -> Self {
        AddressScope::Classes(vec![IpClass::Public])
    }
}

impl AddressScope {
    /// The default scope of a crawl bootstrapped from `ips`: the classes among them that may
    /// be a default (loopback, private, public). With no usable bootstrap address: public.
    pub fn of_bootstrap(ips: impl IntoIterator<Item = IpAddr>) -> AddressScope {
        let mut classes: Vec<IpClass> = ips
            .into_iter()
            .map(IpClass::of)
            .filter(|c| c.may_be_default())
            .collect();
        classes.sort_unstable();
        classes.dedup();
        if classes.is_empty() {
            AddressScope::default()
        } else {
            AddressScope::Classes(classes)
        }
    }

    /// An explicit allow-list.
    pub fn allow(networks: Vec<IpNet>) -> AddressScope {
        AddressScope::Allow(networks)
    }

    /// Whether the crawl may contact `ip`.
    pub fn permits(&self, ip: IpAddr) -> bool {
        match self {
            AddressScope::Classes(classes) => classes.contains(&IpClass::of(ip)),
            AddressScope::Allow(nets) => {
                let ip = match ip {
                    IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
                    v4 => v4,
                };
                nets.iter().any(|n| n.contains(&ip))
            }
        }
    }

    /// A short description for logs and the API (`loopback`, `public+private`,
    /// `127.0.0.1/32,10.0.0.0/8`).
    pub fn describe(&self) -> String {
        match self {
            AddressScope::Classes(c) => c.iter().map(|c| c.as_str()).collect::<Vec<_>>().join("+"),
            AddressScope::Allow(n) => n
                .iter()
                .map(|n| n.to_string())
                .collect::<Vec<_>>()
                .join(","),
        }
    }
}

/// Parses one CIDR of an allow-list; a bare address means that one address (/32 or /128).
///
/// # Errors
/// The text, when it is neither a CIDR nor an address.
pub fn parse_cidr(text: &str) -> Result<IpNet, String> {
    let t = text.trim();
    if let Ok(net) = IpNet::from_str(t) {
        return Ok(net.trunc());
    }
    IpAddr::from_str(t)
        .map(IpNet::from)
        .map_err(|_| format!("{text:?} is not a CIDR (e.g. 10.0.0.0/8) or an IP address"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn classes_of_addresses() {
        for (a, c) in [
            ("127.0.0.1", IpClass::Loopback),
            ("127.0.0.2", IpClass::Loopback),
            ("::1", IpClass::Loopback),
            ("10.1.2.3", IpClass::Private),
            ("172.16.0.1", IpClass::Private),
            ("172.31.255.255", IpClass::Private),
            ("192.168.1.1", IpClass::Private),
            ("100.64.0.1", IpClass::Private),
            ("fd00::1", IpClass::Private),
            ("169.254.1.1", IpClass::LinkLocal),
            ("fe80::1", IpClass::LinkLocal),
            ("0.0.0.0", IpClass::Special),
            ("255.255.255.255", IpClass::Special),
            ("224.0.0.1", IpClass::Special),
            ("192.0.2.1", IpClass::Special),
            ("198.18.0.1", IpClass::Special),
            ("2001:db8::1", IpClass::Special),
            ("::", IpClass::Special),
            ("172.32.0.1", IpClass::Public),
            ("100.128.0.1", IpClass::Public),
            ("8.8.8.8", IpClass::Public),
            ("2a00::1", IpClass::Public),
            ("::ffff:10.0.0.1", IpClass::Private),
            ("::ffff:127.0.0.1", IpClass::Loopback),
        ] {
            assert_eq!(IpClass::of(ip(a)), c, "{a}");
        }
    }

    #[test]
    fn default_scope_follows_the_bootstrap() {
        let public = AddressScope::of_bootstrap([ip("8.8.8.8")]);
        assert!(public.permits(ip("1.1.1.1")));
        for private in ["10.0.0.1", "192.168.0.1", "127.0.0.1", "169.254.0.1", "::1"] {
            assert!(!public.permits(ip(private)), "{private}");
        }
        let lo = AddressScope::of_bootstrap([ip("127.0.0.1")]);
        assert!(lo.permits(ip("127.0.0.5")));
        assert!(!lo.permits(ip("8.8.8.8")));
        assert!(!lo.permits(ip("10.0.0.1")));
        let private = AddressScope::of_bootstrap([ip("192.168.1.10")]);
        assert!(private.permits(ip("10.0.0.1")));
        assert!(!private.permits(ip("8.8.8.8")));
        // A link-local bootstrap does not admit link-local: public is the fallback.
        assert_eq!(
            AddressScope::of_bootstrap([ip("169.254.0.1")]),
            AddressScope::default()
        );
        assert_eq!(AddressScope::of_bootstrap([]), AddressScope::default());
        assert_eq!(
            AddressScope::of_bootstrap([ip("8.8.8.8"), ip("10.0.0.1"), ip("1.2.3.4")]).describe(),
            "private+public"
        );
    }

    #[test]
    fn an_allow_list_replaces_the_default() {
        let scope = AddressScope::allow(vec![
            parse_cidr("127.0.0.1/32").unwrap(),
            parse_cidr("10.0.0.0/8").unwrap(),
        ]);
        assert!(scope.permits(ip("127.0.0.1")));
        assert!(!scope.permits(ip("127.0.0.2")));
        assert!(scope.permits(ip("10.200.0.1")));
        assert!(scope.permits(ip("::ffff:10.0.0.1")));
        assert!(!scope.permits(ip("8.8.8.8")));
        assert_eq!(scope.describe(), "127.0.0.1/32,10.0.0.0/8");
    }

    #[test]
    fn cidrs_parse_or_say_why_not() {
        assert_eq!(parse_cidr("127.0.0.1").unwrap().to_string(), "127.0.0.1/32");
        assert_eq!(parse_cidr("::1").unwrap().to_string(), "::1/128");
        assert_eq!(parse_cidr("10.1.2.3/8").unwrap().to_string(), "10.0.0.0/8");
        let e = parse_cidr("10.0.0.0/33").unwrap_err();
        assert!(e.contains("not a CIDR"), "{e}");
        assert!(parse_cidr("nonsense").is_err());
    }
}
