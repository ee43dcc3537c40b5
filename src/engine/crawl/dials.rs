//! Dial bookkeeping of one crawl, pure: the address book (who is due when, the PEX policy
//! of [`schedule`](crate::engine::schedule)), each node's libp2p identity and TCP
//! addresses, what ONESHOT still has to dial, and the dials in flight per IP.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::time::Duration;

use libp2p::multiaddr::Protocol;
use libp2p::{Multiaddr, PeerId};
use rand::Rng;
use tokio::time::Instant;

use crate::engine::schedule::{AddressBook, Policy};
use crate::model::NodeId;
use crate::protocol::enr::DecodedEnr;

/// How long a peer whose IP is at its dial limit waits before it is tried again.
const PER_IP_DEFER: Duration = Duration::from_millis(50);

/// Where and whom to dial.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct DialTarget {
    pub peer: PeerId,
    pub addrs: Vec<Multiaddr>,
    /// The IP of the first address, for the per-IP limit.
    pub ip: Option<IpAddr>,
}

/// A dial to start now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Dial {
    pub node: NodeId,
    pub peer: PeerId,
    pub addrs: Vec<Multiaddr>,
}

/// The dial state of one crawl.
pub(super) struct Dials {
    /// Who is due for a dial when, and each peer's state.
    pub book: AddressBook,
    targets: HashMap<NodeId, DialTarget>,
    /// ONESHOT: nodes not dialed yet this round.
    to_dial: HashSet<NodeId>,
    /// Dials in flight per IP, and the IP each dialing node counts against.
    per_ip: HashMap<IpAddr, u32>,
    dialing_ip: HashMap<NodeId, IpAddr>,
    oneshot: bool,
    per_ip_limit: u32,
}

impl Dials {
    pub fn new(policy: Policy, oneshot: bool, per_ip_limit: u32) -> Dials {
        Dials {
            book: AddressBook::new(policy),
            targets: HashMap::new(),
            to_dial: HashSet::new(),
            per_ip: HashMap::new(),
            dialing_ip: HashMap::new(),
            oneshot,
            per_ip_limit,
        }
    }

    /// Takes a node's record (`first`: the crawl has just learned of the node). A record
    /// with a peer id and a TCP address makes the node dialable: new in the book, or
    /// revived (a new record may fix what made the peer bad).
    pub fn learn(&mut self, node: NodeId, record: &DecodedEnr, first: bool, now: Instant) {
        let Some(target) = dial_target(record) else {
            return;
        };
        self.targets.insert(node, target);
        if first {
            self.book.add(node, now);
            if self.oneshot {
                self.to_dial.insert(node);
            }
        } else {
            self.book.revive(node, now);
        }
    }

    /// Where and whom to dial for `node`.
    pub fn target(&self, node: &NodeId) -> Option<&DialTarget> {
        self.targets.get(node)
    }

    /// ONESHOT: nodes not dialed yet.
    pub fn undialed(&self) -> usize {
        self.to_dial.len()
    }

    /// The next dial due at `now`, if any: a due peer from the book (ONESHOT: one not
    /// dialed yet), at most `per_ip_limit` at once per IP (a peer over it is deferred).
    /// The dial counts as in flight until [`Dials::done`].
    pub fn next<R: Rng>(&mut self, now: Instant, rng: &mut R) -> Option<Dial> {
        loop {
            let node = self.book.next_due(now, rng)?;
            if self.oneshot && !self.to_dial.contains(&node) {
                // Already dialed this round.
                continue;
            }
            let Some(target) = self.targets.get(&node) else {
                continue;
            };
            if let Some(ip) = target.ip {
                let n = self.per_ip.entry(ip).or_default();
                if *n >= self.per_ip_limit {
                    self.book.defer(node, now + PER_IP_DEFER);
                    continue;
                }
                *n += 1;
                self.dialing_ip.insert(node, ip);
            }
            self.to_dial.remove(&node);
            return Some(Dial {
                node,
                peer: target.peer,
                addrs: target.addrs.clone(),
            });
        }
    }

    /// A dial of `node` ended: its IP's slot is free again.
    pub fn done(&mut self, node: &NodeId) {
        if let Some(ip) = self.dialing_ip.remove(node) {
            if let Some(n) = self.per_ip.get_mut(&ip) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    self.per_ip.remove(&ip);
                }
            }
        }
    }
}

/// libp2p TCP addresses of a record: `ip`/`tcp`, `ip6`/`tcp6`, and the plain TCP entries of
/// `multiaddrs` (DNS and websocket entries need transports the crawler does not run).
pub(super) fn dial_target(decoded: &DecodedEnr) -> Option<DialTarget> {
    let peer: PeerId = decoded.peer_id.as_ref()?.parse().ok()?;
    let mut addrs = Vec::new();
    if let (Some(ip), Some(tcp)) = (decoded.ip4, decoded.tcp4) {
        addrs.push(
            Multiaddr::empty()
                .with(Protocol::Ip4(ip))
                .with(Protocol::Tcp(tcp)),
        );
    }
    if let (Some(ip), Some(tcp)) = (decoded.ip6, decoded.tcp6) {
        addrs.push(
            Multiaddr::empty()
                .with(Protocol::Ip6(ip))
                .with(Protocol::Tcp(tcp)),
        );
    }
    for text in &decoded.multiaddrs {
        let Ok(ma) = text.parse::<Multiaddr>() else {
            continue;
        };
        let plain_tcp = {
            let mut it = ma.iter();
            matches!(
                (it.next(), it.next(), it.next()),
                (
                    Some(Protocol::Ip4(_) | Protocol::Ip6(_)),
                    Some(Protocol::Tcp(_)),
                    None
                )
            )
        };
        if plain_tcp && !addrs.contains(&ma) {
            addrs.push(ma);
        }
    }
    let ip = addrs.first().and_then(ip_of);
    Some(DialTarget { peer, addrs, ip })
}

/// The IP a multiaddr starts with.
pub(super) fn ip_of(addr: &Multiaddr) -> Option<IpAddr> {
    match addr.iter().next() {
        Some(Protocol::Ip4(ip)) => Some(IpAddr::V4(ip)),
        Some(Protocol::Ip6(ip)) => Some(IpAddr::V6(ip)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use enr::CombinedKey;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    use super::*;
    use crate::protocol::enr::Enr;

    /// A decoded record on 127.0.0.`host`, TCP `port`.
    fn decoded(host: u8, port: u16) -> (NodeId, DecodedEnr) {
        let key = CombinedKey::generate_secp256k1();
        let enr = Enr::builder()
            .ip4(Ipv4Addr::new(127, 0, 0, host))
            .tcp4(port)
            .udp4(port)
            .build(&key)
            .unwrap();
        (enr.node_id().raw(), DecodedEnr::from_enr(&enr))
    }

    #[test]
    fn a_record_gives_its_tcp_addresses_and_peer_id() {
        let (_, mut d) = decoded(1, 6000);
        d.multiaddrs = vec![
            "/ip4/127.0.0.1/tcp/6000".into(),
            "/ip4/127.0.0.3/tcp/7000".into(),
            "/dns4/example.test/tcp/443/wss".into(),
            "/ip4/127.0.0.4/tcp/8000/ws".into(),
        ];
        let t = dial_target(&d).unwrap();
        let addrs: Vec<String> = t.addrs.iter().map(|a| a.to_string()).collect();
        assert_eq!(
            addrs,
            ["/ip4/127.0.0.1/tcp/6000", "/ip4/127.0.0.3/tcp/7000"]
        );
        assert_eq!(t.ip, Some(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1))));
        assert_eq!(Some(t.peer.to_string()), d.peer_id);

        d.peer_id = None;
        assert_eq!(dial_target(&d), None);
    }

    #[test]
    fn the_per_ip_limit_defers_the_rest() {
        let mut dials = Dials::new(Policy::default(), true, 2);
        let mut rng = StdRng::seed_from_u64(1);
        let now = Instant::now();
        // Three peers on one IP, one on another.
        let same: Vec<NodeId> = (0..3)
            .map(|i| {
                let (id, d) = decoded(1, 6000 + i);
                dials.learn(id, &d, true, now);
                id
            })
            .collect();
        let (other, d) = decoded(2, 6000);
        dials.learn(other, &d, true, now);

        let mut started = Vec::new();
        while let Some(dial) = dials.next(now, &mut rng) {
            started.push(dial.node);
        }
        assert_eq!(started.len(), 3, "two on 127.0.0.1 and one on 127.0.0.2");
        assert!(started.contains(&other));
        let waiting = *same.iter().find(|id| !started.contains(id)).unwrap();
        assert_eq!(dials.undialed(), 1);
        // Deferred, not dropped: due again once a slot is free and the deferral passed.
        let later = now + PER_IP_DEFER;
        assert_eq!(dials.next(later, &mut rng), None, "both slots still taken");
        let first_done = *started.iter().find(|id| same.contains(id)).unwrap();
        dials.done(&first_done);
        let later = later + PER_IP_DEFER;
        assert_eq!(dials.next(later, &mut rng).map(|d| d.node), Some(waiting));
        assert_eq!(dials.undialed(), 0);
    }

    #[test]
    fn oneshot_dials_each_peer_once() {
        let mut dials = Dials::new(
            Policy {
                min_redial: Duration::from_secs(1),
                ..Policy::default()
            },
            true,
            8,
        );
        let mut rng = StdRng::seed_from_u64(2);
        let now = Instant::now();
        let (id, d) = decoded(1, 6000);
        dials.learn(id, &d, true, now);
        assert_eq!(dials.next(now, &mut rng).map(|d| d.node), Some(id));
        dials.done(&id);
        dials.book.on_success(id, now);
        // Due again after min_redial, but ONESHOT dialed it already.
        assert_eq!(dials.next(now + Duration::from_secs(5), &mut rng), None);
    }
}
