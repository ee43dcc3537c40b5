//! The libp2p host every testnet node runs on loopback.

use std::time::Duration;

use futures::StreamExt;
use libp2p::swarm::{NetworkBehaviour, SwarmEvent};
use libp2p::{identity, noise, tcp, yamux, Multiaddr};

/// A testnet libp2p host (TCP + Noise + Yamux, connections kept 30 s when idle) with the
/// behaviour `make` builds, listening on 127.0.0.1:`port` (0: any free port); returns it with
/// its port once the listener is up.
pub async fn loopback_host<B: NetworkBehaviour>(
    key: identity::Keypair,
    port: u16,
    make: impl FnOnce(&identity::Keypair) -> B,
) -> Result<(libp2p::Swarm<B>, u16), String> {
    let mut swarm = libp2p::SwarmBuilder::with_existing_identity(key)
        .with_tokio()
        .with_tcp(
            tcp::Config::default().nodelay(true),
            noise::Config::new,
            yamux::Config::default,
        )
        .map_err(|e| e.to_string())?
        .with_behaviour(make)
        .map_err(|e| e.to_string())?
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(30)))
        .build();
    swarm
        .listen_on(
            format!("/ip4/127.0.0.1/tcp/{port}")
                .parse::<Multiaddr>()
                .expect("valid multiaddr"),
        )
        .map_err(|e| e.to_string())?;
    loop {
        match tokio::time::timeout(Duration::from_secs(5), swarm.select_next_some()).await {
            Ok(SwarmEvent::NewListenAddr { address, .. }) => {
                if let Some(libp2p::multiaddr::Protocol::Tcp(p)) = address.iter().nth(1) {
                    return Ok((swarm, p));
                }
            }
            Ok(_) => {}
            Err(_) => return Err("the TCP listener did not come up".into()),
        }
    }
}
