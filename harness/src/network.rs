//! The simulated network's normal state, which a scenario sets and the
//! fault injector returns every link to when a delay heals.

use std::time::Duration;

/// Simulated network latency between any two hosts.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Network {
    /// The least latency of a datagram.
    pub min_latency: Duration,
    /// The most latency of a datagram.
    pub max_latency: Duration,
}

impl Default for Network {
    fn default() -> Self {
        Network {
            min_latency: Duration::from_millis(1),
            max_latency: Duration::from_millis(5),
        }
    }
}
