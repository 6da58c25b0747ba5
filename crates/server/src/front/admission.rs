//! Which connections the listen port takes (`docs/decisions.md`, "Connections").
//!
//! Every accepted connection needs a ticket for as long as its socket is open, WebSocket
//! included. At most `max_connections` are open at once and at most `max_connections_per_peer`
//! per peer IP address; a connection over either cap is closed as soon as it is accepted. The
//! last `reserved_connections` tickets are of the reserve class: the HTTP layer serves only
//! WebSocket upgrades (SDK and agent) and health checks on them, so clients holding the API
//! share of the budget cannot lock game servers and health checks out.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::config::Config;

/// The connection budget of the listen port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Connections open at once.
    pub max_connections: usize,
    /// Connections one peer IP address may hold open.
    pub max_per_peer: usize,
    /// Connections, within `max_connections`, that API requests may not use.
    pub reserved: usize,
}

/// Why the configured limits cannot work.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LimitsError {
    /// A cap of zero would refuse every connection.
    #[error("max_connections and max_connections_per_peer must be at least 1")]
    Zero,
    /// The reserve would leave nothing for API requests.
    #[error("reserved_connections ({reserved}) must be below max_connections ({max})")]
    ReserveTooLarge {
        /// The configured reserve.
        reserved: usize,
        /// The configured total.
        max: usize,
    },
}

impl Limits {
    /// The limits `config` sets, checked.
    pub fn from_config(config: &Config) -> Result<Self, LimitsError> {
        let limits = Limits {
            max_connections: config.max_connections,
            max_per_peer: config.max_connections_per_peer,
            reserved: config.reserved_connections,
        };
        if limits.max_connections == 0 || limits.max_per_peer == 0 {
            return Err(LimitsError::Zero);
        }
        if limits.reserved >= limits.max_connections {
            return Err(LimitsError::ReserveTooLarge { reserved: limits.reserved, max: limits.max_connections });
        }
        Ok(limits)
    }
}

/// What a connection's requests may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Class {
    /// Anything.
    General,
    /// WebSocket upgrades and health checks only; the connection holds a reserved ticket.
    Reserve,
}

/// Why a connection was not taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refused {
    /// `max_connections` are open.
    Full,
    /// The peer holds `max_per_peer` connections.
    PeerFull,
}

#[derive(Debug, Default)]
struct Counts {
    open: usize,
    general: usize,
    peers: HashMap<IpAddr, usize>,
}

/// The shared counters of open connections.
#[derive(Debug)]
pub struct Admission {
    limits: Limits,
    counts: Mutex<Counts>,
}

impl Admission {
    /// No connection open yet.
    pub fn new(limits: Limits) -> Arc<Self> {
        Arc::new(Admission { limits, counts: Mutex::default() })
    }

    fn counts(&self) -> MutexGuard<'_, Counts> {
        // The counters stay consistent even if a holder panicked: each update is one step.
        self.counts.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A ticket for a connection from `peer`, or why there is none.
    pub(crate) fn admit(self: &Arc<Self>, peer: IpAddr) -> Result<Ticket, Refused> {
        let peer = peer.to_canonical();
        let mut counts = self.counts();
        if counts.open >= self.limits.max_connections {
            return Err(Refused::Full);
        }
        let held = counts.peers.get(&peer).copied().unwrap_or(0);
        if held >= self.limits.max_per_peer {
            return Err(Refused::PeerFull);
        }
        let class = if counts.general < self.limits.max_connections - self.limits.reserved {
            counts.general += 1;
            Class::General
        } else {
            Class::Reserve
        };
        counts.open += 1;
        counts.peers.insert(peer, held + 1);
        Ok(Ticket { admission: self.clone(), peer, class })
    }

    /// Connections open now.
    pub fn open(&self) -> usize {
        self.counts().open
    }
}

/// One open connection's place in the budget, given back when dropped.
#[derive(Debug)]
pub(crate) struct Ticket {
    admission: Arc<Admission>,
    peer: IpAddr,
    class: Class,
}

impl Ticket {
    /// What the connection's requests may be.
    pub(crate) fn class(&self) -> Class {
        self.class
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let mut counts = self.admission.counts();
        counts.open -= 1;
        if self.class == Class::General {
            counts.general -= 1;
        }
        if let Some(held) = counts.peers.get_mut(&self.peer) {
            *held -= 1;
            if *held == 0 {
                counts.peers.remove(&self.peer);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn admission(max_connections: usize, max_per_peer: usize, reserved: usize) -> Arc<Admission> {
        Admission::new(Limits { max_connections, max_per_peer, reserved })
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn the_last_tickets_are_reserved_and_the_total_is_capped() {
        let admission = admission(4, 10, 1);
        let tickets: Vec<_> = (0..3).map(|_| admission.admit(ip("10.0.0.1")).unwrap()).collect();
        assert!(tickets.iter().all(|t| t.class() == Class::General));
        let reserve = admission.admit(ip("10.0.0.2")).unwrap();
        assert_eq!(reserve.class(), Class::Reserve);
        assert_eq!(admission.admit(ip("10.0.0.3")).unwrap_err(), Refused::Full);
        drop(tickets);
        assert_eq!(admission.admit(ip("10.0.0.3")).unwrap().class(), Class::General);
        drop(reserve);
        assert_eq!(admission.open(), 0);
    }

    #[test]
    fn one_peer_is_capped_and_an_ipv4_mapped_address_is_the_same_peer() {
        let admission = admission(10, 2, 0);
        let _a = admission.admit(ip("192.0.2.7")).unwrap();
        let b = admission.admit(ip("::ffff:192.0.2.7")).unwrap();
        assert_eq!(admission.admit(ip("192.0.2.7")).unwrap_err(), Refused::PeerFull);
        let _other = admission.admit(ip("192.0.2.8")).unwrap();
        drop(b);
        let _c = admission.admit(ip("192.0.2.7")).unwrap();
        assert_eq!(admission.open(), 3);
    }

    #[test]
    fn limits_must_leave_room_for_api_requests() {
        let config = |max, per_peer, reserved| Config {
            max_connections: max,
            max_connections_per_peer: per_peer,
            reserved_connections: reserved,
            ..Config::new("127.0.0.1:0".parse().unwrap(), "/tmp".into())
        };
        assert_eq!(
            Limits::from_config(&config(10, 5, 2)),
            Ok(Limits { max_connections: 10, max_per_peer: 5, reserved: 2 })
        );
        assert_eq!(Limits::from_config(&config(10, 0, 2)), Err(LimitsError::Zero));
        assert_eq!(
            Limits::from_config(&config(10, 5, 10)),
            Err(LimitsError::ReserveTooLarge { reserved: 10, max: 10 })
        );
    }
}
