//! RabbitMQ's `x-death` header, reduced to what the model needs: why a
//! message was dead-lettered and from which queue. A message carrying it
//! was republished to a dead-letter exchange by the queue that gave up on
//! it, so a consumer that processes it processes it from a dead-letter
//! queue, not from the queue it was published to.

use serde::{Deserialize, Serialize};

use crate::history::DropReason;
use crate::queue::names::QueueId;

/// Why and where a message was dead-lettered (the first `x-death` entry).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct DeadLetter {
    /// What made its queue give up on it (`x-death`'s `reason`:
    /// `expired`, `maxlen`, `delivery_limit`, …).
    pub(crate) reason: DropReason,
    /// The queue it was dead-lettered from (`x-death`'s `queue`).
    pub(crate) queue: QueueId,
}
