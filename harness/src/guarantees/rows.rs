//! The matrix's rows: each configuration and the classes it claims to
//! survive or not.

use std::time::Duration;

use broker_model::log::{
    Acks, CommitPolicy, EligibleLeaderReplicas, LogConfig, OffsetReset, Subscription,
};
use broker_model::queue::{
    AckMode, Binding, DeadLetterStrategy, Exchange, ExchangeType, HaMode, Overflow, Promote,
    PublishMode, QueueConfig, QueueType, Topology,
};

use crate::guarantees::class::FaultClass;
use crate::guarantees::guarantee::Guarantee;
use crate::scenario::System;

fn queue(edit: impl FnOnce(&mut QueueConfig)) -> System {
    let mut c = QueueConfig {
        nodes: 3,
        durable: true,
        persistent: true,
        publish_mode: PublishMode::Confirm,
        ack: AckMode::Manual,
        prefetch: 10,
        retries: 10,
        retry_backoff: Duration::from_millis(200),
        ..QueueConfig::default()
    };
    edit(&mut c);
    System::Queue(c)
}

fn log(edit: impl FnOnce(&mut LogConfig)) -> System {
    let mut c = LogConfig {
        brokers: 3,
        replication_factor: 3,
        min_insync_replicas: 2,
        acks: Acks::All,
        enable_auto_commit: false,
        ..LogConfig::default()
    };
    edit(&mut c);
    System::Log(c)
}

/// A log row whose two consumers share the topic's two partitions as a
/// consumer group (`subscribe`), which rebalances when one of them dies.
fn group(edit: impl FnOnce(&mut LogConfig)) -> System {
    log(|c| {
        c.partitions = 2;
        c.subscription = Subscription::Subscribe;
        edit(c);
    })
}

/// The binding [`FaultClass::MissingBinding`] removes: `q0` on the direct exchange
/// `orders`, by the key `q0`.
pub fn missing_binding() -> Binding {
    Binding {
        exchange: "orders".into(),
        queue: 0,
        routing_key: "q0".into(),
    }
}

/// A queue row whose publishers publish to the direct exchange `orders`,
/// which routes to `q0` by [`missing_binding`]; `alternate` adds the
/// alternate exchange `unrouted`, a fanout bound to `q1`, which consumers
/// read too.
fn exchange(alternate: bool, edit: impl FnOnce(&mut QueueConfig)) -> System {
    queue(|c| {
        let mut orders = Exchange {
            name: "orders".into(),
            kind: ExchangeType::Direct,
            alternate_exchange: None,
        };
        let mut t = Topology {
            bindings: vec![missing_binding()],
            exchange: Some("orders".into()),
            routing_keys: vec!["q0".into()],
            ..Topology::default()
        };
        if alternate {
            orders.alternate_exchange = Some("unrouted".into());
            t.exchanges.push(Exchange {
                name: "unrouted".into(),
                kind: ExchangeType::Fanout,
                alternate_exchange: None,
            });
            t.bindings.push(Binding {
                exchange: "unrouted".into(),
                queue: 1,
                routing_key: String::new(),
            });
            c.queues = 2;
        }
        t.exchanges.insert(0, orders);
        c.topology = t;
        edit(c);
    })
}

/// A quorum-queue row publishing to `q0` through the direct exchange
/// `orders`, with `delivery-limit = 3` and the dead-letter exchange `dlx`,
/// a fanout bound to `q1`, which consumers read too.
fn dead_letter(edit: impl FnOnce(&mut QueueConfig)) -> System {
    exchange(false, |c| {
        c.queue_type = QueueType::Quorum;
        c.limits.delivery_limit = Some(3);
        c.queues = 2;
        c.topology.exchanges.push(Exchange {
            name: "dlx".into(),
            kind: ExchangeType::Fanout,
            alternate_exchange: None,
        });
        c.topology.bindings.push(Binding {
            exchange: "dlx".into(),
            queue: 1,
            routing_key: String::new(),
        });
        c.dead_lettering.exchange = Some("dlx".into());
        edit(c);
    })
}

/// The matrix.
pub fn matrix() -> Vec<Guarantee> {
    use FaultClass::*;
    vec![
        Guarantee {
            name: "log-acks-all",
            summary: "log, acks=all, RF=3, min.insync.replicas=2, clean elections, manual commit, no fsync",
            system: log(|_| {}),
            survives: vec![
                BrokerCrash,
                LeaderCrashBeforeSync,
                LeaderCrashWhileReplicaOutOfSync,
                Partition,
                MessageDrop,
                ConsumerCrash,
                SlowConsumer,
                LateConsumer,
            ],
            loses_under: vec![PowerLossAll, LastReplicaPowerLoss],
        },
        Guarantee {
            name: "log-acks-all-elr",
            summary: "the same with eligible.leader.replicas.version=1",
            system: log(|c| c.eligible_leader_replicas = EligibleLeaderReplicas::Enabled),
            // Every restart of a crashed broker is an unclean shutdown, which
            // takes the replica out of the ISR and the ELR: mixed with
            // crashes, the last replica's power loss can find both empty and
            // elect the last known leader, which KIP-966 allows. So this row
            // claims the classes that shut nothing down uncleanly.
            survives: vec![Partition, MessageDrop, LastReplicaPowerLoss, ConsumerCrash],
            loses_under: vec![PowerLossAll],
        },
        Guarantee {
            name: "log-acks-all-fsync",
            summary: "the same with log.flush.interval.messages=1",
            system: log(|c| c.flush_interval_messages = Some(1)),
            survives: vec![
                BrokerCrash,
                LeaderCrashBeforeSync,
                LeaderCrashWhileReplicaOutOfSync,
                Partition,
                MessageDrop,
                PowerLossAll,
                LastReplicaPowerLoss,
                ConsumerCrash,
            ],
            loses_under: vec![],
        },
        Guarantee {
            name: "log-acks1",
            summary: "log, acks=1, RF=3, manual commit",
            system: log(|c| {
                c.acks = Acks::Leader;
                c.min_insync_replicas = 1;
            }),
            survives: vec![MessageDrop, ConsumerCrash],
            loses_under: vec![LeaderCrashBeforeSync],
        },
        Guarantee {
            name: "log-acks0",
            summary: "log, acks=0, RF=3, manual commit",
            system: log(|c| {
                c.acks = Acks::None;
                c.min_insync_replicas = 1;
            }),
            survives: vec![],
            loses_under: vec![MessageDrop],
        },
        Guarantee {
            name: "log-auto-commit",
            summary: "log, acks=all, RF=3, min.insync.replicas=2, enable.auto.commit=true",
            system: log(|c| c.enable_auto_commit = true),
            survives: vec![BrokerCrash, LeaderCrashBeforeSync, MessageDrop],
            loses_under: vec![ConsumerCrash],
        },
        Guarantee {
            name: "log-retention-short",
            summary: "log, acks=all, RF=3, min.insync.replicas=2, manual commit, retention.ms=1000 with 2 kB segments",
            system: log(|c| {
                c.retention.retention_ms = Some(Duration::from_millis(1000));
                c.retention.segment_bytes = 2000;
            }),
            survives: vec![],
            loses_under: vec![SlowConsumer, LateConsumer],
        },
        Guarantee {
            name: "log-offset-reset-latest",
            summary: "log, acks=all, RF=3, min.insync.replicas=2, manual commit, auto.offset.reset=latest",
            system: log(|c| c.auto_offset_reset = OffsetReset::Latest),
            survives: vec![],
            loses_under: vec![LateConsumer],
        },
        Guarantee {
            name: "log-group-auto-commit",
            summary: "log, acks=all, RF=3, min.insync.replicas=2, 2 partitions, a consumer group (subscribe) with enable.auto.commit=true",
            system: group(|c| c.enable_auto_commit = true),
            survives: vec![],
            loses_under: vec![ConsumerCrashWithRebalance],
        },
        Guarantee {
            name: "log-group-commit-before-processing",
            summary: "the same group committing each polled position before processing it",
            system: group(|c| c.commit = CommitPolicy::BeforeProcessing),
            survives: vec![],
            loses_under: vec![ConsumerCrashWithRebalance],
        },
        Guarantee {
            name: "log-group-commit-after-processing",
            summary: "the same group committing after processing and when partitions are revoked",
            system: group(|c| c.group.commit_on_revoke = true),
            survives: vec![ConsumerCrashWithRebalance, ConsumerCrash, SlowConsumer],
            loses_under: vec![],
        },
        Guarantee {
            name: "queue-quorum",
            summary: "queue, quorum queue on 3 nodes, publisher confirms, manual ack",
            system: queue(|c| c.queue_type = QueueType::Quorum),
            survives: vec![
                BrokerCrash,
                LeaderCrashBeforeSync,
                LeaderCrashWhileReplicaOutOfSync,
                Partition,
                MessageDrop,
                PowerLossAll,
                ConsumerCrash,
                SlowConsumer,
                LateConsumer,
            ],
            loses_under: vec![],
        },
        Guarantee {
            name: "queue-quorum-delivery-limit",
            summary: "the same with delivery-limit=3 and no dead-letter exchange",
            system: queue(|c| {
                c.queue_type = QueueType::Quorum;
                c.limits.delivery_limit = Some(3);
            }),
            survives: vec![],
            loses_under: vec![PoisonMessage],
        },
        Guarantee {
            name: "queue-quorum-delivery-limit-dead-letter",
            summary: "the same, published to a direct exchange, with a dead-letter-exchange bound to a consumed queue",
            system: dead_letter(|_| {}),
            survives: vec![PoisonMessage],
            loses_under: vec![],
        },
        Guarantee {
            name: "queue-quorum-dead-letter-at-least-once",
            summary: "the same with dead-letter-strategy=at-least-once, overflow=reject-publish, max-length=10000: q0 keeps each dead letter until q1 confirms it",
            system: dead_letter(|c| {
                c.limits.max_length = Some(10_000);
                c.limits.overflow = Overflow::RejectPublish;
                c.dead_lettering.strategy = DeadLetterStrategy::AtLeastOnce;
            }),
            survives: vec![PoisonMessage, BrokerCrash, ConsumerCrash],
            loses_under: vec![],
        },
        Guarantee {
            name: "queue-mirrored-promote-always",
            summary: "queue, mirrored on 2 of 3 nodes, ha-sync-mode=manual, ha-promote-on-failure=always, confirms, manual ack",
            system: queue(|c| {
                c.queue_type = QueueType::Mirrored;
                c.ha_mode = HaMode::Exactly(2);
                c.ha_promote_on_failure = Promote::Always;
            }),
            survives: vec![ConsumerCrash],
            loses_under: vec![LeaderCrashWhileReplicaOutOfSync],
        },
        Guarantee {
            name: "queue-mirrored-when-synced",
            summary: "the same with ha-promote-on-failure=when-synced",
            system: queue(|c| {
                c.queue_type = QueueType::Mirrored;
                c.ha_mode = HaMode::Exactly(2);
                c.ha_promote_on_failure = Promote::WhenSynced;
            }),
            survives: vec![LeaderCrashWhileReplicaOutOfSync, ConsumerCrash],
            loses_under: vec![],
        },
        Guarantee {
            name: "queue-classic-durable",
            summary: "queue, classic, durable queue, persistent messages, confirms, manual ack",
            system: queue(|_| {}),
            // A classic queue whose node is down routes nowhere: publishes
            // confirmed and dropped meanwhile are lost, after a crash of
            // that node or dropped ticks that make another node declare it
            // down. Too few generated schedules hit it for the loss
            // search, so broker crash and message drop claim nothing.
            survives: vec![PowerLossAll, ConsumerCrash, SlowConsumer, LateConsumer],
            loses_under: vec![],
        },
        Guarantee {
            name: "queue-classic-durable-mandatory",
            summary: "the same with mandatory=true",
            system: queue(|c| c.topology.mandatory = true),
            survives: vec![BrokerCrash, MessageDrop, PowerLossAll],
            loses_under: vec![],
        },
        Guarantee {
            name: "queue-exchange-confirm",
            summary: "queue, classic, durable, persistent, confirms, manual ack, published to a direct exchange",
            system: exchange(false, |_| {}),
            survives: vec![ConsumerCrash],
            loses_under: vec![MissingBinding],
        },
        Guarantee {
            name: "queue-exchange-mandatory",
            summary: "the same with mandatory=true",
            system: exchange(false, |c| c.topology.mandatory = true),
            survives: vec![MissingBinding, ConsumerCrash],
            loses_under: vec![],
        },
        Guarantee {
            name: "queue-alternate-exchange",
            summary: "the same without mandatory, with an alternate exchange bound to a consumed queue",
            system: exchange(true, |_| {}),
            survives: vec![MissingBinding, ConsumerCrash],
            loses_under: vec![],
        },
        Guarantee {
            name: "queue-max-length-drop-head",
            summary: "queue, classic, durable, persistent, confirms, manual ack, max-length=50 (overflow=drop-head)",
            system: queue(|c| c.limits.max_length = Some(50)),
            survives: vec![],
            loses_under: vec![SlowConsumer, LateConsumer],
        },
        Guarantee {
            name: "queue-max-length-reject-publish",
            summary: "the same with overflow=reject-publish",
            system: queue(|c| {
                c.limits.max_length = Some(50);
                c.limits.overflow = Overflow::RejectPublish;
            }),
            survives: vec![SlowConsumer, LateConsumer],
            loses_under: vec![],
        },
        Guarantee {
            name: "queue-message-ttl",
            summary: "queue, classic, durable, persistent, confirms, manual ack, message-ttl=1000",
            system: queue(|c| c.limits.message_ttl = Some(Duration::from_millis(1000))),
            survives: vec![],
            loses_under: vec![SlowConsumer, LateConsumer],
        },
        Guarantee {
            name: "queue-classic-transient",
            summary: "queue, classic, transient messages, confirms, manual ack",
            system: queue(|c| c.persistent = false),
            survives: vec![MessageDrop, ConsumerCrash],
            loses_under: vec![PowerLossAll],
        },
        Guarantee {
            name: "queue-fire-and-forget",
            summary: "queue, classic, durable, persistent, no confirms, manual ack",
            system: queue(|c| c.publish_mode = PublishMode::FireAndForget),
            survives: vec![ConsumerCrash],
            loses_under: vec![MessageDrop],
        },
        Guarantee {
            name: "queue-auto-ack",
            summary: "queue, classic, durable, persistent, confirms, ack=auto",
            system: queue(|c| {
                c.ack = AckMode::Auto;
                c.prefetch = 0;
            }),
            survives: vec![],
            loses_under: vec![ConsumerCrash, PoisonMessage],
        },
    ]
}
