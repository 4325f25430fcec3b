//! Why things happened that no fault did: a broker dropping messages, a
//! controller choosing a leader.

use serde::{Deserialize, Serialize};

/// Why a broker dropped messages no fault took.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DropReason {
    /// `retention.ms` or `retention.bytes` deleted the segment holding them.
    Retention,
    /// A queue's `max-length` or `max-length-bytes` was reached: with
    /// `overflow = drop-head` the oldest ready messages made room, with
    /// `reject-publish` the new message was refused.
    Overflow,
    /// They stayed in the queue longer than its `message-ttl`.
    Expired,
    /// Their queue went unused for its `expires` and was deleted, or they
    /// were published to it after that.
    QueueExpired,
    /// A queue dead-lettered them and the republish reached no queue: no
    /// binding matched, the target had no master or leader, or it refused
    /// them; at-most-once dead-lettering does not try again.
    DeadLetterFailed,
    /// An exchange found no queue to route them to (no binding matched and
    /// no alternate exchange took them).
    Unroutable,
    /// A quorum queue's `delivery-limit`: the message was returned to the
    /// queue (rejected with `requeue = true`, or held by a consumer that
    /// died) more times than the limit.
    DeliveryLimit,
    /// Their queue's node was down: a classic queue (not mirrored) lives on
    /// one node, and while that node is down a publish to the queue routes
    /// to no live queue, which RabbitMQ confirms as unroutable ("the broker
    /// will issue a confirm once the exchange verifies a message won't
    /// route to any queue"), or returns first with `mandatory`.
    QueueDown,
}

impl DropReason {
    /// The reason as histories name it.
    pub fn name(self) -> &'static str {
        match self {
            DropReason::Retention => "retention",
            DropReason::Overflow => "overflow",
            DropReason::Expired => "expired",
            DropReason::QueueExpired => "queue_expired",
            DropReason::Unroutable => "unroutable",
            DropReason::DeadLetterFailed => "dead_letter_failed",
            DropReason::DeliveryLimit => "delivery_limit",
            DropReason::QueueDown => "queue_down",
        }
    }
}

/// Where an elected leader came from, as KIP-966's elections choose it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LeaderSource {
    /// An in-sync replica.
    Isr,
    /// An eligible leader replica, the in-sync set being empty.
    Elr,
    /// The last known leader, neither set having a live member: as before
    /// KIP-966 when every replica was offline.
    LastKnownLeader,
    /// Any live replica (`unclean.leader.election.enable`).
    Unclean,
}

impl LeaderSource {
    /// The name elections go by in histories.
    pub fn name(self) -> &'static str {
        match self {
            LeaderSource::Isr => "isr",
            LeaderSource::Elr => "elr",
            LeaderSource::LastKnownLeader => "last_known_leader",
            LeaderSource::Unclean => "unclean",
        }
    }

    /// Whether the leader may lack committed records, as Kafka's election
    /// result flags it.
    pub fn is_unclean(self) -> bool {
        matches!(self, LeaderSource::LastKnownLeader | LeaderSource::Unclean)
    }
}
