//! The table of known cures: single setting changes, each named as the real
//! system names it, that the Kafka and RabbitMQ documentation give for the
//! losses the matrix shows. A cure applies to a configuration when it
//! changes something there and the result is one the broker accepts; it is
//! only ever *listed as verified* once re-running the fault class with it
//! loses nothing (see `engine`).

use broker_model::log::{Acks, CommitPolicy, EligibleLeaderReplicas, OffsetReset, Subscription};
use broker_model::queue::{
    AckMode, Binding, DeadLetterStrategy, Exchange, ExchangeType, Overflow, PartitionHandling,
    Promote, PublishMode, QueueType,
};

use crate::scenario::System;

/// One setting change, as applied to one configuration.
#[derive(Clone, Debug, PartialEq)]
pub struct Change {
    /// The setting, as the user's files name it.
    pub setting: String,
    /// Its value now.
    pub from: String,
    /// Its value with the cure.
    pub to: String,
    /// The configuration with the cure.
    pub system: System,
}

/// A known cure.
struct Cure {
    /// The names the setting goes by, the real system's first (a queue
    /// argument `x-overflow`, a policy key `overflow`, a client key).
    names: &'static [&'static str],
    /// The changed value and configuration, when the cure changes
    /// something.
    change: fn(&System) -> Option<(String, String, System)>,
}

fn log(
    s: &System,
    edit: impl FnOnce(&mut broker_model::log::LogConfig) -> Option<(String, String)>,
) -> Option<(String, String, System)> {
    let System::Log(c) = s else { return None };
    let mut c = c.clone();
    let (from, to) = edit(&mut c)?;
    Some((from, to, System::Log(c)))
}

fn queue(
    s: &System,
    edit: impl FnOnce(&mut broker_model::queue::QueueConfig) -> Option<(String, String)>,
) -> Option<(String, String, System)> {
    let System::Queue(c) = s else { return None };
    let mut c = c.clone();
    let (from, to) = edit(&mut c)?;
    Some((from, to, System::Queue(c)))
}

fn pair(from: impl ToString, to: impl ToString) -> Option<(String, String)> {
    Some((from.to_string(), to.to_string()))
}

fn acks_name(a: Acks) -> &'static str {
    match a {
        Acks::None => "0",
        Acks::Leader => "1",
        Acks::All => "all",
    }
}

/// The table, Kafka's cures first.
const CURES: &[Cure] = &[
    Cure {
        names: &["acks"],
        change: |s| {
            log(s, |c| {
                let from = c.acks;
                (from != Acks::All).then(|| c.acks = Acks::All)?;
                pair(acks_name(from), "all")
            })
        },
    },
    Cure {
        names: &["min.insync.replicas"],
        change: |s| {
            log(s, |c| {
                let from = c.min_insync_replicas;
                (from < 2 && c.replication_factor >= 3).then(|| c.min_insync_replicas = 2)?;
                pair(from, 2)
            })
        },
    },
    Cure {
        names: &["replication.factor", "default.replication.factor"],
        change: |s| {
            log(s, |c| {
                let from = c.replication_factor;
                (from < 3 && c.brokers >= 3).then(|| c.replication_factor = 3)?;
                pair(from, 3)
            })
        },
    },
    Cure {
        names: &["unclean.leader.election.enable"],
        change: |s| {
            log(s, |c| {
                c.unclean_leader_election
                    .then(|| c.unclean_leader_election = false)?;
                pair(true, false)
            })
        },
    },
    Cure {
        names: &["log.flush.interval.messages", "flush.messages"],
        change: |s| {
            log(s, |c| {
                let from = c.flush_interval_messages;
                (from != Some(1)).then(|| c.flush_interval_messages = Some(1))?;
                pair(from.map_or(i64::MAX.to_string(), |n| n.to_string()), 1)
            })
        },
    },
    Cure {
        names: &["eligible.leader.replicas.version"],
        change: |s| {
            log(s, |c| {
                (c.eligible_leader_replicas == EligibleLeaderReplicas::Disabled)
                    .then(|| c.eligible_leader_replicas = EligibleLeaderReplicas::Enabled)?;
                pair(0, 1)
            })
        },
    },
    Cure {
        names: &["enable.auto.commit"],
        change: |s| {
            log(s, |c| {
                c.enable_auto_commit.then(|| {
                    c.enable_auto_commit = false;
                    c.commit = CommitPolicy::AfterProcessing;
                })?;
                pair(true, false)
            })
        },
    },
    Cure {
        names: &["commit"],
        change: |s| {
            log(s, |c| {
                (!c.enable_auto_commit && c.commit == CommitPolicy::BeforeProcessing)
                    .then(|| c.commit = CommitPolicy::AfterProcessing)?;
                pair("before-processing", "after-processing")
            })
        },
    },
    Cure {
        names: &["commit.on.revoke"],
        change: |s| {
            log(s, |c| {
                (c.subscription == Subscription::Subscribe && !c.group.commit_on_revoke)
                    .then(|| c.group.commit_on_revoke = true)?;
                pair(false, true)
            })
        },
    },
    Cure {
        names: &["auto.offset.reset"],
        change: |s| {
            log(s, |c| {
                let from = match c.auto_offset_reset {
                    OffsetReset::Earliest => return None,
                    OffsetReset::Latest => "latest",
                    OffsetReset::None => "none",
                };
                c.auto_offset_reset = OffsetReset::Earliest;
                pair(from, "earliest")
            })
        },
    },
    Cure {
        names: &["retention.ms", "log.retention.ms"],
        change: |s| {
            log(s, |c| {
                let from = c.retention.retention_ms.take()?;
                pair(from.as_millis(), -1)
            })
        },
    },
    Cure {
        names: &["retention.bytes", "log.retention.bytes"],
        change: |s| {
            log(s, |c| {
                let from = c.retention.retention_bytes.take()?;
                pair(from, -1)
            })
        },
    },
    Cure {
        names: &["enable.idempotence"],
        change: |s| {
            log(s, |c| {
                (!c.enable_idempotence).then(|| c.enable_idempotence = true)?;
                pair(false, true)
            })
        },
    },
    Cure {
        names: &["durable"],
        change: |s| {
            queue(s, |c| {
                (!c.durable).then(|| c.durable = true)?;
                pair(false, true)
            })
        },
    },
    Cure {
        names: &["persistent", "delivery_mode"],
        change: |s| {
            queue(s, |c| {
                (!c.persistent).then(|| c.persistent = true)?;
                pair(false, true)
            })
        },
    },
    Cure {
        names: &["publish_mode"],
        change: |s| {
            queue(s, |c| {
                let from = match c.publish_mode {
                    PublishMode::Confirm => return None,
                    PublishMode::FireAndForget => "fire-and-forget",
                    PublishMode::Transaction => "transaction",
                };
                c.publish_mode = PublishMode::Confirm;
                pair(from, "confirm")
            })
        },
    },
    Cure {
        names: &["mandatory"],
        change: |s| {
            queue(s, |c| {
                // A returned message is one the publisher publishes again:
                // a missing binding, or a classic queue whose node is down
                // (routed to no queue either way), on any exchange.
                let waits = c.publish_mode != PublishMode::FireAndForget;
                (waits && !c.topology.mandatory).then(|| c.topology.mandatory = true)?;
                pair(false, true)
            })
        },
    },
    Cure {
        names: &["alternate-exchange"],
        change: |s| {
            queue(s, |c| {
                let name = c.topology.exchange.clone()?;
                let index = c.topology.exchanges.iter().position(|x| x.name == name)?;
                if c.topology.exchanges[index].alternate_exchange.is_some() {
                    return None;
                }
                c.topology.exchanges[index].alternate_exchange = Some("unrouted".into());
                c.topology.exchanges.push(Exchange {
                    name: "unrouted".into(),
                    kind: ExchangeType::Fanout,
                    alternate_exchange: None,
                });
                c.topology.bindings.push(Binding {
                    exchange: "unrouted".into(),
                    queue: c.queues,
                    routing_key: String::new(),
                });
                c.queues += 1;
                pair("none", "unrouted (a fanout bound to a consumed queue)")
            })
        },
    },
    Cure {
        names: &["x-overflow", "overflow"],
        change: |s| {
            queue(s, |c| {
                (c.limits.bounded() && c.limits.overflow == Overflow::DropHead)
                    .then(|| c.limits.overflow = Overflow::RejectPublish)?;
                pair("drop-head", "reject-publish")
            })
        },
    },
    Cure {
        names: &["x-message-ttl", "message-ttl"],
        change: |s| {
            queue(s, |c| {
                let from = c.limits.message_ttl.take()?;
                pair(from.as_millis(), "none")
            })
        },
    },
    Cure {
        names: &["x-queue-type", "queue_type"],
        change: |s| {
            queue(s, |c| {
                let from = match c.queue_type {
                    QueueType::Quorum => return None,
                    QueueType::Classic => "classic",
                    QueueType::Mirrored => "classic (mirrored)",
                };
                // Quorum queues are durable by definition: RabbitMQ refuses
                // to declare one otherwise.
                c.queue_type = QueueType::Quorum;
                c.durable = true;
                pair(from, "quorum")
            })
        },
    },
    Cure {
        names: &["ha-promote-on-failure"],
        change: |s| {
            queue(s, |c| {
                (c.queue_type == QueueType::Mirrored && c.ha_promote_on_failure == Promote::Always)
                    .then(|| c.ha_promote_on_failure = Promote::WhenSynced)?;
                pair("always", "when-synced")
            })
        },
    },
    Cure {
        names: &["cluster_partition_handling"],
        change: |s| {
            queue(s, |c| {
                let from = match c.partition_handling {
                    PartitionHandling::PauseMinority => return None,
                    _ if c.nodes < 3 => return None,
                    PartitionHandling::Ignore => "ignore",
                    PartitionHandling::Autoheal => "autoheal",
                };
                c.partition_handling = PartitionHandling::PauseMinority;
                pair(from, "pause_minority")
            })
        },
    },
    Cure {
        names: &["ack"],
        change: |s| {
            queue(s, |c| {
                (c.ack == AckMode::Auto).then(|| c.ack = AckMode::Manual)?;
                pair("auto", "manual")
            })
        },
    },
    Cure {
        names: &["x-delivery-limit", "delivery-limit"],
        change: |s| {
            queue(s, |c| {
                let from = c.limits.delivery_limit.take()?;
                pair(from, -1)
            })
        },
    },
    Cure {
        names: &["x-dead-letter-strategy", "dead-letter-strategy"],
        change: |s| {
            queue(s, |c| {
                (c.dead_lettering.exchange.is_some()
                    && c.dead_lettering.strategy == DeadLetterStrategy::AtMostOnce)
                    .then(|| c.dead_lettering.strategy = DeadLetterStrategy::AtLeastOnce)?;
                pair("at-most-once", "at-least-once")
            })
        },
    },
];

fn valid(system: &System) -> bool {
    match system {
        System::Log(c) => c.validate().is_ok(),
        System::Queue(c) => c.validate().is_ok(),
    }
}

/// Every known cure that changes `system` into a configuration the broker
/// accepts, in table order. `names` are the keys the user's files use: a
/// cure is named by the first of its names among them, else by the real
/// system's own.
pub fn cures(system: &System, names: &[&str]) -> Vec<Change> {
    CURES
        .iter()
        .filter_map(|cure| {
            let (from, to, changed) = (cure.change)(system)?;
            if changed == *system || !valid(&changed) {
                return None;
            }
            let setting = cure
                .names
                .iter()
                .find(|n| names.contains(n))
                .unwrap_or(&cure.names[0]);
            Some(Change {
                setting: setting.to_string(),
                from,
                to,
                system: changed,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use broker_model::log::LogConfig;
    use broker_model::queue::QueueConfig;

    fn settings(changes: &[Change]) -> Vec<&str> {
        changes.iter().map(|c| c.setting.as_str()).collect()
    }

    #[test]
    fn an_unsafe_producer_and_consumer_are_offered_acks_and_manual_commit() {
        let c = LogConfig {
            acks: Acks::Leader,
            enable_auto_commit: true,
            ..LogConfig::default()
        };
        let changes = cures(&System::Log(c), &[]);
        let found = settings(&changes);
        assert!(found.contains(&"acks"), "{found:?}");
        assert!(found.contains(&"enable.auto.commit"), "{found:?}");
        let acks = &changes[0];
        assert_eq!((acks.from.as_str(), acks.to.as_str()), ("1", "all"));
    }

    #[test]
    fn a_cure_the_broker_would_refuse_is_not_offered() {
        let c = QueueConfig {
            dead_lettering: broker_model::queue::DeadLettering {
                exchange: Some("dlx".into()),
                ..Default::default()
            },
            ..QueueConfig::default()
        };
        let found = cures(&System::Queue(c), &[]);
        assert!(!settings(&found).contains(&"x-dead-letter-strategy"));
    }

    #[test]
    fn a_cure_is_named_as_the_users_files_name_the_setting() {
        let c = QueueConfig {
            limits: broker_model::queue::Limits {
                max_length: Some(10),
                ..Default::default()
            },
            ..QueueConfig::default()
        };
        let found = cures(&System::Queue(c.clone()), &["overflow"]);
        assert!(settings(&found).contains(&"overflow"));
        let found = cures(&System::Queue(c), &[]);
        assert!(settings(&found).contains(&"x-overflow"));
    }

    #[test]
    fn a_publisher_that_waits_is_offered_mandatory_on_the_default_exchange_too() {
        let waits = QueueConfig {
            publish_mode: PublishMode::Confirm,
            ..QueueConfig::default()
        };
        let found = cures(&System::Queue(waits.clone()), &[]);
        let mandatory = found.iter().find(|c| c.setting == "mandatory");
        let System::Queue(cured) = &mandatory.expect("offered").system else {
            panic!("a queue system")
        };
        assert!(cured.topology.mandatory && cured.topology.exchange.is_none());
        let forgets = QueueConfig {
            publish_mode: PublishMode::FireAndForget,
            ..waits
        };
        assert!(!settings(&cures(&System::Queue(forgets), &[])).contains(&"mandatory"));
    }

    #[test]
    fn a_safe_log_configuration_is_offered_nothing_it_already_has() {
        let c = LogConfig {
            acks: Acks::All,
            min_insync_replicas: 2,
            enable_auto_commit: false,
            enable_idempotence: true,
            flush_interval_messages: Some(1),
            ..LogConfig::default()
        };
        let found = cures(&System::Log(c), &[]);
        for s in [
            "acks",
            "min.insync.replicas",
            "enable.auto.commit",
            "enable.idempotence",
        ] {
            assert!(!settings(&found).contains(&s), "{s} in {found:?}");
        }
    }
}
