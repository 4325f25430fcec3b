//! Every example deployment under `examples/` reads without error, into
//! the configuration its comments describe.

use std::path::PathBuf;

use broker_model::log::{Acks, LogConfig, OffsetReset};
use broker_model::queue::{
    AckMode, Overflow, PartitionHandling, PublishMode, QueueConfig, QueueType,
};

use super::*;
use crate::scenario::System;

fn example(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../examples")
        .join(path)
}

fn kafka(dir: &str, topic: Option<&str>) -> Deployment {
    let files = KafkaFiles {
        broker: example(&format!("kafka/{dir}/server.properties")),
        topic: topic.map(|t| example(&format!("kafka/{dir}/{t}"))),
        producer: Some(example(&format!("kafka/{dir}/producer.properties"))),
        consumer: Some(example(&format!("kafka/{dir}/consumer.properties"))),
        brokers: None,
    };
    read_kafka(&files).unwrap_or_else(|e| panic!("{e}"))
}

fn log(d: &Deployment) -> &LogConfig {
    match &d.targets[0].system {
        System::Log(c) => c,
        System::Queue(_) => panic!("not a log"),
    }
}

fn rabbitmq(dir: &str) -> Deployment {
    let files = RabbitFiles {
        definitions: example(&format!("rabbitmq/{dir}/definitions.json")),
        conf: Some(example(&format!("rabbitmq/{dir}/rabbitmq.conf"))),
        client: Some(example(&format!("rabbitmq/{dir}/client.toml"))),
        nodes: None,
        queues: Vec::new(),
    };
    read_rabbitmq(&files).unwrap_or_else(|e| panic!("{e}"))
}

fn queue(d: &Deployment) -> &QueueConfig {
    match &d.targets[0].system {
        System::Queue(c) => c,
        System::Log(_) => panic!("not a queue"),
    }
}

#[test]
fn the_unsafe_kafka_example_acks_on_the_leader_and_auto_commits() {
    let d = kafka("unsafe", None);
    let c = log(&d);
    assert_eq!(
        (c.acks, c.replication_factor, c.min_insync_replicas),
        (Acks::Leader, 3, 1)
    );
    assert!(c.enable_auto_commit && !c.enable_idempotence);
    assert_eq!(c.auto_offset_reset, OffsetReset::Latest);
    assert_eq!((c.brokers, c.partitions), (3, 3));
    assert!(d.not_modelled.iter().any(|n| n.key == "listeners"));
    assert!(d.not_modelled.iter().any(|n| n.key == "value.serializer"));
}

#[test]
fn the_safe_kafka_example_fsyncs_every_message_on_two_in_sync_replicas() {
    for topic in [None, Some("orders.properties")] {
        let d = kafka("safe", topic);
        let c = log(&d);
        assert_eq!(
            (c.acks, c.replication_factor, c.min_insync_replicas),
            (Acks::All, 3, 2)
        );
        assert!(c.enable_idempotence && !c.enable_auto_commit && !c.unclean_leader_election);
        assert_eq!(c.flush_interval_messages, Some(1));
        assert_eq!(c.auto_offset_reset, OffsetReset::Earliest);
        assert!(d
            .not_modelled
            .iter()
            .any(|n| n.key == "ssl.keystore.location"));
    }
}

#[test]
fn the_unsafe_rabbitmq_example_is_a_transient_queue_without_confirms_or_acks() {
    let d = rabbitmq("unsafe");
    assert_eq!(d.targets.len(), 1);
    assert_eq!(d.targets[0].name, "orders, orders.audit");
    let c = queue(&d);
    assert_eq!(
        (c.queue_type, c.durable, c.persistent),
        (QueueType::Classic, false, false)
    );
    assert_eq!(
        (c.publish_mode, c.ack),
        (PublishMode::FireAndForget, AckMode::Auto)
    );
    assert_eq!((c.nodes, c.queues), (3, 2));
    assert_eq!(c.limits.max_length, Some(100_000));
    assert_eq!(c.topology.bindings.len(), 2);
    assert!(d.not_modelled.iter().any(|n| n.key == "queue-version"));
    assert!(d
        .not_modelled
        .iter()
        .any(|n| n.key == "listeners.tcp.default"));
}

#[test]
fn the_safe_rabbitmq_example_is_a_confirmed_persistent_quorum_queue() {
    let d = rabbitmq("safe");
    let c = queue(&d);
    assert_eq!(
        (c.queue_type, c.durable, c.persistent),
        (QueueType::Quorum, true, true)
    );
    assert_eq!(
        (c.publish_mode, c.ack, c.prefetch),
        (PublishMode::Confirm, AckMode::Manual, 50)
    );
    assert!(c.topology.mandatory);
    assert_eq!(c.limits.overflow, Overflow::RejectPublish);
    assert_eq!(c.limits.delivery_limit, None);
    assert_eq!(c.partition_handling, PartitionHandling::PauseMinority);
    assert!(d
        .not_modelled
        .iter()
        .any(|n| n.key == "ssl_options.certfile"));
}
