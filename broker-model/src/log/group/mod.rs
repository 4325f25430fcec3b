//! Consumer groups as Kafka's group coordinator runs them: members join,
//! the coordinator waits for every known member to rejoin, bumps the
//! generation and hands out the partitions; heartbeats keep members in and
//! tell them of the next rebalance.
//!
//! - `assign`: the assignment strategies, free of I/O.
//! - `state`: the coordinator's state machine for one group, free of I/O.

pub(crate) mod assign;
pub(crate) mod state;

/// A member's id. The model lets each consumer process name itself, as a
/// KIP-345 static member does, rather than have the coordinator hand one
/// out (KIP-394); nothing depends on who picks it.
pub(crate) type MemberId = String;

/// The consumer group every consumer belongs to.
pub(crate) const GROUP: &str = "mqsim";
