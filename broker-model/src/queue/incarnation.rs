//! Which run of a node's software said something.

use serde::{Deserialize, Serialize};

/// One run of a node's software. `vm` changes when the process restarts;
/// `app` changes when the broker application restarts inside a running
/// process (as `pause_minority` and `autoheal` do). Peers use it to tell a
/// restart from a partition.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub(crate) struct Incarnation {
    /// Simulated time the process started, in microseconds.
    pub(crate) vm: u64,
    /// Count of application starts within this process.
    pub(crate) app: u32,
}
