//! Which fault classes of the guarantee matrix an audit runs against a
//! configuration, and why: a fault class is run when the configuration has
//! something that class can hit, so that every class the audit reports on
//! is one that could lose a message there.

use broker_model::log::{LogConfig, OffsetReset, Subscription};
use broker_model::queue::{AckMode, QueueConfig, QueueType};

use crate::guarantees::FaultClass;
use crate::scenario::System;

/// Whether a fault class is run against a configuration, with the reason
/// in words for the report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Applicability {
    /// The class is run.
    Applies(String),
    /// The class is not run: nothing in the configuration it could hit.
    DoesNotApply(String),
}

fn yes(why: &str) -> Applicability {
    Applicability::Applies(why.to_string())
}

fn no(why: &str) -> Applicability {
    Applicability::DoesNotApply(why.to_string())
}

fn when(cond: bool, applies: &str, not: &str) -> Applicability {
    if cond {
        yes(applies)
    } else {
        no(not)
    }
}

/// Whether `class` is run against `system`.
pub fn applies(class: FaultClass, system: &System) -> Applicability {
    match system {
        System::Log(c) => log(class, c),
        System::Queue(c) => queue(class, c),
    }
}

fn log(class: FaultClass, c: &LogConfig) -> Applicability {
    use FaultClass::*;
    let replicated = c.replication_factor > 1;
    match class {
        BrokerCrash | Partition | MessageDrop | PowerLossAll | ConsumerCrash => {
            yes("every cluster has brokers, links and consumers to fail")
        }
        LeaderCrashBeforeSync | LeaderCrashWhileReplicaOutOfSync | LastReplicaPowerLoss => when(
            replicated,
            "the partition has followers a leader can run ahead of",
            "replication.factor = 1: no follower to fall behind",
        ),
        ConsumerCrashWithRebalance => when(
            c.subscription == Subscription::Subscribe,
            "consumers subscribe as a group, which rebalances when one dies",
            "consumers assign their partitions: no group to rebalance",
        ),
        MissingBinding => no("a topic has no bindings"),
        PoisonMessage => no(
            "a Kafka consumer has no per-record reject: a record it cannot process is its \
             application's business",
        ),
        SlowConsumer => when(
            c.retention.retention_ms.is_some() || c.retention.retention_bytes.is_some(),
            "retention deletes segments whatever consumers have read",
            "retention.ms = -1 and retention.bytes = -1: nothing is deleted",
        ),
        LateConsumer => {
            let why = if c.auto_offset_reset == OffsetReset::Earliest {
                "a new group starts at auto.offset.reset, against what retention kept"
            } else {
                "a new group starts at auto.offset.reset, skipping what was there"
            };
            yes(why)
        }
    }
}

fn queue(class: FaultClass, c: &QueueConfig) -> Applicability {
    use FaultClass::*;
    let replicated = c.queue_type != QueueType::Classic;
    let limited = c.limits.max_length.is_some()
        || c.limits.max_length_bytes.is_some()
        || c.limits.message_ttl.is_some()
        || c.limits.expires.is_some();
    match class {
        BrokerCrash | MessageDrop | PowerLossAll | ConsumerCrash => {
            yes("every cluster has nodes, links and consumers to fail")
        }
        Partition => when(
            c.nodes > 1,
            "a cluster of several nodes can be split",
            "one node: nothing to partition",
        ),
        LeaderCrashBeforeSync | LeaderCrashWhileReplicaOutOfSync => when(
            replicated,
            "the queue has replicas a leader can run ahead of",
            "a classic queue has no replica to fall behind",
        ),
        LastReplicaPowerLoss => no("KIP-966's last replica is a Kafka case"),
        ConsumerCrashWithRebalance => no("queues have no consumer group to rebalance"),
        MissingBinding => when(
            c.topology.exchange.is_some() && !c.topology.bindings.is_empty(),
            "publishers publish to an exchange that routes by its bindings",
            "publishers publish to the default exchange: no binding to miss",
        ),
        PoisonMessage => when(
            c.limits.delivery_limit.is_some() || c.ack == AckMode::Auto,
            "a message rejected again and again meets the delivery limit or automatic acks",
            "no delivery limit and manual acks: a rejected message stays in the queue",
        ),
        SlowConsumer | LateConsumer => when(
            limited,
            "a length limit or TTL bounds what waits for consumers",
            "no length limit or TTL: the queue keeps what waits",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_topic_without_followers_is_not_probed_for_leader_crashes_before_sync() {
        let c = LogConfig {
            replication_factor: 1,
            ..LogConfig::default()
        };
        assert!(matches!(
            applies(FaultClass::LeaderCrashBeforeSync, &System::Log(c.clone())),
            Applicability::DoesNotApply(_)
        ));
        assert!(matches!(
            applies(FaultClass::BrokerCrash, &System::Log(c)),
            Applicability::Applies(_)
        ));
    }

    #[test]
    fn a_queue_without_limits_is_not_probed_with_slow_consumers() {
        let mut c = QueueConfig::default();
        assert!(matches!(
            applies(FaultClass::SlowConsumer, &System::Queue(c.clone())),
            Applicability::DoesNotApply(_)
        ));
        c.limits.message_ttl = Some(std::time::Duration::from_secs(1));
        assert!(matches!(
            applies(FaultClass::SlowConsumer, &System::Queue(c)),
            Applicability::Applies(_)
        ));
    }
}
