//! The relay monitor of a crawl: a gossipsub observer on `/vac/waku/relay/2.0.0` that keeps
//! up to K long-lived connections to vetted relay peers of the crawl's cluster, subscribes
//! to the crawl's pubsub topics and counts every message it receives.
//!
//! It runs its own swarm, apart from the dialer's, so visits that disconnect never touch
//! relay connections. It serves Waku metadata (echoing the requester's cluster, as the
//! dialer does), identify and ping, since nwaku checks all three on its peers. A dropped
//! connection is replaced from the candidates the crawl offers.

use std::collections::{HashMap, HashSet, VecDeque};
use std::time::Duration;

use futures::StreamExt;
use libp2p::swarm::dial_opts::{DialOpts, PeerCondition};
use libp2p::swarm::{NetworkBehaviour, SwarmEvent};
use libp2p::{gossipsub, identify, identity, ping, request_response, Multiaddr, PeerId};

use super::dialer::tcp_transport;
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
    messages: u64,
}

impl RelayMonitor {
    /// Starts the swarm and subscribes to the topics.
    pub fn new(
        config: RelayConfig,
        counter: MessageCounter,
        metrics: Metrics,
    ) -> Result<RelayMonitor, String> {
        let dial_timeout = config.dial_timeout;
        let agent = config.agent_version.clone();
        let mut swarm =
            libp2p::SwarmBuilder::with_existing_identity(identity::Keypair::generate_secp256k1())
                .with_tokio()
                .with_other_transport(|key| tcp_transport(key, dial_timeout))
                .map_err(|e| e.to_string())?
                .with_behaviour(|key| {
                    Ok(RelayBehaviour {
                        gossipsub: gossipsub_behaviour(true)?,
                        identify: identify::Behaviour::new(
                            identify::Config::new("peerscope/1".into(), key.public())
                                .with_agent_version(agent)
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
                    })
                })
                .map_err(|e| e.to_string())?
                .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(120)))
                .build();
        for t in &config.topics {
            swarm
                .behaviour_mut()
                .gossipsub
                .subscribe(&gossipsub::IdentTopic::new(t.clone()))
                .map_err(|e| format!("subscribing to {t}: {e}"))?;
        }
        Ok(RelayMonitor {
            swarm,
            config,
            counter,
            metrics,
            connected: HashSet::new(),
            dialing: HashSet::new(),
            candidates: VecDeque::new(),
            offered: HashMap::new(),
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
        self.offered.insert(peer, addrs.clone());
        self.candidates.push_back((peer, addrs));
        self.fill();
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
            }
        }
    }

    /// Drives the swarm; returns when something worth reporting happened. Cancel-safe.
    pub async fn next(&mut self) -> RelayEvent {
        loop {
            let ev = self.swarm.select_next_some().await;
            if let Some(out) = self.on_swarm(ev) {
                return out;
            }
        }
    }

    fn on_swarm(&mut self, ev: SwarmEvent<RelayBehaviourEvent>) -> Option<RelayEvent> {
        match ev {
            SwarmEvent::ConnectionEstablished { peer_id, .. } => {
                self.dialing.remove(&peer_id);
                self.connected.insert(peer_id);
                Some(RelayEvent::Changed)
            }
            SwarmEvent::OutgoingConnectionError {
                peer_id: Some(peer),
                ..
            } => {
                self.dialing.remove(&peer);
                self.offered.remove(&peer);
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
                self.counter.record_message(
                    &message_id.0,
                    pubsub,
                    decoded.as_ref().map(|m| m.content_topic.as_str()),
                    message.data.len() as u64,
                    now_millis(),
                );
                self.messages += 1;
                self.metrics.relay_message(pubsub);
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
