//! The relay monitor of a crawl: a gossipsub observer on `/vac/waku/relay/2.0.0` that keeps
//! up to K long-lived connections to vetted relay peers of the crawl's cluster, subscribes
//! to the crawl's pubsub topics and counts every message it receives.
//!
//! It runs its own swarm, apart from the dialer's, so visits that disconnect never touch
//! relay connections. It serves Waku metadata (echoing the requester's cluster, as the
//! dialer does), identify and ping, since nwaku checks all three on its peers. A dropped
//! connection is replaced from the candidates the crawl offers.
//!
//! **Peers of unknown cluster.** On networks that relay on named pubsub topics
//! (`/waku/2/default-waku/proto`) records carry no `rs` and peers may not answer metadata,
//! so the crawl cannot tell a relay peer's cluster. Such peers are offered *on trial*
//! ([`RelayMonitor::offer_on_trial`]): connected like the others, and kept only if, within
//! [`TRIAL`], gossipsub announces that they subscribe to a monitored topic. A peer that
//! does not is disconnected and not taken on trial again (the last [`MAX_REJECTED`] are
//! remembered).

use std::collections::{HashMap, HashSet, VecDeque};
use std::time::Duration;

use tokio::time::Instant;

use futures::StreamExt;
use libp2p::swarm::dial_opts::{DialOpts, PeerCondition};
use libp2p::swarm::{NetworkBehaviour, SwarmEvent};
use libp2p::{gossipsub, identify, identity, ping, request_response, Multiaddr, PeerId};

use super::error::SwarmError;
use super::transport::build_swarm;
use crate::engine::counter::MessageCounter;
use crate::metrics::Metrics;
use crate::model::now_millis;
use crate::protocol::waku::relay::{decode_waku_message, gossipsub_behaviour};
use crate::protocol::waku::{metadata_protocol, MetadataCodec};

#[derive(NetworkBehaviour)]
#[behaviour(prelude = "libp2p::swarm::derive_prelude")]
struct RelayBehaviour {
    gossipsub: gossipsub::Behaviour,
    identify: identify::Behaviour,
    ping: ping::Behaviour,
    metadata: request_response::Behaviour<MetadataCodec>,
}

/// How long a peer on trial has to announce a monitored topic.
pub const TRIAL: Duration = Duration::from_secs(10);
/// Peers that failed their trial, remembered so they are not tried again.
pub const MAX_REJECTED: usize = 4096;

/// Relay monitor settings.
#[derive(Clone, Debug)]
pub struct RelayConfig {
    /// Pubsub topics to subscribe to.
    pub topics: Vec<String>,
    /// Long-lived connections to keep.
    pub peers: usize,
    pub dial_timeout: Duration,
    pub agent_version: String,
}

/// What the monitor reports to the crawl loop.
#[derive(Debug)]
pub enum RelayEvent {
    /// A relay connection was established or lost; the loop refreshes its counters.
    Changed,
    /// A message was counted.
    Message,
}

/// The monitor.
pub struct RelayMonitor {
    swarm: libp2p::Swarm<RelayBehaviour>,
    config: RelayConfig,
    counter: MessageCounter,
    metrics: Metrics,
    connected: HashSet<PeerId>,
    dialing: HashSet<PeerId>,
    candidates: VecDeque<(PeerId, Vec<Multiaddr>)>,
    /// Peers ever offered, so a candidate is queued once until it drops.
    offered: HashMap<PeerId, Vec<Multiaddr>>,
    /// Peers on trial (offered without a known cluster), with the end of their trial once
    /// connected.
    on_trial: HashMap<PeerId, Option<Instant>>,
    /// Peers that failed their trial, oldest first.
    rejected: VecDeque<PeerId>,
    rejected_set: HashSet<PeerId>,
    /// The hashes of the monitored topics.
    topic_hashes: HashSet<gossipsub::TopicHash>,
    tick: tokio::time::Interval,
    messages: u64,
}

impl RelayMonitor {
    /// Starts the swarm and subscribes to the topics.
    pub fn new(
        config: RelayConfig,
        counter: MessageCounter,
        metrics: Metrics,
    ) -> Result<RelayMonitor, SwarmError> {
        let key = identity::Keypair::generate_secp256k1();
        let behaviour = RelayBehaviour {
            gossipsub: gossipsub_behaviour(true).map_err(SwarmError::Gossipsub)?,
            identify: identify::Behaviour::new(
                identify::Config::new("peerscope/1".into(), key.public())
                    .with_agent_version(config.agent_version.clone())
                    .with_push_listen_addr_updates(false),
            ),
            ping: ping::Behaviour::new(ping::Config::new()),
            metadata: request_response::Behaviour::new(
                [(
                    metadata_protocol(),
                    request_response::ProtocolSupport::Inbound,
                )],
                request_response::Config::default(),
            ),
        };
        let mut swarm = build_swarm(
            &key,
            behaviour,
            config.dial_timeout,
            Duration::from_secs(120),
        )?;
        for t in &config.topics {
            swarm
                .behaviour_mut()
                .gossipsub
                .subscribe(&gossipsub::IdentTopic::new(t.clone()))
                .map_err(|source| SwarmError::Subscribe {
                    topic: t.clone(),
                    source,
                })?;
        }
        let topic_hashes = config
            .topics
            .iter()
            .map(|t| gossipsub::IdentTopic::new(t.clone()).hash())
            .collect();
        let mut tick = tokio::time::interval(Duration::from_millis(500));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        Ok(RelayMonitor {
            swarm,
            config,
            counter,
            metrics,
            connected: HashSet::new(),
            dialing: HashSet::new(),
            candidates: VecDeque::new(),
            offered: HashMap::new(),
            on_trial: HashMap::new(),
            rejected: VecDeque::new(),
            rejected_set: HashSet::new(),
            topic_hashes,
            tick,
            messages: 0,
        })
    }

    /// Relay connections held now.
    pub fn connected(&self) -> usize {
        self.connected.len()
    }

    /// The smallest number of mesh peers over the subscribed topics (0 until every topic
    /// has a mesh).
    pub fn min_mesh_peers(&self) -> usize {
        let gs = &self.swarm.behaviour().gossipsub;
        self.config
            .topics
            .iter()
            .map(|t| {
                gs.mesh_peers(&gossipsub::IdentTopic::new(t.clone()).hash())
                    .count()
            })
            .min()
            .unwrap_or(0)
    }

    /// Messages counted by this monitor.
    pub fn messages(&self) -> u64 {
        self.messages
    }

    /// Offers a vetted relay peer of the right cluster; it is connected when a slot is free.
    pub fn offer(&mut self, peer: PeerId, addrs: Vec<Multiaddr>) {
        if self.offered.contains_key(&peer) {
            return;
        }
        // Its cluster is known now: no trial.
        self.on_trial.remove(&peer);
        self.offered.insert(peer, addrs.clone());
        self.candidates.push_back((peer, addrs));
        self.fill();
    }

    /// Offers a vetted relay peer whose cluster is unknown: connected when a slot is free,
    /// and kept only if it announces a monitored topic within [`TRIAL`].
    pub fn offer_on_trial(&mut self, peer: PeerId, addrs: Vec<Multiaddr>) {
        if self.offered.contains_key(&peer) || self.rejected_set.contains(&peer) {
            return;
        }
        self.on_trial.insert(peer, None);
        self.offered.insert(peer, addrs.clone());
        self.candidates.push_back((peer, addrs));
        self.fill();
    }

    /// Peers on trial now (connected or waiting for a slot).
    pub fn on_trial(&self) -> usize {
        self.on_trial.len()
    }

    /// Ends the trials that ran out: those peers are disconnected and remembered.
    fn end_trials(&mut self) -> bool {
        let now = Instant::now();
        let failed: Vec<PeerId> = self
            .on_trial
            .iter()
            .filter(|(_, end)| end.is_some_and(|e| e <= now))
            .map(|(p, _)| *p)
            .collect();
        for peer in &failed {
            tracing::debug!(%peer, "relay peer of unknown cluster announced no monitored topic");
            self.on_trial.remove(peer);
            if self.rejected_set.insert(*peer) {
                self.rejected.push_back(*peer);
                if self.rejected.len() > MAX_REJECTED {
                    if let Some(old) = self.rejected.pop_front() {
                        self.rejected_set.remove(&old);
                    }
                }
            }
            let _ = self.swarm.disconnect_peer_id(*peer);
        }
        !failed.is_empty()
    }

    fn fill(&mut self) {
        while self.connected.len() + self.dialing.len() < self.config.peers {
            let Some((peer, addrs)) = self.candidates.pop_front() else {
                return;
            };
            if self.connected.contains(&peer) || self.dialing.contains(&peer) {
                continue;
            }
            let opts = DialOpts::peer_id(peer)
                .addresses(addrs)
                .condition(PeerCondition::DisconnectedAndNotDialing)
                .build();
            if self.swarm.dial(opts).is_ok() {
                self.dialing.insert(peer);
            } else {
                // Unusable now; it may be offered again after a later visit.
                self.offered.remove(&peer);
                self.on_trial.remove(&peer);
            }
        }
    }

    /// Drives the swarm; returns when something worth reporting happened. Cancel-safe.
    pub async fn next(&mut self) -> RelayEvent {
        loop {
            tokio::select! {
                ev = self.swarm.select_next_some() => {
                    if let Some(out) = self.on_swarm(ev) {
                        return out;
                    }
                }
                _ = self.tick.tick(), if !self.on_trial.is_empty() => {
                    if self.end_trials() {
                        return RelayEvent::Changed;
                    }
                }
            }
        }
    }

    fn on_swarm(&mut self, ev: SwarmEvent<RelayBehaviourEvent>) -> Option<RelayEvent> {
        match ev {
            SwarmEvent::ConnectionEstablished { peer_id, .. } => {
                self.dialing.remove(&peer_id);
                self.connected.insert(peer_id);
                if let Some(end) = self.on_trial.get_mut(&peer_id) {
                    end.get_or_insert(Instant::now() + TRIAL);
                }
                Some(RelayEvent::Changed)
            }
            SwarmEvent::Behaviour(RelayBehaviourEvent::Gossipsub(
                gossipsub::Event::Subscribed { peer_id, topic, .. },
            )) => {
                if self.topic_hashes.contains(&topic) && self.on_trial.remove(&peer_id).is_some() {
                    tracing::debug!(%peer_id, %topic, "relay peer of unknown cluster kept");
                }
                None
            }
            SwarmEvent::OutgoingConnectionError {
                peer_id: Some(peer),
                ..
            } => {
                self.dialing.remove(&peer);
                self.offered.remove(&peer);
                self.on_trial.remove(&peer);
                self.fill();
                Some(RelayEvent::Changed)
            }
            SwarmEvent::ConnectionClosed {
                peer_id,
                num_established: 0,
                ..
            } => {
                self.connected.remove(&peer_id);
                // It may come back through a later visit.
                self.offered.remove(&peer_id);
                self.on_trial.remove(&peer_id);
                self.fill();
                Some(RelayEvent::Changed)
            }
            SwarmEvent::Behaviour(RelayBehaviourEvent::Gossipsub(gossipsub::Event::Message {
                propagation_source,
                message_id,
                message,
            })) => {
                let pubsub = message.topic.as_str();
                let decoded = decode_waku_message(&message.data);
                // Another crawl's monitor may have counted this message already.
                let counted = self.counter.record_message(
                    pubsub,
                    &message_id.0,
                    decoded.as_ref().map(|m| m.content_topic.as_str()),
                    message.data.len() as u64,
                    now_millis(),
                );
                self.messages += 1;
                if counted {
                    self.metrics.relay_message(pubsub);
                    self.metrics.relay_application_message(
                        pubsub,
                        decoded
                            .as_ref()
                            .map(|m| crate::model::messages::application_of(&m.content_topic)),
                    );
                } else {
                    self.metrics.relay_duplicate();
                }
                // Observe, never forward, never penalise.
                self.swarm
                    .behaviour_mut()
                    .gossipsub
                    .report_message_validation_result(
                        &message_id,
                        &propagation_source,
                        gossipsub::MessageAcceptance::Ignore,
                    );
                Some(RelayEvent::Message)
            }
            SwarmEvent::Behaviour(RelayBehaviourEvent::Metadata(
                request_response::Event::Message {
                    message:
                        request_response::Message::Request {
                            request, channel, ..
                        },
                    ..
                },
            )) => {
                let _ = self
                    .swarm
                    .behaviour_mut()
                    .metadata
                    .send_response(channel, request);
                None
            }
            _ => None,
        }
    }
}
