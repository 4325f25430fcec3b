//! RabbitMQ's `x-death` header, as far as the model carries it: why a
//! message was dead-lettered and from which queue, so that the consumer of
//! the dead-letter queue can tell it from a message published there.

use serde::{Deserialize, Serialize};

use crate::history::DropReason;

/// Why and where a message was dead-lettered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct DeadLetter {
    /// What removed it from its queue (`x-death`'s `reason`).
    pub(crate) reason: DropReason,
    /// The queue it was dead-lettered from (`x-death`'s `queue`).
    pub(crate) queue: u32,
}
