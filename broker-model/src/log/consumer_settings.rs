//! The consumers' settings: where they start reading, how they get their
//! partitions, and when they commit, named after the Kafka client settings
//! they model.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Where a consumer starts when its group has no valid committed offset
/// (`auto.offset.reset`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum OffsetReset {
    /// The oldest record still in the log.
    Earliest,
    /// The log's end: whatever was there before is skipped.
    Latest,
    /// Neither: the consumer is told (Kafka throws
    /// `NoOffsetForPartitionException` or `OffsetOutOfRangeException`) and
    /// stops reading the partition, skipping nothing silently.
    None,
}

/// The consumer group's committed offsets before its consumers first ask
/// for them.
///
/// A group that never ran has none, and `auto.offset.reset` decides where
/// it starts. Operators often set them before deploying a consumer
/// (`kafka-consumer-groups.sh --reset-offsets --to-earliest --execute`),
/// typically together with `auto.offset.reset = none`, so that the
/// consumer starts where they chose and any later invalid position stops
/// it instead of moving it silently.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum GroupOffsets {
    /// A new group: nothing committed.
    #[default]
    New,
    /// `--to-earliest`: each partition's log start, committed when the
    /// consumers are deployed.
    ToEarliest,
    /// `--to-latest`: each partition's log end, committed when the
    /// consumers are deployed; whatever was produced before is skipped.
    ToLatest,
}

/// How consumers get their partitions.
///
/// `Assign` stays the default so that every scenario written before
/// consumer groups existed, and every guarantee-matrix row built on them,
/// keeps its exact history.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Subscription {
    /// `KafkaConsumer.assign()`: consumer `i` of `n` reads the partitions
    /// `p` with `p % n == i - 1`, for ever, whoever else is alive.
    #[default]
    Assign,
    /// `KafkaConsumer.subscribe()`: the consumers join a group whose
    /// coordinator shares the partitions among the live members and moves
    /// them when one joins, leaves or dies.
    Subscribe,
}

/// `partition.assignment.strategy`: how the group shares partitions.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum AssignmentStrategy {
    /// `RangeAssignor`, Kafka's default: each member, in member-id order,
    /// takes a contiguous range, the first ones one more when the
    /// partitions do not divide evenly.
    #[default]
    Range,
    /// `RoundRobinAssignor`: partitions dealt out one at a time to the
    /// members in member-id order.
    RoundRobin,
    /// `CooperativeStickyAssignor` (incremental rebalancing, KIP-429):
    /// members keep their partitions through a rebalance; only those that
    /// move are revoked, and assigned to their new owner in a second one.
    CooperativeSticky,
}

/// When the application commits with `enable.auto.commit = false`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum CommitPolicy {
    /// Each record's position once the application has processed it.
    #[default]
    AfterProcessing,
    /// The polled position as soon as `poll` returns, before processing
    /// (`commitSync()` right after `poll()`): a common bug.
    BeforeProcessing,
}

/// The consumer group settings (`subscription = "subscribe"` only).
///
/// Kafka's defaults divided by 100, like the model's other times, so that
/// a run sees rebalances within a few simulated seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GroupSettings {
    /// `partition.assignment.strategy`.
    pub strategy: AssignmentStrategy,
    /// `session.timeout.ms` (Kafka 45000): a member the coordinator has
    /// not heard from for this long is removed and its partitions move.
    pub session_timeout: Duration,
    /// `heartbeat.interval.ms` (Kafka 3000): how often a member tells the
    /// coordinator it is alive, and learns of a rebalance.
    pub heartbeat_interval: Duration,
    /// `max.poll.interval.ms` (Kafka 300000): a consumer whose application
    /// has not come back for more records within this leaves the group;
    /// also the rebalance timeout members send with JoinGroup.
    pub max_poll_interval: Duration,
    /// The application's `ConsumerRebalanceListener.onPartitionsRevoked`
    /// commits what it has processed of the partitions it gives up.
    pub commit_on_revoke: bool,
}

impl Default for GroupSettings {
    fn default() -> Self {
        GroupSettings {
            strategy: AssignmentStrategy::Range,
            session_timeout: Duration::from_millis(450),
            heartbeat_interval: Duration::from_millis(30),
            max_poll_interval: Duration::from_millis(3000),
            commit_on_revoke: false,
        }
    }
}
