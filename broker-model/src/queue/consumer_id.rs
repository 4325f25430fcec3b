//! Who a queue's deliveries go to.

use serde::{Deserialize, Serialize};

/// A consumer's identity: one subscription (`basic.consume`) on one AMQP
/// connection of one consumer process.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub(crate) struct ConsumerId {
    /// The consumer's host.
    pub(crate) host: String,
    /// Its process run.
    pub(crate) incarnation: u64,
    /// Its connection count within that run.
    pub(crate) connection: u32,
    /// Its subscription count on that connection (it subscribes again when
    /// the queue cancels it).
    pub(crate) subscription: u32,
}

impl ConsumerId {
    /// Whether `self` is a later subscription of the same consumer host,
    /// which means the broker may close `earlier`.
    pub(crate) fn supersedes(&self, earlier: &ConsumerId) -> bool {
        self.host == earlier.host
            && (self.incarnation, self.connection, self.subscription)
                > (
                    earlier.incarnation,
                    earlier.connection,
                    earlier.subscription,
                )
    }
}
