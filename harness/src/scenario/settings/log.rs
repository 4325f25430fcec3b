//! A log scenario's `[config]` as settings and as a one-line label.

use std::time::Duration;

use broker_model::log::{
    Acks, AssignmentStrategy, CommitPolicy, EligibleLeaderReplicas, GroupOffsets, LogConfig,
    OffsetReset, Subscription,
};
use toml::Value;

use super::label::label_value;
use crate::scenario::kernel;
use crate::scenario::model::Setting;

/// The configuration as settings named as in scenario files, defaults
/// included; `None` for a setting left unset.
pub(crate) fn log_settings(c: &LogConfig) -> Vec<Setting> {
    let int = |n: u64| Some(Value::Integer(n as i64));
    let ms = |d: Duration| int(d.as_millis() as u64);
    let acks = match c.acks {
        Acks::None => Value::Integer(0),
        Acks::Leader => Value::Integer(1),
        Acks::All => Value::String("all".into()),
    };
    let reset = match c.auto_offset_reset {
        OffsetReset::Earliest => "earliest",
        OffsetReset::Latest => "latest",
        OffsetReset::None => "none",
    };
    let or_unlimited = |v: Option<u64>| Some(Value::Integer(v.map_or(-1, |v| v as i64)));
    vec![
        ("brokers", int(c.brokers.into())),
        ("partitions", int(c.partitions.into())),
        ("replication.factor", int(c.replication_factor.into())),
        ("min.insync.replicas", int(c.min_insync_replicas.into())),
        ("acks", Some(acks)),
        ("retries", int(c.retries.into())),
        ("request.timeout.ms", ms(c.request_timeout)),
        ("retry.backoff.ms", ms(c.retry_backoff)),
        (
            "max.in.flight.requests.per.connection",
            int(c.max_in_flight.into()),
        ),
        (
            "enable.idempotence",
            Some(Value::Boolean(c.enable_idempotence)),
        ),
        (
            "unclean.leader.election.enable",
            Some(Value::Boolean(c.unclean_leader_election)),
        ),
        (
            "log.flush.interval.messages",
            c.flush_interval_messages.and_then(int),
        ),
        ("log.flush.interval.ms", c.flush_interval.and_then(ms)),
        ("replica.lag.time.max.ms", ms(c.replica_lag_time_max)),
        ("replica.fetch.wait.max.ms", ms(c.replica_fetch_wait_max)),
        ("broker.heartbeat.interval.ms", ms(c.heartbeat_interval)),
        ("broker.session.timeout.ms", ms(c.session_timeout)),
        (
            "enable.auto.commit",
            Some(Value::Boolean(c.enable_auto_commit)),
        ),
        ("auto.commit.interval.ms", ms(c.auto_commit_interval)),
        ("auto.offset.reset", Some(Value::String(reset.into()))),
        (
            "group_offsets",
            match c.group_offsets {
                GroupOffsets::New => None,
                GroupOffsets::ToEarliest => Some(Value::String("to-earliest".into())),
                GroupOffsets::ToLatest => Some(Value::String("to-latest".into())),
            },
        ),
        ("max.poll.records", int(c.max_poll_records.into())),
        ("fetch.max.wait.ms", ms(c.fetch_max_wait)),
        (
            "retention.ms",
            or_unlimited(c.retention.retention_ms.map(|d| d.as_millis() as u64)),
        ),
        ("retention.bytes", or_unlimited(c.retention.retention_bytes)),
        ("segment.bytes", int(c.retention.segment_bytes)),
        ("segment.ms", ms(c.retention.segment_ms)),
        (
            "log.retention.check.interval.ms",
            ms(c.retention.check_interval),
        ),
    ]
    .into_iter()
    .chain(kernel::settings(&c.writeback).map(|(k, v)| (k, int(v))))
    .chain(elr_setting(c.eligible_leader_replicas))
    .chain(consumer_settings(c))
    .collect()
}

/// `eligible.leader.replicas.version`, listed once it is switched on.
fn elr_setting(elr: EligibleLeaderReplicas) -> Option<Setting> {
    (elr == EligibleLeaderReplicas::Enabled).then(|| {
        let key = "eligible.leader.replicas.version";
        (key, Some(Value::Integer(1)))
    })
}

/// The consumer settings listed only where they apply, so that the
/// settings of every scenario from before consumer groups read as before:
/// `commit` when it is not the default, the group's keys with
/// `subscription = "subscribe"`.
fn consumer_settings(c: &LogConfig) -> Vec<Setting> {
    let text = |t: &str| Some(Value::String(t.into()));
    let ms = |d: Duration| Some(Value::Integer(d.as_millis() as i64));
    let mut out = Vec::new();
    if c.commit == CommitPolicy::BeforeProcessing {
        out.push(("commit", text("before-processing")));
    }
    if c.subscription == Subscription::Subscribe {
        let g = &c.group;
        let strategy = match g.strategy {
            AssignmentStrategy::Range => "range",
            AssignmentStrategy::RoundRobin => "roundrobin",
            AssignmentStrategy::CooperativeSticky => "cooperative-sticky",
        };
        out.extend([
            ("subscription", text("subscribe")),
            ("partition.assignment.strategy", text(strategy)),
            ("session.timeout.ms", ms(g.session_timeout)),
            ("heartbeat.interval.ms", ms(g.heartbeat_interval)),
            ("max.poll.interval.ms", ms(g.max_poll_interval)),
            ("commit.on.revoke", Some(Value::Boolean(g.commit_on_revoke))),
        ]);
    }
    out
}

/// Every log setting with its default, the group's too, and
/// `eligible.leader.replicas.version`, listed only once switched on: what
/// the schema must list.
pub(crate) fn log_defaults() -> Vec<Setting> {
    let group = LogConfig {
        subscription: Subscription::Subscribe,
        ..LogConfig::default()
    };
    let mut all = log_settings(&group);
    all.push(("commit", Some(Value::String("after-processing".into()))));
    all.push(("eligible.leader.replicas.version", Some(Value::Integer(0))));
    all
}

/// The configuration in one line for the guarantee matrix: the settings
/// that decide what survives a fault always (acks, replication, fsync
/// policy, commit mode), then every other setting that differs from the
/// default, so that two scenarios share a label only when they share a
/// configuration.
pub(super) fn log_label(c: &LogConfig) -> String {
    let acks = match c.acks {
        Acks::None => "0",
        Acks::Leader => "1",
        Acks::All => "all",
    };
    let mut parts = vec![
        "log".to_string(),
        format!("acks={acks}"),
        format!("RF={}", c.replication_factor),
        format!("min.insync={}", c.min_insync_replicas),
    ];
    match (c.flush_interval_messages, c.flush_interval) {
        (None, None) => parts.push("no fsync".into()),
        (Some(1), _) => parts.push("fsync every message".into()),
        (Some(n), _) => parts.push(format!("fsync every {n} messages")),
        (None, Some(d)) => parts.push(format!("fsync every {}ms", d.as_millis())),
    }
    if let (Some(_), Some(d)) = (c.flush_interval_messages, c.flush_interval) {
        parts.push(format!("and every {}ms", d.as_millis()));
    }
    parts.push(if c.enable_auto_commit {
        "auto-commit".into()
    } else {
        "manual commit".into()
    });
    const SHOWN: &[&str] = &[
        "acks",
        "replication.factor",
        "min.insync.replicas",
        "log.flush.interval.messages",
        "log.flush.interval.ms",
        "enable.auto.commit",
    ];
    // The group's keys are listed only with `subscribe`, which always
    // shows; they show when they differ from a group's defaults.
    let mut defaults = log_settings(&LogConfig::default());
    let group = LogConfig {
        subscription: Subscription::Subscribe,
        ..LogConfig::default()
    };
    defaults.extend(
        log_settings(&group)
            .into_iter()
            .filter(|(k, _)| *k != "subscription"),
    );
    defaults.push(("eligible.leader.replicas.version", Some(Value::Integer(0))));
    for (key, value) in log_settings(c) {
        let default = defaults.iter().find(|(k, _)| *k == key).map(|(_, v)| v);
        if default != Some(&value) && !SHOWN.contains(&key) {
            parts.push(format!("{key}={}", label_value(value)));
        }
    }
    parts.join(" · ")
}
