use std::path::Path;
use std::time::Duration;

use broker_model::log::{Acks, LogConfig, OffsetReset, Subscription};

use super::files::PropFile;
use super::resolve::Sources;
use super::*;

fn read(
    broker: &str,
    topic: Option<&str>,
    producer: &str,
    consumer: &str,
) -> Result<Deployment, ReadError> {
    let parse = |name: &str, text: &str| PropFile::parse(Path::new(name), text.as_bytes());
    let broker = parse("server.properties", broker)?;
    let topic = topic.map(|t| parse("orders.properties", t)).transpose()?;
    let producer = parse("producer.properties", producer)?;
    let consumer = parse("consumer.properties", consumer)?;
    let sources = Sources {
        broker: &broker,
        topic: topic.as_ref(),
        producer: Some(&producer),
        consumer: Some(&consumer),
    };
    let topic_path = topic.as_ref().map(|_| Path::new("orders.properties"));
    deployment(sources, topic_path, None)
}

fn log(d: &Deployment) -> &LogConfig {
    match &d.targets[0].system {
        System::Log(c) => c,
        System::Queue(_) => panic!("not a log"),
    }
}

fn setting<'a>(d: &'a Deployment, key: &str) -> &'a crate::audit::TargetSetting {
    d.targets[0]
        .settings
        .iter()
        .find(|s| s.key == key)
        .unwrap_or_else(|| panic!("no setting {key}"))
}

#[test]
fn silent_files_get_kafkas_own_defaults_with_their_origin() {
    let d = read("", None, "", "group.id=billing\n").unwrap();
    let c = log(&d);
    assert_eq!(c.replication_factor, 1);
    assert_eq!(c.min_insync_replicas, 1);
    assert_eq!(c.acks, Acks::All);
    assert!(c.enable_idempotence);
    assert!(!c.unclean_leader_election);
    assert!(c.enable_auto_commit);
    assert_eq!(c.auto_commit_interval, Duration::from_millis(50));
    assert_eq!(c.auto_offset_reset, OffsetReset::Latest);
    assert_eq!(c.flush_interval_messages, None);
    assert_eq!(c.replica_lag_time_max, Duration::from_millis(300));
    assert_eq!(c.group.session_timeout, Duration::from_millis(450));
    assert_eq!(
        c.retention.retention_ms,
        Some(Duration::from_millis(7 * 24 * 3600 * 10))
    );
    assert_eq!(c.brokers, 3);
    let rf = setting(&d, "default.replication.factor");
    assert_eq!(rf.origin, Origin::Default("Kafka 3.9"));
    assert_eq!(rf.value, "1");
    assert_eq!(d.time_scale.factor, 0.01);
}

#[test]
fn a_topic_level_key_overrides_the_brokers_log_default() {
    let broker = "default.replication.factor=3\nmin.insync.replicas=1\nlog.flush.interval.messages=10000\nlog.retention.hours=24\n";
    let topic = "min.insync.replicas=2\nflush.messages=1\nretention.ms=60000\n";
    let d = read(broker, Some(topic), "", "").unwrap();
    let c = log(&d);
    assert_eq!(c.min_insync_replicas, 2);
    assert_eq!(c.flush_interval_messages, Some(1));
    assert_eq!(c.retention.retention_ms, Some(Duration::from_millis(600)));
    let min = setting(&d, "min.insync.replicas");
    assert_eq!(
        min.origin,
        Origin::File {
            path: "orders.properties".into(),
            line: 1
        }
    );
    assert_eq!(d.targets[0].name, "orders");
}

#[test]
fn explicit_acks_1_turns_default_idempotence_off_as_kafka_does() {
    let d = read("", None, "acks=1\n", "").unwrap();
    assert_eq!(log(&d).acks, Acks::Leader);
    assert!(!log(&d).enable_idempotence);
    let e = read("", None, "acks=1\nenable.idempotence=true\n", "").unwrap_err();
    assert_eq!(
        (e.line, e.key.as_deref()),
        (Some(2), Some("enable.idempotence"))
    );
}

#[test]
fn acks_2_is_refused_with_file_line_and_key() {
    let e = read("", None, "# producer\nacks=2\n", "").unwrap_err();
    assert_eq!(e.path, Path::new("producer.properties"));
    assert_eq!(e.line, Some(2));
    assert_eq!(e.key.as_deref(), Some("acks"));
    assert!(e.to_string().contains("all, -1, 0, 1"), "{e}");
}

#[test]
fn a_word_where_a_number_goes_is_refused() {
    let e = read("min.insync.replicas=two\n", None, "", "").unwrap_err();
    assert_eq!(
        (e.line, e.key.as_deref()),
        (Some(1), Some("min.insync.replicas"))
    );
}

#[test]
fn a_replication_factor_above_the_brokers_is_refused_at_its_line() {
    let broker = "num.network.threads=3\ndefault.replication.factor=3\n";
    let parse = |name: &str, text: &str| PropFile::parse(Path::new(name), text.as_bytes());
    let broker = parse("server.properties", broker).unwrap();
    let sources = Sources {
        broker: &broker,
        topic: None,
        producer: None,
        consumer: None,
    };
    let e = deployment(sources, None, Some(2)).unwrap_err();
    assert_eq!(e.line, Some(2));
    assert_eq!(e.key.as_deref(), Some("default.replication.factor"));
}

#[test]
fn min_insync_replicas_above_the_replication_factor_is_refused() {
    let e = read("min.insync.replicas=2\n", None, "", "").unwrap_err();
    assert_eq!(
        (e.line, e.key.as_deref()),
        (Some(1), Some("min.insync.replicas"))
    );
}

#[test]
fn keys_the_model_does_not_use_are_listed_once_and_never_fail() {
    let broker = "listeners=PLAINTEXT://:9092\nnum.io.threads=8\nlisteners=SSL://:9093\n";
    let d = read(
        broker,
        None,
        "key.serializer=x\n",
        "group.id=g\nfetch.min.bytes=1\n",
    )
    .unwrap();
    let keys: Vec<&str> = d.not_modelled.iter().map(|n| n.key.as_str()).collect();
    assert_eq!(
        keys,
        vec![
            "listeners",
            "num.io.threads",
            "key.serializer",
            "fetch.min.bytes"
        ]
    );
    assert_eq!(d.not_modelled[0].line, 1);
}

#[test]
fn a_consumer_with_a_group_subscribes_and_one_without_assigns() {
    let d = read("", None, "", "group.id=billing\nsession.timeout.ms=10000\n").unwrap();
    assert_eq!(log(&d).subscription, Subscription::Subscribe);
    assert_eq!(log(&d).group.session_timeout, Duration::from_millis(100));
    let d = read("", None, "", "session.timeout.ms=10000\n").unwrap();
    assert_eq!(log(&d).subscription, Subscription::Assign);
    assert!(!log(&d).enable_auto_commit);
    assert!(d.not_modelled.iter().any(|n| n.key == "session.timeout.ms"));
    let e = read("", None, "", "enable.auto.commit=true\n").unwrap_err();
    assert_eq!(e.key.as_deref(), Some("enable.auto.commit"));
}

#[test]
fn retries_are_bounded_by_the_delivery_timeout() {
    let d = read("", None, "", "").unwrap();
    assert_eq!(log(&d).retries, 2);
    let d = read("", None, "retries=1\n", "").unwrap();
    assert_eq!(log(&d).retries, 1);
    let e = read("", None, "delivery.timeout.ms=1000\n", "").unwrap_err();
    assert_eq!(e.key.as_deref(), Some("delivery.timeout.ms"));
}
