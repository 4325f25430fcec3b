//! `[config]` of `system = "log"` scenarios: Kafka's setting names, mapped
//! onto the log model's configuration.

use std::fmt;
use std::time::Duration;

use broker_model::log::{Acks, LogConfig, OffsetReset};
use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;
use toml::{Spanned, Value};

use super::{ms, val, ErrAt, Setting};
use crate::scenario::ScenarioError;

/// `[config]` of a `system = "log"` scenario: Kafka's setting names.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawLogConfig {
    pub brokers: Option<Spanned<u32>>,
    pub partitions: Option<Spanned<u32>>,
    #[serde(rename = "replication.factor")]
    pub replication_factor: Option<Spanned<u32>>,
    #[serde(rename = "min.insync.replicas")]
    pub min_insync_replicas: Option<Spanned<u32>>,
    pub acks: Option<Spanned<RawAcks>>,
    pub retries: Option<Spanned<u32>>,
    #[serde(rename = "request.timeout.ms")]
    pub request_timeout_ms: Option<Spanned<u64>>,
    #[serde(rename = "retry.backoff.ms")]
    pub retry_backoff_ms: Option<Spanned<u64>>,
    #[serde(rename = "max.in.flight.requests.per.connection")]
    pub max_in_flight: Option<Spanned<u32>>,
    #[serde(rename = "enable.idempotence")]
    pub enable_idempotence: Option<Spanned<bool>>,
    #[serde(rename = "unclean.leader.election.enable")]
    pub unclean_leader_election: Option<Spanned<bool>>,
    #[serde(rename = "log.flush.interval.messages")]
    pub flush_interval_messages: Option<Spanned<u64>>,
    #[serde(rename = "log.flush.interval.ms")]
    pub flush_interval_ms: Option<Spanned<u64>>,
    #[serde(rename = "replica.lag.time.max.ms")]
    pub replica_lag_time_max_ms: Option<Spanned<u64>>,
    #[serde(rename = "replica.fetch.wait.max.ms")]
    pub replica_fetch_wait_max_ms: Option<Spanned<u64>>,
    #[serde(rename = "broker.heartbeat.interval.ms")]
    pub heartbeat_interval_ms: Option<Spanned<u64>>,
    #[serde(rename = "broker.session.timeout.ms")]
    pub session_timeout_ms: Option<Spanned<u64>>,
    #[serde(rename = "enable.auto.commit")]
    pub enable_auto_commit: Option<Spanned<bool>>,
    #[serde(rename = "auto.commit.interval.ms")]
    pub auto_commit_interval_ms: Option<Spanned<u64>>,
    #[serde(rename = "auto.offset.reset")]
    pub auto_offset_reset: Option<Spanned<RawOffsetReset>>,
    #[serde(rename = "max.poll.records")]
    pub max_poll_records: Option<Spanned<u32>>,
    #[serde(rename = "fetch.max.wait.ms")]
    pub fetch_max_wait_ms: Option<Spanned<u64>>,
}

#[derive(Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum RawOffsetReset {
    Earliest,
    Latest,
}

/// `acks = "all"`, `acks = 1`, `acks = "-1"`, …
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RawAcks(pub broker_model::log::Acks);

impl<'de> Deserialize<'de> for RawAcks {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use broker_model::log::Acks;
        struct V;
        const ALLOWED: &str = "acks must be 0, 1, \"all\" or -1";
        impl Visitor<'_> for V {
            type Value = RawAcks;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(ALLOWED)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawAcks, E> {
                match v {
                    0 => Ok(RawAcks(Acks::None)),
                    1 => Ok(RawAcks(Acks::Leader)),
                    -1 => Ok(RawAcks(Acks::All)),
                    _ => Err(E::custom(format!("`{v}` is not allowed: {ALLOWED}"))),
                }
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawAcks, E> {
                match v {
                    "0" => Ok(RawAcks(Acks::None)),
                    "1" => Ok(RawAcks(Acks::Leader)),
                    "all" | "-1" => Ok(RawAcks(Acks::All)),
                    _ => Err(E::custom(format!("`{v}` is not allowed: {ALLOWED}"))),
                }
            }
        }
        d.deserialize_any(V)
    }
}

impl RawLogConfig {
    /// The span of the value of `key`, when the file sets it.
    pub fn span_of(&self, key: &str) -> Option<std::ops::Range<usize>> {
        fn s<T>(v: &Option<Spanned<T>>) -> Option<std::ops::Range<usize>> {
            v.as_ref().map(Spanned::span)
        }
        match key {
            "brokers" => s(&self.brokers),
            "partitions" => s(&self.partitions),
            "replication.factor" => s(&self.replication_factor),
            "min.insync.replicas" => s(&self.min_insync_replicas),
            "request.timeout.ms" => s(&self.request_timeout_ms),
            "max.in.flight.requests.per.connection" => s(&self.max_in_flight),
            "log.flush.interval.messages" => s(&self.flush_interval_messages),
            "log.flush.interval.ms" => s(&self.flush_interval_ms),
            "replica.lag.time.max.ms" => s(&self.replica_lag_time_max_ms),
            "broker.heartbeat.interval.ms" => s(&self.heartbeat_interval_ms),
            "broker.session.timeout.ms" => s(&self.session_timeout_ms),
            "auto.commit.interval.ms" => s(&self.auto_commit_interval_ms),
            "max.poll.records" => s(&self.max_poll_records),
            _ => None,
        }
    }
}

/// The model's configuration from the file's `[config]`, defaults filled
/// in and combinations checked.
pub fn convert(
    raw: Option<&Spanned<RawLogConfig>>,
    err: &ErrAt,
) -> Result<LogConfig, ScenarioError> {
    let d = LogConfig::default();
    let Some(spanned) = raw else {
        return Ok(d);
    };
    let r = spanned.get_ref();
    let config = LogConfig {
        brokers: val(&r.brokers).unwrap_or(d.brokers),
        partitions: val(&r.partitions).unwrap_or(d.partitions),
        replication_factor: val(&r.replication_factor).unwrap_or(d.replication_factor),
        min_insync_replicas: val(&r.min_insync_replicas).unwrap_or(d.min_insync_replicas),
        acks: r.acks.as_ref().map_or(d.acks, |a| a.get_ref().0),
        retries: val(&r.retries).unwrap_or(d.retries),
        request_timeout: ms(&r.request_timeout_ms).unwrap_or(d.request_timeout),
        retry_backoff: ms(&r.retry_backoff_ms).unwrap_or(d.retry_backoff),
        max_in_flight: val(&r.max_in_flight).unwrap_or(d.max_in_flight),
        enable_idempotence: val(&r.enable_idempotence).unwrap_or(d.enable_idempotence),
        unclean_leader_election: val(&r.unclean_leader_election)
            .unwrap_or(d.unclean_leader_election),
        flush_interval_messages: val(&r.flush_interval_messages).or(d.flush_interval_messages),
        flush_interval: ms(&r.flush_interval_ms).or(d.flush_interval),
        replica_lag_time_max: ms(&r.replica_lag_time_max_ms).unwrap_or(d.replica_lag_time_max),
        replica_fetch_wait_max: ms(&r.replica_fetch_wait_max_ms)
            .unwrap_or(d.replica_fetch_wait_max),
        heartbeat_interval: ms(&r.heartbeat_interval_ms).unwrap_or(d.heartbeat_interval),
        session_timeout: ms(&r.session_timeout_ms).unwrap_or(d.session_timeout),
        enable_auto_commit: val(&r.enable_auto_commit).unwrap_or(d.enable_auto_commit),
        auto_commit_interval: ms(&r.auto_commit_interval_ms).unwrap_or(d.auto_commit_interval),
        auto_offset_reset: match val(&r.auto_offset_reset) {
            Some(RawOffsetReset::Earliest) => OffsetReset::Earliest,
            Some(RawOffsetReset::Latest) => OffsetReset::Latest,
            None => d.auto_offset_reset,
        },
        max_poll_records: val(&r.max_poll_records).unwrap_or(d.max_poll_records),
        fetch_max_wait: ms(&r.fetch_max_wait_ms).unwrap_or(d.fetch_max_wait),
        sabotage: d.sabotage,
    };
    config.validate().map_err(|e| {
        let span = r.span_of(e.key).or_else(|| Some(spanned.span()));
        err(span, Some(e.key), e.message)
    })?;
    Ok(config)
}

/// The configuration as settings named as in scenario files, defaults
/// included; `None` for a setting left unset.
pub fn describe(c: &LogConfig) -> Vec<Setting> {
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
    };
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
        ("max.poll.records", int(c.max_poll_records.into())),
        ("fetch.max.wait.ms", ms(c.fetch_max_wait)),
    ]
}

/// The configuration in one line for the guarantee matrix: the settings
/// that decide what survives a fault always (acks, replication, fsync
/// policy, commit mode), then every other setting that differs from the
/// default, so that two scenarios share a label only when they share a
/// configuration.
pub fn label(c: &LogConfig) -> String {
    let acks = match c.acks {
        broker_model::log::Acks::None => "0",
        broker_model::log::Acks::Leader => "1",
        broker_model::log::Acks::All => "all",
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
    let defaults = describe(&LogConfig::default());
    for ((key, value), (_, default)) in describe(c).into_iter().zip(defaults) {
        if value != default && !SHOWN.contains(&key) {
            let text = match value {
                Some(Value::String(s)) => s,
                Some(v) => v.to_string(),
                None => "unset".into(),
            };
            parts.push(format!("{key}={text}"));
        }
    }
    parts.join(" · ")
}
